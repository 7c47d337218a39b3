"""Test data for the web tests: the small demo city and a grid to click in it."""

from __future__ import annotations

from dataclasses import dataclass

from shapely import from_wkb
from shapely.ops import polylabel

from citygrid.space.demo import load_city
from citygrid.space.domain.demo_city import CityPlan
from citygrid.space.models import UnitGrid


@dataclass(frozen=True)
class KnownGrid:
    code: str
    community_name: str
    lon: float  # the point inside the grid farthest from its edges
    lat: float


def load_small_city() -> CityPlan:
    return load_city("small")


def a_known_grid() -> KnownGrid:
    """A current grid from the middle of the coverage, with a point well inside it."""
    grids = UnitGrid.objects.filter(valid_to__isnull=True).select_related("community").order_by("code")
    count = grids.count()
    assert count, "no unit grids loaded"
    grid = grids[count // 2]
    geom = from_wkb(bytes(grid.geometry))
    # The pole of inaccessibility is the safest point to click.
    point = polylabel(geom, 1e-6) if geom.geom_type == "Polygon" else geom.representative_point()
    return KnownGrid(grid.code, grid.community.name, point.x, point.y)
