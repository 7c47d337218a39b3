"""Inventory API (login required: the component register is not public data)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.security import django_auth

from citygrid.api.openapi import errors
from citygrid.core.errors import ValidationFailed
from citygrid.inventory import selectors
from citygrid.inventory.models import Component, SurveyFlag

router = Router(tags=["inventory"], auth=django_auth)


class Ref(Schema):
    code: str
    name: str


class ComponentOut(Schema):
    code: str
    name: str
    class_: Ref = Field(..., alias="class")
    lon: float
    lat: float
    state: str
    grid: str | None
    community: Ref | None
    street: Ref | None
    district: Ref | None
    competent_department: Ref | None
    owner: Ref | None
    maintainer: Ref | None
    initial_date: date | None
    change_date: date | None
    data_source: str
    remark: str


class NearbyOut(Schema):
    distance_m: float
    component: ComponentOut


class NearbyQuery(Schema):
    lon: float
    lat: float
    radius: float = Field(50.0, description="metres, at most 5000")
    class_: str | None = Field(None, alias="class", description="class code; a major class "
                               "includes its minors")
    limit: int = Field(20, ge=1, le=200)


class FeaturesQuery(Schema):
    bbox: str = Field(..., description="min_lon,min_lat,max_lon,max_lat (WGS84)")
    class_: str | None = Field(None, alias="class")


class SurveyFlagOut(Schema):
    id: int
    class_: Ref = Field(..., alias="class")
    lon: float
    lat: float
    grid: str | None
    case_number: str
    note: str
    status: str
    created_at: datetime


def _ref(obj: Any, unit_code: str = "", unit_name: str = "") -> dict[str, str] | None:
    if obj is not None:
        return {"code": obj.code, "name": obj.name}
    if unit_code or unit_name:
        return {"code": unit_code, "name": unit_name}
    return None


def component_dict(c: Component) -> dict[str, Any]:
    return {
        "code": c.code, "name": c.name, "class": _ref(c.category), "lon": c.lon, "lat": c.lat,
        "state": c.state, "grid": c.grid.code if c.grid_id else None,
        "community": _ref(c.community), "street": _ref(c.street), "district": _ref(c.district),
        "competent_department": _ref(c.competent_department, c.competent_unit_code,
                                     c.competent_unit_name),
        "owner": _ref(c.owner, c.owner_unit_code, c.owner_unit_name),
        "maintainer": _ref(c.maintainer, c.maintainer_unit_code, c.maintainer_unit_name),
        "initial_date": c.initial_date, "change_date": c.change_date,
        "data_source": c.data_source, "remark": c.remark,
    }


@router.get("/components/near", response=list[NearbyOut], by_alias=True,
            summary="Components near a point, nearest first")
def components_near(request: HttpRequest, q: Query[NearbyQuery]) -> list[dict[str, Any]]:
    found = selectors.components_near(q.lon, q.lat, q.radius, q.class_ or None, q.limit)
    return [{"distance_m": round(n.distance_m, 2), "component": component_dict(n.component)}
            for n in found]


@router.get("/components/features", summary="Components in a box as GeoJSON (the map layer)")
def component_features(request: HttpRequest, q: Query[FeaturesQuery]) -> dict[str, Any]:
    try:
        parts = [float(p) for p in q.bbox.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4:
        raise ValidationFailed("bbox must be four numbers: min_lon,min_lat,max_lon,max_lat.",
                               code="invalid_bbox")
    if (parts[2] - parts[0]) * (parts[3] - parts[1]) > 0.001:  # ~3 km × 3.5 km
        raise ValidationFailed("bbox is too large for components; zoom in.", code="bbox_too_large")
    return selectors.features((parts[0], parts[1], parts[2], parts[3]), q.class_ or None)


@router.get("/components/survey-flags", response=list[SurveyFlagOut], by_alias=True,
            summary="Survey flags: uninventoried components reported in cases")
def survey_flags(request: HttpRequest, status: str | None = None,
                 limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
    if status and status not in SurveyFlag.Status.values:
        raise ValidationFailed(f"status must be one of {', '.join(SurveyFlag.Status.values)}.",
                               code="invalid_status")
    return [{"id": f.pk, "class": _ref(f.category), "lon": f.lon, "lat": f.lat,
             "grid": f.grid.code if f.grid_id else None, "case_number": f.case_number,
             "note": f.note, "status": f.status, "created_at": f.created_at}
            for f in selectors.survey_flags(status)[:limit]]


@router.get("/components/{code}", response={200: ComponentOut, **errors(404)}, by_alias=True,
            summary="One component by its code")
def component_detail(request: HttpRequest, code: str) -> dict[str, Any]:
    return component_dict(selectors.component_by_code(code))
