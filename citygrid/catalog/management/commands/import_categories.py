"""`citygrid import_categories FILE --standard CODE`: load classes from an .xlsx or .csv."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from citygrid.catalog import actions, selectors
from citygrid.catalog.sheets import read_sheet
from citygrid.core.errors import DomainError


class Command(BaseCommand):
    help = ("Import classes into a draft standard from a spreadsheet (.xlsx or .csv) with the "
            "columns kind, major_code, major_name, minor_code, minor_name, fine_code, fine_name, "
            "filing_condition, closing_condition, is_emergency, limit_ordinary, limit_urgent. "
            "Nothing is written if any row fails (exit status 2).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--standard", required=True, help="code of the draft standard")

    def handle(self, *args: Any, file: Path, standard: str, **options: Any) -> None:
        if not file.is_file():
            raise CommandError(f"no such file: {file}", returncode=2)
        try:
            target = selectors.get_standard(standard)
            with file.open("rb") as handle:
                rows = read_sheet(handle, file.name)
            result = actions.import_categories(target, rows)
        except DomainError as exc:
            for item in exc.details or []:
                self.stderr.write(f"row {item['row']}, {item['column'] or '-'}: {item['message']}")
            raise CommandError(exc.message, returncode=2) from None
        self.stdout.write(self.style.SUCCESS(
            f"{target.code}: {result.created} classes created, {result.updated} updated"))
