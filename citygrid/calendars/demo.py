"""Demo calendars: the office calendar (default) and the supervision calendar. Idempotent."""

from __future__ import annotations

from typing import TextIO

from citygrid.calendars.actions import ensure_office_calendar, ensure_supervision_calendar
from citygrid.calendars.services import years_needing_attention


def load_demo(stdout: TextIO, size: str = "full") -> None:
    office = ensure_office_calendar()
    supervision = ensure_supervision_calendar()
    stdout.write(f"calendars: {office} (default={office.is_default}), {supervision}\n")
    for year in years_needing_attention():
        stdout.write(f"calendars: WARNING the official holiday schedule for {year} is not known yet; "
                     "deadlines in that year are provisional until an administrator confirms it\n")
