"""The pure rules: parsing, attribute checks, tracking codes, coarsening, redaction."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citygrid.exchange.domain import rules
from citygrid.exchange.domain.rules import RuleError

DEFS = rules.attribute_defs([
    {"code": "state", "datatype": "singlevaluelist", "required": True, "order": 2,
     "description": "状态", "description_en": "State",
     "values": [{"key": "a", "name": "甲", "name_en": "A"}, {"key": "b", "name": "乙"}]},
    {"code": "tags", "datatype": "multivaluelist", "order": 1,
     "values": [{"key": "x", "name": "X"}, {"key": "y", "name": "Y"}]},
    {"code": "n", "datatype": "number", "order": 3},
    {"code": "when", "datatype": "datetime", "order": 4},
])


def test_definitions_sorted_and_translated() -> None:
    assert [d.code for d in DEFS] == ["tags", "state", "n", "when"]
    english = rules.attribute_defs([{"code": "s", "description": "状态", "description_en": "State",
                                     "datatype": "singlevaluelist",
                                     "values": [{"key": "a", "name": "甲", "name_en": "A"}]}], "en")
    assert english[0].description == "State" and english[0].values == (("a", "A"),)


def test_attribute_fields_single_and_multi() -> None:
    items = [("attribute[state]", "a"), ("attribute[tags][]", "x"), ("attribute[tags][]", "y"),
             ("attribute[n]", " "), ("description", "d"), ("attribute[bad", "z")]
    assert rules.parse_attribute_fields(items) == {"state": ["a"], "tags": ["x", "y"]}


def test_check_attributes() -> None:
    ok = rules.check_attributes(DEFS, {"state": ["a"], "tags": ["x", "y", "x"], "n": ["2.5"],
                                       "when": ["2026-01-01T08:00:00+08:00"]})
    assert ok == {"state": "a", "tags": ["x", "y"], "n": "2.5", "when": "2026-01-01T08:00:00+08:00"}
    for bad, code in [({}, "attribute_required"), ({"state": ["c"]}, "attribute_invalid"),
                      ({"state": ["a"], "tags": ["z"]}, "attribute_invalid"),
                      ({"state": ["a"], "n": ["many"]}, "attribute_invalid"),
                      ({"state": ["a"], "n": ["NaN"]}, "attribute_invalid"),
                      ({"state": ["a", "b"]}, "attribute_invalid"),
                      ({"state": ["a"], "when": ["yesterday"]}, "invalid_date"),
                      ({"state": ["a"], "other": ["1"]}, "unknown_attribute")]:
        with pytest.raises(RuleError) as info:
            rules.check_attributes(DEFS, bad)
        assert info.value.code == code, bad


def test_check_definitions() -> None:
    assert rules.check_definitions([{"code": "a", "datatype": "string"}]) == []
    problems = rules.check_definitions([{"code": "a", "datatype": "blob"}, {"code": "a"},
                                        {"code": "l", "datatype": "singlevaluelist"}, {}])
    assert len(problems) == 4


def test_date_window() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    assert rules.date_window(None, None, now) == (now - timedelta(days=90), now)
    start, end = rules.date_window("2026-01-01T00:00:00Z", None, now)
    assert end - start == timedelta(days=90)
    start, end = rules.date_window(None, "2026-03-01", now)
    assert end == datetime(2026, 3, 1, tzinfo=UTC) and end - start == timedelta(days=90)
    with pytest.raises(RuleError):
        rules.date_window("2026-01-01T00:00:00Z", "2026-05-01T00:00:00Z", now)
    with pytest.raises(RuleError):
        rules.date_window("2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z", now)
    with pytest.raises(RuleError):
        rules.date_window("last week", None, now)


@given(st.integers(min_value=0, max_value=10**6))
def test_tracking_codes_normalize(_: int) -> None:
    code = rules.new_tracking_code()
    assert len(code) == 14 and code.count("-") == 2
    assert rules.normalize_tracking_code(code.lower().replace("-", " ")) == code


@given(st.text(max_size=20))
def test_normalize_rejects_or_is_canonical(text: str) -> None:
    result = rules.normalize_tracking_code(text)
    assert result is None or rules.normalize_tracking_code(result) == result


@given(st.floats(min_value=-180, max_value=180), st.floats(min_value=-85, max_value=85))
def test_coarsen_stays_within_half_a_cell(lon: float, lat: float) -> None:
    c_lon, c_lat = rules.coarsen(lon, lat)
    assert abs(c_lon - lon) <= rules.COARSE_STEP / 2 + 1e-9
    assert abs(c_lat - lat) <= rules.COARSE_STEP / 2 + 1e-9
    assert rules.coarsen(c_lon, c_lat) == (c_lon, c_lat)


def test_coarsen_joins_neighbours() -> None:
    assert rules.coarsen(104.06012, 30.66011) == rules.coarsen(104.06088, 30.66077)


def test_redact_contacts() -> None:
    text = rules.redact_contacts("打 138 0013 8000 或 zs@example.com，门牌 12 号")
    assert "138" not in text and "example" not in text and "12 号" in text
    kept = "2026-11-27 在 3 号楼前，028-8765 4321"
    assert rules.redact_contacts(kept) == "2026-11-27 在 3 号楼前，[…]"
    assert rules.redact_contacts("身份证 11010519491231002X") == "身份证 […]X"


def test_split_list_and_present() -> None:
    assert rules.split_list(" a, ,b,a ") == ["a", "b"]
    assert rules.present({"x": "  ", "y": "1"}, "x") is None
    assert rules.present({"y": " 1 "}, "y") == "1"
    with pytest.raises(RuleError):
        rules.parse_coordinate("91", "lat", -90, 90)
    with pytest.raises(RuleError):
        rules.parse_coordinate("north", "lat", -90, 90)
