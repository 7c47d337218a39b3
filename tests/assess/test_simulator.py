from datetime import date

import pytest

from citygrid.assess.facts import refresh_facts
from citygrid.assess.services import Filters, compute_figures, drill_down
from citygrid.assess.simulate import simulate

START = date(2026, 3, 2)


@pytest.fixture
def simulated(demo_small):
    truth = simulate(days=2, seed=3, per_day=4, start=START)
    refresh_facts(as_of=truth.as_of)
    return truth


def _plain(counters):
    return {k: {f: n for f, n in c.items() if n} for k, c in counters.items() if any(c.values())}


def test_simulation_runs_cleanly(simulated):
    assert simulated.cases > 10
    assert not simulated.failures
    assert simulated.operations["check_fail"] + simulated.operations["return"] >= 0


def test_region_figures_equal_truth(simulated):
    filters = Filters(START, date(2026, 3, 3))
    for use_rollup in (True, False):
        got = compute_figures("district", filters, use_rollup=use_rollup)
        assert {k: {f: n for f, n in v.items() if n} for k, v in got.items()} == _plain(simulated.district)


def test_post_figures_equal_truth(simulated):
    filters = Filters(START, date(2026, 3, 3))
    disp = compute_figures("dispatcher", filters)
    assert {k: {f: v[f] for f in ("dispatches_due", "dispatched_on_time") if v[f]}
            for k, v in disp.items()} == _plain(simulated.dispatcher)
    dept = compute_figures("department", filters)
    assert {k: {f: v[f] for f in ("due_to_handle", "handled_on_time") if v[f]}
            for k, v in dept.items() if v["due_to_handle"]} == _plain(simulated.department)
    filers = {**compute_figures("intake_operator", filters), **compute_figures("shift_leader", filters)}
    assert {k: {f: v[f] for f in ("filings", "filed_on_time") if v[f]}
            for k, v in filers.items() if v["filings"]} == _plain(simulated.filer)


def test_drill_down_totals_equal_figures(simulated):
    filters = Filters(START, date(2026, 3, 3))
    for kind in ("district", "department", "dispatcher", "inspector"):
        for sid, figures in compute_figures(kind, filters, use_rollup=False).items():
            for key, value in figures.items():
                if key == "missed_reports":
                    continue
                assert drill_down(kind, sid, key, filters).count() == value, (kind, sid, key)


def test_bulk_path_writes_cases_and_events_the_facts_read(demo_small):
    from citygrid.assess.bulk import bulk_generate
    from citygrid.cases.models import Case, CaseEvent

    assert bulk_generate(cases=300, days=10, seed=2) == 300
    assert Case.objects.count() == 300 and CaseEvent.objects.count() > 300
    refresh_facts()
    filters = Filters(date(2000, 1, 1), date(2100, 1, 1))
    got = compute_figures("district", filters, use_rollup=False)
    assert sum(v["filed"] for v in got.values()) == Case.objects.exclude(state="to_file").count()
    assert got == compute_figures("district", filters)
