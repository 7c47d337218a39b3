"""Space API: areas and grids by code, features in a bounding box (read-only, public: the
coverage holds no personal data). Geocoding lives in api_geocode.py."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from ninja import Query, Router, Schema

from citygrid.space import selectors
from citygrid.space.domain.measure import BBox
from citygrid.space.models import Area, UnitGrid

router = Router(tags=["space"])


class ErrorOut(Schema):
    code: str
    message: str
    details: Any = None


class AreaRef(Schema):
    code: str
    name: str


class HierarchyItem(AreaRef):
    level: str


class AreaOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None
    area_m2: float
    bbox: tuple[float, float, float, float]
    hierarchy: list[HierarchyItem]


class GridOut(Schema):
    code: str
    legacy_code: str
    area_m2: float
    valid_from: datetime
    valid_to: datetime | None
    bbox: tuple[float, float, float, float]
    community: AreaRef
    street: AreaRef | None
    district: AreaRef | None
    city: AreaRef | None


class FeatureProperties(Schema):
    code: str
    name: str
    level: str


class Feature(Schema):
    type: Literal["Feature"] = "Feature"
    id: str
    properties: FeatureProperties
    geometry: dict[str, Any]


class FeatureCollection(Schema):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[Feature]


class FeaturesQuery(Schema):
    level: Literal["city", "district", "street", "community", "grid"]
    bbox: str
    limit: int = selectors.DEFAULT_FEATURE_LIMIT


def _ref(area: Area | None) -> AreaRef | None:
    return AreaRef(code=area.code, name=area.name) if area is not None else None


@router.get("/areas/{code}", response={200: AreaOut, 404: ErrorOut}, summary="An area by code")
def get_area(request: HttpRequest, code: str) -> AreaOut:
    area = selectors.area_by_code(code)
    return AreaOut(
        code=area.code, name=area.name, level=area.level,
        parent_code=area.parent.code if area.parent else None,
        area_m2=round(area.area_m2, 1), bbox=area.bbox,
        hierarchy=[HierarchyItem(code=a.code, name=a.name, level=a.level)
                   for a in selectors.hierarchy(area)],
    )


@router.get("/grids/{code}", response={200: GridOut, 404: ErrorOut},
            summary="A unit grid by code (15 digits, or a 14-digit legacy code)")
def get_grid(request: HttpRequest, code: str) -> GridOut:
    grid: UnitGrid = selectors.grid_by_code(code)
    chain = {a.level: a for a in selectors.hierarchy(grid.community)}
    community = _ref(grid.community)
    assert community is not None
    return GridOut(
        code=grid.code, legacy_code=grid.legacy_code, area_m2=round(grid.area_m2, 1),
        valid_from=grid.valid_from, valid_to=grid.valid_to, bbox=grid.bbox,
        community=community, street=_ref(chain.get("street")),
        district=_ref(chain.get("district")), city=_ref(chain.get("city")),
    )


# Browsers may reuse an answer this long unasked, then revalidate it with If-None-Match.
FEATURES_MAX_AGE_S = 60
# Bump when the answer's bytes change for the same data (format, simplification, rounding).
FEATURES_FORMAT = "features-1"


@router.get("/features", response={200: FeatureCollection, 304: None, 422: ErrorOut},
            summary="Current features of one level in a bounding box, as GeoJSON")
def get_features(request: HttpRequest, query: Query[FeaturesQuery]) -> HttpResponse:
    """ETag: the coverage's data version, read before the features (an import in between
    labels new data with the old version, which only costs one more full answer)."""
    limit = max(1, min(query.limit, selectors.MAX_FEATURE_LIMIT))
    box = selectors.parse_bbox(query.bbox)
    etag = _features_etag(query.level, box, limit)
    response = get_conditional_response(request, etag=etag) or HttpResponse(
        _collection_text(query.level, selectors.features_in_bbox(query.level, box, limit)),
        content_type="application/geo+json; charset=utf-8",
    )
    response["ETag"] = etag
    response["Cache-Control"] = f"private, max-age={FEATURES_MAX_AGE_S}"
    return response


def _features_etag(level: str, box: BBox, limit: int) -> str:
    version = (FEATURES_FORMAT, selectors.coverage_key(), level, box, limit)
    return '"' + hashlib.blake2b(repr(version).encode(), digest_size=12).hexdigest() + '"'


def _collection_text(level: str, features: Sequence[selectors.MapFeature]) -> str:
    """The FeatureCollection as text around the stored GeoJSON: the bytes json.dumps gives
    (id: ASCII; properties: ensure_ascii=False and default separators), from the encoders
    json.dumps calls for a string, without its per-call overhead."""
    tail = ', "level": ' + encode_basestring(level) + '},"geometry":'
    parts = [
        '{"type":"Feature","id":' + encode_basestring_ascii(code) + ',"properties":{"code": '
        + encode_basestring(code) + ', "name": ' + encode_basestring(name) + tail + geojson + "}"
        for code, name, _level, geojson in features
    ]
    return '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
