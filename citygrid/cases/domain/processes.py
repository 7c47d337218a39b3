"""Case processes as data (M-11, M-14, M-15, M-16, M-18), and the check of one transition.

A process is a set of states and transitions. A transition names the operation, the states it
leaves, the state it enters (None: the case stays where it is, e.g. urge), the roles allowed,
the inputs it requires, the step whose time limit starts (None: the running step continues)
and what it does to the clock (suspension stops it). The actions layer asks
`check_transition` before every change; nothing else decides what may happen to a case.

Roles are the organisation's role values (citygrid.org Role) plus SYSTEM for the automatic
filing and dispatch of the flat and special processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum


class ProcessName(StrEnum):
    STANDARD = "standard"
    PUBLIC_REPORT = "public_report"
    FLAT = "flat"
    MANHOLE_COVER_EMERGENCY = "manhole_cover_emergency"
    SANITATION_PATROL = "sanitation_patrol"
    STREET_SELF_HANDLE = "street_self_handle"
    EMERGENCY = "emergency"


class State(StrEnum):
    TO_VERIFY = "to_verify"  # a public report waits for an inspector's on-site verification
    TO_FILE = "to_file"  # waits for filing (立案)
    TO_DISPATCH = "to_dispatch"  # filed, waits for dispatch (派遣)
    DISPATCHED = "dispatched"  # with a department, not yet accepted (签收)
    HANDLING = "handling"  # accepted, being handled (处置)
    POSTPONEMENT_REQUESTED = "postponement_requested"  # handling; an extension is asked for
    SUSPENDED = "suspended"  # shelved (挂账): the clock stops
    TO_CHECK = "to_check"  # fed back, waits for the inspector's on-site check (核查)
    TO_CLOSE = "to_close"  # checked or fed back, waits for the shift leader to close (结案)
    IN_COLLABORATION = "in_collaboration"  # at the collaboration platform: ownership unclear (M-19)
    CLOSED = "closed"
    REJECTED = "rejected"  # not filed (不予立案)
    MERGED = "merged"  # a duplicate of another case
    VOIDED = "voided"  # recorded in error (作废)


class Operation(StrEnum):
    VERIFY = "verify"
    FILE = "file"
    REJECT = "reject"
    MERGE = "merge"
    DISPATCH = "dispatch"
    RETURN = "return"
    REDISPATCH = "redispatch"
    ACCEPT = "accept"
    FEEDBACK = "feedback"
    REQUEST_POSTPONEMENT = "request_postponement"
    APPROVE_POSTPONEMENT = "approve_postponement"
    REFUSE_POSTPONEMENT = "refuse_postponement"
    SUSPEND = "suspend"
    RESUME = "resume"
    CHECK_PASS = "check_pass"
    CHECK_FAIL = "check_fail"
    CLOSE = "close"
    VOID = "void"
    URGE = "urge"
    SUPERVISE = "supervise"
    REOPEN = "reopen"
    SEND_TO_COLLABORATION = "send_to_collaboration"  # to the collaboration platform (M-19, M-20)


REPORT = "report"  # the operation of a case's first event (not a transition)


class Step(StrEnum):
    """Timed steps. accept/verify/file/dispatch/check/close use the standard's step limits;
    handle uses the class's handling time limit."""

    VERIFY = "verify"
    FILE = "file"
    DISPATCH = "dispatch"
    ACCEPT = "accept"
    HANDLE = "handle"
    CHECK = "check"
    CLOSE = "close"


CENTRE_STEPS = frozenset({Step.VERIFY, Step.FILE, Step.DISPATCH, Step.CHECK, Step.CLOSE})
DEPARTMENT_STEPS = frozenset({Step.ACCEPT, Step.HANDLE})


class Clock(StrEnum):
    KEEP = "keep"
    PAUSE = "pause"
    RESUME = "resume"


class Input(StrEnum):
    REASON = "reason"
    AFTER_PHOTO = "after_photo"
    DEPARTMENT = "department"
    DUPLICATE_OF = "duplicate_of"
    EXTENSION = "extension"


class Role(StrEnum):
    CITY_INSPECTOR = "city_inspector"
    DISTRICT_INSPECTOR = "district_inspector"
    INTAKE_OPERATOR = "intake_operator"
    SHIFT_LEADER = "shift_leader"
    DISPATCHER = "dispatcher"
    HANDLER = "handler"
    DEPARTMENT_HEAD = "department_head"
    COLLABORATION_COORDINATOR = "collaboration_coordinator"
    STREET_STAFF = "street_staff"
    LEADER = "leader"
    ADMINISTRATOR = "administrator"
    SYSTEM = "system"


INSPECTORS = frozenset({Role.CITY_INSPECTOR, Role.DISTRICT_INSPECTOR})
DEPARTMENT = frozenset({Role.HANDLER, Role.DEPARTMENT_HEAD})
# Roles that act for a handling department (scope: the holder department) rather than for an
# area (scope: the case's place).
DEPARTMENT_ROLES = frozenset({Role.HANDLER, Role.DEPARTMENT_HEAD})


class Level(StrEnum):
    """Traffic-light level of a running time limit."""

    NONE = "none"  # no limit running
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True)
class Transition:
    operation: Operation
    sources: frozenset[State]
    target: State | None  # None: the case stays in its state
    roles: frozenset[Role]
    requires: frozenset[Input] = frozenset()
    starts: Step | None = None  # the step whose limit starts; None: the running step continues
    clock: Clock = Clock.KEEP

    def target_from(self, state: State) -> State:
        return self.target if self.target is not None else state


@dataclass(frozen=True)
class Process:
    name: ProcessName
    label: str
    initial: State
    finals: frozenset[State]
    transitions: tuple[Transition, ...]
    reopenable: frozenset[State] = field(default_factory=frozenset)

    @property
    def states(self) -> frozenset[State]:
        found: set[State] = {self.initial, *self.finals}
        for t in self.transitions:
            found |= t.sources
            if t.target is not None:
                found.add(t.target)
        return frozenset(found)

    def open_states(self) -> frozenset[State]:
        return self.states - self.finals

    def transitions_from(self, state: State) -> list[Transition]:
        return [t for t in self.transitions if state in t.sources]

    def operations_from(self, state: State) -> list[Operation]:
        seen: list[Operation] = []
        for t in self.transitions_from(state):
            if t.operation not in seen:
                seen.append(t.operation)
        return seen

    def acting_roles(self, state: State) -> frozenset[Role]:
        """Roles that must move a case on from `state` (what their work queues show)."""
        roles: set[Role] = set()
        for t in self.transitions_from(state):
            if t.operation in FORWARD:
                roles |= t.roles
        return frozenset(roles)


# Operations that move a case forward: a case waiting for one of them is in the queue of the
# roles allowed to take it.
FORWARD = frozenset({Operation.VERIFY, Operation.FILE, Operation.DISPATCH, Operation.ACCEPT,
                     Operation.FEEDBACK, Operation.APPROVE_POSTPONEMENT, Operation.CHECK_PASS,
                     Operation.CLOSE})


class TransitionError(Exception):
    """A transition the process refuses; `code` is one of the codes below."""

    UNKNOWN_PROCESS = "unknown_process"
    UNKNOWN_OPERATION = "unknown_operation"
    NOT_ALLOWED_IN_STATE = "operation_not_allowed_in_state"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    MISSING_INPUT = "missing_input"

    def __init__(self, code: str, message: str, details: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, object] = dict(details or {})


# --- Building blocks -------------------------------------------------------------------------

S = State
O = Operation  # noqa: E741
CENTRE_FILERS = frozenset({Role.SHIFT_LEADER, Role.INTAKE_OPERATOR})
MERGERS = frozenset({Role.INTAKE_OPERATOR, Role.SHIFT_LEADER, Role.DISPATCHER})
APPROVERS = frozenset({Role.DISPATCHER, Role.SHIFT_LEADER})
URGERS = frozenset({Role.DISPATCHER, Role.SHIFT_LEADER, Role.LEADER})
SUPERVISORS = frozenset({Role.SHIFT_LEADER, Role.LEADER})
REDISPATCHERS = frozenset({Role.DISPATCHER, Role.COLLABORATION_COORDINATOR})
R = frozenset({Input.REASON})
WITH_DEPT = frozenset({Input.DEPARTMENT})


def _t(op: Operation, sources: Iterable[State], target: State | None, roles: Iterable[Role],
       requires: Iterable[Input] = (), starts: Step | None = None,
       clock: Clock = Clock.KEEP) -> Transition:
    return Transition(op, frozenset(sources), target, frozenset(roles), frozenset(requires),
                      starts, clock)


def _department_part(feedback_to: State, feedback_roles: frozenset[Role]) -> list[Transition]:
    """Dispatched → handling → fed back, with returns, re-dispatch, postponement, suspension."""
    with_department = [S.DISPATCHED, S.HANDLING, S.POSTPONEMENT_REQUESTED]
    feedback_starts = Step.CHECK if feedback_to == S.TO_CHECK else Step.CLOSE
    return [
        _t(O.ACCEPT, [S.DISPATCHED], S.HANDLING, DEPARTMENT | feedback_roles, starts=Step.HANDLE),
        _t(O.RETURN, [S.DISPATCHED, S.HANDLING], S.TO_DISPATCH, DEPARTMENT | feedback_roles, R,
           starts=Step.DISPATCH),
        _t(O.REDISPATCH, with_department, S.DISPATCHED, REDISPATCHERS, R | WITH_DEPT,
           starts=Step.ACCEPT),
        _t(O.REQUEST_POSTPONEMENT, [S.HANDLING], S.POSTPONEMENT_REQUESTED,
           DEPARTMENT | feedback_roles, {Input.REASON, Input.EXTENSION}),
        _t(O.APPROVE_POSTPONEMENT, [S.POSTPONEMENT_REQUESTED], S.HANDLING, APPROVERS),
        _t(O.REFUSE_POSTPONEMENT, [S.POSTPONEMENT_REQUESTED], S.HANDLING, APPROVERS, R),
        _t(O.SUSPEND, [S.HANDLING], S.SUSPENDED, {Role.SHIFT_LEADER}, R, clock=Clock.PAUSE),
        _t(O.RESUME, [S.SUSPENDED], S.HANDLING, {Role.SHIFT_LEADER}, clock=Clock.RESUME),
        _t(O.FEEDBACK, [S.HANDLING, S.POSTPONEMENT_REQUESTED], feedback_to,
           DEPARTMENT | feedback_roles, {Input.AFTER_PHOTO}, starts=feedback_starts),
    ]


# The collaboration platform (M-19, M-20): the centre, the coordinator or the system sends a case
# whose ownership is unclear (or that is bounced about, or left overdue); the holding department
# sends back a case that is not its own. Only the coordinator dispatches it on, to the owner the
# platform confirmed.
COLLABORATION_SENDERS = frozenset({Role.DISPATCHER, Role.COLLABORATION_COORDINATOR, Role.SYSTEM})


def _collaboration(department_roles: frozenset[Role]) -> list[Transition]:
    return [
        _t(O.SEND_TO_COLLABORATION, [S.TO_DISPATCH, S.DISPATCHED, S.HANDLING], S.IN_COLLABORATION,
           COLLABORATION_SENDERS, R),
        _t(O.SEND_TO_COLLABORATION, [S.DISPATCHED, S.HANDLING], S.IN_COLLABORATION,
           department_roles, R),
        _t(O.DISPATCH, [S.IN_COLLABORATION], S.DISPATCHED, {Role.COLLABORATION_COORDINATOR},
           WITH_DEPT, starts=Step.ACCEPT),
    ]


def _centre_dispatch(roles: Iterable[Role] = (Role.DISPATCHER,)) -> list[Transition]:
    return [_t(O.DISPATCH, [S.TO_DISPATCH], S.DISPATCHED, roles, WITH_DEPT, starts=Step.ACCEPT)]


def _check_and_close(check_roles: frozenset[Role]) -> list[Transition]:
    return [
        _t(O.CHECK_PASS, [S.TO_CHECK], S.TO_CLOSE, check_roles, starts=Step.CLOSE),
        _t(O.CHECK_FAIL, [S.TO_CHECK], S.HANDLING, check_roles, R, starts=Step.HANDLE),
        _t(O.CLOSE, [S.TO_CLOSE], S.CLOSED, {Role.SHIFT_LEADER}),
    ]


def _common(open_states: Iterable[State]) -> list[Transition]:
    """Urge, supervise and void in every open state; reopen a closed case."""
    states = list(open_states)
    return [
        _t(O.URGE, states, None, URGERS),
        _t(O.SUPERVISE, states, None, SUPERVISORS, R),
        _t(O.VOID, states, S.VOIDED, {Role.SHIFT_LEADER}, R),
        _t(O.REOPEN, [S.CLOSED], S.TO_DISPATCH, {Role.SHIFT_LEADER}, R, starts=Step.DISPATCH),
    ]


_FILING = [
    _t(O.FILE, [S.TO_FILE], S.TO_DISPATCH, CENTRE_FILERS, starts=Step.DISPATCH),
    _t(O.REJECT, [S.TO_FILE], S.REJECTED, CENTRE_FILERS, R),
    _t(O.MERGE, [S.TO_FILE, S.TO_DISPATCH], S.MERGED, MERGERS, {Input.DUPLICATE_OF}),
    _t(O.REOPEN, [S.REJECTED], S.TO_FILE, {Role.SHIFT_LEADER}, R, starts=Step.FILE),
]
_AUTO_FILING = [
    _t(O.FILE, [S.TO_FILE], S.TO_DISPATCH, {Role.SYSTEM, *CENTRE_FILERS}, starts=Step.DISPATCH),
    _t(O.REJECT, [S.TO_FILE], S.REJECTED, CENTRE_FILERS, R),
    _t(O.MERGE, [S.TO_FILE, S.TO_DISPATCH], S.MERGED, MERGERS, {Input.DUPLICATE_OF}),
    _t(O.REOPEN, [S.REJECTED], S.TO_FILE, {Role.SHIFT_LEADER}, R, starts=Step.FILE),
]
_STANDARD_OPEN = [S.TO_FILE, S.TO_DISPATCH, S.DISPATCHED, S.HANDLING, S.POSTPONEMENT_REQUESTED,
                  S.SUSPENDED, S.TO_CHECK, S.TO_CLOSE, S.IN_COLLABORATION]
FINALS = frozenset({S.CLOSED, S.REJECTED, S.MERGED, S.VOIDED})
REOPENABLE = frozenset({S.CLOSED, S.REJECTED})
NO_ROLES: frozenset[Role] = frozenset()


def _standard_like(name: ProcessName, label: str, *, auto: bool) -> Process:
    filing = _AUTO_FILING if auto else _FILING
    dispatchers = (Role.SYSTEM, Role.DISPATCHER) if auto else (Role.DISPATCHER,)
    return Process(
        name, label, S.TO_FILE, FINALS,
        tuple(filing + _centre_dispatch(dispatchers) + _department_part(S.TO_CHECK, NO_ROLES)
              + _check_and_close(INSPECTORS) + _collaboration(DEPARTMENT) + _common(_STANDARD_OPEN)),
        REOPENABLE,
    )


STANDARD = _standard_like(ProcessName.STANDARD, "standard six steps (M-14)", auto=False)

PUBLIC_REPORT = Process(
    ProcessName.PUBLIC_REPORT, "public report, verified on site before filing", S.TO_VERIFY,
    FINALS,
    tuple([
        _t(O.VERIFY, [S.TO_VERIFY], S.TO_FILE, INSPECTORS, starts=Step.FILE),
        _t(O.REJECT, [S.TO_VERIFY], S.REJECTED, INSPECTORS | CENTRE_FILERS, R),
        _t(O.MERGE, [S.TO_VERIFY], S.MERGED, MERGERS, {Input.DUPLICATE_OF}),
        *_FILING, *_centre_dispatch(), *_department_part(S.TO_CHECK, NO_ROLES),
        *_check_and_close(INSPECTORS), *_collaboration(DEPARTMENT),
        *_common([S.TO_VERIFY, *_STANDARD_OPEN]),
    ]),
    REOPENABLE,
)

# Flat (M-15): the system files and dispatches; the handler handles and feeds back with a
# photo in one step (no separate acceptance); the shift leader reviews and closes (or sends it
# back for rework).
_FLAT_OPEN = [S.TO_FILE, S.TO_DISPATCH, S.HANDLING, S.POSTPONEMENT_REQUESTED, S.SUSPENDED,
              S.TO_CLOSE, S.DISPATCHED, S.IN_COLLABORATION]


def _flat_like(name: ProcessName, label: str, feedback_roles: frozenset[Role]) -> Process:
    department = [t for t in _department_part(S.TO_CLOSE, feedback_roles)
                  if t.operation is not O.ACCEPT]
    dispatch_direct = [
        _t(O.DISPATCH, [S.TO_DISPATCH], S.HANDLING, {Role.SYSTEM, Role.DISPATCHER}, WITH_DEPT,
           starts=Step.HANDLE),
        # a re-dispatched flat case must be taken up by its new department
        _t(O.ACCEPT, [S.DISPATCHED], S.HANDLING, DEPARTMENT | feedback_roles, starts=Step.HANDLE),
    ]
    review = [
        _t(O.CLOSE, [S.TO_CLOSE], S.CLOSED, {Role.SHIFT_LEADER}),
        _t(O.CHECK_FAIL, [S.TO_CLOSE], S.HANDLING, {Role.SHIFT_LEADER}, R, starts=Step.HANDLE),
    ]
    return Process(name, label, S.TO_FILE, FINALS,
                   tuple(_AUTO_FILING + dispatch_direct + department + review
                         + _collaboration(DEPARTMENT | feedback_roles) + _common(_FLAT_OPEN)),
                   REOPENABLE)


FLAT = _flat_like(ProcessName.FLAT, "flat process (M-15)", NO_ROLES)

# Street self-report-self-handle (M-11): the street office the reporter works for handles; what
# is outside its remit it returns upwards to the district dispatcher.
STREET_SELF_HANDLE = _flat_like(ProcessName.STREET_SELF_HANDLE,
                                "street self-report-self-handle (M-11)",
                                frozenset({Role.STREET_STAFF}))

# Manhole-cover emergency (M-16): immediate automatic dispatch to the component's owner or
# maintainer, minutes-scale limits, the command centre alerted; acceptance, on-site check.
MANHOLE_COVER_EMERGENCY = _standard_like(ProcessName.MANHOLE_COVER_EMERGENCY,
                                         "manhole-cover emergency (M-16)", auto=True)

# Emergency cases (M-16): filed and dispatched at once, the command centre alerted.
EMERGENCY = _standard_like(ProcessName.EMERGENCY, "emergency case (M-16)", auto=True)

# Sanitation special patrol (M-16): dispatched at once to the sanitation department, handled
# without acceptance, and closed by the patrol inspector's passing check.
_SANITATION_OPEN = [S.TO_FILE, S.TO_DISPATCH, S.DISPATCHED, S.HANDLING, S.POSTPONEMENT_REQUESTED,
                    S.SUSPENDED, S.TO_CHECK, S.IN_COLLABORATION]
SANITATION_PATROL = Process(
    ProcessName.SANITATION_PATROL, "sanitation special patrol (M-16)", S.TO_FILE, FINALS,
    tuple([
        *_AUTO_FILING,
        _t(O.DISPATCH, [S.TO_DISPATCH], S.HANDLING, {Role.SYSTEM, Role.DISPATCHER}, WITH_DEPT,
           starts=Step.HANDLE),
        _t(O.ACCEPT, [S.DISPATCHED], S.HANDLING, DEPARTMENT, starts=Step.HANDLE),
        *[t for t in _department_part(S.TO_CHECK, NO_ROLES) if t.operation is not O.ACCEPT],
        _t(O.CHECK_PASS, [S.TO_CHECK], S.CLOSED, INSPECTORS),
        _t(O.CHECK_FAIL, [S.TO_CHECK], S.HANDLING, INSPECTORS, R, starts=Step.HANDLE),
        *_collaboration(DEPARTMENT),
        *_common(_SANITATION_OPEN),
    ]),
    REOPENABLE,
)

PROCESSES: dict[ProcessName, Process] = {
    p.name: p for p in (STANDARD, PUBLIC_REPORT, FLAT, MANHOLE_COVER_EMERGENCY, SANITATION_PATROL,
                        STREET_SELF_HANDLE, EMERGENCY)
}
# Processes whose filing and dispatch the system does on report.
AUTOMATIC = frozenset({ProcessName.FLAT, ProcessName.MANHOLE_COVER_EMERGENCY,
                       ProcessName.SANITATION_PATROL, ProcessName.STREET_SELF_HANDLE,
                       ProcessName.EMERGENCY})
# Sources whose reports an inspector verifies on site before filing.
VERIFIED_SOURCES = frozenset({"public", "hotline", "media"})


def get_process(name: str) -> Process:
    try:
        return PROCESSES[ProcessName(name)]
    except ValueError:
        raise TransitionError(
            TransitionError.UNKNOWN_PROCESS, f"unknown process {name!r}",
            {"process": name, "processes": [p.value for p in ProcessName]},
        ) from None


def _present(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple | set | frozenset | dict):
        return bool(value)
    return True


def check_transition(process: Process | str, state: str, operation: str, role: str,
                     inputs: Mapping[str, object] | None = None) -> Transition:
    """The transition `role` may take with `operation` from `state`, resolved (its target is
    the state the case will be in). Raises TransitionError with a code otherwise."""
    proc = process if isinstance(process, Process) else get_process(process)
    try:
        op = Operation(operation)
    except ValueError:
        raise TransitionError(
            TransitionError.UNKNOWN_OPERATION, f"unknown operation {operation!r}",
            {"operation": operation},
        ) from None
    current = State(state)
    candidates = [t for t in proc.transitions_from(current) if t.operation is op]
    if not candidates:
        allowed = [o.value for o in proc.operations_from(current)]
        raise TransitionError(
            TransitionError.NOT_ALLOWED_IN_STATE,
            f"{op.value} is not possible in state {current.value} of the {proc.name.value} process",
            {"operation": op.value, "state": current.value, "process": proc.name.value,
             "allowed": allowed},
        )
    chosen = next((t for t in candidates if role in t.roles), None)
    if chosen is None:
        roles = sorted({r.value for t in candidates for r in t.roles})
        raise TransitionError(
            TransitionError.ROLE_NOT_ALLOWED,
            f"the role {role!r} may not {op.value} in state {current.value}; "
            f"allowed: {', '.join(roles)}",
            {"operation": op.value, "state": current.value, "role": role, "allowed_roles": roles},
        )
    given = inputs or {}
    missing = sorted(i.value for i in chosen.requires if not _present(given.get(i.value)))
    if missing:
        raise TransitionError(
            TransitionError.MISSING_INPUT,
            f"{op.value} needs: {', '.join(missing)}",
            {"operation": op.value, "missing": missing},
        )
    return replace(chosen, target=chosen.target_from(current))


def initial_state(process: str, source: str) -> State:
    return get_process(process).initial


def choose_process(routed: str, source: str, *, self_handle: bool = False) -> ProcessName:
    """The process of a new report: street staff handling in their own remit; public reports
    verified first when the rules give the standard process; else the routed process."""
    if self_handle:
        return ProcessName.STREET_SELF_HANDLE
    name = ProcessName(routed)
    if name is ProcessName.STANDARD and source in VERIFIED_SOURCES:
        return ProcessName.PUBLIC_REPORT
    return name


def reachable(process: Process, start: State) -> frozenset[State]:
    seen = {start}
    frontier = [start]
    while frontier:
        state = frontier.pop()
        for t in process.transitions_from(state):
            nxt = t.target_from(state)
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return frozenset(seen)


# --- Traffic lights ----------------------------------------------------------------------------

YELLOW_AT = 0.8


def traffic_light(elapsed_seconds: float, limit_seconds: float | None) -> Level:
    """Green under 80 % of the limit used, yellow from 80 % to 100 %, red over the limit."""
    if limit_seconds is None:
        return Level.NONE
    if limit_seconds <= 0:
        return Level.RED if elapsed_seconds > 0 else Level.YELLOW
    share = elapsed_seconds / limit_seconds
    if share > 1:
        return Level.RED
    if share >= YELLOW_AT:
        return Level.YELLOW
    return Level.GREEN
