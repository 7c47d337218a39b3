"""Spreadsheets as rows of text: reading an uploaded .xlsx (first sheet) or UTF-8 CSV, and
writing both. Every import in citygrid reads its file through `read_rows`.

Rows are numbered as a spreadsheet program shows them (the header is row 1); blank rows are
skipped; header names are trimmed and lower-cased; every cell is text (see `cell_text`). A file
that cannot be read raises ValidationFailed with a precise `code` and one `RowError` per
problem in `details`:

- `unsupported_file`: the name ends neither in .xlsx nor in .csv;
- `file_too_large`: more than `max_bytes` (MAX_SHEET_BYTES by default);
- `unreadable_file`: a damaged .xlsx, or a CSV that is not UTF-8;
- `empty_file`: no header row (nothing but blank rows);
- `missing_columns`: the header lacks required columns (one detail per column).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, time
from typing import IO

from citygrid.core.domain.rows import RowError
from citygrid.core.errors import ValidationFailed

MAX_SHEET_BYTES = 10 * 1024 * 1024

Row = dict[str, str]
Rows = list[tuple[int, Row]]


def cell_text(value: object) -> str:
    """A cell as text: empty for None, 12 for 12.0, 08:30 for a time, 2026-02-13 for a date."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):  # also a datetime: spreadsheets hold dates as date-times
        return value.isoformat()[:10]
    return str(value).strip()


def read_upload(handle: IO[bytes], filename: str, required: Sequence[str], *,
                max_bytes: int = MAX_SHEET_BYTES) -> Rows:
    """`read_rows` of an open file, reading no more than one byte past the limit."""
    return read_rows(handle.read(max_bytes + 1), filename, required, max_bytes=max_bytes)


def read_rows(data: bytes, filename: str, required: Sequence[str], *,
              max_bytes: int = MAX_SHEET_BYTES) -> Rows:
    """The data rows of an .xlsx or .csv file (UTF-8, with or without BOM) as
    (row number, {header: text}), after checking the header has every `required` column."""
    name = filename.lower()
    if not name.endswith((".xlsx", ".csv")):
        raise _failed("unsupported_file", f"Upload an .xlsx or .csv file, not {filename!r}.",
                      RowError(0, "", "save the sheet as .xlsx or as UTF-8 .csv"))
    if len(data) > max_bytes:
        raise _failed("file_too_large", f"The file is larger than {_size(max_bytes)}.",
                      RowError(0, "", "split it into smaller files"))
    table = _xlsx_table(data) if name.endswith(".xlsx") else _csv_table(data)
    return _rows(table, required)


def write_csv(columns: Sequence[str], rows: Iterable[Mapping[str, str]]) -> bytes:
    """CSV in UTF-8 with a BOM (so Excel shows Chinese correctly); keys not in `columns` are
    left out, missing ones written empty."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(columns: Sequence[str], rows: Iterable[Mapping[str, str]], title: str) -> bytes:
    """A workbook of one sheet named `title`: the header, then one line per row. Every value
    is stored as text, including one that starts with "=" (never a formula)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(columns))
    for row in rows:
        sheet.append([row.get(column, "") for column in columns])
        for cell in sheet[sheet.max_row]:
            if cell.data_type == "f":
                cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_table(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            if not book.worksheets:
                return []
            rows = book.worksheets[0].iter_rows(values_only=True)
            return [[cell_text(value) for value in row] for row in rows]
        finally:
            book.close()
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise _failed("unreadable_file", "The file is not a readable .xlsx workbook.",
                      RowError(0, "", str(exc) or type(exc).__name__)) from None


def _csv_table(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _failed("unreadable_file", "The CSV file is not UTF-8.",
                      RowError(line, "", "save the CSV as UTF-8 (CSV UTF-8 in Excel)")) from None
    try:
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise _failed("unreadable_file", "The CSV file cannot be read.",
                      RowError(0, "", str(exc))) from None


def _rows(table: list[list[str]], required: Sequence[str]) -> Rows:
    if not any(any(row) for row in table):
        raise _failed("empty_file", "The file is empty.", RowError(1, "", "no header row"))
    header = [cell.lower() for cell in table[0]]
    missing = [column for column in required if column not in header]
    if missing:
        raise ValidationFailed(
            f"The header row lacks required columns: {', '.join(missing)}.", code="missing_columns",
            details=[RowError(1, column, "column missing").as_dict() for column in missing],
        )
    rows: Rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cells):
            continue  # blank lines are not rows
        rows.append((number, {column: cells[i] if i < len(cells) else ""
                              for i, column in enumerate(header) if column}))
    return rows


def _failed(code: str, message: str, error: RowError) -> ValidationFailed:
    return ValidationFailed(message, code=code, details=[error.as_dict()])


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):g} MiB" if count >= 1024 * 1024 else f"{count:,} bytes"
