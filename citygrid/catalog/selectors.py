"""Reads of the classification. Standards are public data: no scoping by user."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from citygrid.calendars.domain.durations import Duration
from citygrid.catalog.domain.rules import duration_text
from citygrid.catalog.models import (
    AreaType,
    Category,
    CategoryMapping,
    HandlingTimeLimit,
    Standard,
    StepTimeLimit,
    Urgency,
)
from citygrid.core.errors import NotFound
from citygrid.core.memo import remembered
from citygrid.space.models import Area, Level


def standards() -> QuerySet[Standard]:
    return Standard.objects.select_related("based_on", "city").annotate(
        category_count=Count("categories"),
    )


def get_standard(code: str) -> Standard:
    try:
        return Standard.objects.get(code=code)
    except Standard.DoesNotExist:
        raise NotFound(f"No standard with code {code!r}.", code="standard_not_found") from None


def active_standard(city: Area | None = None) -> Standard | None:
    """The standard cases use: the city's own active standard; else the newest active
    standard tied to no city (a derived one before a national one); else None.
    A district, street or community finds its city's standard."""
    while city is not None and city.level != Level.CITY:
        city = city.parent
    return remembered(("active_standard", city.pk if city else None), lambda: _active_standard(city))


def _active_standard(city: Area | None) -> Standard | None:
    active = Standard.objects.filter(status=Standard.Status.ACTIVE)
    if city is not None:
        own = active.filter(city=city).first()
        if own is not None:
            return own
    return (active.filter(city__isnull=True)
            .order_by("is_national", "-year", "-activated_at", "-pk").first())


def categories(standard: Standard, *, kind: str | None = None, level: str | None = None,
               parent: Category | None = None, search: str = "") -> QuerySet[Category]:
    result = standard.categories.select_related("parent")
    if kind:
        result = result.filter(kind=kind)
    if level:
        result = result.filter(level=level)
    if parent is not None:
        result = result.filter(parent=parent)
    if search:
        result = result.filter(Q(code__startswith=search) | Q(name__contains=search))
    return result.order_by("kind", "sort_order", "code")


def category_by_code(standard: Standard, kind: str, code: str) -> Category:
    try:
        return remembered(("category", standard.pk, kind, code), lambda: standard.categories.select_related(
            "parent__parent").get(kind=kind, code=code))
    except Category.DoesNotExist:
        raise NotFound(f"No {kind} class {code} in {standard.code}.",
                       code="category_not_found") from None


def handling_limit(category: Category, urgency: str = Urgency.ORDINARY) -> Duration | None:
    """The class's limit for this urgency; a fine class without one uses its minor class's,
    a minor class without one its major class's."""
    return remembered(("handling_limit", category.pk, urgency), lambda: _handling_limit(category, urgency))


def _handling_limit(category: Category, urgency: str) -> Duration | None:
    chain: list[int] = []
    node: Category | None = category
    while node is not None:
        chain.append(node.pk)
        node = node.parent
    limits = {limit.category_id: limit for limit in
              HandlingTimeLimit.objects.filter(category_id__in=chain, urgency=urgency)}
    for pk in chain:
        if pk in limits:
            return limits[pk].duration
    return None


def step_limit(standard: Standard, step: str, urgency: str = Urgency.ORDINARY,
               area_type: str = AreaType.URBAN) -> Duration | None:
    """The limit of a process step; a limit for the area type wins over one for any area."""
    return remembered(("step_limit", standard.pk, step, urgency, area_type),
                      lambda: _step_limit(standard, step, urgency, area_type))


def _step_limit(standard: Standard, step: str, urgency: str, area_type: str) -> Duration | None:
    found = {limit.area_type: limit for limit in StepTimeLimit.objects.filter(
        standard=standard, step=step, urgency=urgency, area_type__in=[area_type, AreaType.ANY])}
    limit = found.get(area_type) or found.get(AreaType.ANY)
    return limit.duration if limit else None


def _ancestors(standard: Standard) -> list[Standard]:
    chain: list[Standard] = []
    node: Standard | None = standard
    while node is not None and node not in chain:
        chain.append(node)
        node = node.based_on
    return chain


def map_category(category: Category, to_standard: Standard) -> list[Category]:
    """The classes of `to_standard` that correspond to `category`, following the mappings
    through every version between them (forwards to newer, backwards to older, or back to a
    common base and forwards again). Empty when nothing corresponds (e.g. a new class)."""
    if category.standard_id == to_standard.pk:
        return [category]
    up = _ancestors(category.standard)
    down = _ancestors(to_standard)
    common = next((s for s in up if s in down), None)
    if common is None:
        return []
    frontier = {category.pk}
    for older in up[1:up.index(common) + 1]:  # backwards: follow mappings to their origins
        frontier = set(CategoryMapping.objects.filter(
            to_category_id__in=frontier, from_category__standard=older,
        ).values_list("from_category_id", flat=True))
    forward = list(reversed(down[:down.index(common)]))
    for newer in forward:  # forwards: follow mappings to their results
        frontier = set(CategoryMapping.objects.filter(
            from_category_id__in=frontier, to_category__standard=newer,
        ).values_list("to_category_id", flat=True))
    return list(Category.objects.filter(pk__in=frontier).order_by("kind", "code"))


def limits_as_text(category: Category) -> dict[str, str]:
    return {limit.urgency: duration_text(limit.duration)
            for limit in category.handling_limits.all()}


def export_rows(categories_qs: QuerySet[Category]) -> list[dict[str, str]]:
    """Spreadsheet rows (SHEET_COLUMNS) for the given classes, one row per class, with its
    ancestors' codes and names so the file imports back as it is."""
    rows: list[dict[str, str]] = []
    for category in categories_qs.select_related("parent__parent").prefetch_related(
            "handling_limits").order_by("standard", "kind", "code"):
        path: list[Category] = []
        node: Category | None = category
        while node is not None:
            path.insert(0, node)
            node = node.parent
        row = {"kind": category.kind}
        for level, item in zip(("major", "minor", "fine"), path, strict=False):
            row[f"{level}_code"], row[f"{level}_name"] = item.code, item.name
        limits = {limit.urgency: limit.duration for limit in category.handling_limits.all()}
        row.update({
            "filing_condition": category.filing_condition,
            "closing_condition": category.closing_condition,
            "is_emergency": "1" if category.is_emergency else "0",
            "limit_ordinary": duration_text(limits.get(Urgency.ORDINARY)),
            "limit_urgent": duration_text(limits.get(Urgency.URGENT)),
        })
        rows.append(row)
    return rows
