"""Duplicate suggestions (issue 4, item 7): when a report comes in, the open cases of the same
class reported nearby and recently, nearest first. The operator merges (`merge_case`) or
keeps; nothing here writes.

Distance: a bounding box on the `lon`/`lat` columns (WGS84) narrows the candidates in the
database (the `category, created_at` index does the rest), then the exact geodesic distance
on the WGS84 ellipsoid (pyproj `Geod.inv`) decides. Settings (optional):
`CASES_DUPLICATE_RADIUS_M` (default 50) and `CASES_DUPLICATE_WINDOW_HOURS` (default 72).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from citygrid.cases.models import FINAL_STATES, Case
from citygrid.core.errors import ValidationFailed

DEFAULT_RADIUS_M = 50.0
DEFAULT_WINDOW_HOURS = 72.0
MAX_RADIUS_M = 5_000.0
MAX_LIMIT = 100
# Metres per degree of latitude, at the smallest (equator, WGS84): the box is never too small.
_M_PER_DEG_LAT_MIN = 110_574.0
_BOX_MARGIN = 1.01


@dataclass(frozen=True)
class Suggestion:
    case: Case
    distance_m: float
    age: timedelta  # `at` minus the case's creation (negative if it was reported later)


@cache
def _geod() -> Any:
    from pyproj import Geod

    return Geod(ellps="WGS84")


def default_radius_m() -> float:
    return float(getattr(settings, "CASES_DUPLICATE_RADIUS_M", DEFAULT_RADIUS_M))


def default_window() -> timedelta:
    return timedelta(hours=float(getattr(settings, "CASES_DUPLICATE_WINDOW_HOURS",
                                         DEFAULT_WINDOW_HOURS)))


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_duplicate_query",
                            details=[{"field": field, "message": message}])


def _check(lon: Any, lat: Any, radius_m: float, window: timedelta, limit: int) -> tuple[float, float]:
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise _invalid("lon", "lon and lat must be numbers (WGS84 degrees).") from None
    if not (math.isfinite(x) and -180 <= x <= 180):
        raise _invalid("lon", f"lon must lie within -180…180, not {lon}.")
    if not (math.isfinite(y) and -89 <= y <= 89):
        raise _invalid("lat", f"lat must lie within -89…89, not {lat}.")
    if not (0 < radius_m <= MAX_RADIUS_M):
        raise _invalid("radius_m", f"radius_m must be over 0 and at most {MAX_RADIUS_M:g} m.")
    if window <= timedelta(0):
        raise _invalid("window", "window must be a positive duration.")
    if not (1 <= limit <= MAX_LIMIT):
        raise _invalid("limit", f"limit must be between 1 and {MAX_LIMIT}.")
    return x, y


def _excluded_ids(exclude: Case | int | Iterable[Case | int] | None) -> list[int]:
    if exclude is None:
        return []
    items = [exclude] if isinstance(exclude, Case | int) else list(exclude)
    return [item.pk if isinstance(item, Case) else int(item) for item in items]


def suggest_duplicates(
    *, category: Any, lon: float, lat: float, at: datetime | None = None,
    exclude: Case | int | Iterable[Case | int] | None = None, radius_m: float | None = None,
    window: timedelta | None = None, limit: int = 10, queryset: QuerySet[Case] | None = None,
) -> list[Suggestion]:
    """Open cases of `category` (a Category or its id) within `radius_m` metres of (lon, lat)
    (WGS84) and reported within `window` of `at` (either side; `at` defaults to now), nearest
    first, at most `limit`. `queryset` narrows the search (e.g. `visible_cases(user)` or one
    district); `exclude` leaves out cases (the new report itself)."""
    radius = default_radius_m() if radius_m is None else float(radius_m)
    span = default_window() if window is None else window
    x, y = _check(lon, lat, radius, span, limit)
    at = at or timezone.now()
    dlat = radius / _M_PER_DEG_LAT_MIN * _BOX_MARGIN
    dlon = dlat / max(math.cos(math.radians(abs(y) + dlat)), 1e-6)
    category_id = getattr(category, "pk", category)
    candidates = (
        (queryset if queryset is not None else Case.objects.all())
        .filter(category_id=category_id, created_at__gte=at - span, created_at__lte=at + span,
                lon__gte=x - dlon, lon__lte=x + dlon, lat__gte=y - dlat, lat__lte=y + dlat)
        .exclude(state__in=FINAL_STATES)
        .exclude(pk__in=_excluded_ids(exclude))
        .select_related("category", "district", "holder_department")
    )
    cases = list(candidates[:1000])  # a box of at most a few km: more than this is a flood
    if not cases:
        return []
    _, _, distances = _geod().inv([x] * len(cases), [y] * len(cases),
                                  [c.lon for c in cases], [c.lat for c in cases])
    found = [Suggestion(c, round(float(d), 1), at - c.created_at)
             for c, d in zip(cases, distances, strict=True) if d <= radius]
    found.sort(key=lambda s: (s.distance_m, abs(s.age), s.case.pk))
    return found[:limit]


def duplicates_of(case: Case, *, radius_m: float | None = None, window: timedelta | None = None,
                  limit: int = 10, queryset: QuerySet[Case] | None = None) -> list[Suggestion]:
    """Suggestions for an existing case (its detail page): same class, near it, reported within
    the window around it, in its district (merging across districts is refused)."""
    base = queryset if queryset is not None else Case.objects.all()
    return suggest_duplicates(category=case.category_id, lon=case.lon, lat=case.lat,
                              at=case.created_at, exclude=case, radius_m=radius_m, window=window,
                              limit=limit, queryset=base.filter(district_id=case.district_id))
