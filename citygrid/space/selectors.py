"""Reads of areas and unit grids. Coverage is public reference data (no personal data), so
these are not scoped per user."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import shapely
from django.db import connection
from django.db.models import F, QuerySet

from citygrid.core.errors import NotFound, ValidationFailed
from citygrid.space.domain.coverage_checks import AREA_LEVELS, FeatureInput, normalize_grid_code
from citygrid.space.domain.map_shapes import map_geojson
from citygrid.space.domain.measure import BBox
from citygrid.space.models import Area, CoverageRevision, UnitGrid

FEATURE_LEVELS = ("city", "district", "street", "community", "grid")
MAX_BBOX_SPAN_DEG = 5.0
DEFAULT_FEATURE_LIMIT = 5000
MAX_FEATURE_LIMIT = 20000

CoverageKey = tuple[int, object]  # (revision, changed_at as the database returns it)


def coverage_key() -> CoverageKey:
    """The coverage's data version: every action that changes areas or grids moves it."""
    # Raw SQL: this runs on every geocoding call and map read, and the ORM would triple its
    # cost (~70 µs → ~200 µs on SQLite). changed_at is only compared, never interpreted.
    meta, quote = CoverageRevision._meta, connection.ops.quote_name
    revision = quote(meta.get_field("revision").column)
    changed_at = quote(meta.get_field("changed_at").column)
    pk = quote(meta.pk.column) if meta.pk is not None else "id"
    sql = f"SELECT {revision}, {changed_at} FROM {quote(meta.db_table)} WHERE {pk} = 1"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return (0, None) if row is None else (int(row[0]), row[1])


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


class MapFeature(NamedTuple):  # a tuple: a viewport holds up to thousands of them
    code: str
    name: str
    level: str
    geojson: str  # the geometry as GeoJSON text, rounded and simplified (map_shapes)


def features_in_bbox(level: str, box: BBox, limit: int = DEFAULT_FEATURE_LIMIT) -> list[MapFeature]:
    """Current features of `level` intersecting `box`, for the map, with their stored map
    GeoJSON. The bbox columns filter in SQL; shapely decides exactly for the features whose
    bbox crosses the box's edge (one whose bbox lies inside the box meets it for sure).
    Refuses (too_many_features) when more than `limit` match."""
    if level not in FEATURE_LEVELS:
        raise ValidationFailed(f"level must be one of {', '.join(FEATURE_LEVELS)}.", code="invalid_level")
    min_lon, min_lat, max_lon, max_lat = box
    # The bbox-column count is an upper bound; far above the limit, refuse.
    cap = 2 * limit
    with connection.cursor() as cursor:
        cursor.execute(_window_sql(connection.vendor, level), [*box, max_lon, min_lon, max_lat, min_lat, cap + 1])
        rows = cursor.fetchall()
    if len(rows) > cap:
        _too_many(_window(level, box).count(), limit)
    edge = [i for i, row in enumerate(rows) if row[3] is not None]
    geoms = shapely.from_wkb([bytes(rows[i][3]) for i in edge])
    misses = {i for i, ok in zip(edge, shapely.intersects(geoms, shapely.box(*box)), strict=True) if not ok}
    if len(rows) - len(misses) > limit:
        _too_many(len(rows) - len(misses), limit)
    by_index = dict(zip(edge, geoms, strict=True))
    return [
        MapFeature(code, name, level, text or map_geojson(by_index[i], level))
        for i, (code, name, text, _wkb) in enumerate(rows) if i not in misses
    ]


def _window(level: str, box: BBox) -> QuerySet[Area] | QuerySet[UnitGrid]:
    """Current features of `level` whose bbox meets `box` (as _window_sql selects them)."""
    min_lon, min_lat, max_lon, max_lat = box
    window: QuerySet[Area] | QuerySet[UnitGrid]
    window = UnitGrid.objects.filter(valid_to__isnull=True) if level == "grid" else Area.objects.filter(level=level)
    return window.filter(min_lon__lte=max_lon, max_lon__gte=min_lon, min_lat__lte=max_lat, max_lat__gte=min_lat)


@functools.cache
def _window_sql(vendor: str, level: str) -> str:
    """Code, name, map GeoJSON and, only where the exact test or the fallback needs it (an
    edge feature, a row without map text), the WKB of _window's rows in code order. Raw SQL
    built once: building the ORM query cost more than the rest of the read. Parameters: the
    box (inside test), the box (meets test: max_lon, min_lon, max_lat, min_lat), the limit."""
    if level not in FEATURE_LEVELS:  # it is written into the SQL
        raise ValueError(f"unknown level {level!r}")
    model = UnitGrid if level == "grid" else Area
    quote = connection.ops.quote_name

    def col(name: str) -> str:
        return quote(model._meta.get_field(name).column)

    scope = f"{col('valid_to')} IS NULL" if level == "grid" else f"{col('level')} = '{level}'"
    name = "''" if level == "grid" else col("name")
    inside = (f"{col('min_lon')} >= %s AND {col('min_lat')} >= %s AND {col('max_lon')} <= %s "
              f"AND {col('max_lat')} <= %s AND {col('map_geojson')} <> ''")
    return (
        f"SELECT {col('code')}, {name}, {col('map_geojson')}, "
        f"CASE WHEN {inside} THEN NULL ELSE {col('geometry')} END "
        f"FROM {quote(model._meta.db_table)} WHERE {scope} AND {col('min_lon')} <= %s "
        f"AND {col('max_lon')} >= %s AND {col('min_lat')} <= %s AND {col('max_lat')} >= %s "
        f"ORDER BY {col('code')} LIMIT %s"
    )


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
