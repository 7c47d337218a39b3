"""citygrid import_components FILE [--format csv|xlsx|geojson] [--map src=field ...]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from citygrid.core.errors import DomainError
from citygrid.inventory import actions
from citygrid.inventory.domain.mapping import FIELDS, MappingError, parse_mapping
from citygrid.inventory.fileio import FORMATS


class Command(BaseCommand):
    help = ("Import components from CSV, xlsx or GeoJSON. Every row is validated first; "
            "the file is imported whole or not at all. Fields: " + ", ".join(FIELDS))

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--format", choices=FORMATS, default=None)
        parser.add_argument("--map", action="append", default=[], metavar="SRC=FIELD",
                            help="use the file's column SRC as FIELD (repeatable)")
        parser.add_argument("--standard", default=None, help="standard code (default: active)")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file", returncode=2)
        try:
            mapping = parse_mapping(options["map"])
        except MappingError as exc:
            raise CommandError(str(exc), returncode=2) from None
        standard = None
        bar: tqdm[Any] | None = None
        try:
            if options["standard"]:
                from citygrid.catalog.selectors import get_standard

                standard = get_standard(options["standard"])

            def stage(name: str) -> None:
                if not options["no_progress"]:
                    self.stderr.write(f"{path.name}: {name}…")

            def progress(n: int) -> None:
                nonlocal bar
                if options["no_progress"]:
                    return
                if bar is None:
                    bar = tqdm(desc="writing", unit=" components", file=self.stderr._out)
                bar.update(n)

            result = actions.import_components(
                None, path.read_bytes(), path.name, fmt=options["format"], mapping=mapping,
                standard=standard, progress=progress, stage=stage)
        except DomainError as exc:
            for d in (exc.details or [])[:200] if isinstance(exc.details, list) else []:
                self.stderr.write(f"row {d['row']}: {d['column']}: {d['message']}"
                                  if isinstance(d, dict) else str(d))
            raise CommandError(exc.message, returncode=2) from None
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(f"Imported {result.created} components from {path.name} "
                          f"(batch {result.batch.pk}).")
