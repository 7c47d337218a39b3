"""Scoped reads of the assessment: a district sees its own assessment only, the city all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import shapely
from django.db.models import Q

from citygrid.assess import services
from citygrid.assess.domain.periods import Period, PeriodError, period_of, previous
from citygrid.assess.services import Filters, Row, assess_kind, drill_down, method_for
from citygrid.cases.models import Case
from citygrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from citygrid.org.scoping import is_superuser, visible_areas
from citygrid.space.models import Area, UnitGrid


def scope_districts(user: Any) -> tuple[int, ...] | None:
    """None: the whole city; else the districts the user's roles cover (streets count for
    their district's assessment only as far as their own cases: a street user sees its
    district's assessment narrowed to the street by `Filters.street_id`)."""
    if is_superuser(user):
        return None
    areas = visible_areas(user)
    if areas.filter(level="city").exists():
        return None
    ids = tuple(areas.filter(level="district").values_list("id", flat=True))
    if not ids:
        raise PermissionDenied("Your roles cover no district or city; the assessment is not "
                               "visible to you.", code="assessment_not_visible")
    return ids


# Dates a request may name: the period before the first and the local midnights of the last
# must stay representable (the API fuzz tests found day=0001-01-06 overflowing).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)


def period_from(kind: str, day: date, end: date | None = None) -> Period:
    for given in (day, end):
        if given is not None and not FIRST_DAY <= given <= LAST_DAY:
            raise ValidationFailed(f"Dates lie between {FIRST_DAY} and {LAST_DAY}.",
                                   code="invalid_period", details={"field": "day"})
    try:
        return period_of(kind, day, end)
    except PeriodError as exc:
        raise ValidationFailed(str(exc), code="invalid_period", details={"field": "period"}) from None


def scoped_filters(user: Any, period: Period, *, district: str = "", **narrow: Any) -> Filters:
    districts = scope_districts(user)
    if district:
        short_id = district.isascii() and district.isdigit() and len(district) < 6  # not "³"
        area = Area.objects.filter(Q(code=district) | Q(pk=int(district) if short_id else -1),
                                   level="district").first()
        if area is None:
            raise ValidationFailed(f"No district {district}.", code="district_not_found",
                                   details={"field": "district"})
        if districts is not None and area.id not in districts:
            raise PermissionDenied(f"{area.name} is outside your scope.", code="out_of_scope",
                                   details={"field": "district"})
        districts = (area.id,)
    return Filters.of(period, district_ids=districts, **narrow)


def assessment(user: Any, kind: str, period: Period, **narrow: Any) -> tuple[list[Row], dict[int, Row]]:
    """The ranked rows of a kind, and the previous period's rows by subject (comparison)."""
    filters = scoped_filters(user, period, **narrow)
    _, config = method_for(period.start)
    rows = assess_kind(kind, filters, config)
    before_filters = scoped_filters(user, previous(period), **narrow)
    before = {r.subject_id: r for r in assess_kind(kind, before_filters, config)}
    return rows, before


def cases_behind(user: Any, kind: str, subject_id: int, figure: str, period: Period,
                 **narrow: Any) -> Any:
    from citygrid.cases.selectors import visible_cases

    filters = scoped_filters(user, period, **narrow)
    qs = drill_down(kind, subject_id, figure, filters)
    return qs & visible_cases(user) if not is_superuser(user) else qs


@dataclass(frozen=True)
class Hotspot:
    id: int
    code: str
    name: str
    geojson: str
    cases: int
    closed: int
    overdue: int


def hotspots(user: Any, period: Period, level: str = "community", **narrow: Any) -> list[Hotspot]:
    """The slice's hotspots with their outlines, within the user's districts."""
    filters = scoped_filters(user, period, **narrow)
    counts = services.hotspots(filters, level)
    model = UnitGrid if level == "grid" else Area
    places = {p.pk: p for p in model.objects.filter(pk__in=[c["place"] for c in counts])}
    found = []
    for c in counts:
        place = places.get(c["place"])
        if place is not None:
            found.append(Hotspot(place.pk, place.code, getattr(place, "name", place.code),
                                 shapely.to_geojson(place.shape), c["cases"], c["closed"],
                                 c["overdue"]))
    return found


def hotspot_cases(user: Any, period: Period, level: str, code: str, **narrow: Any) -> Any:
    from citygrid.cases.selectors import visible_cases

    filters = scoped_filters(user, period, **narrow)
    services.hotspot_column(level)
    model = UnitGrid if level == "grid" else Area
    place = model.objects.filter(code=code).first()
    if place is None:
        raise NotFound(f"No {level} {code}.", code="place_not_found", details={"field": "code"})
    qs = services.hotspot_cases(filters, level, place.pk)
    return qs & visible_cases(user) if not is_superuser(user) else qs


__all__ = ["Case", "Hotspot", "assessment", "cases_behind", "hotspot_cases", "hotspots",
           "period_from", "scope_districts", "scoped_filters"]
