"""Geocoding API (M-03): one point or a batch → unit grid, community, street, district, city.

Public and read-only: the coverage holds no personal data.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from citygrid.core.errors import ValidationFailed
from citygrid.space import geocoding

router = Router(tags=["geocoding"])

MAX_BATCH = 100_000
CrsParam = Literal["wgs84", "cgcs2000", "gcj02"]
_CRS_HELP = (
    "Coordinate system of lon/lat: wgs84 (GPS), cgcs2000 (Tianditu; treated as WGS84, they "
    "differ by centimetres) or gcj02 (AMap/Tencent and other Chinese consumer map SDKs)."
)


class GeocodeApiError(Schema):
    code: str
    message: str
    details: Any = None


class GeocodeGrid(Schema):
    code: str = Field(..., description="15-digit unit grid code")


class GeocodeArea(Schema):
    code: str
    name: str


class GeocodeWgs84(Schema):
    lon: float
    lat: float


class GeocodeResult(Schema):
    lon: float = Field(..., description="Longitude as given")
    lat: float = Field(..., description="Latitude as given")
    crs: CrsParam
    wgs84: GeocodeWgs84 = Field(..., description="The WGS84 point that was located")
    grid: GeocodeGrid
    community: GeocodeArea
    street: GeocodeArea
    district: GeocodeArea
    city: GeocodeArea


class GeocodePointError(Schema):
    code: Literal["outside_coverage", "invalid_coordinates"]
    message: str


class GeocodeErrorItem(Schema):
    error: GeocodePointError


class GeocodeQuery(Schema):
    lon: float = Field(..., description="Longitude in degrees, -180..180")
    lat: float = Field(..., description="Latitude in degrees, -90..90")
    crs: CrsParam = Field("wgs84", description=_CRS_HELP)


class GeocodeBatchIn(Schema):
    crs: CrsParam = Field("wgs84", description=_CRS_HELP)
    points: list[tuple[float, float]] = Field(
        ..., description=f"[lon, lat] pairs, at most {MAX_BATCH:,}"
    )


class GeocodeBatchOut(Schema):
    count: int
    located: int
    results: list[GeocodeResult | GeocodeErrorItem] = Field(
        ..., description="One item per input point, in input order"
    )


def _areas(loc: geocoding.Location) -> dict[str, Any]:
    return {
        "grid": {"code": loc.grid_code},
        "community": {"code": loc.community.code, "name": loc.community.name},
        "street": {"code": loc.street.code, "name": loc.street.name},
        "district": {"code": loc.district.code, "name": loc.district.name},
        "city": {"code": loc.city.code, "name": loc.city.name},
    }


def _result(lon: float, lat: float, crs: str, loc: geocoding.Location) -> dict[str, Any]:
    return {
        "lon": lon,
        "lat": lat,
        "crs": crs,
        "wgs84": {"lon": loc.lon, "lat": loc.lat},
        **_areas(loc),
    }


@router.get(
    "/geocode",
    response={200: GeocodeResult, 404: GeocodeApiError, 422: GeocodeApiError},
    summary="Geocode one point",
    description=(
        "The unit grid, community, street, district and city at a point. 404 "
        "`outside_coverage` outside the area under supervision; 422 `invalid_coordinates` "
        "for coordinates out of range, 422 `invalid_request` for a malformed request. "
        "A point on a border shared by several grids belongs to the grid with the smallest "
        "internal id among them (see docs/geocoding.md)."
    ),
)
def geocode(request: HttpRequest, query: Query[GeocodeQuery]) -> dict[str, Any]:
    loc = geocoding.locate(query.lon, query.lat, query.crs)
    return _result(query.lon, query.lat, query.crs, loc)


@router.post(
    "/geocode/batch",
    response={200: GeocodeBatchOut, 422: GeocodeApiError},
    summary="Geocode a batch of points",
    description=(
        f"Up to {MAX_BATCH:,} [lon, lat] points in one request; more is refused with 422 "
        "`batch_too_large`. Each result is either a location or `{\"error\": {code, "
        "message}}` with code `outside_coverage` or `invalid_coordinates`, in input order."
    ),
)
def geocode_batch(request: HttpRequest, body: GeocodeBatchIn) -> HttpResponse:
    n = len(body.points)
    if n > MAX_BATCH:
        raise ValidationFailed(
            f"A batch holds at most {MAX_BATCH:,} points; this one has {n:,}. Split it.",
            code="batch_too_large",
            details={"max": MAX_BATCH, "count": n},
        )
    lons = [p[0] for p in body.points]
    lats = [p[1] for p in body.points]
    batch = geocoding.locate_batch(lons, lats, body.crs)
    grid_ids = batch.grid_ids.tolist()
    wgs_lons, wgs_lats = batch.lons.tolist(), batch.lats.tolist()
    valid = batch.valid.tolist()
    # Written as text: the hierarchy part is serialised once per grid, and the schema above
    # documents the shape; this keeps 100,000-point batches well under a second.
    tails: dict[int, str] = {}
    crs = json.dumps(body.crs)
    parts: list[str] = []
    located = 0
    for i in range(n):
        grid_id = grid_ids[i]
        if grid_id >= 0:
            located += 1
            tail = tails.get(grid_id)
            if tail is None:
                loc = batch.location(i)
                assert loc is not None
                tail = tails[grid_id] = _hierarchy_json(loc)
            parts.append(
                f'{{"lon":{lons[i]!r},"lat":{lats[i]!r},"crs":{crs},'
                f'"wgs84":{{"lon":{wgs_lons[i]!r},"lat":{wgs_lats[i]!r}}},{tail}}}'
            )
        else:
            code = "outside_coverage" if valid[i] else "invalid_coordinates"
            parts.append(json.dumps(_error(code, lons[i], lats[i]), ensure_ascii=False))
    text = f'{{"count":{n},"located":{located},"results":[{",".join(parts)}]}}'
    return HttpResponse(text, content_type="application/json")


def _hierarchy_json(loc: geocoding.Location) -> str:
    """The grid and area part of a result, as JSON members without the braces."""
    return json.dumps(_areas(loc), ensure_ascii=False)[1:-1]


def _error(code: str, lon: float, lat: float) -> dict[str, Any]:
    if code == "invalid_coordinates":
        message = f"({lon}, {lat}) is not a valid lon/lat."
    else:
        message = f"({lon}, {lat}) is outside the area under supervision."
    return {"error": {"code": code, "message": message}}
