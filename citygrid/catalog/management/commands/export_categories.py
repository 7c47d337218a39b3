"""`citygrid export_categories --standard CODE OUT.xlsx|OUT.csv`: write a standard's classes."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from citygrid.catalog import selectors
from citygrid.catalog.sheets import write_csv, write_xlsx
from citygrid.core.errors import DomainError


class Command(BaseCommand):
    help = "Export the classes of a standard to .xlsx or .csv (the import format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--standard", required=True, help="code of the standard")

    def handle(self, *args: Any, file: Path, standard: str, **options: Any) -> None:
        suffix = file.suffix.lower()
        if suffix not in {".xlsx", ".csv"}:
            raise CommandError("the output file must end in .xlsx or .csv", returncode=2)
        try:
            target = selectors.get_standard(standard)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from None
        rows = selectors.export_rows(target.categories.all())
        file.write_bytes(write_xlsx(rows) if suffix == ".xlsx" else write_csv(rows))
        self.stdout.write(f"{len(rows)} classes written to {file}")
