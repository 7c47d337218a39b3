"""Scoped reads of the assessment: a district sees its own assessment only, the city all."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Q

from citygrid.assess.domain.periods import Period, PeriodError, period_of, previous
from citygrid.assess.services import Filters, Row, assess_kind, drill_down, method_for
from citygrid.cases.models import Case
from citygrid.core.errors import PermissionDenied, ValidationFailed
from citygrid.org.scoping import is_superuser, visible_areas
from citygrid.space.models import Area


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


def period_from(kind: str, day: date, end: date | None = None) -> Period:
    try:
        return period_of(kind, day, end)
    except PeriodError as exc:
        raise ValidationFailed(str(exc), code="invalid_period", details={"field": "period"}) from None


def scoped_filters(user: Any, period: Period, *, district: str = "", **narrow: Any) -> Filters:
    districts = scope_districts(user)
    if district:
        area = Area.objects.filter(Q(code=district) | Q(pk=int(district) if district.isdigit()
                                                         and len(district) < 6 else -1),
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


__all__ = ["Case", "assessment", "cases_behind", "period_from", "scope_districts", "scoped_filters"]
