"""Measuring and tidying WGS84 lon/lat geometries: geodesic area, bounding boxes, rounding."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import Geod
from shapely.geometry.base import BaseGeometry

_GEOD = Geod(ellps="WGS84")

# Metres per degree of latitude (WGS84 mean); good enough for tolerances, never for areas.
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0

BBox = tuple[float, float, float, float]


def geodesic_area_m2(geometry: BaseGeometry) -> float:
    """Area on the WGS84 ellipsoid in m², whatever the ring orientation."""
    area, _perimeter = _GEOD.geometry_area_perimeter(geometry)
    return abs(float(area))


def bbox(geometry: BaseGeometry) -> BBox:
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    return (float(min_lon), float(min_lat), float(max_lon), float(max_lat))


def round_coordinates(geometry: BaseGeometry, decimals: int) -> BaseGeometry:
    """Round every coordinate. Shared vertices stay shared, so a coverage stays a coverage."""

    def _round(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.round(coords, decimals)

    return shapely.transform(geometry, _round)


def local_metric(
    geometries: Sequence[BaseGeometry], lat0: float
) -> NDArray[np.object_]:
    """Equirectangular metres around latitude `lat0`: for tolerances and overlap sizes over a
    city (error well under 1 % across 50 km), not for the stored areas."""
    kx = M_PER_DEG_LON_EQUATOR * float(np.cos(np.radians(lat0)))

    def _scale(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(coords * np.array([kx, M_PER_DEG_LAT]), dtype=np.float64)

    return shapely.transform(np.asarray(geometries, dtype=object), _scale)  # type: ignore[no-any-return]
