"""Import or export departments, people or rules as xlsx/CSV.

    citygrid org_sheet import departments FILE.xlsx
    citygrid org_sheet export rules FILE.csv

An import checks every row first; with any problem nothing is written and each problem is
printed as `row N, column: message` (exit status 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from citygrid.core.errors import DomainError


class Command(BaseCommand):
    help = "Import or export departments, people or rules (xlsx or CSV)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["import", "export"])
        parser.add_argument("what", choices=["departments", "people", "rules"])
        parser.add_argument("path")

    def handle(self, *args: Any, action: str, what: str, path: str, **opts: Any) -> None:
        from citygrid.org import sheets
        from citygrid.org.models import Department, Person, ResponsibilityRule

        file = Path(path)
        fmt = "xlsx" if file.suffix.lower() == ".xlsx" else "csv" if file.suffix.lower() == ".csv" else ""
        if not fmt:
            raise CommandError("the file must end in .xlsx or .csv", returncode=2)
        if action == "export":
            exporters = {"departments": (sheets.department_rows, Department),
                         "people": (sheets.people_rows, Person),
                         "rules": (sheets.rule_rows, ResponsibilityRule)}
            rows_of, model = exporters[what]
            file.write_bytes(sheets.write_table(what, rows_of(model.objects.all()), fmt))
            self.stdout.write(f"wrote {file}")
            return
        if not file.exists():
            raise CommandError(f"no such file: {file}", returncode=2)
        try:
            report = sheets.import_file(None, what, file.read_bytes(), file.name)
        except DomainError as exc:
            lines = [exc.message]
            for d in exc.details or []:
                if isinstance(d, dict):
                    lines.append(f"  row {d.get('row')}, {d.get('column') or '-'}: {d.get('message')}")
            raise CommandError("\n".join(lines), returncode=2) from None
        self.stdout.write(f"{what}: {report.created} created, {report.updated} updated")
