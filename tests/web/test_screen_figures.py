"""The big screen's figures (`screen_figures`) against a straightforward count in Python over
`visible_cases`, for users of every scope, on cases spread over districts, states and days;
and the visibility condition `visible_q` on rows reaching cases through a join."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from citygrid.cases import actions
from citygrid.cases.models import FINAL_STATES, Case, CaseEvent
from citygrid.cases.selectors import visible_cases, visible_q
from citygrid.catalog.models import Category
from citygrid.catalog.selectors import active_standard
from citygrid.web import selectors as web_selectors
from citygrid.web.selectors import SCREEN_DAYS, screen_figures
from tests.web import demo_fixtures

_demo_committed = demo_fixtures._demo_committed
_demo_plan = demo_fixtures._demo_plan
demo_small = demo_fixtures.demo_small
people = demo_fixtures.people
place = demo_fixtures.place
photo = demo_fixtures.photo

JJ_STREET = "510104002"  # Jinjiang, event 06 → standard process
JJ_FLAT = "510104001002"  # Jinjiang street 510104001: its street staff self-handle event 06 here
QY_STREET = "510105002"
USERS = ("root", "leader_city", "leader_jinjiang", "dispatcher_qingyang", "street_staff_jinjiang",
         "handler_jinjiang_hw")


def _noon_today() -> datetime:
    # Far from midnight, so "today" and the day offsets below mean the same for every figure.
    return timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)


def _report(people: Any, place: Any, who: str, area: str, code: str = "06002", source: str = "city_inspector",
            kind: str = "event") -> Case:
    lon, lat = place(area)
    return actions.report_case(people[who], source=source, kind=kind, category_code=code, lon=lon, lat=lat)


def _close_flat(people: Any, place: Any, photo: bytes, code: str = "06007") -> Case:
    case = _report(people, place, "street_staff_jinjiang", JJ_FLAT, code=code, source="street_staff")
    actions.feedback_case(people["street_staff_jinjiang"], case.pk, after_photo=photo, role="street_staff")
    return actions.close_case(people["shift_leader_jinjiang"], case.pk)


def _move(case: Case, start: datetime, *, level: str | None = None, deadline_after: timedelta | None = None,
          no_deadline: bool = False) -> None:
    """Puts the case and its events at `start` (events 10 minutes apart, in order), its
    closing at its close event, and its traffic light and handling deadline as given."""
    events = list(CaseEvent.objects.filter(case=case).order_by("seq"))
    for i, event in enumerate(events):
        CaseEvent.objects.filter(pk=event.pk).update(at=start + timedelta(minutes=10 * i))
    closed_at = next((start + timedelta(minutes=10 * i) for i, e in enumerate(events)
                      if e.operation == "close"), None)
    fields: dict[str, Any] = {"created_at": start, "updated_at": start, "closed_at": closed_at}
    if level is not None:
        fields["overdue_level"] = level
    if deadline_after is not None and closed_at is not None:
        fields["overall_deadline"] = closed_at + deadline_after
    if no_deadline:
        fields["overall_deadline"] = None
    Case.objects.filter(pk=case.pk).update(**fields)


@pytest.fixture
def city(people, place, photo, django_user_model) -> datetime:
    """Cases in both districts, in open and final states, over a year; returns `now`."""
    now = _noon_today()
    today = now.replace(hour=0)
    since = today - timedelta(days=SCREEN_DAYS - 1)
    month = today.replace(day=1)
    intake, dispatcher = people["intake_operator_jinjiang"], people["dispatcher_jinjiang"]

    def standard(area: str = JJ_STREET, code: str = "06002", kind: str = "event") -> Case:
        return _report(people, place, "city_inspector_1", area, code=code, kind=kind)

    filed = [actions.file_case(intake, standard().pk) for _ in range(3)]
    dispatched = actions.dispatch_case(dispatcher, filed[0].pk, department="510104-HW",
                                       copies=["510104001-JD"])
    rejected = actions.reject_case(intake, standard().pk, reason="不属实")
    qy_filed = actions.file_case(people["intake_operator_qingyang"], standard(QY_STREET).pk)
    qy_dispatched = actions.dispatch_case(people["dispatcher_qingyang"],
                                          actions.file_case(people["intake_operator_qingyang"],
                                                            standard(QY_STREET, "06001").pk).pk,
                                          department="510105-HW")
    closed = [_close_flat(people, place, photo, code) for code in ("06007", "06007", "06001", "06007")]
    own = _report(people, place, "street_staff_jinjiang", JJ_FLAT, code="06007", source="street_staff")
    plan: list[tuple[Case, datetime, dict[str, Any]]] = [  # (case, start, light / deadline)
        (standard(), now - timedelta(hours=3), {"level": "red"}),  # today, to file
        (standard(code="09009"), now - timedelta(days=1), {}),
        (standard(QY_STREET, "09009"), now - timedelta(days=10), {"level": "yellow"}),
        (standard(code="01037", kind="component"), now - timedelta(days=20), {"level": "red"}),
        (filed[1], now - timedelta(hours=2), {"level": "yellow"}),
        (filed[2], now - timedelta(hours=2), {"level": "red"}),  # same times as the one above
        (dispatched, now - timedelta(days=3), {"level": "green"}),
        (rejected, now - timedelta(hours=4), {"level": "red"}),  # final: never open, never overdue
        (qy_filed, since, {"level": "red"}),  # the first instant of the 30 days: counted
        (qy_dispatched, since - timedelta(microseconds=1), {"level": "yellow"}),  # just before
        (closed[0], now - timedelta(hours=5), {"deadline_after": timedelta(hours=1)}),  # on time
        (closed[1], now - timedelta(hours=6), {"deadline_after": -timedelta(hours=1)}),  # late
        (closed[2], min(month, since) - timedelta(days=1), {"deadline_after": timedelta(days=1)}),
        (closed[3], now - timedelta(hours=7), {"no_deadline": True}),  # no limit: not counted
        (own, now - timedelta(days=200), {"level": "red"}),
    ]
    for case, start, options in plan:
        _move(case, start, **options)
    django_user_model.objects.create_superuser("root")
    return now


def _reference(user: User, now: datetime) -> dict[str, Any]:
    """The figures counted one case and one event at a time."""
    local = timezone.localtime(now)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = today.replace(day=1)
    since = today - timedelta(days=SCREEN_DAYS - 1)
    cases = list(visible_cases(user))
    ids = {c.pk for c in cases}
    events = [e for e in CaseEvent.objects.select_related("case__district") if e.case_id in ids]

    def today_cases(*operations: str) -> int:
        return len({e.case_id for e in events if e.at >= today and e.operation in operations})

    open_cases = [c for c in cases if c.state not in FINAL_STATES]
    closed_month = [c for c in cases if c.state == "closed" and c.closed_at is not None
                    and c.closed_at >= month and c.overall_deadline is not None]
    on_time = [c for c in closed_month if c.closed_at <= c.overall_deadline]
    recent = [c for c in cases if c.created_at >= since]
    districts = sorted({(c.district.code, c.district.name) for c in recent})
    majors = Counter((c.kind, c.category.code[:2]) for c in recent)
    names = {(c.kind, c.code): c.name for c in Category.objects.filter(standard=active_standard(),
                                                                      level="major")}
    latest = sorted(events, key=lambda e: (e.at, e.pk), reverse=True)[:20]
    return {
        "generated_at": now.isoformat(),
        "today": {"reported": today_cases("report"), "filed": today_cases("file"),
                  "dispatched": today_cases("dispatch", "redispatch"), "closed": today_cases("close")},
        "open": len(open_cases),
        "overdue": sum(c.overdue_level == "red" for c in open_cases),
        "warning": sum(c.overdue_level == "yellow" for c in open_cases),
        "closed_month": len(closed_month),
        "on_time_month": len(on_time),
        "on_time_rate": round(100.0 * len(on_time) / len(closed_month), 1) if closed_month else None,
        "days": SCREEN_DAYS,
        "by_district": [
            {"code": code, "name": name,
             "total": sum(c.district.code == code for c in recent),
             "open": sum(c.district.code == code and c.state not in FINAL_STATES for c in recent)}
            for code, name in districts],
        "by_class": [{"kind": kind, "code": code, "name": names.get((kind, code), code), "total": total}
                     for (kind, code), total in sorted(majors.items(), key=lambda m: (-m[1], m[0]))],
        "events": [{"operation": e.operation, "number": e.case.number, "district": e.case.district.name,
                    "at": e.at.isoformat(), "to_state": e.to_state} for e in latest],
    }


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize("listed_at_most", [1000, 0])  # departments and copies as lists / subqueries
def test_figures_equal_a_count_case_by_case(people, city, monkeypatch, username, listed_at_most) -> None:
    monkeypatch.setattr(web_selectors, "LISTED_AT_MOST", listed_at_most)
    user = User.objects.get(username=username)
    assert screen_figures(user, now=city) == _reference(user, city)


@pytest.mark.parametrize("kept_days_ago", [0, 5, 45])
def test_figures_equal_a_count_case_by_case_with_kept_day_counts(people, city, kept_days_ago) -> None:
    """The days before the kept counts' watermark come from `CaseDayCount`: same figures."""
    from citygrid.cases.day_counts import refresh_day_counts, watermark
    from citygrid.cases.models import CaseDayCount

    until = timezone.localdate(city) - timedelta(days=kept_days_ago)
    assert refresh_day_counts(until, full=True) > 0
    assert watermark() is not None and watermark() <= until
    assert CaseDayCount.objects.filter(closed__gt=0).exists() or kept_days_ago
    for username in USERS:
        user = User.objects.get(username=username)
        assert screen_figures(user, now=city) == _reference(user, city), username


def test_the_city_is_varied_enough_to_tell(people, city) -> None:
    """Each figure is non-trivial for the superuser, so the comparison above can fail."""
    figures = _reference(User.objects.get(username="root"), city)
    # Flat-process reports are filed and dispatched at once; a rejection is no filing.
    assert figures["today"] == {"reported": 7, "filed": 5, "dispatched": 3, "closed": 3}
    assert (figures["open"], figures["overdue"], figures["warning"]) == (10, 5, 3)
    assert (figures["closed_month"], figures["on_time_month"]) == (2, 1)
    assert [(d["code"], d["total"], d["open"]) for d in figures["by_district"]] == [
        ("510104", 10, 6), ("510105", 2, 2)]
    assert [(c["kind"], c["code"], c["total"]) for c in figures["by_class"]] == [
        ("event", "06", 9), ("event", "09", 2), ("component", "01", 1)]
    assert len(figures["events"]) == 20
    assert figures["events"][0]["at"] == figures["events"][1]["at"]  # a tie, broken by id
    street = _reference(people["street_staff_jinjiang"], city)
    assert 0 < sum(d["total"] for d in street["by_district"]) < 11  # own street, copies


@pytest.mark.parametrize("username", USERS)
def test_visible_q_through_a_join_matches_visible_cases(people, city, username) -> None:
    user = User.objects.get(username=username)
    through_events = set(CaseEvent.objects.filter(visible_q(user, prefix="case__"))
                         .values_list("case_id", flat=True))
    assert through_events == set(visible_cases(user).values_list("id", flat=True))
    assert set(Case.objects.filter(visible_q(user)).values_list("id", flat=True)) == through_events


def test_visible_q_of_an_anonymous_user_matches_nothing(city) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert not CaseEvent.objects.filter(visible_q(AnonymousUser(), prefix="case__")).exists()
    assert not Case.objects.filter(visible_q(AnonymousUser())).exists()


def test_a_departments_scope_reaches_the_planner_as_lists(people, city) -> None:
    from django.db.models import Q, QuerySet

    def values(q: Q) -> list[Any]:
        children: list[Any] = list(q.children)
        return [v for c in children for v in (values(c) if isinstance(c, Q) else [c[1]])]

    user = people["street_staff_jinjiang"]  # street staff, and handler of the street office
    scope = visible_q(user)
    assert any(isinstance(v, QuerySet) for v in values(scope))
    listed = web_selectors._listed(scope)
    assert not any(isinstance(v, QuerySet) for v in values(listed))
    assert set(Case.objects.filter(listed).values_list("id", flat=True)) == set(
        visible_cases(user).values_list("id", flat=True))


def test_day_counts_refresh_is_idempotent_and_incremental_equals_full(city) -> None:
    from citygrid.cases.day_counts import refresh_day_counts
    from citygrid.cases.models import CaseDayCount

    def rows() -> list[tuple[Any, ...]]:
        return sorted(CaseDayCount.objects.values_list(
            "day", "district_id", "kind", "major", "reported", "closed", "closed_on_time"))

    today = timezone.localdate(city)
    refresh_day_counts(today - timedelta(days=40))
    refresh_day_counts(today - timedelta(days=3))
    refresh_day_counts(today)
    assert refresh_day_counts(today) == 0
    incremental = rows()
    refresh_day_counts(today, full=True)
    assert rows() == incremental and sum(r[4] for r in incremental) == Case.objects.filter(
        created_at__lt=timezone.make_aware(datetime.combine(today, datetime.min.time()))).count()
