"""Reads of areas and unit grids. Coverage is public reference data (no personal data), so
these are not scoped per user."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import shapely
from django.db.models import F, QuerySet

from citygrid.core.errors import NotFound, ValidationFailed
from citygrid.space.domain.coverage_checks import AREA_LEVELS, FeatureInput, normalize_grid_code
from citygrid.space.domain.measure import BBox, round_coordinates
from citygrid.space.models import Area, UnitGrid

FEATURE_LEVELS = ("city", "district", "street", "community", "grid")
MAX_BBOX_SPAN_DEG = 5.0
DEFAULT_FEATURE_LIMIT = 5000
MAX_FEATURE_LIMIT = 20000
# Light simplification for the map, in degrees (~1e-5 deg is ~1 m): none for grids.
SIMPLIFY_DEG = {"city": 0.0002, "district": 0.0001, "street": 0.00005, "community": 0.00002, "grid": 0.0}
MAP_DECIMALS = 6


def area_by_code(code: str) -> Area:
    area = Area.objects.select_related("parent__parent__parent").filter(code=code).first()
    if area is None:
        raise NotFound(f"No area has the code {code}.", code="area_not_found")
    return area


def hierarchy(area: Area | None) -> list[Area]:
    """The area and its ancestors, city first."""
    chain: list[Area] = []
    while area is not None:
        chain.append(area)
        area = area.parent
    return list(reversed(chain))


def grid_by_code(code: str) -> UnitGrid:
    """The current version of a grid (15-digit or 14-digit legacy code), or its latest retired
    version when no version is current."""
    if not (code.isdigit() and len(code) in (14, 15)):
        raise NotFound(f"No unit grid has the code {code}.", code="grid_not_found")
    grid = (
        UnitGrid.objects.select_related("community__parent__parent__parent")
        .filter(code=normalize_grid_code(code))
        .order_by(F("valid_to").desc(nulls_first=True), "-valid_from")
        .first()
    )
    if grid is None:
        raise NotFound(f"No unit grid has the code {code}.", code="grid_not_found")
    return grid


def parse_bbox(text: str) -> BBox:
    """`minlon,minlat,maxlon,maxlat` in WGS84; rejects malformed, inverted and huge boxes."""
    parts = text.split(",")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValidationFailed("bbox must be minlon,minlat,maxlon,maxlat (4 numbers).", code="invalid_bbox")
    min_lon, min_lat, max_lon, max_lat = values
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        raise ValidationFailed("bbox is inverted or outside lon/lat ranges.", code="invalid_bbox")
    if max_lon - min_lon > MAX_BBOX_SPAN_DEG or max_lat - min_lat > MAX_BBOX_SPAN_DEG:
        raise ValidationFailed(f"bbox spans more than {MAX_BBOX_SPAN_DEG} degrees.", code="invalid_bbox")
    return (min_lon, min_lat, max_lon, max_lat)


@dataclass(frozen=True)
class MapFeature:
    code: str
    name: str
    level: str
    geojson: str  # the geometry as GeoJSON text, rounded and simplified


def features_in_bbox(level: str, box: BBox, limit: int = DEFAULT_FEATURE_LIMIT) -> list[MapFeature]:
    """Current features of `level` intersecting `box`, for the map. The bbox columns filter in
    SQL, shapely decides exactly. Refuses (too_many_features) when more than `limit` match."""
    if level not in FEATURE_LEVELS:
        raise ValidationFailed(f"level must be one of {', '.join(FEATURE_LEVELS)}.", code="invalid_level")
    min_lon, min_lat, max_lon, max_lat = box
    window: QuerySet[Area] | QuerySet[UnitGrid]
    if level == "grid":
        window = UnitGrid.objects.filter(valid_to__isnull=True)
    else:
        window = Area.objects.filter(level=level)
    window = window.filter(min_lon__lte=max_lon, max_lon__gte=min_lon, min_lat__lte=max_lat,
                           max_lat__gte=min_lat)
    candidates = window.count()
    # The bbox-column count is an upper bound; far above the limit, refuse without loading.
    if candidates > 2 * limit:
        _too_many(candidates, limit)
    fields = ("code", "geometry") if level == "grid" else ("code", "geometry", "name")
    rows = list(window.order_by("code").values_list(*fields))
    geoms = shapely.from_wkb([bytes(r[1]) for r in rows])
    hit = shapely.intersects(geoms, shapely.box(*box)) if rows else []
    chosen = [(row, geom) for row, geom, ok in zip(rows, geoms, hit, strict=True) if ok]
    if len(chosen) > limit:
        _too_many(len(chosen), limit)
    tolerance = SIMPLIFY_DEG[level]
    out = []
    for row, geom in chosen:
        g = shapely.simplify(geom, tolerance, preserve_topology=True) if tolerance else geom
        g = round_coordinates(g, MAP_DECIMALS)
        name = row[2] if level != "grid" else ""
        out.append(MapFeature(row[0], name, level, shapely.to_geojson(g)))
    return out


def _too_many(count: int, limit: int) -> None:
    raise ValidationFailed(
        f"{count} features match; zoom in or raise the limit (at most {limit}).",
        code="too_many_features", details={"count": count, "limit": limit},
    )


def export_features(levels: Sequence[str] | None = None) -> Iterator[FeatureInput]:
    """Current areas (city first) and grids as FeatureInput, for GeoJSON export."""
    wanted = set(levels or FEATURE_LEVELS)
    for level in AREA_LEVELS:
        if level not in wanted:
            continue
        rows = Area.objects.filter(level=level).order_by("code").values_list(
            "code", "name", "parent__code", "geometry")
        for code, name, parent, wkb in rows.iterator(chunk_size=2000):
            yield FeatureInput(code, code, level, name, parent, shapely.from_wkb(bytes(wkb)))
    if "grid" in wanted:
        grids = UnitGrid.objects.filter(valid_to__isnull=True).order_by("code").values_list(
            "code", "legacy_code", "community__code", "geometry")
        for code, legacy, community, wkb in grids.iterator(chunk_size=2000):
            yield FeatureInput(code, code, "grid", "", community, shapely.from_wkb(bytes(wkb)),
                               legacy_code=legacy)


def count_features(levels: Sequence[str] | None = None) -> int:
    wanted = set(levels or FEATURE_LEVELS)
    n = Area.objects.filter(level__in=[lv for lv in AREA_LEVELS if lv in wanted]).count()
    if "grid" in wanted:
        n += UnitGrid.objects.filter(valid_to__isnull=True).count()
    return n
