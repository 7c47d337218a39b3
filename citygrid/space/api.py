"""Space API: areas and grids by code, features in a bounding box (read-only, public: the
coverage holds no personal data). Geocoding lives in api_geocode.py."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema

from citygrid.space import selectors
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


@router.get("/features", response={200: FeatureCollection, 422: ErrorOut},
            summary="Current features of one level in a bounding box, as GeoJSON")
def get_features(request: HttpRequest, query: Query[FeaturesQuery]) -> HttpResponse:
    limit = max(1, min(query.limit, selectors.MAX_FEATURE_LIMIT))
    box = selectors.parse_bbox(query.bbox)
    features = selectors.features_in_bbox(query.level, box, limit)
    # Built as text: shapely already wrote each geometry as GeoJSON.
    parts = [
        '{"type":"Feature","id":' + json.dumps(f.code) + ',"properties":'
        + json.dumps({"code": f.code, "name": f.name, "level": f.level}, ensure_ascii=False)
        + ',"geometry":' + f.geojson + "}"
        for f in features
    ]
    body = '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
    return HttpResponse(body, content_type="application/geo+json; charset=utf-8")
