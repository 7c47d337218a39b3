"""Two people acting on one case at once: exactly one succeeds, the other gets a conflict
naming the case's new state. Real threads with their own connections, on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection

from citygrid.cases import actions
from citygrid.cases.models import Case, CaseEvent
from citygrid.core.errors import Conflict

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def user(name: str) -> User:
    return User.objects.get(username=name)


def point(code: str) -> tuple[float, float]:
    from citygrid.space.models import Area, UnitGrid

    area = Area.objects.filter(code__startswith=code, level="community").order_by("code").first()
    grid = UnitGrid.objects.filter(community=area).order_by("code").first()
    p = grid.shape.representative_point()
    return float(p.x), float(p.y)


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released at the same instant; results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def filed_case() -> Case:
    lon, lat = point("510104002")
    case = actions.report_case(user("city_inspector_1"), source="city_inspector", kind="event",
                               category_code="06002", lon=lon, lat=lat)
    return actions.file_case(user("shift_leader_jinjiang"), case.pk)


@pytest.mark.parametrize("with_version", [False, True])
def test_two_dispatchers_at_once(demo_small_tx, with_version):
    case = filed_case()
    version = case.version if with_version else None
    dispatcher = user("dispatcher_jinjiang")
    results = together([
        lambda: actions.dispatch_case(dispatcher, case.pk, department="510104-HW",
                                      expected_version=version),
        lambda: actions.dispatch_case(dispatcher, case.pk, department="510104-SZ",
                                      expected_version=version),
    ])
    won = [r for r in results if isinstance(r, Case)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], Conflict)
    assert lost[0].code == ("case_changed" if with_version else "operation_not_allowed_in_state")
    assert lost[0].details["state"] == "dispatched"
    assert lost[0].details["version"] == case.version + 1
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.holder_department_id == won[0].holder_department_id
    assert CaseEvent.objects.filter(case=case, operation="dispatch").count() == 1


def test_accept_and_return_at_once(demo_small_tx):
    case = actions.dispatch_case(user("dispatcher_jinjiang"), filed_case().pk, department="510104-HW")
    handler, head = user("handler_jinjiang_hw"), user("department_head_jinjiang")
    results = together([
        lambda: actions.accept_case(handler, case.pk, expected_version=case.version),
        lambda: actions.return_case(head, case.pk, reason="不属本部门", expected_version=case.version),
    ])
    won = [r for r in results if isinstance(r, Case)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].details["state"] == won[0].state in ("handling", "to_dispatch")
    assert CaseEvent.objects.filter(case=case).count() == won[0].version


def test_concurrent_reports_get_distinct_numbers(demo_small_tx):
    lon, lat = point("510104002")
    inspector = user("city_inspector_1")
    n = 8
    results = together([
        lambda: actions.report_case(inspector, source="city_inspector", kind="event",
                                    category_code="06002", lon=lon, lat=lat)
        for _ in range(n)
    ])
    assert all(isinstance(r, Case) for r in results), results
    numbers = sorted(r.number for r in results)
    assert len(set(numbers)) == n
    assert [int(x[-5:]) for x in numbers] == list(range(1, n + 1))


def test_concurrent_retries_make_one_case(demo_small_tx):
    lon, lat = point("510104002")
    inspector = user("city_inspector_1")
    results = together([
        lambda: actions.report_case(inspector, source="city_inspector", kind="event",
                                    category_code="06002", lon=lon, lat=lat,
                                    idempotency_key="phone-7:1")
        for _ in range(4)
    ])
    assert all(isinstance(r, Case) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Case.objects.count() == 1


def _batch(keys: list[str], points: list[tuple[float, float]]) -> list[actions.BatchReport]:
    return [actions.BatchReport(actions.ReportFields(
        source="city_inspector", kind="event", category_code="06002", lon=lon, lat=lat), key)
        for key, (lon, lat) in zip(keys, points, strict=True)]


def test_concurrent_batches_share_the_counters_without_deadlock(demo_small_tx):
    jinjiang, qingyang = point("510104002"), point("510105001")
    inspector = user("city_inspector_1")
    # crosswise order of districts in the two batches: counters are locked in code order
    one = _batch([f"a{i}" for i in range(6)], [jinjiang, qingyang] * 3)
    two = _batch([f"b{i}" for i in range(6)], [qingyang, jinjiang] * 3)
    results = together([lambda: actions.report_cases(inspector, one),
                        lambda: actions.report_cases(inspector, two)])
    assert all(isinstance(r, list) for r in results), results
    numbers = [item.case.number for r in results for item in r]
    for district in ("510104", "510105"):
        mine = sorted(int(n[-5:]) for n in numbers if n.startswith(district))
        assert mine == list(range(1, 7))
    assert Case.objects.count() == 12
    assert CaseEvent.objects.count() == sum(Case.objects.values_list("version", flat=True))


def test_the_same_batch_sent_twice_at_once_makes_each_case_once(demo_small_tx):
    lon, lat = point("510104002")
    inspector = user("city_inspector_1")
    batch = _batch([f"phone-9:{i}" for i in range(5)], [(lon, lat)] * 5)
    results = together([lambda: actions.report_cases(inspector, batch) for _ in range(3)])
    assert all(isinstance(r, list) for r in results), results
    assert all(item.case is not None for r in results for item in r)
    answers = {tuple(item.case.pk for item in r) for r in results}
    assert len(answers) == 1
    assert sum(item.created for r in results for item in r) == 5
    assert Case.objects.count() == 5
