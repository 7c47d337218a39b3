"""Reads the pages need from other apps."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Avg, Count, F, Max, Min, Q, QuerySet
from django.db.models.functions import Floor, Substr
from django.utils import timezone

from citygrid.org.scoping import AnyUser
from citygrid.space.models import Area, Level

if TYPE_CHECKING:
    from citygrid.cases.models import Case

Bounds = tuple[tuple[float, float], tuple[float, float]]


def coverage_bounds() -> Bounds | None:
    """((south, west), (north, east)) of all districts, in Leaflet's order; None when empty."""
    agg = Area.objects.filter(level=Level.DISTRICT).aggregate(
        west=Min("min_lon"), south=Min("min_lat"), east=Max("max_lon"), north=Max("max_lat")
    )
    if any(value is None for value in agg.values()):
        return None
    return ((agg["south"], agg["west"]), (agg["north"], agg["east"]))


# ---- screens: live map, big screen, street platform, desk live updates ----------------------
# Every function below starts from citygrid.cases.selectors.visible_cases(user) (or queue_for),
# so nothing here widens what a user may see.

MAX_CLUSTER_ZOOM = 16  # from this zoom on the live map shows single cases
CLUSTER_CELL_PX = 64  # cluster cell side, in screen pixels at the requested zoom
HEAT_CELL_PX = 24
MAX_POINTS = 1000  # single cases returned at most (more: the answer says truncated)
PERIODS = {"today": 0, "7d": 7, "30d": 30, "90d": 90, "365d": 365}
OPEN_LEVELS = ("green", "yellow", "red")


class ScreenQueryError(ValueError):
    """A bad filter or bounding box; `field` names it (the view answers 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CaseFilters:
    states: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    district: str = ""  # area code
    street: str = ""  # area code
    major: str = ""  # major class code, e.g. "06" (with kind) or "event:06"
    source: str = ""
    period: str = ""  # a PERIODS key; empty: all time
    open_only: bool = False


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """"west,south,east,north" in WGS84 degrees."""
    parts = text.split(",")
    if len(parts) != 4:
        raise ScreenQueryError("bbox", "bbox must be west,south,east,north")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise ScreenQueryError("bbox", "bbox values must be numbers") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise ScreenQueryError("bbox", "bbox values must be finite")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ScreenQueryError("bbox", "bbox must have west < east and south < north, in degrees")
    return west, south, east, north


def parse_zoom(text: str) -> int:
    try:
        zoom = int(text)
    except ValueError:
        raise ScreenQueryError("zoom", "zoom must be a whole number") from None
    if not 0 <= zoom <= 22:
        raise ScreenQueryError("zoom", "zoom must be between 0 and 22")
    return zoom


def parse_filters(params: Mapping[str, Any]) -> CaseFilters:
    """Filters from a query string (a QueryDict or a plain dict of strings/lists)."""

    def many(name: str) -> tuple[str, ...]:
        getlist = getattr(params, "getlist", None)
        raw = getlist(name) if getlist else params.get(name, [])
        if isinstance(raw, str):
            raw = [raw]
        return tuple(v for item in raw for v in str(item).split(",") if v)

    from citygrid.cases.models import CaseState, OverdueLevel
    from citygrid.org.models import Source

    states = many("state")
    bad = [s for s in states if s not in CaseState.values]
    if bad:
        raise ScreenQueryError("state", f"unknown state: {', '.join(bad)}")
    levels = many("level")
    bad = [v for v in levels if v not in OverdueLevel.values]
    if bad:
        raise ScreenQueryError("level", f"unknown overdue level: {', '.join(bad)}")
    source = str(params.get("source") or "")
    if source and source not in Source.values:
        raise ScreenQueryError("source", f"unknown source: {source}")
    period = str(params.get("period") or "")
    if period and period not in PERIODS:
        raise ScreenQueryError("period", f"period must be one of {', '.join(PERIODS)}")
    district = str(params.get("district") or "")
    if district and not district.isdigit():
        raise ScreenQueryError("district", "district must be an area code")
    street = str(params.get("street") or "")
    if street and not street.isdigit():
        raise ScreenQueryError("street", "street must be an area code")
    major = str(params.get("major") or "")
    if major and not re.fullmatch(r"(?:(?:component|event):)?\d{1,12}", major):
        raise ScreenQueryError("major", "major must be a class code such as 06 or event:06")
    open_only = str(params.get("open") or "") in ("1", "true", "yes")
    return CaseFilters(states=states, levels=levels, district=district, street=street, major=major,
                       source=source, period=period, open_only=open_only)


def period_start(period: str, now: datetime | None = None) -> datetime | None:
    if not period:
        return None
    local = timezone.localtime(now or timezone.now())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=PERIODS[period])


def filtered_cases(user: AnyUser, filters: CaseFilters, now: datetime | None = None) -> QuerySet[Case]:
    """The user's visible cases narrowed by the filter panel."""
    from citygrid.cases.models import FINAL_STATES, CaseState
    from citygrid.cases.selectors import visible_cases

    qs = visible_cases(user)
    if filters.states:
        qs = qs.filter(state__in=filters.states)
    if filters.open_only:
        # The open states named (not "not final"): an index on state serves the few open
        # cases among a year's history, where NOT IN scanned them all (bench/load.py).
        qs = qs.filter(state__in=[s for s in CaseState.values if s not in FINAL_STATES])
    if filters.levels:
        qs = qs.filter(overdue_level__in=filters.levels)
    if filters.district:
        qs = qs.filter(district__code=filters.district)
    if filters.street:
        qs = qs.filter(street__code=filters.street)
    if filters.major:
        kind, _sep, code = filters.major.rpartition(":")
        qs = qs.filter(category__code__startswith=code)
        if kind:
            qs = qs.filter(kind=kind)
    if filters.source:
        qs = qs.filter(source=filters.source)
    start = period_start(filters.period, now)
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    return qs


def in_bbox(qs: QuerySet[Case], bbox: tuple[float, float, float, float]) -> QuerySet[Case]:
    west, south, east, north = bbox
    return qs.filter(lon__gte=west, lon__lte=east, lat__gte=south, lat__lte=north)


def cell_degrees(zoom: int, pixels: int) -> float:
    """Width in degrees of longitude of `pixels` screen pixels at `zoom` (256-px tiles)."""
    return float(360.0 / (2**zoom) * pixels / 256.0)


def _cells(qs: QuerySet[Case], size: float) -> QuerySet[Case, dict[str, Any]]:
    # Square cells in degrees; at Chengdu's latitude a cell is a little taller than wide on
    # screen, which is fine for counting. Floor works on SQLite and PostgreSQL alike.
    return (
        qs.order_by()
        .annotate(cx=Floor(F("lon") / size), cy=Floor(F("lat") / size))
        .values("cx", "cy")
        .annotate(
            n=Count("id"),
            lon=Avg("lon"),
            lat=Avg("lat"),
            red=Count("id", filter=Q(overdue_level="red")),
            yellow=Count("id", filter=Q(overdue_level="yellow")),
            green=Count("id", filter=Q(overdue_level="green")),
        )
        .order_by("cx", "cy")
    )


def map_cases(qs: QuerySet[Case], bbox: tuple[float, float, float, float], zoom: int) -> dict[str, Any]:
    """Cases in `bbox` for the live map: grid clusters below MAX_CLUSTER_ZOOM, single cases
    from it on. The cluster counts add up to the number of cases in the box."""
    boxed = in_bbox(qs, bbox)
    if zoom < MAX_CLUSTER_ZOOM:
        size = cell_degrees(zoom, CLUSTER_CELL_PX)
        clusters = [
            {"lon": round(c["lon"], 6), "lat": round(c["lat"], 6), "n": c["n"], "red": c["red"],
             "yellow": c["yellow"], "green": c["green"]}
            for c in _cells(boxed, size)
        ]
        return {"mode": "clusters", "zoom": zoom, "cell": size, "clusters": clusters,
                "total": sum(c["n"] for c in clusters)}
    rows = list(
        boxed.order_by("-created_at", "-id").values(
            "id", "number", "state", "overdue_level", "lon", "lat", "urgency", "category__name",
            "district__name", "created_at", "step_deadline",
        )[: MAX_POINTS + 1]
    )
    truncated = len(rows) > MAX_POINTS
    cases = [
        {"id": r["id"], "number": r["number"], "state": r["state"], "level": r["overdue_level"],
         "lon": r["lon"], "lat": r["lat"], "urgency": r["urgency"], "category": r["category__name"],
         "district": r["district__name"], "created_at": r["created_at"].isoformat(),
         "deadline": r["step_deadline"].isoformat() if r["step_deadline"] else None}
        for r in rows[:MAX_POINTS]
    ]
    return {"mode": "cases", "zoom": zoom, "cases": cases, "total": len(cases),
            "truncated": truncated}


def heat_cells(qs: QuerySet[Case], bbox: tuple[float, float, float, float], zoom: int) -> dict[str, Any]:
    """Counts per small cell (HEAT_CELL_PX), each with its bounds, for a heat layer."""
    size = cell_degrees(zoom, HEAT_CELL_PX)
    cells = [
        {"bounds": [[c["cy"] * size, c["cx"] * size], [(c["cy"] + 1) * size, (c["cx"] + 1) * size]],
         "n": c["n"]}
        for c in _cells(in_bbox(qs, bbox), size)
    ]
    return {"mode": "heat", "zoom": zoom, "cell": size, "cells": cells,
            "max": max((c["n"] for c in cells), default=0), "total": sum(c["n"] for c in cells)}


def _today_start(now: datetime | None = None) -> datetime:
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _month_start(now: datetime | None = None) -> datetime:
    return _today_start(now).replace(day=1)


def _rate(numerator: int, denominator: int) -> float | None:
    return round(100.0 * numerator / denominator, 1) if denominator else None


SCREEN_DAYS = 30  # the by-district and by-class charts cover the last 30 days


def screen_figures(user: AnyUser, now: datetime | None = None) -> dict[str, Any]:
    """Everything the big screen shows, one aggregate query per group of figures."""
    from citygrid.cases.models import FINAL_STATES, CaseEvent

    now = now or timezone.now()
    today = _today_start(now)
    month = _month_start(now)
    since = today - timedelta(days=SCREEN_DAYS - 1)
    visible = _visible(user)
    ids = visible.values("id")

    today_events = CaseEvent.objects.filter(case__in=ids, at__gte=today).aggregate(
        reported=Count("case", distinct=True, filter=Q(operation="report")),
        filed=Count("case", distinct=True, filter=Q(operation="file")),
        dispatched=Count("case", distinct=True, filter=Q(operation__in=("dispatch", "redispatch"))),
        closed=Count("case", distinct=True, filter=Q(operation="close")),
    )
    open_q = ~Q(state__in=FINAL_STATES)
    closed_month = Q(state="closed", closed_at__gte=month, overall_deadline__isnull=False)
    state_figures = visible.order_by().aggregate(
        open=Count("id", filter=open_q),
        overdue=Count("id", filter=open_q & Q(overdue_level="red")),
        warning=Count("id", filter=open_q & Q(overdue_level="yellow")),
        closed_month=Count("id", filter=closed_month),
        on_time_month=Count("id", filter=closed_month & Q(closed_at__lte=F("overall_deadline"))),
    )
    recent = visible.filter(created_at__gte=since).order_by()
    by_district = [
        {"code": r["district__code"], "name": r["district__name"], "total": r["total"],
         "open": r["open"]}
        for r in recent.values("district__code", "district__name")
        .annotate(total=Count("id"), open=Count("id", filter=open_q)).order_by("district__code")
    ]
    by_major = list(
        recent.annotate(major=Substr("category__code", 1, 2)).values("kind", "major")
        .annotate(total=Count("id")).order_by("-total", "kind", "major")
    )
    names = _major_names({(r["kind"], r["major"]) for r in by_major})
    by_class = [
        {"kind": r["kind"], "code": r["major"], "name": names.get((r["kind"], r["major"]), r["major"]),
         "total": r["total"]}
        for r in by_major
    ]
    events = [
        {"operation": e["operation"], "number": e["case__number"], "district": e["case__district__name"],
         "at": e["at"].isoformat(), "to_state": e["to_state"]}
        for e in CaseEvent.objects.filter(case__in=ids).order_by("-at", "-id")
        .values("operation", "case__number", "case__district__name", "at", "to_state")[:20]
    ]
    return {
        "generated_at": now.isoformat(),
        "today": today_events,
        "open": state_figures["open"],
        "overdue": state_figures["overdue"],
        "warning": state_figures["warning"],
        "closed_month": state_figures["closed_month"],
        "on_time_month": state_figures["on_time_month"],
        "on_time_rate": _rate(state_figures["on_time_month"], state_figures["closed_month"]),
        "days": SCREEN_DAYS,
        "by_district": by_district,
        "by_class": by_class,
        "events": events,
    }


def _visible(user: AnyUser) -> QuerySet[Case]:
    from citygrid.cases.selectors import visible_cases

    return visible_cases(user)


def _major_names(keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    from citygrid.catalog.models import Category
    from citygrid.catalog.selectors import active_standard

    standard = active_standard()
    if standard is None or not keys:
        return {}
    rows = Category.objects.filter(standard=standard, level="major",
                                   code__in={code for _kind, code in keys})
    return {(c.kind, c.code): c.name for c in rows}


# ---- street platform (M-27) -------------------------------------------------------------------

PHONE_ROLES = frozenset({"department_head", "leader", "shift_leader", "dispatcher", "administrator"})


def street_areas(user: AnyUser) -> QuerySet[Area]:
    """The streets the user runs a street platform for: streets in the scope of their
    street_staff role, and the territories of street-level departments they belong to or are
    assigned to. Superusers: every street. Empty: the platform is not for them."""
    from citygrid.org.models import Department, DepartmentLevel, Person
    from citygrid.org.scoping import assignments, is_superuser, visible_areas

    streets = Area.objects.filter(level=Level.STREET)
    if is_superuser(user):
        return streets.order_by("code")
    if not getattr(user, "is_authenticated", False):
        return streets.none()
    ids: set[int] = set()
    staff_areas = visible_areas(user, "street_staff")
    ids |= set(staff_areas.filter(level=Level.STREET).values_list("id", flat=True))
    ids |= set(staff_areas.filter(level=Level.COMMUNITY).values_list("parent_id", flat=True))
    dept_ids = set(Person.objects.filter(user_id=user.pk, department__isnull=False)
                   .values_list("department_id", flat=True))
    dept_ids |= set(assignments(user).filter(departments__isnull=False)
                    .values_list("departments", flat=True))
    ids |= set(Department.objects.filter(id__in=dept_ids, level=DepartmentLevel.STREET)
               .values_list("area_id", flat=True))
    return streets.filter(id__in=ids).order_by("code")


def street_departments(street: Area) -> QuerySet[Any]:
    from citygrid.org.models import Department, DepartmentLevel

    return Department.objects.filter(area=street, level=DepartmentLevel.STREET, active=True)


def street_cases(user: AnyUser, street: Area) -> QuerySet[Case]:
    return _visible(user).filter(street=street)


SELF_HANDLE = "street_self_handle"


def street_case_lists(user: AnyUser, street: Area, now: datetime | None = None,
                      limit: int = 50) -> dict[str, Any]:
    """Open cases of the street: self-handled (street_self_handle, held by the street office),
    reported upward (reported by street staff, held by someone else), and counts by state."""
    from citygrid.cases.models import FINAL_STATES

    now = now or timezone.now()
    qs = street_cases(user, street)
    open_qs = qs.exclude(state__in=FINAL_STATES)
    ours = Q(process=SELF_HANDLE, holder_department__in=street_departments(street))
    self_handled = open_qs.filter(ours)
    # Reported by street staff but handled elsewhere: routed past the office, or returned by it.
    upward = open_qs.filter(source="street_staff").exclude(ours)
    by_state = {r["state"]: r["n"] for r in
                open_qs.order_by().values("state").annotate(n=Count("id"))}

    def rows(cases: QuerySet[Case]) -> list[dict[str, Any]]:
        found = []
        for case in cases.order_by("step_deadline", "created_at")[:limit]:
            left = (case.step_deadline - now).total_seconds() if case.step_deadline else None
            found.append({"case": case, "seconds_left": left})
        return found

    return {"self_handled": rows(self_handled), "upward": rows(upward), "by_state": by_state,
            "self_count": self_handled.count(), "upward_count": upward.count()}


def street_staff(user: AnyUser, street: Area) -> list[dict[str, Any]]:
    """People of the street's offices that the user may see; phone only for PHONE_ROLES."""
    from citygrid.org.scoping import is_superuser, roles_of, visible_people

    show_phone = is_superuser(user) or bool(roles_of(user) & PHONE_ROLES)
    people = (visible_people(user).filter(department__in=street_departments(street))
              .select_related("department").prefetch_related("roles").order_by("display_name"))
    return [
        {"name": p.display_name, "department": p.department.name if p.department else "",
         "roles": sorted({r.get_role_display() for r in p.roles.all()}),
         "phone": p.phone if show_phone else None}
        for p in people
    ]


def street_results(user: AnyUser, street: Area, now: datetime | None = None) -> dict[str, Any]:
    """This month's figures of the street, in one query: cases reported in it, those its
    office handles itself (self-report-self-handle, not returned), closed, closed on time."""
    month = _month_start(now)
    qs = street_cases(user, street).order_by()
    closed = Q(state="closed", closed_at__gte=month)
    figures = qs.aggregate(
        reported=Count("id", filter=Q(created_at__gte=month)),
        self_handled=Count("id", filter=Q(created_at__gte=month, process=SELF_HANDLE,
                                          holder_department__in=street_departments(street))),
        closed=Count("id", filter=closed),
        closed_on_time=Count("id", filter=closed & Q(overall_deadline__isnull=False,
                                                     closed_at__lte=F("overall_deadline"))),
    )
    figures["self_handled_rate"] = _rate(figures["self_handled"], figures["reported"])
    figures["on_time_rate"] = _rate(figures["closed_on_time"], figures["closed"])
    figures["month"] = month.date().isoformat()
    return figures


# ---- desk live updates ------------------------------------------------------------------------

ALL_QUEUES = "all"  # the desk's "all I may see" tab: every visible case


def queue_token(user: AnyUser, roles: Iterable[str]) -> dict[str, Any]:
    """A small token that changes whenever a case enters, leaves or changes in the user's
    queues: per role, the count and the latest updated_at (role "all": every visible case)."""
    from citygrid.cases.selectors import queue_for

    parts: list[str] = []
    total = 0
    for role in sorted(set(roles)):
        qs = _visible(user) if role == ALL_QUEUES else queue_for(user, role)
        agg = qs.order_by().aggregate(n=Count("id"), last=Max("updated_at"))
        last = agg["last"].isoformat() if agg["last"] else "-"
        parts.append(f"{role}:{agg['n']}:{last}")
        total += agg["n"]
    token = hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
    return {"token": token, "count": total}
