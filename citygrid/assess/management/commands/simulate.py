"""`citygrid simulate --days 30 --seed 1 [--per-day 10] [--bulk --cases 5000000]`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Simulate case histories through the real actions (or, --bulk, write them in bulk)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--per-day", type=int, default=10, help="reports per district and day")
        parser.add_argument("--bulk", action="store_true", help="bulk path for benchmarks")
        parser.add_argument("--cases", type=int, default=100_000, help="cases for --bulk")
        parser.add_argument("--no-facts", action="store_true", help="do not rebuild the facts")

    def handle(self, *args: Any, **options: Any) -> None:
        from citygrid.assess.facts import refresh_facts

        if options["days"] < 1 or options["days"] > 3660:
            raise CommandError("--days must be 1 … 3660", returncode=2)
        if options["per_day"] < 0 or options["cases"] < 1:
            raise CommandError("--per-day must be ≥ 0 and --cases ≥ 1", returncode=2)
        try:
            if options["bulk"]:
                from citygrid.assess.bulk import bulk_generate

                written = bulk_generate(cases=options["cases"], days=options["days"],
                                        seed=options["seed"])
                self.stdout.write(f"bulk: {written} cases written")
                as_of = None
            else:
                from citygrid.assess.simulate import simulate

                truth = simulate(days=options["days"], seed=options["seed"],
                                 per_day=options["per_day"],
                                 progress=lambda i, n: self.stdout.write(f"day {i}/{n}"))
                self.stdout.write(f"{truth.cases} cases simulated; operations: "
                                  f"{dict(truth.operations)}; failures: {len(truth.failures)}")
                as_of = truth.as_of
        except LookupError as exc:
            raise CommandError(str(exc), returncode=2) from None
        if not options["no_facts"]:
            self.stdout.write(f"facts: {refresh_facts(as_of=as_of)}")
