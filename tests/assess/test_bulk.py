"""The bulk path writes what the actions write: same deadlines (the calendar engine's), same
shape of rows, a hash chain that verifies, seeded histories."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from citygrid.assess.bulk import bulk_generate
from citygrid.assess.domain.timeline import Timeline, deadline, instant, micros
from citygrid.assess.facts import refresh_facts
from citygrid.assess.services import KINDS, Filters, compute_figures, figures_of_all
from citygrid.assess.simulate import simulate
from citygrid.calendars.domain.durations import parse_duration
from citygrid.calendars.services import default_calendar, find_calendar, work_calendar
from citygrid.cases import actions
from citygrid.cases.history import check_case_chain
from citygrid.cases.models import Case, CaseEvent

LIMITS = ["1 working hour", "2 working days", "30 minutes", "4 working hours", "15 working days",
          "1 hours", "3 calendar days"]
EVERYTHING = Filters(date(2000, 1, 1), date(2100, 1, 1))


def _empty(value):
    return value in (None, "", [], {})


def test_timeline_equals_the_calendar_engine(demo_small):
    rng = random.Random(7)
    origin = micros(datetime(2025, 12, 1, tzinfo=UTC))
    for row in (find_calendar("supervision"), default_calendar()):
        line = Timeline(work_calendar(row), date(2025, 11, 1), date(2027, 6, 1))
        for _ in range(300):
            limits = [rng.choice(LIMITS), *(["2 working days"] if rng.random() < 0.3 else [])]
            start = origin + rng.randrange(0, 400 * 86400) * 1_000_000 + rng.choice(
                [0, rng.randrange(1_000_000)])
            pauses = []
            if rng.random() < 0.5:
                p0 = start + rng.randrange(-3600, 3 * 86400) * 1_000_000
                pauses = [(p0, p0 + rng.randrange(60, 4 * 86400) * 1_000_000)]
            want = actions._deadline(row, instant(start), limits[0], limits[1:],
                                     [(instant(a), instant(b)) for a, b in pauses])
            got = deadline(line, start, [parse_duration(t) for t in limits], pauses)
            assert (instant(got[0]), instant(got[1])) == (want.deadline, want.warn_at), \
                (row.name, limits, instant(start), pauses)


@pytest.fixture
def both(demo_small):
    """Cases from the real actions (simulator) and from the bulk path, side by side."""
    simulate(days=2, seed=3, per_day=3, start=date(2026, 3, 2))
    real = set(Case.objects.values_list("id", flat=True))
    bulk_generate(cases=400, days=20, seed=2, end=date(2026, 3, 20))
    return real, set(Case.objects.values_list("id", flat=True)) - real


def test_bulk_rows_have_the_shape_of_the_actions_rows(both):
    real, bulk = both
    skip = {"id", "number", "history_head"}

    def shapes(ids, key):
        found = {}
        for case in Case.objects.filter(id__in=ids):
            empty = tuple(f.attname for f in Case._meta.concrete_fields
                          if f.attname not in skip and _empty(getattr(case, f.attname)))
            found.setdefault(key(case), set()).add(empty)
        return found

    def key(case):  # like histories: same process, state and detours
        return (case.process, case.state, case.postponed, case.rework_count > 0,
                case.return_count > 0)

    theirs, ours = shapes(real, key), shapes(bulk, key)
    common = set(theirs) & set(ours)
    assert ("standard", "closed", False, False, False) in common
    for k in common:
        for shape in ours[k] - theirs[k]:
            nearest = min(theirs[k], key=lambda t: len(set(t) ^ set(shape)))
            raise AssertionError((k, "bulk only", set(shape) - set(nearest),
                                  "real only", set(nearest) - set(shape)))
    events = {}
    for e in CaseEvent.objects.filter(case_id__in=real | bulk):
        side = "bulk" if e.case_id in bulk else "real"
        shape = (tuple(f.attname for f in CaseEvent._meta.concrete_fields
                       if _empty(getattr(e, f.attname))), tuple(sorted(e.inputs)))
        events.setdefault((e.operation, side), set()).add(shape)
    for (op, side), shapes_ in events.items():
        if side == "bulk" and (op, "real") in events:
            assert shapes_ <= events[(op, "real")], (op, shapes_ - events[(op, "real")])


def test_bulk_deadlines_levels_and_chain_are_the_engines(both):
    _, bulk = both
    for case in Case.objects.filter(id__in=bulk).order_by("id")[:150]:
        stored = (case.step_deadline, case.step_warn_at, case.overall_deadline,
                  case.overall_warn_at, case.deadline_provisional, case.overdue_level)
        actions._recompute(case, case.updated_at)
        level = actions.level_of(case, case.updated_at) if case.state != "suspended" else case.overdue_level
        assert stored == (case.step_deadline, case.step_warn_at, case.overall_deadline,
                          case.overall_warn_at, case.deadline_provisional, level), case.number
        assert check_case_chain(case) is None, case.number
    numbers = list(Case.objects.filter(id__in=bulk).values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers) and all(len(n) == 19 for n in numbers)


def test_bulk_is_seeded_and_its_figures_agree(demo_small):
    for _ in range(2):
        bulk_generate(cases=150, days=10, seed=5, end=date(2026, 3, 20))
    rows = CaseEvent.objects.order_by("case_id", "seq").values_list(
        "case_id", "operation", "at", "actor_id", "step_due_at")
    by_case = {}
    for case_id, *rest in rows:
        by_case.setdefault(case_id, []).append(tuple(rest))
    histories = [by_case[k] for k in sorted(by_case)]
    assert len(histories) == 300 and histories[:150] == histories[150:]

    refresh_facts(as_of=datetime(2026, 3, 20, tzinfo=UTC) + timedelta(days=1))
    street = Case.objects.values_list("street_id", flat=True).first()
    district = Case.objects.values_list("district_id", flat=True).first()
    slices = [EVERYTHING, Filters(date(2026, 3, 12), date(2026, 3, 15), district_ids=(district,)),
              Filters(date(2026, 3, 10), date(2026, 3, 19), street_id=street)]
    for filters in slices:
        every = figures_of_all(filters)
        for kind in KINDS:
            facts = compute_figures(kind, filters, use_rollup=False)
            assert compute_figures(kind, filters) == every[kind] == facts, (kind, filters)
            assert facts or filters is not EVERYTHING or kind in ("contractor", "collaborating_unit")


def test_bulk_load_in_workers_rebuilds_every_index_and_key(demo_small):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("indexes are dropped and rebuilt on PostgreSQL only")

    def schema():
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename IN "
                           "('cases_case', 'cases_caseevent', 'cases_casepause')")
            indexes = sorted(r[0] for r in cursor.fetchall())
            cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE "
                           "conrelid IN ('cases_case'::regclass, 'cases_caseevent'::regclass, "
                           "'cases_casepause'::regclass)")
            return indexes, sorted(cursor.fetchall())

    before = schema()
    assert len(before[0]) > 20
    bulk_generate(cases=300, days=10, seed=4, end=date(2026, 3, 20), batch=100, workers=2,
                  rebuild_indexes=True)
    assert schema() == before
    cases = Case.objects.order_by("id")
    assert cases.count() == 300 and all(check_case_chain(c) is None for c in cases[:50])
