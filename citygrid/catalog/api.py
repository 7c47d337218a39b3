"""Catalog API: the classification is public standard data, readable without logging in."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema

from citygrid.api.openapi import errors
from citygrid.catalog import selectors
from citygrid.catalog.models import AreaType, Category, ClassLevel, Kind, Standard, Step, Urgency
from citygrid.core.errors import NotFound, ValidationFailed

router = Router(tags=["catalog"])


class StandardOut(Schema):
    id: int
    code: str
    name: str
    year: int | None
    status: str
    is_national: bool
    based_on: str | None = Field(None, description="code of the base standard")
    city: str | None = Field(None, description="code of the city (area) it applies to")
    category_count: int = 0
    activated_at: datetime | None


class LimitOut(Schema):
    urgency: str
    amount: str
    unit: str
    text: str
    unit_uncertain: bool = False
    note: str = ""


class CategoryOut(Schema):
    id: int
    kind: str
    code: str
    name: str
    level: str
    parent_code: str | None
    is_emergency: bool
    confidence: str


class MappingOut(Schema):
    relation: str
    category_id: int | None
    code: str | None
    name: str | None
    standard: str | None
    note: str


class CategoryDetailOut(CategoryOut):
    standard: str
    filing_condition: str
    closing_condition: str
    urgency_levels: list[str]
    responsible_units: str
    source: str
    note: str
    limits: list[LimitOut]
    effective_limits: dict[str, str | None] = Field(
        description="limit per urgency after falling back to the parent class")
    children: list[CategoryOut]
    origins: list[MappingOut]


class StepLimitOut(Schema):
    step: str
    urgency: str
    area_type: str
    amount: str
    unit: str
    text: str
    note: str


def _standard_out(standard: Standard) -> StandardOut:
    return StandardOut(
        id=standard.pk, code=standard.code, name=standard.name, year=standard.year,
        status=standard.status, is_national=standard.is_national,
        based_on=standard.based_on.code if standard.based_on else None,
        city=standard.city.code if standard.city else None,
        category_count=getattr(standard, "category_count", 0),
        activated_at=standard.activated_at,
    )


def _category_out(category: Category) -> CategoryOut:
    return CategoryOut(
        id=category.pk, kind=category.kind, code=category.code, name=category.name,
        level=category.level, parent_code=category.parent.code if category.parent else None,
        is_emergency=category.is_emergency, confidence=category.confidence,
    )


def _get_standard(standard_id: int) -> Standard:
    standard = selectors.standards().filter(pk=standard_id).first()
    if standard is None:
        raise NotFound(f"No standard {standard_id}.", code="standard_not_found")
    return standard


@router.get("/catalog/standards", response=list[StandardOut], auth=None)
def list_standards(request: HttpRequest, status: str | None = None) -> list[StandardOut]:
    """All classification standards (national, derived, samples)."""
    result = selectors.standards()
    if status:
        result = result.filter(status=status)
    return [_standard_out(s) for s in result]


@router.get("/catalog/standards/active", response={200: StandardOut, **errors(404)}, auth=None)
def get_active_standard(request: HttpRequest, city: str | None = None) -> StandardOut:
    """The standard in force for a city (area code), or the default one."""
    from citygrid.space.models import Area

    area = None
    if city:
        area = Area.objects.filter(code=city).first()
        if area is None:
            raise NotFound(f"No area with code {city!r}.", code="area_not_found")
    standard = selectors.active_standard(area)
    if standard is None:
        raise NotFound("No active standard.", code="no_active_standard")
    return _standard_out(_get_standard(standard.pk))


@router.get("/catalog/standards/{standard_id}", response={200: StandardOut, **errors(404)},
            auth=None)
def get_standard(request: HttpRequest, standard_id: int) -> StandardOut:
    return _standard_out(_get_standard(standard_id))


@router.get("/catalog/standards/{standard_id}/categories",
            response={200: list[CategoryOut], **errors(404)}, auth=None)
def list_categories(
    request: HttpRequest, standard_id: int, kind: Kind | None = None,
    level: ClassLevel | None = None, parent: str | None = None, q: str = "",
) -> list[CategoryOut]:
    """Classes of a standard; filter by kind, level, parent class code (needs kind when the
    code exists for both kinds) and a code prefix or name fragment `q`."""
    standard = _get_standard(standard_id)
    parent_category = None
    if parent:
        candidates = list(standard.categories.filter(code=parent, **({"kind": kind} if kind else {})))
        if not candidates:
            raise NotFound(f"No class {parent} in {standard.code}.", code="category_not_found")
        if len(candidates) > 1:
            raise ValidationFailed(f"Code {parent} is both a component and an event class; "
                                   "add kind.", code="ambiguous_code")
        parent_category = candidates[0]
    found = selectors.categories(standard, kind=kind, level=level, parent=parent_category,
                                 search=q.strip())
    return [_category_out(c) for c in found]


@router.get("/catalog/categories/{category_id}", response={200: CategoryDetailOut, **errors(404)},
            auth=None)
def get_category(request: HttpRequest, category_id: int) -> CategoryDetailOut:
    """A class with its conditions, its own limits, effective limits and its origins."""
    category = (Category.objects.select_related("standard", "parent")
                .prefetch_related("handling_limits", "children").filter(pk=category_id).first())
    if category is None:
        raise NotFound(f"No class {category_id}.", code="category_not_found")
    origins = category.mappings_in.select_related("from_category__standard")
    return CategoryDetailOut(
        **_category_out(category).dict(),
        standard=category.standard.code,
        filing_condition=category.filing_condition,
        closing_condition=category.closing_condition,
        urgency_levels=list(category.urgency_levels),
        responsible_units=category.responsible_units,
        source=category.source, note=category.note,
        limits=[LimitOut(urgency=lim.urgency, amount=f"{lim.amount.normalize():f}",
                         unit=lim.unit, text=str(lim.duration),
                         unit_uncertain=lim.unit_uncertain, note=lim.note)
                for lim in category.handling_limits.all()],
        effective_limits={
            u: (str(d) if (d := selectors.handling_limit(category, u)) else None)
            for u in Urgency.values
        },
        children=[_category_out(c) for c in category.children.order_by("code")],
        origins=[MappingOut(
            relation=m.relation, note=m.note,
            category_id=m.from_category_id,
            code=m.from_category.code if m.from_category else None,
            name=m.from_category.name if m.from_category else None,
            standard=m.from_category.standard.code if m.from_category else None,
        ) for m in origins],
    )


@router.get("/catalog/standards/{standard_id}/step-limits",
            response={200: list[StepLimitOut], **errors(404)}, auth=None)
def list_step_limits(request: HttpRequest, standard_id: int, step: Step | None = None,
                     urgency: Urgency | None = None,
                     area_type: AreaType | None = None) -> list[StepLimitOut]:
    standard = _get_standard(standard_id)
    limits = standard.step_limits.all()
    if step:
        limits = limits.filter(step=step)
    if urgency:
        limits = limits.filter(urgency=urgency)
    if area_type:
        limits = limits.filter(area_type=area_type)
    return [StepLimitOut(step=s.step, urgency=s.urgency, area_type=s.area_type,
                         amount=f"{s.amount.normalize():f}", unit=s.unit,
                         text=str(s.duration), note=s.note) for s in limits]
