"""The pure responsibility-decomposition core: specificity, ties, conflicts, time windows."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citygrid.org.domain.routing import (
    AreaPrecision,
    AreaScope,
    CaseContext,
    CategoryDepth,
    MatchStatus,
    Outcome,
    Process,
    RoutingError,
    RuleRecord,
    TimeWindow,
    find_conflicts,
    match,
)

CITY, DISTRICT, STREET, COMMUNITY = "510100", "510104", "510104001", "510104001001"
GRID = "510104001001007"
WEDNESDAY_NOON = datetime(2026, 3, 4, 12, 0)


def ctx(**kw: object) -> CaseContext:
    base: dict[str, object] = dict(
        kind="component", category_chain=("01", "01002"), area_codes=(CITY, DISTRICT, STREET, COMMUNITY),
        grid_code=GRID, lon=104.06, lat=30.66, at=WEDNESDAY_NOON, source=None,
    )
    base.update(kw)
    return CaseContext(**base)  # type: ignore[arg-type]


def out(dept: str, process: Process = Process.STANDARD) -> Outcome:
    return Outcome(dept, "district", process=process)


def rule(rid: int, dept: str, **kw: object) -> RuleRecord:
    return RuleRecord(rule_id=rid, outcome=out(dept), **kw)  # type: ignore[arg-type]


class Box:
    def __init__(self, x0: float, y0: float, x1: float, y1: float) -> None:
        self.box = (x0, y0, x1, y1)

    def covers_point(self, lon: float, lat: float) -> bool:
        x0, y0, x1, y1 = self.box
        return x0 <= lon <= x1 and y0 <= lat <= y1


MAJOR = dict(kind="component", category_code="01", category_level="major")
MINOR = dict(kind="component", category_code="01002", category_level="minor")


def test_minor_class_beats_major_class_even_over_a_finer_area() -> None:
    rules = [rule(1, "A", **MAJOR, scope=AreaScope(COMMUNITY, "community")),
             rule(2, "B", **MINOR, scope=AreaScope(CITY, "city"))]
    m = match(rules, ctx())
    assert m.status is MatchStatus.MATCHED and m.outcome is not None
    assert m.outcome.department == "B"
    assert m.alternatives[0].rule.rule_id == 1
    assert "less specific category" in m.alternatives[0].why_not


def test_area_precision_order() -> None:
    scopes = [AreaScope(), AreaScope(CITY, "city"), AreaScope(DISTRICT, "district"),
              AreaScope(STREET, "street"), AreaScope(COMMUNITY, "community"),
              AreaScope(grid_codes=frozenset({GRID})), AreaScope(region=Box(104, 30, 105, 31))]
    precisions = [s.precision for s in scopes]
    assert precisions == sorted(precisions)
    assert precisions[-1] == precisions[-2] == AreaPrecision.SHAPE
    rules = [rule(i, f"D{i}", **MAJOR, scope=s) for i, s in enumerate(scopes[:-1])]
    m = match(rules, ctx())
    assert m.outcome is not None and m.outcome.department == "D5"  # the grid set


def test_major_class_covers_its_children_but_not_other_kinds() -> None:
    rules = [rule(1, "A", **MAJOR)]
    assert match(rules, ctx()).status is MatchStatus.MATCHED
    assert match(rules, ctx(kind="event")).status is MatchStatus.NO_RULE
    assert match(rules, ctx(category_chain=("02", "02001"))).status is MatchStatus.NO_RULE


def test_no_rule_goes_to_the_collaboration_platform() -> None:
    m = match([rule(1, "A", **MAJOR, scope=AreaScope("510105", "district"))], ctx())
    assert m.status is MatchStatus.NO_RULE and m.outcome is None
    assert "collaboration platform" in m.reasons[0]


def test_component_owner_hook() -> None:
    owner = Outcome("SU-POWER", "city")
    assert match([], ctx(component_owner=owner)).outcome == owner
    deferring = RuleRecord(1, Outcome("SZ", "district", use_component_owner=True), **MAJOR)  # type: ignore[arg-type]
    assert match([deferring], ctx(component_owner=owner)).outcome == owner
    assert match([deferring], ctx()).outcome == deferring.outcome
    plain = rule(2, "SZ", **MAJOR)
    assert match([plain], ctx(component_owner=owner)).outcome == plain.outcome


def test_equal_specificity_different_outcomes_is_a_conflict_not_a_choice() -> None:
    rules = [rule(1, "A", **MAJOR, scope=AreaScope(DISTRICT, "district")),
             rule(2, "B", **MAJOR, scope=AreaScope(DISTRICT, "district"))]
    m = match(rules, ctx())
    assert m.status is MatchStatus.CONFLICT and m.outcome is None
    assert {r.rule_id for r in m.conflicting} == {1, 2}
    assert "configuration error" in m.reasons[0]
    assert len(find_conflicts(rules)) == 1


def test_equal_specificity_same_outcome_is_fine() -> None:
    rules = [rule(1, "A", **MAJOR, scope=AreaScope(DISTRICT, "district")),
             rule(2, "A", **MAJOR, scope=AreaScope(DISTRICT, "district"))]
    assert match(rules, ctx()).status is MatchStatus.MATCHED
    assert find_conflicts(rules) == []


def test_priority_breaks_ties_and_set_beats_unset() -> None:
    a = rule(1, "A", **MAJOR, priority=None)
    b = rule(2, "B", **MAJOR, priority=0)
    c = rule(3, "C", **MAJOR, priority=5)
    assert match([a, b], ctx()).outcome == b.outcome
    assert match([a, b, c], ctx()).outcome == c.outcome
    assert find_conflicts([a, b, c]) == []
    assert len(find_conflicts([b, rule(4, "D", **MAJOR, priority=0)])) == 1


def test_time_window_beats_none_and_applies_only_inside() -> None:
    night = rule(1, "NIGHT", **MAJOR, window=TimeWindow(start=time(22), end=time(6)))
    day = rule(2, "DAY", **MAJOR)
    assert match([night, day], ctx()).outcome == day.outcome
    assert match([night, day], ctx(at=datetime(2026, 3, 4, 23, 30))).outcome == night.outcome
    assert match([night, day], ctx(at=datetime(2026, 3, 5, 5, 59))).outcome == night.outcome
    assert match([night, day], ctx(at=datetime(2026, 3, 5, 6, 0))).outcome == day.outcome


def test_overnight_window_belongs_to_the_day_it_started() -> None:
    friday_night = TimeWindow(weekdays=frozenset({5}), start=time(22), end=time(6))
    assert friday_night.contains(datetime(2026, 3, 6, 23, 0))  # Friday 23:00
    assert friday_night.contains(datetime(2026, 3, 7, 3, 0))  # Saturday 03:00
    assert not friday_night.contains(datetime(2026, 3, 6, 3, 0))  # Friday 03:00 (Thursday night)


def test_date_range_inclusive() -> None:
    w = TimeWindow(date_from=date(2026, 2, 15), date_to=date(2026, 2, 23))
    assert w.contains(datetime(2026, 2, 15, 0, 0)) and w.contains(datetime(2026, 2, 23, 23, 59))
    assert not w.contains(datetime(2026, 2, 24, 0, 0))
    both = TimeWindow(weekdays=frozenset({6, 7}), date_from=date(2026, 1, 1))
    assert both.constraints == 2


def test_source_rule_applies_only_to_that_source() -> None:
    video = rule(1, "JT", **MAJOR, source="video_patrol")
    base = rule(2, "SZ", **MAJOR)
    assert match([video, base], ctx()).outcome == base.outcome
    assert match([video, base], ctx(source="video_patrol")).outcome == video.outcome


def test_polygon_scope() -> None:
    inside = rule(1, "P", **MAJOR, scope=AreaScope(region=Box(104.0, 30.6, 104.1, 30.7)))
    base = rule(2, "D", **MAJOR, scope=AreaScope(DISTRICT, "district"))
    assert match([inside, base], ctx()).outcome == inside.outcome
    assert match([inside, base], ctx(lon=104.2)).outcome == base.outcome


def test_invalid_records_are_refused() -> None:
    with pytest.raises(RoutingError):
        AreaScope(DISTRICT, "district", grid_codes=frozenset({GRID}))
    with pytest.raises(RoutingError):
        TimeWindow(weekdays=frozenset({0}))
    with pytest.raises(RoutingError):
        TimeWindow(start=time(8))
    with pytest.raises(RoutingError):
        RuleRecord(1, out("A"), category_code="01", category_level="major")  # no kind


def test_conflicts_need_overlap() -> None:
    a = rule(1, "A", **MAJOR, scope=AreaScope(DISTRICT, "district"))
    b = rule(2, "B", **MAJOR, scope=AreaScope("510105", "district"))
    c = rule(3, "C", **MAJOR, scope=AreaScope(DISTRICT, "district"),
             window=TimeWindow(start=time(8), end=time(12)))
    d = rule(4, "D", **MAJOR, scope=AreaScope(DISTRICT, "district"),
             window=TimeWindow(start=time(13), end=time(18)))
    e = rule(5, "E", **MAJOR, scope=AreaScope(DISTRICT, "district"),
             window=TimeWindow(start=time(11), end=time(14)))
    assert find_conflicts([a, b]) == []
    assert find_conflicts([c, d]) == []
    assert {(x.first.rule_id, x.second.rule_id) for x in find_conflicts([c, d, e])} == {(3, 5), (4, 5)}
    g1 = rule(6, "G1", **MAJOR, scope=AreaScope(grid_codes=frozenset({"1", "2"})))
    g2 = rule(7, "G2", **MAJOR, scope=AreaScope(grid_codes=frozenset({"3"})))
    g3 = rule(8, "G3", **MAJOR, scope=AreaScope(grid_codes=frozenset({"2", "3"})))
    assert find_conflicts([g1, g2]) == []
    assert len(find_conflicts([g1, g2, g3])) == 2


# --- Properties --------------------------------------------------------------------------

categories = st.sampled_from([
    {}, {"kind": "component"}, MAJOR, MINOR,
    {"kind": "component", "category_code": "0100201", "category_level": "fine"},
])
scopes = st.sampled_from([
    AreaScope(), AreaScope(CITY, "city"), AreaScope(DISTRICT, "district"), AreaScope(STREET, "street"),
    AreaScope(COMMUNITY, "community"), AreaScope(grid_codes=frozenset({GRID})),
])
windows = st.sampled_from([
    TimeWindow(), TimeWindow(weekdays=frozenset({3})), TimeWindow(date_from=date(2026, 1, 1)),
    TimeWindow(weekdays=frozenset({1, 2, 3, 4, 5}), start=time(8), end=time(18), date_to=date(2026, 12, 31)),
])
rules_st = st.lists(
    st.builds(
        lambda i, cat, scope, window, source, dept, prio: RuleRecord(
            i, out(dept), scope=scope, window=window, source=source, priority=prio, **cat),
        st.integers(1, 10_000), categories, scopes, windows,
        st.sampled_from([None, "public"]), st.sampled_from(["A", "B", "C"]),
        st.sampled_from([None, None, 1, 2]),
    ),
    max_size=8, unique_by=lambda r: r.rule_id,
)


@settings(max_examples=300, deadline=None)
@given(rules_st, st.sampled_from([None, "public"]))
def test_winner_is_maximal_and_unique(rules: list[RuleRecord], source: str | None) -> None:
    """Every rule in the examples matches the context (when its source fits), so: the winner
    has the highest (specificity, priority); a conflict means two such rules disagree; no
    silent choice between disagreeing equals; the order of the rules does not matter."""
    c = ctx(category_chain=("01", "01002", "0100201"), source=source)
    m = match(rules, c)
    applicable = [r for r in rules if r.source in (None, source)]
    if not applicable:
        assert m.status is MatchStatus.NO_RULE
        return

    def key(r: RuleRecord) -> tuple[object, ...]:
        return (r.specificity, (0, 0) if r.priority is None else (1, r.priority))

    best = max(key(r) for r in applicable)
    top = [r for r in applicable if key(r) == best]
    if len({r.outcome for r in top}) > 1:
        assert m.status is MatchStatus.CONFLICT and m.outcome is None
        assert set(m.conflicting) == set(top)
    else:
        assert m.status is MatchStatus.MATCHED and m.outcome == top[0].outcome
    again = match(list(reversed(rules)), c)
    assert (again.status, again.outcome) == (m.status, m.outcome)


@settings(max_examples=200, deadline=None)
@given(rules_st)
def test_every_match_time_conflict_is_found_by_the_configuration_check(rules: list[RuleRecord]) -> None:
    conflicts = {frozenset((c.first.rule_id, c.second.rule_id)) for c in find_conflicts(rules)}
    c = ctx(category_chain=("01", "01002", "0100201"), source="public")
    m = match(rules, c)
    if m.status is MatchStatus.CONFLICT:
        ids = [r.rule_id for r in m.conflicting]
        assert any(frozenset((a, b)) in conflicts for a in ids for b in ids if a != b)


@given(categories, scopes, windows, categories, scopes, windows)
def test_specificity_is_lexicographic(c1: dict, s1: AreaScope, w1: TimeWindow,  # type: ignore[type-arg]
                                      c2: dict, s2: AreaScope, w2: TimeWindow) -> None:  # type: ignore[type-arg]
    """Class depth decides first, then area precision, then time constraints."""
    r1, r2 = RuleRecord(1, out("A"), scope=s1, window=w1, **c1), RuleRecord(2, out("B"), scope=s2, window=w2, **c2)
    if r1.category_depth != r2.category_depth:
        assert (r1.specificity > r2.specificity) == (r1.category_depth > r2.category_depth)
    elif s1.precision != s2.precision:
        assert (r1.specificity > r2.specificity) == (s1.precision > s2.precision)
    else:
        assert (r1.specificity > r2.specificity) == (w1.constraints > w2.constraints)
    assert CategoryDepth.FINE > CategoryDepth.MINOR > CategoryDepth.MAJOR > CategoryDepth.KIND > CategoryDepth.ANY
