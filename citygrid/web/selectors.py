"""Reads the pages need from other apps."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Floor, Substr
from django.utils import timezone

from citygrid.cases.domain.map_cells import CellBox, cell_box, scale_for, side
from citygrid.org.scoping import AnyUser
from citygrid.space.models import Area, Level

if TYPE_CHECKING:
    from citygrid.cases.models import Case

Bounds = tuple[tuple[float, float], tuple[float, float]]
Sums = dict[tuple[int, int], list[float]]  # (cx, cy) -> [n, sum of lon, sum of lat]


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
HEAT_CELL_PX = 32  # a power of two, so heat cells are map cells (citygrid.cases.domain.map_cells)
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


def _in_cells(qs: QuerySet[Case], box: CellBox) -> QuerySet[Case]:
    """The cases around the cells of `box`, each with its cell (cx, cy); callers keep the cells
    of the box (`_inside`). The lon/lat range, a little wider than the cells, lets the (lon,
    lat) index serve; testing the cells in SQL would make the planner expect no rows."""
    s = side(box.scale)
    west, south, east, north = box.degrees()
    return (qs.filter(lon__gte=west - s / 2, lon__lt=east + s / 2, lat__gte=south - s / 2,
                      lat__lt=north + s / 2)
            .annotate(cx=Floor(F("lon") / s), cy=Floor(F("lat") / s)))


def _inside(box: CellBox, cx: float, cy: float) -> bool:
    return box.x0 <= cx <= box.x1 and box.y0 <= cy <= box.y1


def _live_sums(qs: QuerySet[Case], box: CellBox) -> Sums:
    rows = (_in_cells(qs.order_by(), box).values("cx", "cy")
            .annotate(n=Count("id"), lons=Sum("lon"), lats=Sum("lat")))
    return {(int(r["cx"]), int(r["cy"])): [r["n"], r["lons"], r["lats"]] for r in rows
            if _inside(box, r["cx"], r["cy"])}


def _level_counts(qs: QuerySet[Case], box: CellBox) -> dict[tuple[int, int], dict[str, int]]:
    """Open cases per cell and traffic light (closed cases have no light)."""
    from citygrid.cases.models import OPEN_STATES

    rows = (_in_cells(qs.order_by().filter(state__in=OPEN_STATES, overdue_level__in=OPEN_LEVELS),
                      box)
            .values("cx", "cy", "overdue_level").annotate(n=Count("id")))
    found: dict[tuple[int, int], dict[str, int]] = {}
    for r in rows:
        if _inside(box, r["cx"], r["cy"]):
            found.setdefault((int(r["cx"]), int(r["cy"])), {})[r["overdue_level"]] = r["n"]
    return found


def _add(into: Sums, more: Sums) -> Sums:
    for key, (n, lons, lats) in more.items():
        found = into.setdefault(key, [0, 0.0, 0.0])
        found[0] += n
        found[1] += lons
        found[2] += lats
    return into


def cell_counts(user: AnyUser, filters: CaseFilters, qs: QuerySet[Case], box: CellBox,
                now: datetime | None = None) -> Sums:
    """(n, sum of lon, sum of lat) per cell of `box` of the user's filtered cases `qs`: from
    the kept per-day counts (citygrid.cases.map_cells) where the filters and the user's scope
    allow, the rest counted live. Both ways give the same answer."""
    from citygrid.cases import map_cells

    kept = _kept_part(user, filters, box)
    until = map_cells.watermark() if kept is not None else None
    if kept is None or until is None:
        return _live_sums(qs, box)
    start = period_start(filters.period, now)
    if start is not None and start.date() >= until:
        return _live_sums(qs, box)
    sums = map_cells.cell_sums(box, start.date() if start else None, until, kept.districts)
    sums = _add(sums, _live_sums(qs.filter(created_at__gte=map_cells.midnight(until)), box))
    if kept.districts is None:
        return sums
    # Beyond whole districts a user sees only the cases they reported (whole_districts).
    # Two queries, not an OR, so that each walks its own index.
    elsewhere = (qs.filter(reporter_id=user.pk, created_at__lt=map_cells.midnight(until))
                 .exclude(district_id__in=sorted(kept.districts)))
    return _add(sums, _live_sums(elsewhere, box))


@dataclass(frozen=True)
class _Kept:
    districts: frozenset[int] | None  # None: all


def _kept_part(user: AnyUser, filters: CaseFilters, box: CellBox) -> _Kept | None:
    """Which districts' kept counts answer this request; None: count everything live."""
    from citygrid.cases import map_cells
    from citygrid.cases.selectors import NotWholeDistricts, whole_districts

    if map_cells.kept_scale(box.scale) is None:
        return None
    if (filters.states or filters.levels or filters.open_only or filters.major or filters.source
            or filters.street):
        return None
    try:
        districts = whole_districts(user)
    except NotWholeDistricts:
        return None
    if filters.district:
        wanted = frozenset(Area.objects.filter(level=Level.DISTRICT, code=filters.district)
                           .values_list("id", flat=True))
        districts = wanted if districts is None else districts & wanted
    return _Kept(districts)


def map_cases(user: AnyUser, filters: CaseFilters, bbox: tuple[float, float, float, float],
              zoom: int, now: datetime | None = None) -> dict[str, Any]:
    """Cases in `bbox` for the live map: below MAX_CLUSTER_ZOOM, clusters of the cases in every
    cell that meets the box (they add up to `total`); from it on, single cases in the box."""
    if zoom < MAX_CLUSTER_ZOOM:
        box = cell_box(bbox, scale_for(zoom, CLUSTER_CELL_PX))
        qs = filtered_cases(user, filters, now)
        levels = _level_counts(qs, box)
        clusters = []
        for key, (n, lons, lats) in sorted(cell_counts(user, filters, qs, box, now).items()):
            lights = levels.get(key, {})
            clusters.append({"lon": round(lons / n, 6), "lat": round(lats / n, 6), "n": n,
                             **{level: lights.get(level, 0) for level in ("red", "yellow", "green")}})
        return {"mode": "clusters", "zoom": zoom, "cell": side(box.scale), "clusters": clusters,
                "total": sum(c["n"] for c in clusters)}
    boxed = in_bbox(filtered_cases(user, filters, now), bbox)
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


def heat_cells(user: AnyUser, filters: CaseFilters, bbox: tuple[float, float, float, float],
               zoom: int, now: datetime | None = None) -> dict[str, Any]:
    """Counts per small cell (HEAT_CELL_PX) that meets the box, each with its bounds. Cells
    are never finer than the finest kept scale (~270 m: 64 px at zoom 15), so that a heat map
    of a year at street zoom adds up kept counts too."""
    from citygrid.cases.map_cells import SCALES

    box = cell_box(bbox, min(scale_for(zoom, HEAT_CELL_PX), max(SCALES)))
    size = side(box.scale)
    cells = [
        {"bounds": [[cy * size, cx * size], [(cy + 1) * size, (cx + 1) * size]], "n": n}
        for (cx, cy), (n, _lons, _lats)
        in sorted(cell_counts(user, filters, filtered_cases(user, filters, now), box, now).items())
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
    """Everything the big screen shows. Each query starts from an index (today's events; the
    last 30 days' cases, the open ones and this month's closings; the newest events) and
    applies the user's scope to the rows it reaches: starting from the scope made every query
    read all the cases the user may see, a year of them (bench/load.py)."""
    from citygrid.cases.selectors import prefixed_q, visible_q

    now = now or timezone.now()
    today = _today_start(now)
    scope = _listed(visible_q(user))
    event_scope = prefixed_q(scope, "case__")
    groups = _figure_groups(user, scope, today - timedelta(days=SCREEN_DAYS - 1), _month_start(now))
    figures = {name: sum(g[name] for g in groups) for name in _STATE_FIGURES}
    return {
        "generated_at": now.isoformat(),
        "today": _today_counts(event_scope, today),
        **figures,
        "on_time_rate": _rate(figures["on_time_month"], figures["closed_month"]),
        "days": SCREEN_DAYS,
        "by_district": _by_district(groups),
        "by_class": _by_class(groups),
        "events": _latest_events(event_scope),
    }


# The big screen's "today" figures: cases with at least one such event since midnight.
_TODAY_OPERATIONS = {"reported": ("report",), "filed": ("file",),
                     "dispatched": ("dispatch", "redispatch"), "closed": ("close",)}
_STATE_FIGURES = ("open", "overdue", "warning", "closed_month", "on_time_month")
LISTED_AT_MOST = 1000  # longer subquery answers stay subqueries


def _listed(scope: Q) -> Q:
    """`scope` with each subquery (a user's departments, the cases copied to them) read once
    and written in as a list of values. The planner estimates `IN (list)` from its statistics
    but takes `IN (subquery)` inside an OR to match half the rows: for a department holding
    no case it walked every event of the year looking for the newest 20 (12 s, bench/load.py)."""
    children: list[Q | tuple[str, Any]] = []
    given: list[Any] = list(scope.children)
    for child in given:
        if isinstance(child, Q):
            children.append(_listed(child))
            continue
        lookup, value = child
        if isinstance(value, QuerySet) and len(value.query.values_select) == 1:
            values = list(value.order_by().values_list(*value.query.values_select, flat=True)
                          [:LISTED_AT_MOST + 1])
            if len(values) <= LISTED_AT_MOST:
                value = values
        children.append((lookup, value))
    return Q(*children, _connector=scope.connector, _negated=scope.negated)


def _today_counts(event_scope: Q, today: datetime) -> dict[str, int]:
    from citygrid.cases.models import CaseEvent

    operations = [op for ops in _TODAY_OPERATIONS.values() for op in ops]
    return CaseEvent.objects.filter(event_scope, at__gte=today, operation__in=operations).aggregate(
        **{name: Count("case", distinct=True, filter=Q(operation__in=ops))
           for name, ops in _TODAY_OPERATIONS.items()})


def _case_groups(scope: Q, since: datetime, month: datetime, *, counted_from: datetime | None = None,
                 until: datetime | None = None, with_open: bool = True) -> list[dict[str, Any]]:
    """Every case figure, per district and major class, from one pass over the cases created
    since `since`, the open ones and those closed since `month`: mostly the same cases (a case
    closes within days), each set found through its own index. `total` and `recent_open`
    count the cases created since `since`. Reports and closings are counted from
    `counted_from` and before `until` only when given (the kept day counts hold the rest);
    `with_open=False` leaves out the open-case figures."""
    from citygrid.cases.day_counts import closed_with_deadline, on_time
    from citygrid.cases.models import OPEN_STATES, Case

    # The open states named (not "not final"): the (state, …) indexes serve them.
    open_q = Q(state__in=OPEN_STATES)
    recent = Q(created_at__gte=max(since, counted_from) if counted_from else since)
    closed = closed_with_deadline() & Q(closed_at__gte=max(month, counted_from) if counted_from else month)
    if until is not None:
        recent &= Q(created_at__lt=until)
        closed &= Q(closed_at__lt=until)
    figures = {"total": Count("id", filter=recent), "closed_month": Count("id", filter=closed),
               "on_time_month": Count("id", filter=closed & on_time())}
    where = recent | closed
    if with_open:
        where |= open_q
        figures.update(
            recent_open=Count("id", filter=Q(created_at__gte=since) & open_q),
            open=Count("id", filter=open_q),
            overdue=Count("id", filter=open_q & Q(overdue_level="red")),
            warning=Count("id", filter=open_q & Q(overdue_level="yellow")))
    rows = (Case.objects.filter(scope).filter(where).order_by()
            .annotate(major=Substr("category__code", 1, 2)).values("district_id", "kind", "major")
            .annotate(**figures))
    return [{**_NO_FIGURES, **row} for row in rows]


_NO_FIGURES = {"total": 0, "recent_open": 0, "open": 0, "overdue": 0, "warning": 0,
               "closed_month": 0, "on_time_month": 0}


def _figure_groups(user: AnyUser, scope: Q, since: datetime, month: datetime) -> list[dict[str, Any]]:
    """`_case_groups` of the user's cases, the days before the watermark of the kept day
    counts taken from them (citygrid.cases.day_counts) when the user sees whole districts."""
    from citygrid.cases import day_counts
    from citygrid.cases.map_cells import midnight
    from citygrid.cases.selectors import NotWholeDistricts, whole_districts

    until = day_counts.watermark()
    try:
        districts = whole_districts(user)
    except NotWholeDistricts:
        until = None
    if until is None:
        return _case_groups(scope, since, month)
    cut = midnight(until)
    groups = _case_groups(scope, since, month, counted_from=cut)
    for row in day_counts.day_sums(since.date(), until, districts, "reported"):
        groups.append({**_NO_FIGURES, **row, "total": row["reported"]})
    for row in day_counts.day_sums(month.date(), until, districts, "closed"):
        groups.append({**_NO_FIGURES, **row, "closed_month": row["closed"],
                       "on_time_month": row["closed_on_time"]})
    if districts is not None:
        # Beyond whole districts a user sees the cases they reported (whole_districts).
        elsewhere = scope & Q(reporter_id=user.pk) & ~Q(district_id__in=sorted(districts))
        groups += _case_groups(elsewhere, since, month, until=cut, with_open=False)
    return groups


def _by_district(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    recent = [g for g in groups if g["total"] or g["recent_open"]]
    areas = {pk: (code, name) for pk, code, name in
             Area.objects.filter(id__in={g["district_id"] for g in recent}).values_list("id", "code", "name")}
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for g in recent:
        code, name = areas[g["district_id"]]
        row = rows.setdefault((code, name), {"code": code, "name": name, "total": 0, "open": 0})
        row["total"] += g["total"]
        row["open"] += g["recent_open"]
    return [rows[key] for key in sorted(rows) if rows[key]["total"]]


def _by_class(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    totals: dict[tuple[str, str], int] = {}
    for g in groups:
        if g["total"]:
            totals[(g["kind"], g["major"])] = totals.get((g["kind"], g["major"]), 0) + g["total"]
    names = _major_names(set(totals))
    return [{"kind": kind, "code": code, "name": names.get((kind, code), code), "total": total}
            for (kind, code), total in sorted(totals.items(), key=lambda item: (-item[1], item[0]))]


def _latest_events(event_scope: Q) -> list[dict[str, Any]]:
    from citygrid.cases.models import CaseEvent

    rows = (CaseEvent.objects.filter(event_scope).order_by("-at", "-id")
            .values("operation", "case__number", "case__district__name", "at", "to_state")[:20])
    return [{"operation": e["operation"], "number": e["case__number"], "district": e["case__district__name"],
             "at": e["at"].isoformat(), "to_state": e["to_state"]} for e in rows]


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
