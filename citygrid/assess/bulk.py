"""Bulk path of the case-flow simulator: millions of case histories for benchmarks.

It writes what the actions would have written for the simulator's own scripts and delays
(`simulate._script`, `simulate._delay`), without running them: the processes' states in order
(from the process definitions), the actors of each step's role (the demo organisation), case
numbers from the district-day counters, every step's limit from the city standard and its
deadline on the step's working calendar (`domain.timeline`, equal to the calendar engine),
each event's `step_due_at`, handling limits, extensions, pauses, counters, the traffic light,
and the events' hash chain (`citygrid verify_history` accepts them). Not written: photos,
copies, the responsibility rule's code. tests/assess/test_bulk.py compares the rows with the
actions' rows field by field.

PostgreSQL: COPY (psycopg `cursor.copy`, text format built here), with the case tables'
secondary indexes and foreign keys dropped during the load and rebuilt after it (`indexes`).
SQLite: bulk_create. Seeded: the same seed on the same demo data writes the same rows.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import random
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from citygrid.assess.domain.timeline import Part, Pause, Timeline, deadline, due, instant, micros
from citygrid.assess.simulate import _delay, _script
from citygrid.calendars.domain.durations import Duration, parse_duration
from citygrid.calendars.services import (
    _depends_on_official_schedule,
    default_calendar,
    find_calendar,
    unconfirmed_years,
    work_calendar,
)
from citygrid.cases.domain.history import GENESIS
from citygrid.cases.domain.processes import CENTRE_STEPS, FINALS, Step, check_transition
from citygrid.cases.models import Case, CaseCounter, CaseEvent, CasePause
from citygrid.org.models import Department, DepartmentKind, Person, RoleAssignment
from citygrid.space.models import UnitGrid

US = 1_000_000
HANDLING_STATES = ("dispatched", "handling", "postponement_requested")
ADDRESSES = ["东大街{}号", "人民南路{}号附近", "春熙路{}号", "红星路{}段", "蜀都大道{}号旁"]
DESCRIPTIONS = ["现场发现问题，请及时处置", "市民反映多次，影响通行", "夜间巡查发现",
                "问题较为严重，需尽快处理", "例行巡查发现"]
REASONS = {"return": "不属本单位职责", "suspend": "需协调资金，暂时挂账", "void": "误报作废",
           "check_fail": "现场核查未处理到位，返工", "request_postponement": "需要更换设施，申请延期"}
EXTENSION = "2 working days"
ROLE_OF = {"verify": "district_inspector", "file": "intake_operator", "dispatch": "dispatcher",
           "approve_postponement": "dispatcher", "suspend": "shift_leader",
           "resume": "shift_leader", "close": "shift_leader", "void": "shift_leader",
           "check_pass": "district_inspector", "check_fail": "district_inspector"}
CASE_COLUMNS = ["id", "number", "process", "state", "source", "kind", "category_id", "urgency",
                "lon", "lat", "address", "grid_id", "community_id", "street_id", "district_id",
                "component_id", "description", "reporter_id", "reporter_role",
                "holder_department_id", "holder_person_id", "routed_department_id", "version",
                "step", "step_started_at", "step_limit", "step_extensions", "step_deadline",
                "step_warn_at", "overall_started_at", "overall_limit", "overall_extensions",
                "overall_deadline", "overall_warn_at", "deadline_provisional", "overdue_level",
                "postponed", "pending_extension", "suspended", "rework_count", "return_count",
                "urge_count", "supervision_level", "needs_collaboration", "collaboration_reason",
                "duplicate_of_id", "idempotency_key", "history_head", "created_at", "updated_at",
                "closed_at"]
EVENT_COLUMNS = ["case_id", "seq", "operation", "actor_id", "actor_name", "role", "at",
                 "from_state", "to_state", "inputs", "step_due_at", "prev_hash", "hash"]
PAUSE_COLUMNS = ["case_id", "kind", "start", "end"]


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical(value: Any) -> str:
    """cases.domain.history.canonical_json."""
    return _ENCODER.encode(value)


# --- The world the cases happen in (read once) ---------------------------------------------


@dataclass
class _District:
    id: int
    code: str
    centre: int | None
    people: dict[str, list[int]]
    departments: list[int]  # handling departments with a handler


@dataclass
class _World:
    grids: list[tuple[int, int, int, int, str, float, float]]
    districts: dict[int, _District]
    categories: list[tuple[int, str, str, str, str]]  # id, kind, code, handling limit, filing condition
    city_inspectors: list[int]
    handlers: dict[int, list[tuple[int, int]]]  # department → (user, person)
    codes: dict[int, str]  # department codes
    usernames: dict[int, str]
    step_limits: dict[str, str]
    supervision: Timeline
    calendars: dict[int | None, Timeline]  # department → its calendar's timeline
    durations: dict[str, Duration] = field(default_factory=dict)
    lengths: dict[tuple[int, tuple[str, ...]], tuple[Part, ...]] = field(default_factory=dict)

    def parts(self, line: Timeline, texts: tuple[str, ...]) -> tuple[Part, ...]:
        key = (id(line), texts)
        found = self.lengths.get(key)
        if found is None:
            found = self.lengths[key] = tuple(line.part(self.duration(t)) for t in texts)
        return found

    def duration(self, text: str) -> Duration:
        found = self.durations.get(text)
        if found is None:
            found = self.durations[text] = parse_duration(text)
        return found

    def timeline(self, step: str, holder: int | None) -> Timeline:
        if step in CENTRE_STEPS or holder is None:
            return self.supervision
        return self.calendars.get(holder) or self.calendars[None]


def _world(first: date, last: date) -> _World:
    from citygrid.cases.demo import _categories, _districts
    from citygrid.catalog.models import Category
    from citygrid.catalog.selectors import active_standard, handling_limit, step_limit

    districts = {d.area.pk: d for d in _districts()}
    if not districts:
        raise LookupError("load the demo city and organisation first (citygrid demo_setup)")
    city = next(iter(districts.values())).area.parent
    standard = active_standard(city)
    wanted = set(_categories())
    categories = []
    for c in Category.objects.filter(standard=standard, level="minor").order_by("code"):
        limit = handling_limit(c)
        if (c.kind, c.code) in wanted and limit is not None:
            categories.append((c.pk, c.kind, c.code, str(limit), c.filing_condition))
    people: dict[tuple[str, str], list[int]] = {}
    handlers: dict[int, list[tuple[int, int]]] = {}
    persons = dict(Person.objects.values_list("pk", "user_id"))
    for a in RoleAssignment.objects.order_by("pk").prefetch_related("areas", "departments"):
        for area in a.areas.all():
            people.setdefault((a.role, area.code), []).append(persons[a.person_id])
        if a.role == "handler":
            for dept in a.departments.all():
                handlers.setdefault(dept.pk, []).append((persons[a.person_id], a.person_id))
    departments = list(Department.objects.order_by("pk").values("pk", "code", "area_id", "kind",
                                                                 "calendar_id"))
    extra = [d["pk"] for d in departments if d["kind"] == DepartmentKind.SOCIAL_UNIT and d["pk"] in handlers]
    cal_rows = {row.pk: row for row in _calendars(departments)}
    default = default_calendar()
    lines = {pk: Timeline(work_calendar(row), first, last) for pk, row in cal_rows.items()}
    supervision = find_calendar("supervision") or default
    return _World(
        grids=[(*row[:5], round((row[5] + row[7]) / 2, 7), round((row[6] + row[8]) / 2, 7))
               for row in UnitGrid.objects.filter(valid_to__isnull=True, community__isnull=False,
                                                  community__parent__parent_id__in=districts)
               .order_by("pk").values_list("pk", "community_id", "community__parent_id",
                                          "community__parent__parent_id", "code", "min_lon",
                                          "min_lat", "max_lon", "max_lat")],
        districts={pk: _District(
            pk, d.code,
            next((x["pk"] for x in sorted(departments, key=lambda x: x["code"])
                  if x["kind"] == DepartmentKind.COMMAND_CENTRE and x["area_id"] == pk), None),
            {role: people.get((role, d.code), []) for role in set(ROLE_OF.values())},
            [x["pk"] for x in departments if x["area_id"] == pk and x["pk"] in handlers
             and x["kind"] == DepartmentKind.GOVERNMENT] + extra)
            for pk, d in districts.items()},
        categories=categories,
        city_inspectors=people.get(("city_inspector", city.code), []),
        handlers=handlers,
        codes={d["pk"]: d["code"] for d in departments},
        usernames=dict(Person.objects.values_list("user_id", "user__username")),
        step_limits={s: str(limit) for s in Step if s != Step.HANDLE
                     and (limit := step_limit(standard, s)) is not None},
        supervision=lines.get(supervision.pk) or Timeline(work_calendar(supervision), first, last),
        calendars={None: Timeline(work_calendar(default), first, last),
                   **{d["pk"]: lines[d["calendar_id"]] for d in departments if d["calendar_id"]}},
    )


def _calendars(departments: list[dict[str, Any]]) -> list[Any]:
    from citygrid.calendars.models import WorkingCalendar

    wanted = {d["calendar_id"] for d in departments if d["calendar_id"]}
    return list(WorkingCalendar.objects.filter(pk__in=wanted))


# --- One case ---------------------------------------------------------------------------------


@dataclass
class _Event:
    seq: int
    operation: str
    actor: int | None
    role: str
    at: int
    from_state: str
    to_state: str
    inputs: str  # canonical JSON
    due: int | None


@dataclass
class _Case:
    """A case as the actions keep it, in memory (instants in microseconds)."""

    id: int
    day: date
    district: _District
    grid: tuple[int, int, int, int, str, float, float]
    category: tuple[int, str, str, str, str]
    process: str
    source: str
    reporter: int
    reporter_role: str
    address: str
    description: str
    routed: int
    state: str = ""
    holder: int | None = None
    holder_person: int | None = None
    step: str = ""
    step_started: int | None = None
    step_limit: str = ""
    step_extensions: list[str] = field(default_factory=list)
    overall_started: int | None = None
    overall_limit: str = ""
    overall_extensions: list[str] = field(default_factory=list)
    pauses: list[list[int | None]] = field(default_factory=list)
    postponed: bool = False
    pending: str = ""
    suspended: bool = False
    reworks: int = 0
    returns: int = 0
    level: str = "none"
    events: list[_Event] = field(default_factory=list)
    closed_at: int | None = None
    number: str = ""


def _pauses(case: _Case, now: int) -> list[Pause]:
    return [(a, b if b is not None else now) for a, b in case.pauses if a is not None]


def _limits(world: _World, case: _Case, overall: bool) -> tuple[Timeline, int, tuple[str, ...]] | None:
    """The running step's limit (or the handling limit): its timeline, start and durations."""
    if overall:
        step, start, texts = Step.HANDLE, case.overall_started, (case.overall_limit, *case.overall_extensions)
    else:
        step, start, texts = case.step, case.step_started, (case.step_limit, *case.step_extensions)
    if not step or start is None or not texts[0]:
        return None
    return world.timeline(step, case.holder), start, texts


def _due(world: _World, case: _Case, now: int) -> int | None:
    """The running step's deadline as the case row holds it after the action at `now`."""
    found = _limits(world, case, False)
    if found is None:
        return None
    return due(found[0], found[1], world.parts(found[0], found[2]), _pauses(case, now))


def _deadline(world: _World, case: _Case, overall: bool, now: int) -> tuple[int, int] | None:
    found = _limits(world, case, overall)
    if found is None:
        return None
    return deadline(found[0], found[1], [world.duration(t) for t in found[2]], _pauses(case, now))


_YEARS: dict[tuple[int, int, int], bool] = {}


def _provisional(world: _World, case: _Case, overall: bool, now: int) -> bool:
    """compute_deadline's flag: working time counted across a year whose official holiday
    schedule is neither known nor confirmed."""
    found = _limits(world, case, overall)
    if not found or not _depends_on_official_schedule(found[0].cal):
        return False
    line, at, pauses = found[0], found[1], _pauses(case, now)
    for part in world.parts(line, found[2]):
        after = line.shift(at, part, pauses)
        if part.working:
            key = (id(line), instant(at).astimezone(line.cal.tz).year,
                   instant(after).astimezone(line.cal.tz).year)
            if key not in _YEARS:
                _YEARS[key] = bool(unconfirmed_years(list(range(key[1], key[2] + 1))))
            if _YEARS[key]:
                return True
        at = after
    return False


def _level(case: _Case, now: int, step: tuple[int, int] | None,
           overall: tuple[int, int] | None) -> str:
    """cases.actions.level_of, at `now`."""
    if case.state in FINALS:
        return "none"
    if case.state == "suspended":
        return case.level
    spans = [(case.step_started, step)]
    if case.state in HANDLING_STATES:
        spans.append((case.overall_started, overall))
    worst = 0
    for start, limits in spans:
        if start is None or limits is None:
            continue
        worst = max(worst, 3 if now > limits[0] else 2 if now >= limits[1] else 1)
    return ("none", "green", "yellow", "red")[worst]


def _level_now(world: _World, case: _Case, now: int) -> str:
    return _level(case, now, _deadline(world, case, False, now), _deadline(world, case, True, now))


_ALL_INPUTS = {name: "x" for name in ("department", "reason", "extension", "after_photo",
                                       "duplicate_of")}
_TRANSITIONS: dict[tuple[str, str, str, str], tuple[str, str | None]] = {}


def _transition(process: str, state: str, op: str, role: str) -> tuple[str, str | None]:
    key = (process, state, op, role)
    if key not in _TRANSITIONS:
        t = check_transition(process, state, op, role, _ALL_INPUTS)
        assert t.target is not None
        _TRANSITIONS[key] = (t.target.value, t.starts.value if t.starts else None)
    return _TRANSITIONS[key]


_NOTE = _canonical({"note": ""})
_INPUTS = {op: _canonical(value) for op, value in {
    "verify": {"note": "现场核实属实"}, "feedback": {"note": "已处置完毕", "photos": []},
    "suspend": {"reason": REASONS["suspend"]}, "void": {"reason": REASONS["void"]},
    "check_pass": {"passed": True, "photos": [], "reason": ""},
    "check_fail": {"passed": False, "photos": [], "reason": REASONS["check_fail"]},
    "request_postponement": {"reason": REASONS["request_postponement"], "extension": EXTENSION},
}.items()}


def _act(world: _World, case: _Case, op: str, at: int, rng: random.Random) -> None:
    """One operation, as its action and `cases.actions._advance` apply it."""
    role = ROLE_OF.get(op, "handler")
    if role == "handler":
        actor, person = rng.choice(world.handlers[case.holder or 0])
    else:
        actor = rng.choice(_people(case.district, role, world))
    target, starts = _transition(case.process, case.state, op, role)
    running = case.step_started is not None and case.step_started < at
    step_due = _due(world, case, case.events[-1].at) if running else None
    inputs = _INPUTS.get(op) or _effect(world, case, op, at, rng)
    if op == "accept":
        case.holder_person = person
    elif op == "request_postponement":
        case.pending = EXTENSION
    elif op == "suspend":
        case.level = _level_now(world, case, case.events[-1].at)
        case.pauses.append([at, None])
        case.suspended = True
    elif op == "check_fail":
        case.reworks += 1
    elif op == "void" and case.suspended:
        case.pauses[-1][1] = at
        case.suspended = False
    from_state, case.state = case.state, target
    if starts is not None:
        limit = case.category[3] if starts == Step.HANDLE else world.step_limits.get(starts, "")
        case.step, case.step_started, case.step_limit, case.step_extensions = starts, at, limit, []
    if case.state in FINALS:
        case.step, case.step_started, case.step_limit, case.step_extensions = "", None, "", []
    case.closed_at = at if case.state == "closed" else None
    case.events.append(_Event(len(case.events) + 1, op, actor, role, at, from_state, case.state,
                              inputs, step_due))


def _effect(world: _World, case: _Case, op: str, at: int, rng: random.Random) -> str:
    """The operations whose effects and recorded inputs depend on the case."""
    if op == "dispatch":
        returned = [e.inputs for e in case.events if e.operation == "return"]
        options = [d for d in case.district.departments
                   if not any(f'"{world.codes[d]}"' in r for r in returned)]
        case.holder = case.routed if not returned else rng.choice(options or case.district.departments)
        case.holder_person = None
        if case.overall_started is None:
            case.overall_started, case.overall_limit, case.overall_extensions = at, case.category[3], []
        return f'{{"copies":[],"department":"{world.codes[case.holder]}","note":""}}'
    if op == "return":
        code = world.codes.get(case.holder or 0, "")
        case.returns += 1
        case.holder, case.holder_person = case.district.centre, None
        return _canonical({"department": code, "reason": REASONS["return"]})
    if op == "approve_postponement":
        granted = case.pending
        if case.step == Step.HANDLE:
            case.step_extensions = [*case.step_extensions, granted]
        if case.overall_started is not None:
            case.overall_extensions = [*case.overall_extensions, granted]
        case.postponed, case.pending = True, ""
        return _canonical({"extension": granted, "note": ""})
    if op == "resume":
        started = case.pauses[-1][0] or at
        case.pauses[-1][1] = at
        case.suspended = False
        return _canonical({"note": "", "paused": str(timedelta(microseconds=at - started))})
    return _NOTE


def _report(world: _World, rng: random.Random, case_id: int, day: date, day_start: int,
            grid: tuple[int, int, int, int, str, float, float]) -> tuple[_Case, int]:
    district = world.districts[grid[3]]
    category = rng.choice(world.categories)
    public = rng.random() < 0.1
    if public:
        process, role, source = "public_report", "intake_operator", ("public", "hotline", "media")[case_id % 3]
        reporter = rng.choice(_people(district, "intake_operator", world))
    else:
        process = "standard"
        role = source = "district_inspector" if case_id % 2 else "city_inspector"
        reporter = rng.choice(_people(district, role, world))
    hour = min(20, 8 + int(rng.triangular(0, 13, 2)))
    at = day_start + (hour * 3600 + rng.randint(0, 59) * 60 + rng.randint(0, 59)) * US
    case = _Case(case_id, day, district, grid, category, process, source, reporter, role,
                 rng.choice(ADDRESSES).format(rng.randint(1, 300)), rng.choice(DESCRIPTIONS),
                 rng.choice(district.departments))
    case.state = "to_verify" if public else "to_file"
    case.holder = district.centre
    case.step, case.step_started = ("verify" if public else "file"), at
    case.step_limit = world.step_limits.get(case.step, "")
    inputs = {"source": source, "kind": category[1], "category": category[2], "urgency": "ordinary",
              "lon": grid[5], "lat": grid[6], "crs": "wgs84", "grid": grid[4],
              "address": case.address, "description": case.description, "component_id": "",
              "process": process, "routed_department": world.codes[case.routed], "rule": "",
              "filing_condition": category[4], "photos": []}
    case.events.append(_Event(1, "report", reporter, role, at, "", case.state,
                              _canonical(inputs), None))
    return case, at


def _people(district: _District, role: str, world: _World) -> list[int]:
    if role == "city_inspector":
        return world.city_inspectors
    return district.people.get(role) or _role_anywhere(world, role)


def _role_anywhere(world: _World, role: str) -> list[int]:
    for d in world.districts.values():
        if d.people.get(role):
            return d.people[role]
    return world.city_inspectors


def _simulate(world: _World, rng: random.Random, case_id: int, day: date, day_start: int,
              end: int, grid: tuple[int, int, int, int, str, float, float]) -> _Case:
    case, clock = _report(world, rng, case_id, day, day_start, grid)
    script = _script(rng)
    if case.process == "public_report":
        script = ["verify", *script]
    for op in script:
        clock += _delay(rng, op) // timedelta(microseconds=1)
        if clock >= end:
            break
        _act(world, case, op, clock, rng)
    return case


# --- Rows --------------------------------------------------------------------------------------

_MINUTES: dict[int, tuple[str, str]] = {}


def _minute(m: int) -> tuple[str, str]:
    found = _MINUTES.get(m)
    if found is None:
        t = datetime.fromtimestamp(m * 60, UTC)
        found = _MINUTES[m] = (t.strftime("%Y-%m-%d %H:%M:"), t.strftime("%Y-%m-%dT%H:%M:"))
    return found


def _sql_time(us: int | None) -> str:
    if us is None:
        return "\\N"
    sec, micro = divmod(us, US)
    text = f"{_minute(sec // 60)[0]}{sec % 60:02d}"
    return f"{text}.{micro:06d}+00" if micro else f"{text}+00"


def _hash_time(us: int) -> str:
    sec, micro = divmod(us, US)
    return f"{_minute(sec // 60)[1]}{sec % 60:02d}.{micro:06d}Z"


def _chain(case: _Case) -> list[tuple[str, str]]:
    """(prev_hash, hash) of each event: cases.domain.history.event_hash of event_payload."""
    prev, links = GENESIS, []
    number = f'"{case.number}"'
    for e in case.events:
        actor = "null" if e.actor is None else str(e.actor)
        payload = (f'{{"actor":{actor},"at":"{_hash_time(e.at)}","case":{number},'
                   f'"from":"{e.from_state}","inputs":{e.inputs},"operation":"{e.operation}",'
                   f'"role":"{e.role}","seq":{e.seq},"to":"{e.to_state}"}}')
        digest = hashlib.sha256(f"{prev}\n{payload}".encode()).hexdigest()
        links.append((prev, digest))
        prev = digest
    return links


def _finish(world: _World, case: _Case) -> dict[str, Any]:
    """The case row's values (instants in microseconds) after its last action."""
    last = case.events[-1].at
    step = _deadline(world, case, False, last)
    overall = _deadline(world, case, True, last)
    case.level = _level(case, last, step, overall)
    grid = case.grid
    return {
        "id": case.id, "number": case.number, "process": case.process, "state": case.state,
        "source": case.source, "kind": case.category[1], "category_id": case.category[0],
        "urgency": "ordinary", "lon": grid[5], "lat": grid[6], "address": case.address,
        "grid_id": grid[0], "community_id": grid[1], "street_id": grid[2], "district_id": grid[3],
        "component_id": "", "description": case.description, "reporter_id": case.reporter,
        "reporter_role": case.reporter_role, "holder_department_id": case.holder,
        "holder_person_id": case.holder_person, "routed_department_id": case.routed,
        "version": len(case.events), "step": case.step, "step_started_at": case.step_started,
        "step_limit": case.step_limit, "step_extensions": _list(case.step_extensions),
        "step_deadline": step[0] if step else None, "step_warn_at": step[1] if step else None,
        "overall_started_at": case.overall_started, "overall_limit": case.overall_limit,
        "overall_extensions": _list(case.overall_extensions),
        "overall_deadline": overall[0] if overall else None,
        "overall_warn_at": overall[1] if overall else None,
        "deadline_provisional": _provisional(world, case, False, last)
        or _provisional(world, case, True, last),
        "overdue_level": case.level, "postponed": case.postponed,
        "pending_extension": case.pending, "suspended": case.suspended,
        "rework_count": case.reworks, "return_count": case.returns, "urge_count": 0,
        "supervision_level": 0, "needs_collaboration": False, "collaboration_reason": "",
        "duplicate_of_id": None, "idempotency_key": "", "history_head": "",
        "created_at": case.events[0].at, "updated_at": last, "closed_at": case.closed_at,
    }


def _list(values: list[str]) -> str:
    return _canonical(values) if values else "[]"


TIME_COLUMNS = {"step_started_at", "step_deadline", "step_warn_at", "overall_started_at",
                "overall_deadline", "overall_warn_at", "created_at", "updated_at", "closed_at"}


def _copy_text(value: Any) -> str:
    """COPY text format (the values written here hold no tabs, newlines or backslashes)."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    return str(value)


_CONVERT = [_sql_time if c in TIME_COLUMNS else _copy_text for c in CASE_COLUMNS]


# --- Plans: what each chunk holds, decided up front (ids, days, places, numbers) -----------------


@dataclass(frozen=True)
class _Plan:
    index: int
    seed: int
    first_id: int
    count: int
    first: int  # position of the chunk's first case among all cases
    cases: int
    start: date
    days: int
    end: int  # the simulation ends (as of), µs
    grids: array  # index into world.grids, per case
    numbers: dict[tuple[str, date], int]  # first sequence number per district and day

    def day(self, i: int) -> date:
        return self.start + timedelta(days=(self.first + i) * self.days // self.cases)


def _plans(world: _World, cases: int, days: int, seed: int, first_id: int, end_day: date,
           batch: int) -> list[_Plan]:
    """Every chunk's cases: their places are drawn here (seeded) so that the district-day
    numbers can be reserved from the counters before the histories are generated."""
    rng = random.Random(f"{seed}:places")
    tz = timezone.get_current_timezone()
    start = end_day - timedelta(days=days)
    end = micros(datetime.combine(end_day, datetime.min.time(), tz))
    plans = []
    for index, first in enumerate(range(0, cases, batch)):
        count = min(batch, cases - first)
        grids = array("I", (rng.randrange(len(world.grids)) for _ in range(count)))
        plan = _Plan(index, seed, first_id + first, count, first, cases, start, days, end, grids, {})
        wanted: dict[tuple[str, date], int] = {}
        for i, g in enumerate(grids):
            key = (world.districts[world.grids[g][3]].code, plan.day(i))
            wanted[key] = wanted.get(key, 0) + 1
        plan.numbers.update(_reserve(wanted))
        plans.append(plan)
    return plans


def _reserve(wanted: dict[tuple[str, date], int]) -> dict[tuple[str, date], int]:
    """Moves the district-day counters on (as intake does); the first number of each."""
    with transaction.atomic():
        existing = {(c.district_code, c.day): c.last for c in CaseCounter.objects.select_for_update()
                    .filter(district_code__in={k[0] for k in wanted}, day__in={k[1] for k in wanted})}
        CaseCounter.objects.bulk_create(
            [CaseCounter(district_code=code, day=day, last=existing.get((code, day), 0) + count)
             for (code, day), count in wanted.items()],
            update_conflicts=True, unique_fields=["district_code", "day"], update_fields=["last"])
    return {key: existing.get(key, 0) + 1 for key in wanted}


_WORLD: list[_World] = []  # the world of the running load (read by the pool's workers)


def _histories(plan: _Plan) -> list[_Case]:
    world = _WORLD[0]
    rng = random.Random(f"{plan.seed}:{plan.index}")
    tz = timezone.get_current_timezone()
    following = dict(plan.numbers)
    starts: dict[date, int] = {}
    found = []
    for i, g in enumerate(plan.grids):
        day = plan.day(i)
        if day not in starts:
            starts[day] = micros(datetime.combine(day, datetime.min.time(), tz))
        case = _simulate(world, rng, plan.first_id + i, day, starts[day], plan.end, world.grids[g])
        key = (case.district.code, day)
        case.number = f"{key[0]}{day:%Y%m%d}{following[key]:05d}"
        following[key] += 1
        found.append(case)
    return found


def _copy_lines(plan: _Plan) -> tuple[str, str, str]:
    """The chunk as COPY text: cases, events, pauses (run by the pool's workers)."""
    world = _WORLD[0]
    cases, events, pauses = [], [], []
    for case in _histories(plan):
        links = _chain(case)
        cases.append(_case_line(world, case, links[-1][1]))
        usernames = world.usernames
        for e, (prev, digest) in zip(case.events, links, strict=True):
            events.append(f"{case.id}\t{e.seq}\t{e.operation}\t{e.actor}\t{usernames.get(e.actor, '')}\t"
                          f"{e.role}\t{_sql_time(e.at)}\t{e.from_state}\t{e.to_state}\t{e.inputs}\t"
                          f"{_sql_time(e.due)}\t{prev}\t{digest}")
        pauses.extend(f"{case.id}\tsuspend\t{_sql_time(a)}\t{_sql_time(b)}" for a, b in case.pauses)
    return "\n".join(cases), "\n".join(events), "\n".join(pauses)


def _case_line(world: _World, case: _Case, head: str) -> str:
    values = _finish(world, case)
    values["history_head"] = head
    return "\t".join([f(v) for f, v in zip(_CONVERT, values.values(), strict=True)])


def bulk_generate(*, cases: int, days: int = 365, seed: int = 1, batch: int = 20_000,
                  end: date | None = None, workers: int | None = None,
                  rebuild_indexes: bool | None = None,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Writes `cases` case histories reported over the `days` days before `end` (default:
    today); returns how many. On PostgreSQL above 100,000 cases (or as the arguments say)
    `workers` processes generate the rows while this one copies them in, and the case
    tables' secondary indexes and foreign keys are dropped for the load and rebuilt."""
    end_day = end or timezone.localdate()
    world = _world(end_day - timedelta(days=days + 2), end_day + timedelta(days=400))
    if not world.categories:
        raise LookupError("no demo classes with a handling limit in the city's standard")
    first_id = (Case.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    plans = _plans(world, cases, days, seed, first_id, end_day, batch)
    postgres = connection.vendor == "postgresql"
    large = postgres and cases > 100_000
    _WORLD[:] = [world]
    from citygrid.assess.indexes import dropped_indexes

    with dropped_indexes([Case, CaseEvent, CasePause],
                         active=large if rebuild_indexes is None else rebuild_indexes and postgres):
        if postgres:
            _load_copy(plans, (2 if large else 0) if workers is None else workers, progress)
        else:
            for plan in plans:
                _create(world, _histories(plan))
                if progress:
                    progress(plan.first + plan.count, cases)
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{Case._meta.db_table}', 'id'), "
                           f"(SELECT MAX(id) FROM {Case._meta.db_table}))")
            for model in (Case, CaseEvent, CasePause):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    from citygrid.cases.day_counts import refresh_day_counts
    from citygrid.cases.map_cells import refresh_map_cells

    refresh_map_cells(full=True)  # history was written behind the kept counts
    refresh_day_counts(full=True)
    return cases


def _load_copy(plans: list[_Plan], workers: int,
               progress: Callable[[int, int], None] | None) -> None:
    if workers > 0:
        pool = multiprocessing.get_context("fork").Pool(workers)
        chunks: Iterator[tuple[str, str, str]] = pool.imap(_copy_lines, plans)
    else:
        pool, chunks = None, map(_copy_lines, plans)
    try:
        for plan, texts in zip(plans, chunks, strict=True):
            with transaction.atomic(), connection.cursor() as cursor:
                for model, columns, text in zip((Case, CaseEvent, CasePause),
                                                (CASE_COLUMNS, EVENT_COLUMNS, PAUSE_COLUMNS),
                                                texts, strict=True):
                    if text:
                        names = ", ".join(connection.ops.quote_name(c) for c in columns)
                        with cursor.cursor.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
                            copy.write(text + "\n")
            if progress:
                progress(plan.first + plan.count, plan.cases)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()


def _create(world: _World, chunk: list[_Case]) -> None:
    cases, events, pauses = [], [], []
    for case in chunk:
        links = _chain(case)
        values = _finish(world, case)
        values["history_head"] = links[-1][1]
        values = {c: (instant(v) if c in TIME_COLUMNS and v is not None else v)
                  for c, v in values.items()}
        values["step_extensions"] = json.loads(values["step_extensions"])
        values["overall_extensions"] = json.loads(values["overall_extensions"])
        cases.append(Case(**values))
        events.extend(CaseEvent(
            case_id=case.id, seq=e.seq, operation=e.operation, actor_id=e.actor,
            actor_name=world.usernames.get(e.actor or 0, ""), role=e.role, at=instant(e.at),
            from_state=e.from_state, to_state=e.to_state, inputs=json.loads(e.inputs),
            step_due_at=instant(e.due) if e.due is not None else None, prev_hash=prev, hash=digest)
            for e, (prev, digest) in zip(case.events, links, strict=True))
        pauses.extend(CasePause(case_id=case.id, kind="suspend", start=instant(a),
                                end=instant(b) if b is not None else None)
                      for a, b in case.pauses if a is not None)
    Case.objects.bulk_create(cases)
    CaseEvent.objects.bulk_create(events)
    CasePause.objects.bulk_create(pauses)
