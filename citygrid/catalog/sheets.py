"""Reading and writing class spreadsheets (xlsx and CSV) and the packaged data files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from citygrid.catalog.domain.rules import SHEET_COLUMNS, RowError
from citygrid.core.errors import ValidationFailed

DATA_DIR = Path(__file__).resolve().parent / "data"
NATIONAL_CSV = DATA_DIR / "categories.csv"
SAMPLE_CSV = DATA_DIR / "sample_standards.csv"

REQUIRED_COLUMNS = ("kind", "major_code")

Rows = list[tuple[int, dict[str, str]]]


def read_data_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows_from_table(table: Iterable[list[str]]) -> Rows:
    iterator = iter(table)
    header = next(iterator, None)
    if header is None:
        raise ValidationFailed(
            "The file is empty.", details=[RowError(1, "", "no header row").as_dict()]
        )
    columns = [cell.strip().lower() for cell in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise ValidationFailed(
            "The header row lacks required columns.",
            details=[RowError(1, name, "column missing").as_dict() for name in missing],
        )
    rows: Rows = []
    for number, cells in enumerate(iterator, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are not rows
        rows.append((number, {col: cells[i].strip() if i < len(cells) else ""
                              for i, col in enumerate(columns) if col}))
    return rows


def read_sheet(handle: IO[bytes], filename: str) -> Rows:
    """Rows of an uploaded .xlsx or .csv (UTF-8, with or without BOM), numbered as shown in a
    spreadsheet program (the header is row 1). Raises ValidationFailed if unreadable."""
    data = handle.read()
    if filename.lower().endswith(".xlsx"):
        return _rows_from_table(_xlsx_table(data))
    if filename.lower().endswith(".csv"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed(
                "The CSV file is not UTF-8.",
                details=[RowError(1, "", "save the CSV as UTF-8").as_dict()],
            ) from None
        return _rows_from_table(csv.reader(io.StringIO(text)))
    raise ValidationFailed(
        "Upload an .xlsx or .csv file.", code="unsupported_file",
        details=[RowError(0, "", f"unsupported file name {filename!r}").as_dict()],
    )


def _xlsx_table(data: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        raise ValidationFailed(
            "The file is not a readable .xlsx workbook.",
            details=[RowError(0, "", str(exc) or type(exc).__name__).as_dict()],
        ) from None
    sheet = book.worksheets[0]
    table = [[_as_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]
    book.close()
    return table


def write_csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(SHEET_COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(rows: list[dict[str, str]], title: str = "classes") -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append(list(SHEET_COLUMNS))
    for row in rows:
        sheet.append([row.get(col, "") for col in SHEET_COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
