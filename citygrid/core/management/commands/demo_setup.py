"""Build the demo city and everything on it, then print the demo accounts.

Each app contributes a `demo.load_demo(stdout, size)` function; this command calls them in
dependency order. Re-running it is safe: each loader skips what is already there.
"""

import time
from importlib import import_module
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

# Dependency order: space before catalog before calendars before org (which uses all three).
DEMO_LOADERS = [
    "citygrid.space.demo",
    "citygrid.calendars.demo",
    "citygrid.catalog.demo",
    "citygrid.org.demo",
    "citygrid.inventory.demo",
    "citygrid.cases.demo",
    "citygrid.collab.demo",
    "citygrid.exchange.demo",
    "citygrid.assess.demo",
]


class Command(BaseCommand):
    help = "Create the demo city (areas, grids, standards, departments, people) at full scale."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--size", choices=["small", "full"], default="full",
            help="full: Chengdu-scale city (~46,000 grids); small: the test city.",
        )

    def handle(self, *args: Any, size: str, **options: Any) -> None:
        started = time.monotonic()
        for module_name in DEMO_LOADERS:
            import_module(module_name).load_demo(self.stdout, size=size)
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(
            f"Demo ready in {elapsed:.0f} s at http://127.0.0.1:8000/"
        ))
