"""Units on duty (M-21): presence from heartbeats, online minutes within working periods over a
day with gaps, answers and response times; the pure interval arithmetic."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from citygrid.collab import actions
from citygrid.collab.domain import duty
from citygrid.collab.duty import unit_duty_figures
from citygrid.collab.models import DutyDay, PresenceSpan
from citygrid.org import actions as org_actions
from citygrid.org.models import Department
from tests.collab.helpers import filed

DAY = date(2026, 11, 25)  # a Wednesday, an official working day: 08:30–12:00, 13:30–17:30


def at(hour, minute=0):
    return datetime.combine(DAY, time(hour, minute), tzinfo=timezone.get_current_timezone())


def beat(user, start, end):
    t = start
    while t <= end:
        actions.heartbeat(user, at=t)
        t += timedelta(minutes=1)


def test_online_minutes_over_a_day_with_gaps(people):
    hw = Department.objects.get(code="510104-HW")
    second = org_actions.save_person(None, username="hw_second", display_name="环卫二",
                                     department=hw).user
    first = people["handler_jinjiang_hw"]
    beat(first, at(8, 0), at(8, 40))  # before work from 08:00: counts from 08:30 → 11 min
    beat(first, at(10, 0), at(10, 59))  # 10:00–11:00
    beat(second, at(10, 30), at(11, 29))  # overlaps: together 10:00–11:30 → 90 min
    beat(first, at(12, 10), at(12, 30))  # lunch: not working time
    beat(first, at(17, 0), at(17, 59))  # 17:00–17:30 counts → 30 min
    assert PresenceSpan.objects.filter(person__user=first).count() == 4
    [fig] = [f for f in unit_duty_figures(DAY, DAY) if f.department_code == "510104-HW"]
    assert fig.working_minutes == 450
    assert fig.online_minutes == 11 + 90 + 30
    assert fig.online_share == round(131 / 450, 4)
    assert [d.online_minutes for d in fig.days] == [131]
    assert actions.rollup_duty(DAY) >= 1
    row = DutyDay.objects.get(department=hw, day=DAY)
    assert (row.working_minutes, row.online_minutes) == (450, 131)
    assert row.first_seen == at(8, 0) and row.last_seen == at(18, 0)
    # a weekend day has no working time
    [weekend] = [f for f in unit_duty_figures(date(2026, 11, 28), date(2026, 11, 28))] or [None]
    assert weekend is None  # nobody was seen, nobody invited


def test_a_person_without_a_unit_records_nothing(people):
    assert actions.heartbeat(people["city_inspector_1"]) is None


def test_answers_and_shares(people, place):
    coordinator = people["coordinator_city"]
    dossiers = [actions.send_case(people["dispatcher_jinjiang"], filed(people, place).pk, reason="r")
                for _ in range(2)]
    one, two = (actions.invite_units(coordinator, d.pk, departments=["510104-HW"])[0] for d in dossiers)
    actions.answer_invitation(people["handler_jinjiang_hw"], one.pk, answer="decline", reason="不是")
    actions.decide(coordinator, dossiers[0].pk, owner="510104-HW", reasoning="归环卫")
    today = timezone.localdate(one.invited_at)
    [fig] = [f for f in unit_duty_figures(today, today) if f.department_code == "510104-HW"]
    assert (fig.invited, fig.accepted, fig.declined, fig.unanswered) == (2, 0, 1, 1)
    assert fig.declined_share == 0.5 and fig.accepted_share == 0.0
    assert fig.owned == 1 and fig.resolved == 0 and fig.resolved_share == 0.0
    assert fig.mean_response_minutes is not None and fig.mean_response_minutes >= 0
    assert fig.as_dict()["department_code"] == "510104-HW"


T0 = datetime(2026, 1, 1, tzinfo=timezone.get_fixed_timezone(480))
spans = st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 200)), max_size=20).map(
    lambda rows: [(T0 + timedelta(minutes=a), T0 + timedelta(minutes=a + n)) for a, n in rows])


@given(spans)
def test_merge_is_a_disjoint_sorted_union(rows):
    merged = duty.merge(rows)
    for (_a, b), (c, _d) in zip(merged, merged[1:], strict=False):
        assert b < c
    minutes = {m for a, b in rows for m in range(int((a - T0).total_seconds() // 60),
                                                 int((b - T0).total_seconds() // 60))}
    assert duty.total(merged) == timedelta(minutes=len(minutes))


@given(spans, st.integers(0, 1200), st.integers(0, 1200))
def test_clip_stays_inside(rows, x, y):
    start, end = T0 + timedelta(minutes=min(x, y)), T0 + timedelta(minutes=max(x, y))
    clipped = duty.clip(duty.merge(rows), start, end)
    assert all(start <= a < b <= end for a, b in clipped)
    assert duty.total(clipped) <= end - start


def test_count_answers_and_share():
    due = T0 + timedelta(hours=1)
    rows = [("accept", T0, due), ("decline", due + timedelta(minutes=1), due), ("", None, due)]
    counts = duty.count_answers(rows, now=due + timedelta(hours=1))
    assert (counts.invited, counts.accepted, counts.declined, counts.unanswered, counts.late) == (3, 1, 1, 1, 2)
    assert counts.answered == 2
    assert duty.share(1, 3) == 0.3333 and duty.share(1, 0) is None
