"""Reads of the inventory. The component register is not public: the API requires login;
every logged-in user of the platform may read it (inspectors pick components anywhere they
report)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from citygrid.catalog.models import Category, ClassLevel, Kind
from citygrid.core.errors import NotFound, ValidationFailed
from citygrid.inventory.models import Component, State, SurveyFlag
from citygrid.org.models import Department

MAX_RADIUS_M = 5000.0
MAX_LIMIT = 200
MAX_FEATURES = 5000


@dataclass(frozen=True, slots=True)
class Nearby:
    component: Component
    distance_m: float


def _components() -> QuerySet[Component]:
    return Component.objects.select_related(
        "category", "grid", "community", "street", "district", "competent_department", "owner",
        "maintainer")


def component_by_code(code: str) -> Component:
    try:
        return _components().get(code=code)
    except Component.DoesNotExist:
        raise NotFound(f"No component with code {code!r}.", code="component_not_found") from None


def component_owner(code: str) -> Department | None:
    """Who a case about this component goes to: its owner, else its maintainer, else its
    competent department; None for an unknown code (routing then ignores it)."""
    row = (Component.objects.filter(code=code)
           .values_list("owner_id", "maintainer_id", "competent_department_id").first())
    if row is None:
        return None
    dept_id = next((d for d in row if d is not None), None)
    return Department.objects.filter(pk=dept_id).first() if dept_id else None


def component_class(code: str) -> Category:
    """A component class of the active standard by code."""
    from citygrid.catalog.selectors import active_standard, category_by_code

    standard = active_standard()
    if standard is None:
        raise NotFound("No active classification standard.", code="no_active_standard")
    return category_by_code(standard, Kind.COMPONENT, code)


def class_ids(category: Category | str | None) -> list[int] | None:
    """The class and every class below it (a major class selects its minors and fines)."""
    if category is None or category == "":
        return None
    if isinstance(category, str):
        category = component_class(category)
    ids = [category.pk]
    if category.level != ClassLevel.FINE:
        children = list(Category.objects.filter(parent=category).values_list("id", flat=True))
        ids += children
        ids += list(Category.objects.filter(parent_id__in=children).values_list("id", flat=True))
    return ids


def components_near(lon: float, lat: float, radius_m: float, category: Category | str | None = None,
                    limit: int = 20) -> list[Nearby]:
    """Current (not removed) components within `radius_m` metres of (lon, lat) WGS84,
    nearest first, of `category` (a class or its code; a major class includes its minors)."""
    from citygrid.inventory import nearby

    if not (0 < radius_m <= MAX_RADIUS_M):
        raise ValidationFailed(f"radius must be in (0, {MAX_RADIUS_M:g}] metres.",
                               code="invalid_radius")
    if not (0 < limit <= MAX_LIMIT):
        raise ValidationFailed(f"limit must be in 1..{MAX_LIMIT}.", code="invalid_limit")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationFailed(f"({lon}, {lat}) is not a valid lon/lat.",
                               code="invalid_coordinates")
    wanted = class_ids(category)
    ids, dists = nearby.index().near(lon, lat, radius_m, classes=wanted, limit=limit)
    found = _components().in_bulk(ids.tolist())
    return [Nearby(found[i], float(d)) for i, d in zip(ids.tolist(), dists.tolist(), strict=True)
            if i in found and found[i].state != State.REMOVED]


def features(bbox: tuple[float, float, float, float], category: Category | str | None = None,
             limit: int = MAX_FEATURES) -> dict[str, Any]:
    """Components in a lon/lat box as a GeoJSON FeatureCollection (points), for the map."""
    min_lon, min_lat, max_lon, max_lat = bbox
    if not (min_lon <= max_lon and min_lat <= max_lat):
        raise ValidationFailed("bbox must be min_lon,min_lat,max_lon,max_lat.", code="invalid_bbox")
    qs = Component.objects.filter(lon__gte=min_lon, lon__lte=max_lon, lat__gte=min_lat,
                                  lat__lte=max_lat).exclude(state=State.REMOVED)
    wanted = class_ids(category)
    if wanted is not None:
        qs = qs.filter(category_id__in=wanted)
    rows = list(qs.order_by("id").values_list(
        "code", "name", "lon", "lat", "state", "category__code", "category__name",
        "owner__name", "owner_unit_name")[: limit + 1])
    truncated = len(rows) > limit
    feats = [{
        "type": "Feature", "id": code,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"code": code, "name": name, "state": state, "class": cls,
                       "class_name": cls_name, "owner": owner or owner_text},
    } for code, name, lon, lat, state, cls, cls_name, owner, owner_text in rows[:limit]]
    return {"type": "FeatureCollection", "features": feats, "truncated": truncated}


def history(component: Component) -> list[dict[str, Any]]:
    """The component's history, oldest first: its creation (import batch) then changes."""
    out: list[dict[str, Any]] = []
    batch = component.import_batch
    if batch is not None:
        out.append({"at": batch.at, "source": "import", "actor": str(batch.actor or ""),
                    "case_number": "", "before": {}, "after": {"file": batch.filename}, "note": ""})
    for change in component.changes.select_related("actor").order_by("at", "pk"):
        out.append({"at": change.at, "source": change.source, "actor": str(change.actor or ""),
                    "case_number": change.case_number, "before": change.before,
                    "after": change.after, "note": change.note})
    return out


def survey_flags(status: str | None = None) -> QuerySet[SurveyFlag]:
    qs = SurveyFlag.objects.select_related("category", "grid", "district")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at")
