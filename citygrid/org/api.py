"""Organisation API: departments, people and rules the user may see; the rule tester."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.security import django_auth

from citygrid.api.openapi import errors
from citygrid.core.errors import ValidationFailed
from citygrid.org import selectors, services

router = Router(tags=["organisation"], auth=django_auth)


class AreaOut(Schema):
    code: str
    name: str
    level: str


class DepartmentOut(Schema):
    code: str
    name: str
    level: str
    kind: str
    area: AreaOut
    parent: str | None
    active: bool


class RoleOut(Schema):
    role: str
    areas: list[str]
    departments: list[str]


class PersonOut(Schema):
    username: str
    display_name: str
    phone: str
    employee_number: str
    department: str | None
    contractor: str | None
    roles: list[RoleOut]


class RuleOut(Schema):
    code: str
    kind: str
    category: str | None
    area: str | None
    grids: list[str]
    has_polygon: bool
    weekdays: str
    time_from: str | None
    time_to: str | None
    date_from: str | None
    date_to: str | None
    source: str
    department: str
    copies: list[str]
    process: str
    use_component_owner: bool
    priority: int | None
    active: bool
    note: str


class RouteQuery(Schema):
    kind: str = "component"
    class_: str = Field(..., alias="class", min_length=1, max_length=32)
    lon: float
    lat: float
    at: datetime | None = None
    source: str | None = None
    urgency: str = "ordinary"


@router.get("/departments", response=list[DepartmentOut])
def list_departments(request: HttpRequest, level: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    return [
        {"code": d.code, "name": d.name, "level": d.level, "kind": d.kind,
         "area": {"code": d.area.code, "name": d.area.name, "level": d.area.level},
         "parent": d.parent.code if d.parent else None, "active": d.active}
        for d in selectors.department_list(request.user, level=level, kind=kind)
    ]


@router.get("/people", response=list[PersonOut])
def list_people(request: HttpRequest, department: str | None = None) -> list[dict[str, Any]]:
    """Phone numbers masked (138****5678) for users without org.view_person_contact, as in the
    people export (docs/security.md)."""
    from citygrid.org.sheets import CONTACT_PERMISSION
    from citygrid.security.domain.masking import mask_phone

    full = request.user.has_perm(CONTACT_PERMISSION)
    return [
        {"username": p.user.get_username(), "display_name": p.display_name,
         "phone": p.phone if full else mask_phone(p.phone),
         "employee_number": p.employee_number,
         "department": p.department.code if p.department else None,
         "contractor": p.contractor.code if p.contractor else None,
         "roles": [{"role": r.role, "areas": [a.code for a in r.areas.all()],
                    "departments": [d.code for d in r.departments.all()]} for r in p.roles.all()]}
        for p in selectors.people_list(request.user, department=department)
    ]


@router.get("/rules", response=list[RuleOut])
def list_rules(request: HttpRequest, active: bool | None = None) -> list[dict[str, Any]]:
    return [
        {"code": r.code, "kind": r.kind, "category": r.category.code if r.category else None,
         "area": r.area.code if r.area else None, "grids": sorted(g.code for g in r.grids.all()),
         "has_polygon": bool(r.polygon.strip()), "weekdays": r.weekdays,
         "time_from": r.time_from.isoformat() if r.time_from else None,
         "time_to": r.time_to.isoformat() if r.time_to else None,
         "date_from": r.date_from.isoformat() if r.date_from else None,
         "date_to": r.date_to.isoformat() if r.date_to else None,
         "source": r.source, "department": r.department.code,
         "copies": sorted(d.code for d in r.copies.all()), "process": r.process,
         "use_component_owner": r.use_component_owner, "priority": r.priority,
         "active": r.active, "note": r.note}
        for r in selectors.rule_list(request.user, active=active)
    ]


@router.get("/route", response={200: dict[str, Any], **errors(404)})
def route(request: HttpRequest, q: Query[RouteQuery]) -> dict[str, Any]:
    """Rule tester: who handles this class at this point and time, by when, and why."""
    if q.at is not None and q.at.tzinfo is None:
        raise ValidationFailed("'at' needs a time zone offset, e.g. 2026-02-13T16:00+08:00",
                               code="invalid_request")
    answer = services.route(q.class_, q.kind, q.lon, q.lat, at=q.at, source=q.source or None,
                            urgency=q.urgency)
    return answer.as_dict()
