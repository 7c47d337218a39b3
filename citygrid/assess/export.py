"""Excel (xlsx) export of an assessment table: figures and scores as numbers."""

from __future__ import annotations

import io
from collections.abc import Sequence

from citygrid.assess.services import Row


def rows_xlsx(rows: Sequence[Row], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    figure_keys = sorted({k for r in rows for k in r.figures})
    rate_keys = sorted({k for r in rows for k in r.rates})
    sheet.append(["rank", "subject_id", "subject", *figure_keys, *rate_keys, "deduction",
                  "score", "grade"])
    for r in rows:
        sheet.append([r.rank, r.subject_id, r.name, *(r.figures.get(k, 0) for k in figure_keys),
                      *(float(v) if (v := r.rates.get(k)) is not None else None for k in rate_keys),
                      float(r.deduction), float(r.score) if r.score is not None else None, r.grade])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
