"""citygrid export_components FILE [--format csv|xlsx|geojson] [--class CODE] [--district CODE]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from citygrid.core.errors import DomainError
from citygrid.inventory import exporting, fileio
from citygrid.inventory.models import Component


class Command(BaseCommand):
    help = "Export components as CSV, xlsx or GeoJSON (the formats import_components reads)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--format", choices=fileio.FORMATS, default=None)
        parser.add_argument("--class", dest="category", default=None, help="class code")
        parser.add_argument("--district", default=None, help="district code")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            fmt = fileio.guess_format(path.name, options["format"])
            qs = Component.objects.all()
            if options["category"]:
                qs = qs.filter(category__code=options["category"])
            if options["district"]:
                qs = qs.filter(district__code=options["district"])
            path.write_bytes(exporting.export_components(fmt, qs))
        except DomainError as exc:
            raise CommandError(exc.message, returncode=2) from None
        except OSError as exc:
            raise CommandError(f"{path}: {exc}", returncode=2) from None
        self.stdout.write(f"Exported {qs.count()} components to {path}.")
