"""The live map's kept per-cell counts (citygrid.cases.map_cells) give exactly the answer of
counting the cases live, for every scope, filter, period and zoom; refreshing is idempotent
and incremental refreshes equal a full one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from citygrid.cases import map_cells
from citygrid.cases.domain.map_cells import cell_box
from citygrid.cases.models import Case, CaseCellCount
from citygrid.core.memo import remembering
from citygrid.org.models import RoleAssignment
from citygrid.web import selectors
from tests.web import demo_fixtures
from tests.web.test_screens import _report

_demo_committed = demo_fixtures._demo_committed
_demo_plan = demo_fixtures._demo_plan
demo_small = demo_fixtures.demo_small
people = demo_fixtures.people
place = demo_fixtures.place
photo = demo_fixtures.photo

WHOLE_WORLD = (-180.0, -90.0, 180.0, 90.0)
SPOTS = ("510104001002", "510104002", "510105002", "510104001")
AGES = (0, 0, 1, 3, 8, 20, 31, 45, 70, 95, 130, 200, 300, 400)  # days before now


@pytest.fixture
def history(people, place) -> list[Case]:
    """Cases over more than a year, in two districts, some today."""
    made = []
    for i, age in enumerate(AGES):
        case = _report(people, place, "city_inspector_1", SPOTS[i % len(SPOTS)])
        Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - timedelta(days=age, hours=i))
        made.append(case)
    return made


def _scopes(people) -> dict[str, Any]:
    handler_role = RoleAssignment.objects.filter(role="handler").select_related("person__user").first()
    assert handler_role is not None
    superuser = get_user_model().objects.create_superuser("map_admin", "map@example.org", "x")
    return {"superuser": superuser, "district leader": people["leader_jinjiang"],
            "district dispatcher": people["dispatcher_qingyang"],
            "street staff": people["street_staff_jinjiang"], "inspector": people["city_inspector_1"],
            "handler": handler_role.person.user}


FILTERS = [selectors.CaseFilters(), selectors.CaseFilters(period="today"),
           selectors.CaseFilters(period="7d"), selectors.CaseFilters(period="30d"),
           selectors.CaseFilters(period="90d"), selectors.CaseFilters(period="365d"),
           selectors.CaseFilters(district="510104"), selectors.CaseFilters(district="510105", period="90d")]


def _same(kept: selectors.Sums, live: selectors.Sums) -> None:
    assert {k: v[0] for k, v in kept.items()} == {k: v[0] for k, v in live.items()}
    for key, (_n, lons, lats) in live.items():
        assert kept[key][1] == pytest.approx(lons) and kept[key][2] == pytest.approx(lats)


def test_kept_counts_equal_live_counts_for_every_scope_filter_and_scale(people, history) -> None:
    written = map_cells.refresh_map_cells()
    assert written > 0 and map_cells.watermark() == timezone.localdate()
    used_kept = 0
    for name, user in _scopes(people).items():
        for filters in FILTERS:
            qs = selectors.filtered_cases(user, filters)
            for scale in (8, 12, 13, 15, 16, 17, 18):
                box = cell_box(WHOLE_WORLD, scale)
                with remembering(), CaptureQueriesContext(_connection()) as ctx:
                    kept = selectors.cell_counts(user, filters, qs, box)
                used_kept += any("cases_casecellcount" in q["sql"] for q in ctx.captured_queries)
                _same(kept, selectors._live_sums(qs, box))
                assert sum(v[0] for v in kept.values()) == qs.count(), (name, filters, scale)
    # The kept counts did answer: superuser and district users, scales up to 17.
    assert used_kept >= 3 * len(FILTERS) * 5


def test_scopes_that_are_not_whole_districts_count_live(people, history) -> None:
    from citygrid.cases.selectors import NotWholeDistricts, whole_districts

    scopes = _scopes(people)
    assert whole_districts(scopes["superuser"]) is None
    assert whole_districts(scopes["district leader"])
    for name in ("street staff", "handler"):
        with pytest.raises(NotWholeDistricts):
            whole_districts(scopes[name])


def test_cases_reported_outside_ones_districts_are_counted_too(people, place, history) -> None:
    leader = people["leader_jinjiang"]
    # A Jinjiang leader who reported a case in Qingyang sees that case, old or new.
    for age in (40, 0):
        case = _report(people, place, "city_inspector_1", "510105002")
        Case.objects.filter(pk=case.pk).update(reporter=leader,
                                               created_at=timezone.now() - timedelta(days=age))
    map_cells.refresh_map_cells()
    qs = selectors.filtered_cases(leader, selectors.CaseFilters())
    assert qs.filter(district__code="510105").count() == 2
    box = cell_box(WHOLE_WORLD, 13)
    kept = selectors.cell_counts(leader, selectors.CaseFilters(), qs, box)
    _same(kept, selectors._live_sums(qs, box))


def test_refresh_is_idempotent_and_incremental_equals_full(history) -> None:
    today = timezone.localdate()
    assert map_cells.refresh_map_cells(today - timedelta(days=60)) > 0
    assert map_cells.watermark() is not None and map_cells.watermark() <= today - timedelta(days=60)
    map_cells.refresh_map_cells(today - timedelta(days=10))
    map_cells.refresh_map_cells(today)
    assert map_cells.refresh_map_cells(today) == 0  # nothing new
    incremental = _rows()
    map_cells.refresh_map_cells(today, full=True)
    assert _rows() == incremental
    assert {r[1] for r in incremental} == {"d", "m"}


def _rows() -> list[tuple[Any, ...]]:
    return sorted((r.scale, r.bucket, r.day, r.cx, r.cy, r.district_id, r.n, round(r.sum_lon, 9),
                   round(r.sum_lat, 9)) for r in CaseCellCount.objects.all())


def test_live_map_answers_the_same_before_and_after_a_refresh(client, people, history) -> None:
    client.force_login(people["leader_jinjiang"])
    urls = [f"/live/cases.json?bbox={','.join(map(str, WHOLE_WORLD))}&zoom={z}{q}"
            for z in (9, 11, 13) for q in ("", "&period=30d", "&heat=1&period=90d")]
    before = [client.get(url).json() for url in urls]
    map_cells.refresh_map_cells()
    assert CaseCellCount.objects.exists()
    assert [client.get(url).json() for url in urls] == before


def _connection() -> Any:
    from django.db import connection

    return connection


def test_kept_counts_are_shown_to_superusers_only_in_the_admin(client, people, history) -> None:
    map_cells.refresh_map_cells()
    staff = people["leader_jinjiang"]
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client.force_login(staff)
    for url in ("/admin/cases/casecellcount/", "/admin/cases/casedaycount/"):
        assert client.get(url).status_code == 403
    client.force_login(_scopes(people)["superuser"])
    page = client.get("/admin/cases/casecellcount/")
    assert page.status_code == 200 and b"case counts of map cells" in page.content.lower()
    assert client.get("/admin/cases/casedaycount/").status_code == 200
