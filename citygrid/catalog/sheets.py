"""Class spreadsheets (xlsx and CSV, read and written by citygrid.core.sheets) and the packaged
data files."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

from citygrid.catalog.domain.rules import SHEET_COLUMNS
from citygrid.core import sheets
from citygrid.core.sheets import Rows

DATA_DIR = Path(__file__).resolve().parent / "data"
NATIONAL_CSV = DATA_DIR / "categories.csv"
SAMPLE_CSV = DATA_DIR / "sample_standards.csv"

REQUIRED_COLUMNS = ("kind", "major_code")


def read_data_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def read_sheet(handle: IO[bytes], filename: str) -> Rows:
    """Rows of an uploaded class sheet (.xlsx or .csv), numbered as a spreadsheet shows them.
    Raises ValidationFailed if the file is unreadable or lacks kind or major_code."""
    return sheets.read_upload(handle, filename, REQUIRED_COLUMNS)


def write_csv(rows: Iterable[Mapping[str, str]]) -> bytes:
    return sheets.write_csv(SHEET_COLUMNS, rows)


def write_xlsx(rows: Iterable[Mapping[str, str]], title: str = "classes") -> bytes:
    return sheets.write_xlsx(SHEET_COLUMNS, rows, title)
