"""Report responsibility rules that conflict: equally specific, overlapping, different outcomes.
Exit status 1 if there are any."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Check the responsibility decomposition for conflicting rules."

    def handle(self, *args: Any, **opts: Any) -> None:
        from citygrid.org.services import rule_conflicts

        conflicts = rule_conflicts()
        for conflict in conflicts:
            self.stdout.write(conflict.describe())
        if conflicts:
            self.stderr.write(f"{len(conflicts)} conflict(s)")
            sys.exit(1)
        self.stdout.write("No conflicting rules.")
