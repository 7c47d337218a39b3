"""citygrid export_coverage FILE.geojson [--level ...]: current areas and grids as GeoJSON."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from citygrid.space.geojson_io import write_geojson
from citygrid.space.selectors import FEATURE_LEVELS, count_features, export_features


class Command(BaseCommand):
    help = "Export current areas and unit grids as a GeoJSON FeatureCollection ('-' for stdout)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="output file, or - for standard output")
        parser.add_argument("--level", action="append", choices=FEATURE_LEVELS,
                            help="only these levels (repeat the option); default: all")

    def handle(self, *args: Any, file: str, level: list[str] | None, **options: Any) -> None:
        total = count_features(level)
        to_stdout = file == "-"
        try:
            out = sys.stdout if to_stdout else open(file, "w", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot write {file}: {exc.strerror}", returncode=2) from exc
        try:
            quiet = to_stdout or options["verbosity"] == 0
            features = tqdm(export_features(level), total=total, unit="features", disable=quiet)
            written = write_geojson(features, out)
        finally:
            if not to_stdout:
                out.close()
        if not to_stdout:
            self.stdout.write(self.style.SUCCESS(f"Exported {written} features to {file}"))
