"""`citygrid deadline --start 2026-02-13T16:00+08:00 --limit "1 working day" [--calendar NAME] [--explain]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from citygrid.calendars.services import (
    compute_deadline,
    default_calendar,
    get_calendar,
    parse_limit,
    parse_start,
    provisional_reason,
)
from citygrid.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Print the deadline of a time limit started at an instant, on a working calendar "
        "(default: the office calendar). 1 working day = the calendar's standard working-day "
        "length in working time (7.5 working hours on the office calendar)."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", required=True,
                            help="ISO 8601 instant, e.g. 2026-02-13T16:00+08:00 (no offset: calendar time)")
        parser.add_argument("--limit", required=True,
                            help='e.g. "1 working day", "4 working hours", "30 minutes", "2 calendar days"')
        parser.add_argument("--calendar", help="calendar name (default: the default calendar)")
        parser.add_argument("--explain", action="store_true", help="show the periods counted")

    def handle(self, *args: Any, start: str, limit: str, calendar: str | None, explain: bool,
               **options: Any) -> None:
        try:
            instant = parse_start(start)
            duration = parse_limit(limit)
            cal = get_calendar(calendar) if calendar else default_calendar()
            deadline = compute_deadline(cal, instant, duration)
        except DomainError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]", returncode=2) from None
        self.stdout.write(deadline.at.isoformat())
        if explain:
            self.stdout.write(f"calendar: {cal}")
            for line in deadline.explanation:
                self.stdout.write(f"  {line}")
        elif deadline.provisional:
            self.stdout.write(provisional_reason(deadline.provisional_years))
