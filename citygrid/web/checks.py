"""System checks for the web app: tell the operator at startup when the base map is misconfigured."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

from citygrid.web.tiles import tile_problems


@register(Tags.compatibility)
def check_map_tiles(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    problems = tile_problems(
        getattr(settings, "MAP_TILE_PRESET", ""),
        getattr(settings, "TIANDITU_KEY", ""),
        getattr(settings, "MAP_TILE_URL", ""),
    )
    return [
        Warning(problem, hint="The map falls back to a plain background; see docs/map.md.", id="web.W001")
        for problem in problems
    ]
