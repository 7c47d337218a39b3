"""Routing a report to its handling department (M-06, M-17, M-19): the rule tester's engine,
and later the automatic dispatch of the flat process (M-15).

`route()` reads the class, geocodes the point, loads the candidate rules, lets the pure
`domain.routing.match` decide, then adds the limits: the class's handling time limit and its
deadline on the handling department's working calendar, and the file and dispatch step limits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q
from django.utils import timezone

from citygrid.core.errors import NotFound, ValidationFailed
from citygrid.core.memo import in_batch, remembered
from citygrid.org.domain.routing import (
    AreaScope,
    CaseContext,
    Match,
    MatchStatus,
    Outcome,
    Process,
    RuleConflict,
    RuleRecord,
    Source,
    Specificity,
    TimeWindow,
    find_conflicts,
    match,
)
from citygrid.org.models import Department, ResponsibilityRule
from citygrid.org.selectors import collaboration_platform
from citygrid.space.models import Area

KINDS = ("component", "event")
URGENCIES = ("ordinary", "urgent", "emergency")
STEPS_SHOWN = ("file", "dispatch")

# Hook for the component inventory (M-07, a later issue): given a component id, return the
# department that owns or maintains it, or None. Rules with `use_component_owner` defer to it,
# and with no matching rule it is used before the collaboration platform.
ComponentOwnerLookup = Callable[[str], Department | None]
_component_owner_lookups: list[ComponentOwnerLookup] = []


def register_component_owner_lookup(lookup: ComponentOwnerLookup) -> None:
    if lookup not in _component_owner_lookups:
        _component_owner_lookups.append(lookup)


def _component_owner(component_id: str | None) -> Department | None:
    if not component_id:
        return None
    for lookup in _component_owner_lookups:
        found = lookup(component_id)
        if found is not None:
            return found
    return None


class ShapelyRegion:
    """A drawn polygon, prepared for fast point tests."""

    def __init__(self, geojson: str) -> None:
        from shapely import prepare
        from shapely.geometry import shape

        data = json.loads(geojson)
        self.geometry = shape(data.get("geometry", data))
        prepare(self.geometry)

    def covers_point(self, lon: float, lat: float) -> bool:
        from shapely.geometry import Point

        return bool(self.geometry.covers(Point(lon, lat)))


def rule_record(rule: ResponsibilityRule) -> RuleRecord:
    """The pure record of a rule (category, area, department, copies and grids loaded)."""
    scope = AreaScope(
        area_code=rule.area.code if rule.area_id else None,
        area_level=rule.area.level if rule.area_id else None,
        grid_codes=frozenset(g.code for g in rule.grids.all()),
        region=ShapelyRegion(rule.polygon) if rule.polygon.strip() else None,
    )
    window = TimeWindow(
        weekdays=frozenset(int(c) for c in rule.weekdays),
        start=rule.time_from, end=rule.time_to, date_from=rule.date_from, date_to=rule.date_to,
    )
    outcome = Outcome(
        department=rule.department.code, department_level=rule.department.level,
        copies=tuple(sorted(d.code for d in rule.copies.all())), process=Process(rule.process),
        use_component_owner=rule.use_component_owner,
    )
    category = rule.category if rule.category_id else None
    return RuleRecord(
        rule_id=rule.pk, outcome=outcome, kind=rule.kind or None,
        category_code=category.code if category else None,
        category_level=category.level if category else None,
        scope=scope, window=window, source=rule.source or None, priority=rule.priority,
        label=rule.code,
    )


def _rules_queryset() -> Any:
    from citygrid.space.models import UnitGrid

    # rule_record reads the codes of the grids and copies only (not the grids' polygons)
    return ResponsibilityRule.objects.filter(active=True).select_related(
        "category", "area", "department"
    ).prefetch_related(Prefetch("grids", queryset=UnitGrid.objects.only("id", "code")),
                       Prefetch("copies", queryset=Department.objects.only("id", "code")))


def _standard_filter(standard: Any) -> Q:
    return Q(category__isnull=True) | Q(category__standard=standard)


@dataclass
class RouteAnswer:
    status: MatchStatus
    kind: str
    category: Any  # catalog.Category
    category_chain: list[Any]
    location: Any  # space.geocoding.Location
    at: datetime
    source: str | None
    urgency: str
    department: Department
    copies: list[Department]
    process: str
    rule: ResponsibilityRule | None
    specificity: Specificity | None
    reasons: list[str]
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    conflicting: list[str] = field(default_factory=list)
    handling_limit: Any = None  # Duration | None
    deadline: Any = None  # calendars Deadline | None
    calendar_name: str = ""
    step_limits: dict[str, Any] = field(default_factory=dict)

    @property
    def level(self) -> str:
        return self.department.level

    def as_dict(self) -> dict[str, Any]:
        loc = self.location

        def ref(a: Any) -> dict[str, str] | None:
            return {"code": a.code, "name": a.name} if a is not None else None

        deadline = self.deadline
        return {
            "status": self.status.value,
            "class": {"kind": self.kind, "code": self.category.code, "name": self.category.name,
                      "level": self.category.level,
                      "chain": [c.code for c in self.category_chain]},
            "location": {"grid": getattr(loc, "grid_code", None), "community": ref(loc.community),
                         "street": ref(loc.street), "district": ref(loc.district), "city": ref(loc.city)},
            "at": timezone.localtime(self.at).isoformat(),
            "source": self.source,
            "urgency": self.urgency,
            "department": {"code": self.department.code, "name": self.department.name,
                           "level": self.department.level, "kind": self.department.kind},
            "level": self.level,
            "copies": [{"code": d.code, "name": d.name} for d in self.copies],
            "process": self.process,
            "rule": ({"id": self.rule.pk, "code": self.rule.code, "note": self.rule.note}
                     if self.rule else None),
            "specificity": (
                {"category": int(self.specificity.category), "area": int(self.specificity.area),
                 "time": self.specificity.time, "source": self.specificity.source,
                 "tuple": str(self.specificity)} if self.specificity else None),
            "reasons": self.reasons,
            "alternatives": self.alternatives,
            "conflicting_rules": self.conflicting,
            "handling_limit": str(self.handling_limit) if self.handling_limit else None,
            "deadline": deadline.at.isoformat() if deadline else None,
            "provisional": bool(deadline and deadline.provisional),
            "provisional_years": list(getattr(deadline, "provisional_years", ()) or ()),
            "deadline_explanation": _explanation(deadline),
            "calendar": self.calendar_name,
            "step_limits": {k: (str(v) if v else None) for k, v in self.step_limits.items()},
        }

    def text(self) -> str:
        d = self.as_dict()
        lines = [
            f"Class:      {d['class']['kind']} {d['class']['code']} {d['class']['name']} ({d['class']['level']})",
            f"Place:      grid {d['location']['grid']}, "
            + ", ".join(f"{v['name']} {v['code']}" for k in ("community", "street", "district")
                        if (v := d["location"][k])),
            f"At:         {d['at']}  source: {d['source'] or '-'}  urgency: {d['urgency']}",
            f"Status:     {d['status']}",
            f"Handles:    {self.department.name} ({self.department.code}), {self.level} level",
            f"Copies:     {', '.join(c.name for c in self.copies) or '-'}",
            f"Process:    {self.process}",
            f"Rule:       {self.rule.code if self.rule else '-'}"
            + (f"  specificity {self.specificity}" if self.specificity else ""),
        ]
        lines += [f"  why:      {r}" for r in self.reasons]
        lines += [f"  not:      {a['rule']} {a['specificity']}: {a['why_not']}" for a in self.alternatives]
        if self.conflicting:
            lines.append(f"CONFLICT:   {', '.join(self.conflicting)}")
        lines.append(f"Limit:      {d['handling_limit'] or 'none set for this class'}")
        if d["deadline"]:
            flag = f"  PROVISIONAL ({', '.join(map(str, d['provisional_years']))} not confirmed)" if d["provisional"] else ""
            lines.append(f"Deadline:   {d['deadline']} on calendar {self.calendar_name}{flag}")
        for step, limit in d["step_limits"].items():
            lines.append(f"Step {step + ':':9s} {limit or '-'}")
        return "\n".join(lines)


def _explanation(deadline: Any) -> Any:
    if deadline is None:
        return None
    expl = getattr(deadline, "explanation", None)
    if expl is None or isinstance(expl, str):
        return expl
    if isinstance(expl, list | tuple):
        return [str(e) for e in expl]
    return str(expl)


def _validate(kind: str, urgency: str, source: str | None, lon: float, lat: float) -> None:
    problems = []
    if kind not in KINDS:
        problems.append(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if urgency not in URGENCIES:
        problems.append(f"urgency must be one of {', '.join(URGENCIES)}, not {urgency!r}")
    if source is not None and source not in Source._value2member_map_:
        problems.append(f"unknown source {source!r}; sources: {', '.join(s.value for s in Source)}")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        problems.append(f"lon/lat out of range: {lon}, {lat}")
    if problems:
        raise ValidationFailed("; ".join(problems), code="invalid_route_request", details=problems)


def _category_chain(category: Any) -> list[Any]:
    chain = []
    node = category
    while node is not None:
        chain.append(node)
        node = node.parent
    return list(reversed(chain))


def route(
    category_code: str, kind: str, lon: float, lat: float, at: datetime | None = None,
    source: str | None = None, urgency: str = "ordinary", standard: Any = None,
    component_id: str | None = None, *, location: Any = None, with_limits: bool = True,
    areas: Mapping[str, Area] | None = None,
) -> RouteAnswer:
    """Who handles a report of this class at this point and time, by when, and why.

    `location`: the point's `space.geocoding.Location` when the caller has it already;
    `areas`: Area rows by code the caller has loaded (the point's areas up to the city).
    `with_limits=False` leaves out the handling limit, its deadline and the step limits
    (`handling_limit`, `deadline` None, `step_limits` empty): case intake computes its own."""
    from citygrid.catalog.selectors import (
        active_standard,
        category_by_code,
        handling_limit,
        step_limit,
    )
    from citygrid.space.geocoding import locate

    _validate(kind, urgency, source, lon, lat)
    at = at or timezone.now()
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    location = location or locate(lon, lat)
    areas = areas or {}
    city = None
    if location.city:
        city = areas.get(location.city.code) or Area.objects.filter(code=location.city.code).first()
    standard = standard or active_standard(city)
    if standard is None:
        raise NotFound("No active classification standard.", code="no_active_standard")
    category = category_by_code(standard, kind, category_code)
    chain = _category_chain(category)

    area_codes = [a.code for a in (location.city, location.district, location.street, location.community) if a]
    if all(code in areas for code in area_codes):
        area_ids = [areas[code].pk for code in area_codes]
    else:
        area_ids = list(Area.objects.filter(code__in=area_codes).values_list("id", flat=True))
    if in_batch():  # a batch: the class's rules of every area once, then this point's
        every = remembered(("route.rules", standard.pk, kind, tuple(c.pk for c in chain)),
                           lambda: _candidate_rules(standard, kind, chain, None))
        here = [r for r in every if r.area_id is None or r.area_id in area_ids]
    else:
        here = _candidate_rules(standard, kind, chain, area_ids)
    records = [remembered(("rule_record", r.pk), lambda r=r: rule_record(r)) for r in here]
    by_id = {r.pk: r for r in here}
    owner = _component_owner(component_id)
    ctx = CaseContext(
        kind=kind, category_chain=tuple(c.code for c in chain), area_codes=tuple(area_codes),
        grid_code=location.grid_code, lon=lon, lat=lat, at=timezone.localtime(at), source=source,
        component_owner=(Outcome(owner.code, owner.level) if owner else None),
    )
    result: Match = match(records, ctx)
    department, copies, process = _resolve(result)

    limit, deadline, calendar_name, step_limits = None, None, "", {}
    if with_limits:
        limit = handling_limit(category, urgency)
        deadline, calendar_name = _deadline(department, at, limit)
        step_limits = {step: step_limit(standard, step, urgency) for step in STEPS_SHOWN}
    return RouteAnswer(
        status=result.status, kind=kind, category=category, category_chain=chain,
        location=location, at=at, source=source, urgency=urgency, department=department,
        copies=copies, process=process,
        rule=by_id.get(result.rule.rule_id) if result.rule else None,
        specificity=result.specificity, reasons=list(result.reasons),
        alternatives=[{"rule": c.rule.name, "specificity": str(c.specificity), "why_not": c.why_not}
                      for c in result.alternatives],
        conflicting=[r.name for r in result.conflicting],
        handling_limit=limit, deadline=deadline, calendar_name=calendar_name,
        step_limits=step_limits,
    )


def _candidate_rules(standard: Any, kind: str, chain: list[Any],
                     area_ids: list[int] | None) -> list[ResponsibilityRule]:
    """The active rules that may apply to a report of this class (in these areas; None: in
    any area)."""
    candidates = _rules_queryset().filter(_standard_filter(standard)).filter(
        Q(kind="") | Q(kind=kind)
    ).filter(Q(category__isnull=True) | Q(category_id__in=[c.pk for c in chain]))
    if area_ids is not None:
        candidates = candidates.filter(Q(area__isnull=True) | Q(area_id__in=area_ids))
    return list(candidates)


def _resolve(result: Match) -> tuple[Department, list[Department], str]:
    if result.outcome is None:
        platform = remembered("collaboration_platform", collaboration_platform)
        return platform, [], Process.STANDARD.value
    codes = [result.outcome.department, *result.outcome.copies]
    found = remembered(("departments", tuple(codes)), lambda: {
        d.code: d for d in Department.objects.filter(code__in=codes).select_related("calendar")})
    department = found[result.outcome.department]
    copies = [found[c] for c in result.outcome.copies if c in found]
    return department, copies, result.outcome.process.value


def _deadline(department: Department, at: datetime, limit: Any) -> tuple[Any, str]:
    from citygrid.calendars import services as calendars

    calendar = department.calendar if department.calendar_id else None
    name = calendar.name if calendar else calendars.default_calendar().name
    if limit is None:
        return None, name
    return calendars.compute_deadline(calendar, at, limit), name


# --- Whole-configuration check ---------------------------------------------------------------

def rule_conflicts(standard: Any = None) -> list[RuleConflict]:
    """Pairs of active rules that can match one report with equal specificity and priority
    but different outcomes (configuration errors to fix)."""
    from citygrid.catalog.selectors import active_standard

    standard = standard or active_standard()
    qs = _rules_queryset()
    if standard is not None:
        qs = qs.filter(_standard_filter(standard))
    records = [rule_record(r) for r in qs]
    conflicts = find_conflicts(records)
    return [c for c in conflicts if _regions_really_overlap(c)]


def _regions_really_overlap(conflict: RuleConflict) -> bool:
    a, b = conflict.first.scope.region, conflict.second.scope.region
    if isinstance(a, ShapelyRegion) and isinstance(b, ShapelyRegion):
        return bool(a.geometry.intersects(b.geometry))
    return True
