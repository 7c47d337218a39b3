from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citygrid.assess.domain.indicators import (
    DEFAULT_DOCUMENT,
    ConfigError,
    DeductionCounts,
    Post,
    assess,
    config_from_document,
    deduction,
    default_config,
    grade,
    rate,
    rates,
)
from citygrid.assess.domain.periods import PeriodError, period_of, previous


def test_published_monthly_report():
    # filed 996, due to close 972, closed 911, closed on time 737 (standards/README.md)
    found = rates(Post.REGION, {"filed": 996, "due_to_close": 972, "closed": 911, "closed_on_time": 737})
    assert found["closing_rate"].value == Decimal("93.72")
    assert found["on_time_closing_rate"].value == Decimal("75.82")
    assert found["closing_rate"].denominator == 972


def test_zero_denominator_gives_no_figure():
    assert rate(0, 0).value is None
    found = rates(Post.DEPARTMENT, {})
    assert all(r.value is None for r in found.values())
    assert assess(Post.DEPARTMENT, {}, default_config()).score is None


def test_hand_computed_inspector_and_dispatcher():
    inspector = rates(Post.INSPECTOR, {"reports": 40, "valid_reports": 36, "verifications_due": 8,
                                       "verified_on_time": 6, "checks_due": 0, "missed_reports": 3})
    assert inspector["valid_report_rate"].value == Decimal("90.00")
    assert inspector["on_time_verification_rate"].value == Decimal("75.00")
    assert inspector["on_time_check_rate"].value is None
    assert inspector["missed_report_rate"].value == Decimal("8.33")
    dispatcher = rates(Post.DISPATCHER, {"dispatches_due": 200, "dispatched_on_time": 190,
                                         "wrong_dispatches": 7})
    assert dispatcher["accurate_dispatch_rate"].value == Decimal("96.50")
    filing = rates(Post.SHIFT_LEADER, {"filings": 50, "filings_voided": 2, "filed_on_time": 45,
                                       "closings": 3, "closed_on_time": 1})
    assert filing["accurate_filing_rate"].value == Decimal("96.00")
    assert filing["on_time_closing_rate"].value == Decimal("33.33")


def test_weighted_score_and_grade():
    config = default_config()
    result = assess(Post.REGION, {"due_to_close": 972, "closed": 911, "closed_on_time": 737}, config)
    # 0.4 × 93.72 + 0.6 × 75.82 = 82.98
    assert result.indicator_score == Decimal("82.98")
    assert result.grade == "B"
    with_points = assess(Post.REGION, {"due_to_close": 972, "closed": 911, "closed_on_time": 737},
                         config, [DeductionCounts("06001", cases=30, overdue=5, reworks=2, returns=1)])
    # 30 × 0.1 + 5 × 0.2 + 2 × 0.2 + 1 × 0.1 = 4.5
    assert with_points.deduction == Decimal("4.5")
    assert with_points.score == Decimal("78.48")


@pytest.mark.parametrize("score,expected", [(95, "A"), (90, "A"), (89.99, "B"), (75, "B"),
                                            (60, "C"), (40, "D"), (39.99, "E"), (0, "E")])
def test_published_grades(score, expected):
    assert grade(Decimal(str(score)), default_config()) == expected


def test_point_table_longest_prefix():
    doc = {**DEFAULT_DOCUMENT, "points": {"default": {"per_case": 1}, "06": {"per_case": 2},
                                          "06001": {"per_case": 5}}}
    config = config_from_document(doc)
    assert deduction(DeductionCounts("06001", 1), config) == Decimal(5)
    assert deduction(DeductionCounts("06002", 1), config) == Decimal(2)
    assert deduction(DeductionCounts("01001", 1), config) == Decimal(1)


@pytest.mark.parametrize("doc,path", [
    ({"grades": []}, "grades"),
    ({"grades": [["A", 60], ["B", 75]]}, "grades"),
    ({"weights": {"mayor": {}}, "grades": [["A", 1]]}, "weights.mayor"),
    ({"weights": {"region": {"closing_rate": -1}}, "grades": [["A", 1]]}, "weights.region.closing_rate"),
    ({"grades": [["A", 1]], "points": {"06": {"per_cas": 1}}}, "points.06.per_cas"),
])
def test_bad_method_documents(doc, path):
    with pytest.raises(ConfigError) as info:
        config_from_document(doc)
    assert info.value.path == path


@given(st.integers(0, 10**6), st.integers(0, 10**6))
def test_rate_bounds(a, b):
    r = rate(min(a, b), max(a, b))
    if max(a, b) == 0:
        assert r.value is None
    else:
        assert Decimal(0) <= r.value <= Decimal(100)


@given(st.dates(), st.sampled_from(["day", "week", "month", "quarter", "year"]))
def test_periods_contain_day_and_chain(day, kind):
    p = period_of(kind, day)
    assert p.start <= day <= p.end
    try:
        prev = previous(p)
    except (OverflowError, ValueError):
        return
    assert prev.kind == p.kind and (p.start - prev.end).days == 1


def test_custom_period_errors():
    from datetime import date
    with pytest.raises(PeriodError):
        period_of("custom", date(2026, 3, 2))
    with pytest.raises(PeriodError):
        period_of("fortnight", date(2026, 3, 2))
    p = period_of("custom", date(2026, 3, 2), date(2026, 3, 11))
    assert previous(p).start == date(2026, 2, 20)
