"""Recompute the hash chains of case histories; report the first broken link (exit 1) or OK
(exit 0). Bad arguments exit 2."""

from __future__ import annotations

import sys
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{name} must be a date like 2026-06-01, not {text!r}",
                           returncode=2) from None


class Command(BaseCommand):
    help = "Verify the hash chain of case histories (all cases, one case, or a date range)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--case", dest="number", help="the case number")
        parser.add_argument("--from", dest="start", help="first day (events on or after it)")
        parser.add_argument("--to", dest="end", help="last day (events up to its end)")

    def handle(self, *args: Any, **opts: Any) -> None:
        from citygrid.cases.history import cases_to_check, verify
        from citygrid.cases.models import Case

        start = end = None
        if opts["start"]:
            start = timezone.make_aware(datetime.combine(_day(opts["start"], "--from"), time.min))
        if opts["end"]:
            end = timezone.make_aware(datetime.combine(_day(opts["end"], "--to") + timedelta(days=1),
                                                       time.min))
        if start and end and end <= start:
            raise CommandError("--to is before --from", returncode=2)
        number = opts["number"]
        if number and not Case.objects.filter(number=number).exists():
            raise CommandError(f"no case {number}", returncode=2)
        checked = 0
        for _case, broken in verify(cases_to_check(number, start, end)):
            checked += 1
            if broken is not None:
                self.stdout.write(f"BROKEN {broken}")
                self.stderr.write(f"history check failed after {checked} case(s)")
                sys.exit(1)
        self.stdout.write(f"OK: {checked} case(s), every history chain intact.")
