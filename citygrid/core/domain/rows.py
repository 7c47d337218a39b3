"""A problem found in one row of an imported spreadsheet, as every import reports it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RowError:
    """`row` as a spreadsheet program numbers it (header = 1; 0 = the file as a whole);
    `column` is the header name, or "" when the problem is not one cell's."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message}
