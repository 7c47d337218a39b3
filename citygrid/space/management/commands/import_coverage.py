"""citygrid import_coverage FILE.geojson: validate, then import areas and unit grids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from citygrid.core.errors import DomainError
from citygrid.space.actions import import_coverage
from citygrid.space.domain.coverage_checks import CheckOptions
from citygrid.space.geojson_io import read_features


class Command(BaseCommand):
    help = (
        "Import areas and unit grids from a GeoJSON FeatureCollection (see docs/space.md). "
        "Every problem is listed and nothing is written when any is found."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="GeoJSON file (RFC 7946, WGS84 lon/lat)")
        parser.add_argument("--min-grid-m2", type=float, default=CheckOptions.min_grid_m2)
        parser.add_argument("--max-grid-m2", type=float, default=CheckOptions.max_grid_m2)

    def handle(self, *args: Any, file: str, min_grid_m2: float, max_grid_m2: float,
               **options: Any) -> None:
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}", returncode=2) from exc
        check = CheckOptions(min_grid_m2=min_grid_m2, max_grid_m2=max_grid_m2)
        try:
            features = read_features(data)
            with tqdm(total=len(features), unit="rows", disable=options["verbosity"] == 0) as bar:
                report = import_coverage(features, progress=bar.update, options=check)
        except DomainError as exc:
            for problem in exc.details or []:
                if isinstance(problem, dict):
                    self.stderr.write(
                        f"{problem.get('feature_id', '')}\t{problem.get('code', '')}\t"
                        f"{problem.get('message', '')}"
                    )
            raise CommandError(exc.message, returncode=2) from exc
        self.stdout.write(self.style.SUCCESS(f"Imported {file}: {report.summary()}"))
