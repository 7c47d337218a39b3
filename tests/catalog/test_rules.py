"""Pure rules: confidence notes, sample limits, process rows, spreadsheet rows."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citygrid.calendars.domain.durations import Duration, DurationError, Unit
from citygrid.catalog.domain.rules import (
    Confidence,
    confidence_from_note,
    parse_process_row,
    parse_sample_limit,
    parse_sheet,
    parse_sheet_row,
    steps_named,
)


@pytest.mark.parametrize(("note", "expected"), [
    ("code+name confirmed by Shenzhen and Chaoyang lists", Confidence.CONFIRMED),
    ("UNCERTAIN: code inferred from order in one SQL source only", Confidence.UNCERTAIN),
    ("secondary transcription; standard text not seen", Confidence.PARTLY),
    ("code confirmed by Beijing-Chaoyang list (name there: 暴露垃圾)", Confidence.PARTLY),
    ("", Confidence.PARTLY),
])
def test_confidence_from_note(note: str, expected: Confidence) -> None:
    assert confidence_from_note(note) == expected


def test_sample_limit_plain_and_staged() -> None:
    assert parse_sample_limit("15", "工作日").duration == Duration(Decimal(15), Unit.WORKING_DAYS)
    staged = parse_sample_limit("停工4 / 处罚7 / 拆除20", "工作时 / 工作日 / 工作日")
    assert staged.duration == Duration(Decimal(4), Unit.WORKING_HOURS)
    assert "停工4 / 处罚7 / 拆除20" in staged.note and not staged.unit_uncertain


def test_sample_limit_with_uncertain_unit_is_flagged() -> None:
    limit = parse_sample_limit("2", "小时（时限类型未说明）")
    assert limit.duration == Duration(Decimal(2), Unit.HOURS)
    assert limit.unit_uncertain and "unit uncertain" in limit.note


def test_sample_limit_unreadable() -> None:
    with pytest.raises(DurationError):
        parse_sample_limit("soon", "工作日")
    with pytest.raises(DurationError):
        parse_sample_limit("3", "fortnights")


def test_process_row_taiyuan() -> None:
    specs = parse_process_row("立案、派遣时限", "紧急项 / 非紧急项", "10 / 30", "分钟",
                              "核查时限: 城市、城乡结合部 1小时; 农村 2小时")
    table = {(s.step, s.urgency, s.area_type): str(s.duration) for s in specs}
    assert table[("file", "urgent", "any")] == "10 minutes"
    assert table[("dispatch", "ordinary", "any")] == "30 minutes"
    assert table[("check", "ordinary", "urban")] == "1 hours"
    assert table[("check", "urgent", "rural")] == "2 hours"
    assert steps_named("12319热线受理") == ["accept"]


def _row(**cells: str) -> dict[str, str]:
    base = {"kind": "event", "major_code": "01", "major_name": "市容", "minor_code": "0101",
            "minor_name": "暴露垃圾"}
    base.update(cells)
    return base


def test_sheet_row_reports_every_problem_with_its_column() -> None:
    row, errors = parse_sheet_row(7, _row(kind="thing", minor_code="0201",
                                          is_emergency="maybe", limit_urgent="2 fortnights"))
    assert row is None
    assert {(e.row, e.column) for e in errors} == {
        (7, "kind"), (7, "minor_code"), (7, "is_emergency"), (7, "limit_urgent")}


def test_sheet_row_levels() -> None:
    row, errors = parse_sheet_row(2, _row(fine_code="010101", fine_name="细",
                                          limit_ordinary="2 工作时", is_emergency="是"))
    assert errors == [] and row is not None
    assert row.level == "fine" and row.code == "010101" and row.is_emergency
    assert row.limits["ordinary"] == Duration(Decimal(2), Unit.WORKING_HOURS)
    _, errors = parse_sheet_row(3, _row(minor_code="", minor_name="", fine_code="0101"))
    assert [e.column for e in errors] == ["fine_code"]


def test_sheet_duplicates_and_name_clashes() -> None:
    rows = [(2, _row()), (3, _row()), (4, _row(minor_code="0102", major_name="别名"))]
    _, errors = parse_sheet(rows)
    assert [(e.row, e.column) for e in errors] == [(3, "minor_code"), (4, "major_name")]


durations = st.builds(
    Duration,
    st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from(list(Unit)),
)


@given(durations, durations)
def test_exported_limits_read_back(ordinary: Duration, urgent: Duration) -> None:
    row, errors = parse_sheet_row(2, _row(limit_ordinary=str(ordinary), limit_urgent=str(urgent)))
    assert errors == [] and row is not None
    assert row.limits == {"ordinary": ordinary, "urgent": urgent}


@given(st.text(max_size=12))
def test_any_kind_other_than_the_two_is_an_error(kind: str) -> None:
    row, errors = parse_sheet_row(2, _row(kind=kind))
    assert (row is None) == (kind.strip().lower() not in {"component", "event"})
