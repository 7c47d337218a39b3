"""The map's copy of a boundary: GeoJSON text, lightly simplified per level and rounded.

Stored beside each area's and grid's geometry (`map_geojson`) so that viewport reads only
concatenate text; `map_geojson()` is the one place that computes it.
"""

from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry

from citygrid.space.domain.measure import round_coordinates

# Light simplification for the map, in degrees (~1e-5 deg is ~1 m): none for grids.
SIMPLIFY_DEG = {"city": 0.0002, "district": 0.0001, "street": 0.00005, "community": 0.00002, "grid": 0.0}
MAP_DECIMALS = 6


def map_geojson(geometry: BaseGeometry, level: str) -> str:
    """`geometry` as the map draws it at `level` (city … community, or grid)."""
    tolerance = SIMPLIFY_DEG[level]
    shape = shapely.simplify(geometry, tolerance, preserve_topology=True) if tolerance else geometry
    return str(shapely.to_geojson(round_coordinates(shape, MAP_DECIMALS)))
