"""GeoJSON (RFC 7946) reading and writing of areas and unit grids.

The format (see docs/space.md): one FeatureCollection; each Feature has a Polygon or
MultiPolygon in WGS84 lon/lat and the properties `code`, `level` (city, district, street,
community or grid), `name` (areas) and `parent` (the parent's code). A feature's id in error
reports is its `id` member, or `#n` (its 0-based position) when it has none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

import shapely
from shapely.geometry import shape

from citygrid.core.errors import ValidationFailed
from citygrid.space.domain.coverage_checks import LEVELS, FeatureInput, Problem, normalize
from citygrid.space.domain.measure import round_coordinates

EXPORT_DECIMALS = 7  # ~1 cm: keeps areas and shared edges


def read_features(data: bytes | str) -> list[FeatureInput]:
    """Features of a FeatureCollection, normalized (legacy codes converted). Raises
    ValidationFailed listing every structural problem (bad JSON, missing members, bad
    geometries); the coverage itself is checked later, by the import action."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"The file is not valid JSON: {exc}", code="invalid_geojson") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise ValidationFailed("The file must hold a GeoJSON FeatureCollection.", code="invalid_geojson")
    raw = doc.get("features")
    if not isinstance(raw, list):
        raise ValidationFailed("The FeatureCollection has no features array.", code="invalid_geojson")
    features: list[FeatureInput] = []
    problems: list[Problem] = []
    for index, item in enumerate(raw):
        feature, problem = _read_feature(index, item)
        if problem is not None:
            problems.append(problem)
        elif feature is not None:
            features.append(normalize(feature))
    if problems:
        raise ValidationFailed(
            f"{len(problems)} feature(s) could not be read; nothing was written.",
            code="invalid_geojson", details=[p.as_dict() for p in problems],
        )
    return features


def _read_feature(index: int, item: Any) -> tuple[FeatureInput | None, Problem | None]:
    if not isinstance(item, dict) or item.get("type") != "Feature":
        return None, Problem(f"#{index}", "", "not a GeoJSON Feature", "invalid_geojson")
    fid = str(item["id"]) if item.get("id") not in (None, "") else f"#{index}"
    props = item.get("properties")
    if not isinstance(props, dict):
        return None, Problem(fid, "", "the feature has no properties object", "invalid_geojson")
    code = _text(props.get("code"))
    level = _text(props.get("level")).lower()
    if not code:
        return None, Problem(fid, "", "the feature has no `code` property", "invalid_geojson")
    if level not in LEVELS:
        return None, Problem(fid, code, f"`level` must be one of {', '.join(LEVELS)}", "level")
    raw_geom = item.get("geometry")
    if raw_geom is None:
        return None, Problem(fid, code, "the feature has no geometry", "geometry")
    try:
        geometry = shapely.force_2d(shape(raw_geom))
    except Exception as exc:  # shapely raises several types for malformed GeoJSON geometry
        return None, Problem(fid, code, f"unreadable geometry: {exc}", "geometry")
    parent = _text(props.get("parent")) or None
    return FeatureInput(fid, code, level, _text(props.get("name")), parent, geometry), None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return str(value).strip()


def iter_geojson(features: Iterable[FeatureInput], decimals: int = EXPORT_DECIMALS) -> Iterator[str]:
    """The FeatureCollection as text chunks, for streaming large exports."""
    yield '{"type":"FeatureCollection","features":[\n'
    first = True
    for f in features:
        if f.geometry is None:
            continue
        geom = shapely.orient_polygons(round_coordinates(f.geometry, decimals))
        props: dict[str, Any] = {"code": f.code, "name": f.name, "level": f.level,
                                 "parent": f.parent_code}
        if f.legacy_code:
            props["legacy_code"] = f.legacy_code
        text = (
            '{"type":"Feature","id":' + json.dumps(f.code) + ',"properties":'
            + json.dumps(props, ensure_ascii=False) + ',"geometry":' + shapely.to_geojson(geom) + "}"
        )
        yield text if first else ",\n" + text
        first = False
    yield "\n]}\n"


def write_geojson(features: Iterable[FeatureInput], out: IO[str], decimals: int = EXPORT_DECIMALS) -> int:
    """Write the FeatureCollection to `out`; returns the number of features written."""
    count = -2  # the opening and closing chunks
    for chunk in iter_geojson(features, decimals):
        out.write(chunk)
        count += 1
    return count
