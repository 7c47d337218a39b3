"""Responsibility decomposition (处置责任分解, M-06, M-17): which rule decides who handles a case.

Pure and typed: the service layer turns database rows into `RuleRecord`s and a report into a
`CaseContext`; this module decides. See docs/routing.md for the rules in prose.

Specificity of a rule is the tuple (category, area, time, source), compared left to right:

- category: FINE 4 > MINOR 3 > MAJOR 2 > KIND (any class of one kind) 1 > ANY 0
- area:     SHAPE (grid set or polygon) 5 > COMMUNITY 4 > STREET 3 > DISTRICT 2 > CITY 1 > ANYWHERE 0
- time:     number of time constraints the rule has: date range and/or weekly window (0..2)
- source:   1 if the rule names a report source, else 0

Among the matching rules with the highest specificity, an explicit `priority` (higher wins)
breaks ties; a rule with a priority beats one without. If the rules left after that disagree
on the outcome, the configuration is in conflict: no rule is chosen silently, the case goes to
the collaboration platform (M-19) and the conflict is reported. No matching rule at all: the
component's owner or maintainer if the inventory knows one, else the collaboration platform.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import IntEnum, StrEnum
from typing import Protocol


class CategoryDepth(IntEnum):
    ANY = 0
    KIND = 1
    MAJOR = 2
    MINOR = 3
    FINE = 4


class AreaPrecision(IntEnum):
    ANYWHERE = 0
    CITY = 1
    DISTRICT = 2
    STREET = 3
    COMMUNITY = 4
    SHAPE = 5  # a set of unit grids or a drawn polygon


class Process(StrEnum):
    STANDARD = "standard"
    FLAT = "flat"
    MANHOLE_COVER_EMERGENCY = "manhole_cover_emergency"
    SANITATION_PATROL = "sanitation_patrol"
    EMERGENCY = "emergency"


class Source(StrEnum):
    """Where a report comes from (M-08 … M-12)."""

    CITY_INSPECTOR = "city_inspector"
    DISTRICT_INSPECTOR = "district_inspector"
    PUBLIC = "public"
    HOTLINE = "hotline"
    VIDEO_PATROL = "video_patrol"
    STREET_STAFF = "street_staff"
    LEADER = "leader"
    MEDIA = "media"


class MatchStatus(StrEnum):
    MATCHED = "matched"
    CONFLICT = "conflict"
    COMPONENT_OWNER = "component_owner"
    NO_RULE = "no_rule"


_LEVEL_DEPTH = {"major": CategoryDepth.MAJOR, "minor": CategoryDepth.MINOR, "fine": CategoryDepth.FINE}
_AREA_LEVEL_PRECISION = {
    "city": AreaPrecision.CITY,
    "district": AreaPrecision.DISTRICT,
    "street": AreaPrecision.STREET,
    "community": AreaPrecision.COMMUNITY,
}


class RoutingError(ValueError):
    """A rule record or context that cannot be evaluated; the message says why."""


class Region(Protocol):
    """A drawn polygon, as the service layer builds it (e.g. a prepared shapely geometry)."""

    def covers_point(self, lon: float, lat: float) -> bool: ...


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Weekdays (ISO 1=Monday … 7=Sunday) and a time of day, and/or an inclusive date range.

    `start == end` means the whole day; `end < start` runs past midnight, and the part after
    midnight belongs to the day the window started on."""

    weekdays: frozenset[int] = frozenset()
    start: time | None = None
    end: time | None = None
    date_from: date | None = None
    date_to: date | None = None

    def __post_init__(self) -> None:
        if any(d < 1 or d > 7 for d in self.weekdays):
            raise RoutingError(f"weekdays are 1 (Monday) to 7 (Sunday), got {sorted(self.weekdays)}")
        if (self.start is None) != (self.end is None):
            raise RoutingError("a time of day needs both a start and an end")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise RoutingError(f"date range ends ({self.date_to}) before it starts ({self.date_from})")

    @property
    def has_weekly(self) -> bool:
        return bool(self.weekdays) or self.start is not None

    @property
    def has_dates(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    @property
    def constraints(self) -> int:
        return int(self.has_weekly) + int(self.has_dates)

    def contains(self, at: datetime) -> bool:
        """`at` is local wall-clock time in the city's time zone."""
        day = at.date()
        if self.date_from is not None and day < self.date_from:
            return False
        if self.date_to is not None and day > self.date_to:
            return False
        return self._weekly_contains(at) if self.has_weekly else True

    def _weekly_contains(self, at: datetime) -> bool:
        days = self.weekdays or frozenset(range(1, 8))
        if self.start is None or self.end is None or self.start == self.end:
            return at.isoweekday() in days
        now = at.time()
        if self.start < self.end:
            return at.isoweekday() in days and self.start <= now < self.end
        if now >= self.start:
            return at.isoweekday() in days
        yesterday = (at - timedelta(days=1)).isoweekday()
        return now < self.end and yesterday in days

    def describe(self) -> str:
        parts: list[str] = []
        if self.weekdays:
            parts.append("weekdays " + ",".join(str(d) for d in sorted(self.weekdays)))
        if self.start is not None and self.end is not None:
            parts.append(f"{self.start:%H:%M}-{self.end:%H:%M}")
        if self.has_dates:
            parts.append(f"dates {self.date_from or '…'} to {self.date_to or '…'}")
        return " ".join(parts) or "any time"


@dataclass(frozen=True, slots=True)
class AreaScope:
    """Exactly one of: nothing (anywhere), an area (with its level), grid codes, a region."""

    area_code: str | None = None
    area_level: str | None = None
    grid_codes: frozenset[str] = frozenset()
    region: Region | None = None

    def __post_init__(self) -> None:
        given = sum([self.area_code is not None, bool(self.grid_codes), self.region is not None])
        if given > 1:
            raise RoutingError("an area scope is one area, one set of grids or one polygon, not several")
        if self.area_code is not None and self.area_level not in _AREA_LEVEL_PRECISION:
            raise RoutingError(f"unknown area level {self.area_level!r}")

    @property
    def precision(self) -> AreaPrecision:
        if self.region is not None:
            return AreaPrecision.SHAPE
        if self.grid_codes:
            return AreaPrecision.SHAPE
        if self.area_code is not None and self.area_level is not None:
            return _AREA_LEVEL_PRECISION[self.area_level]
        return AreaPrecision.ANYWHERE

    def describe(self) -> str:
        if self.region is not None:
            return "drawn polygon"
        if self.grid_codes:
            shown = ", ".join(sorted(self.grid_codes)[:3])
            more = f" and {len(self.grid_codes) - 3} more" if len(self.grid_codes) > 3 else ""
            return f"grids {shown}{more}"
        if self.area_code is not None:
            return f"{self.area_level} {self.area_code}"
        return "anywhere"


@dataclass(frozen=True, slots=True)
class Outcome:
    """Who handles, who is copied (抄告) and which process the case follows."""

    department: str
    department_level: str
    copies: tuple[str, ...] = ()
    process: Process = Process.STANDARD
    use_component_owner: bool = False

    def key(self) -> tuple[str, tuple[str, ...], Process, bool]:
        return (self.department, tuple(sorted(self.copies)), self.process, self.use_component_owner)


@dataclass(frozen=True, slots=True)
class RuleRecord:
    rule_id: int
    outcome: Outcome
    kind: str | None = None  # component | event | None (any kind)
    category_code: str | None = None
    category_level: str | None = None  # major | minor | fine
    scope: AreaScope = AreaScope()
    window: TimeWindow = TimeWindow()
    source: str | None = None
    priority: int | None = None
    label: str = ""

    def __post_init__(self) -> None:
        if self.category_code is not None:
            if self.kind is None:
                raise RoutingError(f"rule {self.rule_id}: a class needs its kind (component or event)")
            if self.category_level not in _LEVEL_DEPTH:
                raise RoutingError(f"rule {self.rule_id}: unknown class level {self.category_level!r}")

    @property
    def category_depth(self) -> CategoryDepth:
        if self.category_code is not None and self.category_level is not None:
            return _LEVEL_DEPTH[self.category_level]
        return CategoryDepth.KIND if self.kind is not None else CategoryDepth.ANY

    @property
    def specificity(self) -> Specificity:
        return Specificity(
            self.category_depth, self.scope.precision, self.window.constraints, int(self.source is not None)
        )

    @property
    def name(self) -> str:
        return self.label or f"rule {self.rule_id}"


@dataclass(frozen=True, slots=True, order=True)
class Specificity:
    category: CategoryDepth
    area: AreaPrecision
    time: int
    source: int

    def reasons(self) -> list[str]:
        return [
            f"class: {self.category.name.lower()} ({int(self.category)})",
            f"area: {self.area.name.lower()} ({int(self.area)})",
            f"time constraints: {self.time}",
            f"source: {'named' if self.source else 'any'} ({self.source})",
        ]

    def __str__(self) -> str:
        return f"({int(self.category)}, {int(self.area)}, {self.time}, {self.source})"


@dataclass(frozen=True, slots=True)
class CaseContext:
    """What is known about a report when it is routed.

    `category_chain` holds the class codes from major to the reported class (a reported minor
    class 0101 of major 01 gives ("01", "0101")); `area_codes` the areas containing the point,
    from city down to community; `at` is local wall-clock time."""

    kind: str
    category_chain: tuple[str, ...]
    area_codes: tuple[str, ...]
    grid_code: str | None
    lon: float
    lat: float
    at: datetime
    source: str | None = None
    component_owner: Outcome | None = None  # hook: the inventory's owner/maintainer (M-07)


@dataclass(frozen=True, slots=True)
class Candidate:
    rule: RuleRecord
    specificity: Specificity
    why_not: str = ""  # empty for the winner


@dataclass(frozen=True, slots=True)
class Match:
    status: MatchStatus
    outcome: Outcome | None  # None: send to the collaboration platform
    rule: RuleRecord | None
    specificity: Specificity | None
    reasons: tuple[str, ...]
    alternatives: tuple[Candidate, ...] = ()
    conflicting: tuple[RuleRecord, ...] = ()


def rule_matches(rule: RuleRecord, ctx: CaseContext) -> str | None:
    """None if the rule applies to the context, else the first reason it does not."""
    if rule.kind is not None and rule.kind != ctx.kind:
        return f"kind {rule.kind} ≠ {ctx.kind}"
    if rule.category_code is not None and rule.category_code not in ctx.category_chain:
        return f"class {rule.category_code} does not contain {ctx.category_chain[-1] if ctx.category_chain else '?'}"
    scope = rule.scope
    if scope.region is not None and not scope.region.covers_point(ctx.lon, ctx.lat):
        return "point outside the drawn polygon"
    if scope.grid_codes and ctx.grid_code not in scope.grid_codes:
        return f"grid {ctx.grid_code} not in the rule's grids"
    if scope.area_code is not None and scope.area_code not in ctx.area_codes:
        return f"point not in {scope.area_level} {scope.area_code}"
    if not rule.window.contains(ctx.at):
        return f"time {ctx.at:%Y-%m-%d %H:%M} (weekday {ctx.at.isoweekday()}) outside {rule.window.describe()}"
    if rule.source is not None and rule.source != ctx.source:
        return f"source {ctx.source or 'unknown'} ≠ {rule.source}"
    return None


def _tiebreak(rule: RuleRecord) -> tuple[int, int]:
    return (0, 0) if rule.priority is None else (1, rule.priority)


def match(rules: Iterable[RuleRecord], ctx: CaseContext) -> Match:
    """Choose the rule for `ctx`; see the module docstring for the order."""
    applicable: list[RuleRecord] = []
    for rule in rules:
        if rule_matches(rule, ctx) is None:
            applicable.append(rule)
    if not applicable:
        if ctx.component_owner is not None:
            return Match(
                MatchStatus.COMPONENT_OWNER, ctx.component_owner, None, None,
                ("no rule matches; the component inventory names its owner/maintainer",),
            )
        return Match(
            MatchStatus.NO_RULE, None, None, None,
            ("no rule matches this class, place, time and source: collaboration platform (M-19)",),
        )
    applicable.sort(key=lambda r: (r.specificity, _tiebreak(r), -r.rule_id), reverse=True)
    best = applicable[0]
    top = [r for r in applicable if r.specificity == best.specificity and _tiebreak(r) == _tiebreak(best)]
    outcomes = {r.outcome.key() for r in top}
    alternatives = tuple(
        Candidate(r, r.specificity, _why_lost(r, best)) for r in applicable[1:] if r not in top or len(outcomes) == 1
    )
    if len(outcomes) > 1:
        names = ", ".join(r.name for r in top)
        return Match(
            MatchStatus.CONFLICT, None, None, best.specificity,
            (f"configuration error: {names} match equally specifically {best.specificity} "
             "with different outcomes; the case goes to the collaboration platform (M-19)",),
            alternatives, tuple(top),
        )
    outcome = best.outcome
    if outcome.use_component_owner and ctx.component_owner is not None:
        outcome = ctx.component_owner
    reasons = [f"{best.name} matches: {_describe(best)}", f"specificity {best.specificity}: "
               + "; ".join(best.specificity.reasons())]
    if len(top) > 1:
        reasons.append(f"{len(top) - 1} other equally specific rule(s) give the same outcome")
    if best.priority is not None:
        reasons.append(f"priority {best.priority}")
    if outcome is not best.outcome:
        reasons.append("the rule defers to the component's owner/maintainer from the inventory")
    return Match(MatchStatus.MATCHED, outcome, best, best.specificity, tuple(reasons), alternatives)


def _why_lost(rule: RuleRecord, best: RuleRecord) -> str:
    if rule.specificity == best.specificity:
        if _tiebreak(rule) != _tiebreak(best):
            return f"equally specific, lower priority ({rule.priority} < {best.priority})"
        return "equally specific, same outcome"
    for part in ("category", "area", "time", "source"):
        mine, theirs = getattr(rule.specificity, part), getattr(best.specificity, part)
        if mine != theirs:
            return f"less specific {part} ({int(mine)} < {int(theirs)})"
    return "less specific"  # pragma: no cover - unreachable: specificities differ somewhere


def _describe(rule: RuleRecord) -> str:
    cls = (f"{rule.kind} class {rule.category_code} ({rule.category_level})" if rule.category_code
           else f"any {rule.kind} class" if rule.kind else "any class")
    parts = [cls, rule.scope.describe(), rule.window.describe()]
    parts.append(f"source {rule.source}" if rule.source else "any source")
    return ", ".join(parts)


# --- Whole-configuration check --------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RuleConflict:
    first: RuleRecord
    second: RuleRecord
    specificity: Specificity

    def describe(self) -> str:
        return (f"{self.first.name} and {self.second.name} can match the same report with equal "
                f"specificity {self.specificity} and priority, but send it to different "
                f"places ({self.first.outcome.department} / {self.second.outcome.department})")


def _categories_overlap(a: RuleRecord, b: RuleRecord) -> bool:
    if a.kind is not None and b.kind is not None and a.kind != b.kind:
        return False
    # Equal specificity means equal class depth, so two classes overlap only if they are equal.
    return a.category_code is None or b.category_code is None or a.category_code == b.category_code


def _areas_overlap(a: AreaScope, b: AreaScope) -> bool:
    """For scopes of equal precision: areas of one level overlap only if they are the same
    area; grid sets if they share a grid; a polygon is assumed to overlap (conservative)."""
    if a.region is not None or b.region is not None:
        return True
    if a.grid_codes or b.grid_codes:
        return not (a.grid_codes and b.grid_codes) or bool(a.grid_codes & b.grid_codes)
    return a.area_code == b.area_code


def _windows_overlap(a: TimeWindow, b: TimeWindow) -> bool:
    lo = max(a.date_from or date.min, b.date_from or date.min)
    hi = min(a.date_to or date.max, b.date_to or date.max)
    if lo > hi:
        return False
    if not (a.has_weekly and b.has_weekly):
        return True
    return _minutes(a) & _minutes(b) != 0


def _minutes(w: TimeWindow) -> int:
    """The window as a bitmask over the 7×24 hours of a week (hour resolution, conservative)."""
    days = w.weekdays or frozenset(range(1, 8))
    mask = 0
    for day in days:
        if w.start is None or w.end is None or w.start == w.end:
            hours: Sequence[int] = range(24)
        elif w.start < w.end:
            end_hour = w.end.hour + (1 if w.end.minute or w.end.second else 0)
            hours = range(w.start.hour, end_hour)
        else:
            end_hour = w.end.hour + (1 if w.end.minute or w.end.second else 0)
            hours = list(range(w.start.hour, 24)) + [24 + h for h in range(end_hour)]
        for hour in hours:
            mask |= 1 << (((day - 1) * 24 + hour) % (7 * 24))
    return mask


def find_conflicts(rules: Sequence[RuleRecord]) -> list[RuleConflict]:
    """Pairs of rules that can match one report at the same specificity and priority but
    disagree on the outcome. Polygons are assumed to overlap anything they share a level with
    (conservative); weekly windows are compared at hour resolution (conservative too)."""
    conflicts: list[RuleConflict] = []
    groups: dict[tuple[Specificity, tuple[int, int]], list[RuleRecord]] = {}
    for rule in rules:
        groups.setdefault((rule.specificity, _tiebreak(rule)), []).append(rule)
    for (spec, _), group in groups.items():
        group.sort(key=lambda r: r.rule_id)
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if a.outcome.key() == b.outcome.key():
                    continue
                if a.source != b.source:
                    continue
                if not _categories_overlap(a, b):
                    continue
                if not _areas_overlap(a.scope, b.scope):
                    continue
                if not _windows_overlap(a.window, b.window):
                    continue
                conflicts.append(RuleConflict(a, b, spec))
    return conflicts
