"""The shared spreadsheet reader and writers (citygrid.core.sheets) and RowError."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from citygrid.core.domain.rows import RowError
from citygrid.core.errors import ValidationFailed
from citygrid.core.sheets import cell_text, read_rows, read_upload, write_csv, write_xlsx

COLUMNS = ["code", "name", "note"]
ROWS = [
    {"code": "0101", "name": "暴露垃圾（含垃圾桶外）", "note": "市容环境, \"引号\"\n第二行"},
    {"code": "0201", "name": "停车场", "note": "=1+1"},
]


def xlsx_of(table: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in table:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def failure(data: bytes, filename: str, required: list[str] | None = None,
            **kwargs: int) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as info:
        read_rows(data, filename, ["code"] if required is None else required, **kwargs)
    assert info.value.message and info.value.details
    assert all(set(d) == {"row", "column", "message"} and d["message"] for d in info.value.details)
    return info.value


def test_csv_round_trip_with_chinese_has_a_bom() -> None:
    data = write_csv(COLUMNS, ROWS)
    assert data.startswith(b"\xef\xbb\xbf")
    assert "暴露垃圾".encode() in data
    assert read_rows(data, "c.CSV", ["code", "name"]) == [(2, ROWS[0]), (3, ROWS[1])]


def test_xlsx_round_trip_with_chinese_keeps_text_as_text() -> None:
    data = write_xlsx(COLUMNS, ROWS, title="部门")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None and sheet.title == "部门"
    assert sheet["C3"].value == "=1+1" and sheet["C3"].data_type == "s"  # never a formula
    assert read_rows(data, "c.xlsx", ["code", "name"]) == [(2, ROWS[0]), (3, ROWS[1])]


def test_writers_take_only_the_columns_given() -> None:
    rows = [{"code": "1", "other": "x"}]
    assert write_csv(["code", "name"], rows).decode("utf-8-sig") == "code,name\r\n1,\r\n"
    read = read_rows(write_xlsx(["code", "name"], rows, "t"), "t.xlsx", ["code"])
    assert read == [(2, {"code": "1", "name": ""})]
    long_title = load_workbook(io.BytesIO(write_xlsx(["code"], [], "x" * 40))).active
    assert long_title is not None and long_title.title == "x" * 31


def test_header_and_rows_are_normalised() -> None:
    data = " Code ,NAME,,extra\n\n a1 , 甲 ,ignored\n,,,\nb2\n".encode()
    rows = read_rows(data, "c.csv", ["code", "name"])
    assert rows == [(3, {"code": "a1", "name": "甲", "extra": ""}),
                    (5, {"code": "b2", "name": "", "extra": ""})]
    assert read_rows(b"code,name\n", "c.csv", ["code"]) == []


def test_xlsx_cells_become_text() -> None:
    data = xlsx_of([["code", "n", "t", "d", "dt", "empty", "f"],
                    [12.0, 7, time(8, 30), date(2026, 2, 13), datetime(2026, 2, 13, 16, 0), None, 1.5]])
    assert read_rows(data, "x.xlsx", ["code"]) == [(2, {
        "code": "12", "n": "7", "t": "08:30", "d": "2026-02-13", "dt": "2026-02-13", "empty": "",
        "f": "1.5"})]
    assert [cell_text(v) for v in (None, 3.0, "  x ", True)] == ["", "3", "x", "True"]


def test_unknown_extension() -> None:
    assert failure(b"code\n1\n", "c.xls").code == "unsupported_file"
    assert failure(b"", "noextension").code == "unsupported_file"


def test_too_large_file() -> None:
    error = failure(b"code\n" + b"1\n" * 100, "c.csv", max_bytes=100)
    assert error.code == "file_too_large" and "100 bytes" in error.message
    assert read_rows(b"code\n1\n", "c.csv", ["code"], max_bytes=7) == [(2, {"code": "1"})]
    handle = io.BytesIO(b"code\n" + b"1\n" * 1000)
    with pytest.raises(ValidationFailed) as info:
        read_upload(handle, "c.csv", ["code"], max_bytes=50)
    assert info.value.code == "file_too_large" and handle.tell() == 51


@pytest.mark.parametrize("data", [b"not a workbook", b"PK\x03\x04broken zip", b""])
def test_corrupt_xlsx(data: bytes) -> None:
    assert failure(data, "c.xlsx").code == "unreadable_file"


def test_csv_not_utf8_names_its_line() -> None:
    error = failure("code\n甲\n".encode() + "乙\n".encode("gbk"), "c.csv")
    assert error.code == "unreadable_file" and "UTF-8" in error.message
    assert error.details[0]["row"] == 3


@pytest.mark.parametrize(("data", "name"), [
    (b"", "c.csv"), (b"\xef\xbb\xbf", "c.csv"), (b"\n , \n\n", "c.csv"),
    (xlsx_of([]), "c.xlsx"), (xlsx_of([[None, " "]]), "c.xlsx"),
])
def test_empty_sheet(data: bytes, name: str) -> None:
    error = failure(data, name)
    assert error.code == "empty_file" and error.details == [RowError(1, "", "no header row").as_dict()]


def test_missing_required_columns() -> None:
    error = failure("名称,code\nx,1\n".encode(), "c.csv", ["kind", "code", "major_code"])
    assert error.code == "missing_columns" and "kind, major_code" in error.message
    assert error.details == [{"row": 1, "column": "kind", "message": "column missing"},
                             {"row": 1, "column": "major_code", "message": "column missing"}]
    assert failure(xlsx_of([["name"], ["x"]]), "c.xlsx").code == "missing_columns"


def test_row_error() -> None:
    error = RowError(4, "level", "bad")
    assert error.as_dict() == {"row": 4, "column": "level", "message": "bad"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        error.row = 5  # type: ignore[misc]


cell = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
table = st.lists(st.fixed_dictionaries({"code": st.from_regex(r"[0-9A-Z]{1,6}", fullmatch=True),
                                        "name": cell, "note": cell}), max_size=5)


@settings(max_examples=40, deadline=None)
@given(table, st.sampled_from(["csv", "xlsx"]))
def test_any_text_round_trips(rows: list[dict[str, str]], fmt: str) -> None:
    data = write_csv(COLUMNS, rows) if fmt == "csv" else write_xlsx(COLUMNS, rows, "t")
    expected = [(n, {k: v.strip() for k, v in row.items()}) for n, row in enumerate(rows, start=2)]
    assert read_rows(data, f"t.{fmt}", COLUMNS) == expected
