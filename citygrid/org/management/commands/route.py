"""Rule tester on the command line: `citygrid route --class 0101 --lon 104.06 --lat 30.66`.

Exit status: 0 answered by a rule (or the fallback), 1 answered but the rules conflict (a
configuration error to fix), 2 bad input (unknown class, outside coverage, malformed values).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from citygrid.core.errors import DomainError
from citygrid.org.domain.routing import MatchStatus


class Command(BaseCommand):
    help = "Who handles a report of this class at this point and time, by when, and why."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--class", dest="class_code", required=True, help="class code, e.g. 0101")
        parser.add_argument("--kind", default="component", help="component (default) or event")
        parser.add_argument("--lon", required=True, help="longitude (WGS84)")
        parser.add_argument("--lat", required=True, help="latitude (WGS84)")
        parser.add_argument("--at", help="report time, ISO 8601 with offset (default: now)")
        parser.add_argument("--source", help="report source, e.g. city_inspector, public, hotline")
        parser.add_argument("--urgency", default="ordinary", help="ordinary, urgent or emergency")
        parser.add_argument("--json", action="store_true", help="print the answer as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        from citygrid.org.services import route

        try:
            lon, lat = float(opts["lon"]), float(opts["lat"])
        except ValueError:
            raise CommandError(f"--lon and --lat must be numbers, got {opts['lon']!r} {opts['lat']!r}",
                               returncode=2) from None
        at = None
        if opts["at"]:
            try:
                at = datetime.fromisoformat(opts["at"])
            except ValueError:
                raise CommandError(f"--at {opts['at']!r} is not ISO 8601, e.g. 2026-02-13T16:00+08:00",
                                   returncode=2) from None
            if at.tzinfo is None:
                raise CommandError("--at needs a time zone offset, e.g. 2026-02-13T16:00+08:00", returncode=2)
        try:
            answer = route(opts["class_code"], opts["kind"], lon, lat, at=at,
                           source=opts["source"] or None, urgency=opts["urgency"])
        except DomainError as exc:
            raise CommandError(f"{exc.message} [{exc.code}]", returncode=2) from None
        if opts["json"]:
            self.stdout.write(json.dumps(answer.as_dict(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(answer.text())
        if answer.status == MatchStatus.CONFLICT:
            self.stderr.write("configuration error: conflicting rules (see CONFLICT above)")
            sys.exit(1)
