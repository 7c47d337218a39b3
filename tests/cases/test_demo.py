"""The demo cases: every state of every process, reached through the real actions."""

from __future__ import annotations

import io

from citygrid.cases.demo import load_demo
from citygrid.cases.domain.processes import AUTOMATIC, PROCESSES, State
from citygrid.cases.history import check_case_chain
from citygrid.cases.models import Case, CaseEvent, Photo

# The processes the system files itself never rest in `to_file`, where `reject` applies: their
# `rejected` state cannot be reached by any action (reported to the case engine).
UNREACHABLE = {name: {State.REJECTED} for name in AUTOMATIC}


def test_small_demo_reaches_every_state_of_every_process(demo_small):
    out = io.StringIO()
    load_demo(out, size="small")
    text = out.getvalue()
    assert "0 scenarios failed" in text, text
    visited: dict[str, set[str]] = {}
    for process, state in CaseEvent.objects.values_list("case__process", "to_state"):
        visited.setdefault(process, set()).add(state)
    resting: dict[str, set[str]] = {}
    for process, state in Case.objects.values_list("process", "state"):
        resting.setdefault(process, set()).add(state)
    for name, process in PROCESSES.items():
        expected = {s.value for s in process.states - UNREACHABLE.get(name, set())}
        assert visited.get(name.value) == expected, name
        # Every state but the transient initial one of the automatic processes has a case in it.
        transient = {State.TO_FILE.value} if name in AUTOMATIC else set()
        assert resting.get(name.value) == expected - transient, name
    assert Case.objects.filter(needs_collaboration=True).exists()
    assert Case.objects.filter(postponed=True).exists()
    assert Case.objects.filter(rework_count__gt=0).exists()
    assert Case.objects.filter(duplicate_of__isnull=False, state="merged").exists()
    assert Photo.objects.filter(kind="after").exists() and Photo.objects.filter(kind="before").exists()
    assert set(Case.objects.values_list("district__code", flat=True)) == {"510104", "510105"}
    assert all(check_case_chain(c) is None for c in Case.objects.all()[:50])
    for name in PROCESSES:
        assert name.value in text  # the summary table


def test_demo_is_idempotent(people, place):
    from citygrid.cases import actions

    lon, lat = place("510104002")
    actions.report_case(people["city_inspector_1"], source="city_inspector", kind="event",
                        category_code="06002", lon=lon, lat=lat)
    out = io.StringIO()
    load_demo(out, size="small")
    assert Case.objects.count() == 1
    assert "1 cases already there, skipped" in out.getvalue()


def test_demo_plan_sizes(demo_small):
    from citygrid.cases.demo import SCRIPTS, _districts, plan

    districts = _districts()
    scripts = sum(len(s) for s in SCRIPTS.values())
    assert len(plan(districts, "small")) == scripts
    assert len(plan(districts, "full")) == 2 * scripts  # the small city has two districts
    assert {d.code for _, _, d, _ in plan(districts, "small")} == {"510104", "510105"}


def test_demo_leaves_duplicates_to_suggest(demo_small):
    import random

    from citygrid.cases.demo import Demo, District, _districts
    from citygrid.cases.duplicates import duplicates_of

    demo = Demo(random.Random(1))
    d: District = _districts()[0]
    second = demo.run("standard", ["duplicate"], d, 0)
    assert second.state == "to_file"
    found = duplicates_of(second)
    assert [s.case.pk for s in found] == [demo.anchors[("standard", d.area.pk)].pk]
    assert found[0].distance_m < 30
