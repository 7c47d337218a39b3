"""The only code that changes cases (M-14 … M-18, M-20).

Every operation is one transaction: lock the case row (`select_for_update`), compare the
caller's `expected_version`, resolve and check the actor's role and scope, ask the pure process
module whether the transition is allowed, apply its effects, recompute the time limits, and
append a hash-chained event. Errors are DomainErrors with stable codes (docs/cases.md).

`case_id` is the case's primary key (int) or its number (str). `role` names the role the
actor acts in; when omitted, the first role the actor holds that the transition allows (and
whose scope covers the case) is used.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from citygrid.calendars.domain.durations import Duration, DurationError, Unit, parse_duration
from citygrid.calendars.services import snapshot as calendar_snapshot
from citygrid.cases.domain import history
from citygrid.cases.domain.processes import (
    AUTOMATIC,
    CENTRE_STEPS,
    DEPARTMENT_ROLES,
    Level,
    Operation,
    ProcessName,
    Role,
    State,
    Step,
    Transition,
    TransitionError,
    check_transition,
    choose_process,
    get_process,
)
from citygrid.cases.models import (
    FINAL_STATES,
    Case,
    CaseCopy,
    CaseCounter,
    CaseEvent,
    CasePause,
    CaseState,
    CopyKind,
    OverdueLevel,
    Photo,
    PhotoKind,
    Reminder,
)
from citygrid.core.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
    ValidationFailed,
)
from citygrid.core.memo import remembered, remembering
from citygrid.org.models import Department, DepartmentKind, Person, Source
from citygrid.org.scoping import can_act, is_superuser, roles_of, visible_departments
from citygrid.space.models import Area, UnitGrid

AnyUser = AbstractBaseUser | AnonymousUser
PhotoInput = Any  # bytes, or a file-like object with read() (e.g. an UploadedFile)
DepartmentRef = Department | int | str  # instance, id or code

KINDS = ("component", "event")
URGENCIES = ("ordinary", "urgent", "emergency")
URGENCY_FALLBACK = {"emergency": ("emergency", "urgent", "ordinary"),
                    "urgent": ("urgent", "ordinary"), "ordinary": ("ordinary",)}
# Who may report from which source (M-08 … M-12). PUBLIC also admits any signed-in user,
# recorded in the role "public".
REPORTING_ROLES: dict[str, tuple[str, ...]] = {
    Source.CITY_INSPECTOR: (Role.CITY_INSPECTOR,),
    Source.DISTRICT_INSPECTOR: (Role.DISTRICT_INSPECTOR,),
    Source.STREET_STAFF: (Role.STREET_STAFF,),
    Source.VIDEO_PATROL: (Role.CITY_INSPECTOR, Role.DISTRICT_INSPECTOR, Role.INTAKE_OPERATOR),
    Source.PUBLIC: (Role.INTAKE_OPERATOR, Role.SHIFT_LEADER),
    Source.HOTLINE: (Role.INTAKE_OPERATOR, Role.SHIFT_LEADER),
    Source.MEDIA: (Role.INTAKE_OPERATOR, Role.SHIFT_LEADER),
    Source.LEADER: (Role.INTAKE_OPERATOR, Role.SHIFT_LEADER, Role.LEADER),
}
PUBLIC_ROLE = "public"
DISPATCHABLE_KINDS = (DepartmentKind.GOVERNMENT, DepartmentKind.SOCIAL_UNIT,
                      DepartmentKind.COLLABORATION_PLATFORM)
COLLABORATION_RETURNS = 2  # a case returned this often goes to the collaboration platform (M-20)
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_TEXT = 4000  # as Open311 allows for descriptions


def now_() -> datetime:
    """The time actions record (one place, so tests can set the clock)."""
    return timezone.now()


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


# --- Errors -----------------------------------------------------------------------------------


def _state_details(case: Case, **extra: Any) -> dict[str, Any]:
    return {"case": case.number, "state": case.state, "version": case.version, **extra}


def _translate(case: Case, exc: TransitionError) -> DomainError:
    details = _state_details(case, **exc.details)
    if exc.code == TransitionError.NOT_ALLOWED_IN_STATE:
        return Conflict(f"Case {case.number} is in state {case.state} (version {case.version}): "
                        f"{exc.message}.", code=exc.code, details=details)
    if exc.code == TransitionError.ROLE_NOT_ALLOWED:
        return PermissionDenied(exc.message, code=exc.code, details=details)
    if exc.code == TransitionError.MISSING_INPUT:
        details["fields"] = exc.details.get("missing", [])
        return ValidationFailed(exc.message, code=exc.code, details=details)
    return ValidationFailed(exc.message, code=exc.code, details=details)


def _invalid(code: str, message: str, field: str, **extra: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code, details={"field": field, **extra})


# --- Loading and checking -----------------------------------------------------------------------


def _lock(case_id: int | str) -> Case:
    qs = Case.objects.select_for_update(of=("self",)).select_related("category", "holder_department")
    try:
        if isinstance(case_id, str):
            return qs.get(number=case_id)
        return qs.get(pk=case_id)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No case {case_id}.", code="case_not_found",
                       details={"case": str(case_id)}) from None


def _check_version(case: Case, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != case.version:
        raise Conflict(
            f"Case {case.number} changed meanwhile: it is now in state {case.state} "
            f"(version {case.version}, you had version {expected_version}).",
            code="case_changed", details=_state_details(case, expected_version=expected_version),
        )


def _case_area(case: Case) -> Area:
    return case.community or case.street or case.district


def _in_scope(actor: AnyUser, role: str, case: Case) -> bool:
    if role in DEPARTMENT_ROLES:
        return case.holder_department is not None and can_act(
            actor, role, department=case.holder_department)
    return can_act(actor, role, area=_case_area(case))


def _scope_error(actor: AnyUser, role: str, case: Case) -> PermissionDenied:
    if role in DEPARTMENT_ROLES:
        where = case.holder_department.name if case.holder_department else "no department"
        message = f"Your {role} role does not cover {where}, which holds case {case.number}."
    else:
        message = f"Your {role} role does not cover {case.district.name}, where case {case.number} lies."
    return PermissionDenied(message, code="out_of_scope", details=_state_details(case, role=role))


def _resolve_role(actor: AnyUser, case: Case, operation: Operation, role: str | None) -> str:
    """The role to act in: the one asked for (it must be held), else the first the actor holds
    that the transition allows and whose scope covers the case."""
    process = get_process(case.process)
    state = State(case.state)
    allowed = sorted({r.value for t in process.transitions_from(state)
                      if t.operation is operation for r in t.roles} - {Role.SYSTEM.value})
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("Sign in to act on cases.", code="not_authenticated")
    if role is not None:
        if role == Role.SYSTEM:
            raise PermissionDenied("Nobody may act as the system.", code="role_not_held")
        if not is_superuser(actor) and role not in roles_of(actor):
            raise PermissionDenied(f"You do not hold the role {role}.", code="role_not_held",
                                   details=_state_details(case, role=role))
        return role
    if not allowed:  # the operation is impossible in this state: let the process say so
        return ""
    if is_superuser(actor):
        return allowed[0]
    held = [r for r in allowed if r in roles_of(actor)]
    for candidate in held:
        if _in_scope(actor, candidate, case):
            return candidate
    if held:
        raise _scope_error(actor, held[0], case)
    raise PermissionDenied(
        f"{operation.value} in state {case.state} needs one of the roles {', '.join(allowed)}; "
        "you hold none of them.", code="role_not_allowed",
        details=_state_details(case, allowed_roles=allowed),
    )


# --- Time limits ---------------------------------------------------------------------------------


def _supervision_calendar() -> Any:
    from citygrid.calendars.services import default_calendar, find_calendar

    return find_calendar("supervision") or default_calendar()


def _calendar_for(case: Case, step: str) -> Any:
    if step in CENTRE_STEPS or case.holder_department is None:
        return _supervision_calendar()
    dept = case.holder_department
    return dept.calendar if dept.calendar_id else None


def _limit_for(case: Case, step: str) -> Duration | None:
    # One action asks for the same limit more than once (dispatch: the handle step and the
    # handling limit); remember the answers for the action's duration.
    memo: dict[tuple[Any, ...], Duration | None] = _memo(case, "limits")
    key = (case.category_id, step, case.urgency)
    if key not in memo:
        memo[key] = _lookup_limit(case, step)
    return memo[key]


def _lookup_limit(case: Case, step: str) -> Duration | None:
    from citygrid.catalog.selectors import handling_limit, step_limit

    for urgency in URGENCY_FALLBACK.get(case.urgency, ("ordinary",)):
        if step == Step.HANDLE:
            found = handling_limit(case.category, urgency)
        else:
            found = step_limit(case.category.standard, step, urgency)
        if found is not None:
            return found
    return None


def _memo(case: Case, name: str) -> dict[Any, Any]:
    """A dictionary that lives on the case object for the current action."""
    found: dict[Any, Any] | None = case.__dict__.get(f"_memo_{name}")
    if found is None:
        found = {}
        case.__dict__[f"_memo_{name}"] = found
    return found


def _is_new(case: Case) -> bool:
    """Created by the running action (not yet in the database, or inserted by it)."""
    return bool(case.__dict__.get("_created_now"))


def _pauses(case: Case, now: datetime) -> list[tuple[datetime, datetime]]:
    if case.pk is None or _is_new(case) or not (case.suspended or case.overall_started_at):
        return []  # only a case that was with a department can have been suspended
    return [(p.start, p.end or now) for p in CasePause.objects.filter(case=case)]


@dataclass(frozen=True)
class _Computed:
    deadline: datetime
    warn_at: datetime
    provisional: bool


def _deadline(calendar: Any, start: datetime, limit: str, extensions: Sequence[str],
              pauses: Sequence[tuple[datetime, datetime]]) -> _Computed:
    if pauses:
        return _compute(calendar, start, limit, extensions, pauses)
    # A batch's new cases start together: one computation per calendar and limit.
    key = ("deadline", calendar.pk if calendar is not None else None, start, limit, tuple(extensions))
    return remembered(key, lambda: _compute(calendar, start, limit, extensions, ()))


def _compute(calendar: Any, start: datetime, limit: str, extensions: Sequence[str],
             pauses: Sequence[tuple[datetime, datetime]]) -> _Computed:
    from citygrid.calendars.services import compute_deadline, working_elapsed

    durations = [parse_duration(limit), *(parse_duration(e) for e in extensions)]
    at, provisional = start, False
    for duration in durations:
        result = compute_deadline(calendar, at, duration, pauses, explained=False)
        at, provisional = result.at, provisional or result.provisional
    if any(d.unit.counts_working_time for d in durations):
        total = working_elapsed(calendar, start, at, pauses).total_seconds()
        share = Duration(_decimal(total * 0.8 / 3600), Unit.WORKING_HOURS)
    else:
        paused = sum(((min(b, at) - max(a, start)).total_seconds() for a, b in pauses
                      if b > start and a < at), 0.0)
        share = Duration(_decimal(((at - start).total_seconds() - paused) * 0.8 / 60), Unit.MINUTES)
    warn = compute_deadline(calendar, start, share, pauses, explained=False).at
    return _Computed(at, min(warn, at), provisional)


def _decimal(value: float) -> Decimal:
    return Decimal(str(max(value, 0.0))).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _recompute(case: Case, now: datetime) -> None:
    """Step and handling deadlines from their starts, limits, extensions and pauses."""
    pauses = _pauses(case, now)
    provisional = False
    if case.step and case.step_started_at and case.step_limit:
        step = _deadline(_calendar_for(case, case.step), case.step_started_at, case.step_limit,
                         case.step_extensions, pauses)
        case.step_deadline, case.step_warn_at = step.deadline, step.warn_at
        provisional = step.provisional
    else:
        case.step_deadline = case.step_warn_at = None
    if case.overall_started_at and case.overall_limit:
        overall = _deadline(_calendar_for(case, Step.HANDLE), case.overall_started_at,
                            case.overall_limit, case.overall_extensions, pauses)
        case.overall_deadline, case.overall_warn_at = overall.deadline, overall.warn_at
        provisional = provisional or overall.provisional
    case.deadline_provisional = provisional


def _start_step(case: Case, step: str, at: datetime) -> None:
    case.step, case.step_started_at = step, at
    case.step_extensions = []
    if _is_new(case):  # intake: only the step the case ends in needs its limit (_settle_step)
        case.step_limit = ""
        case.__dict__["_step_unsettled"] = True
        return
    limit = _limit_for(case, step)
    case.step_limit = str(limit) if limit is not None else ""


def _settle_step(case: Case) -> None:
    if case.__dict__.pop("_step_unsettled", False) and case.step:
        limit = _limit_for(case, case.step)
        case.step_limit = str(limit) if limit is not None else ""


def _stop_clock(case: Case) -> None:
    case.step, case.step_started_at, case.step_limit = "", None, ""
    case.step_extensions, case.step_deadline, case.step_warn_at = [], None, None


def _handling_running(case: Case) -> bool:
    return case.state in (CaseState.DISPATCHED, CaseState.HANDLING,
                          CaseState.POSTPONEMENT_REQUESTED)


def level_of(case: Case, now: datetime | None = None) -> str:
    """The case's traffic-light level now (see refresh_overdue_levels for the bulk form)."""
    now = now or now_()
    if case.state in FINAL_STATES:
        return OverdueLevel.NONE
    if case.state == CaseState.SUSPENDED:
        return case.overdue_level
    spans = [(case.step_started_at, case.step_warn_at, case.step_deadline)]
    if _handling_running(case):
        spans.append((case.overall_started_at, case.overall_warn_at, case.overall_deadline))
    worst = Level.NONE
    order = [Level.NONE, Level.GREEN, Level.YELLOW, Level.RED]
    for start, warn, deadline in spans:
        if start is None or deadline is None or warn is None:
            continue
        if now > deadline:
            level = Level.RED
        elif now >= warn:
            level = Level.YELLOW
        else:
            level = Level.GREEN
        worst = max(worst, level, key=order.index)
    return worst.value


# --- History ----------------------------------------------------------------------------------


def _json_safe(inputs: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(history.canonical_json(inputs))
    return result


def event_payload(event: CaseEvent, number: str) -> dict[str, Any]:
    """What an event's hash covers (also used by verify_history)."""
    return {
        "case": number, "seq": event.seq, "operation": event.operation,
        "actor": event.actor_id, "role": event.role, "at": history.canonical_time(event.at),
        "from": event.from_state, "to": event.to_state, "inputs": event.inputs,
    }


def _event(case: Case, operation: str, actor: AnyUser | None, role: str, from_state: str,
           inputs: Mapping[str, Any], at: datetime) -> CaseEvent:
    """The next event of the case's chain, in memory: the case's head moves to its hash."""
    event = CaseEvent(
        case=case, seq=case.version, operation=operation,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_name=(actor.get_username() if getattr(actor, "is_authenticated", False) and actor else ""),
        role=role, at=at, from_state=from_state, to_state=case.state, inputs=_json_safe(inputs),
        prev_hash=case.history_head or history.GENESIS,
    )
    event.hash = history.event_hash(event.prev_hash, event_payload(event, case.number))
    case.history_head = event.hash
    return event


# --- The operation engine ------------------------------------------------------------------------

Effect = Callable[[Case, Transition, datetime], Mapping[str, Any] | None]


def _operate(actor: AnyUser, case_id: int | str, operation: Operation, *,
             expected_version: int | None, role: str | None, inputs: Mapping[str, Any],
             recorded: Mapping[str, Any] | None = None, effect: Effect | None = None) -> Case:
    with _delete_files_on_failure(), transaction.atomic(), calendar_snapshot():
        case = _lock(case_id)
        _check_version(case, expected_version)
        acting = _resolve_role(actor, case, operation, role)
        try:
            transition = check_transition(case.process, case.state, operation, acting, inputs)
        except TransitionError as exc:
            raise _translate(case, exc) from None
        if not _in_scope(actor, acting, case):
            raise _scope_error(actor, acting, case)
        _apply(case, transition, actor, acting, recorded or {}, effect)
    return case


def _apply(case: Case, transition: Transition, actor: AnyUser | None, role: str,
           recorded: Mapping[str, Any], effect: Effect | None,
           at: datetime | None = None) -> CaseEvent:
    at = at or now_()
    event = _advance(case, transition, actor, role, recorded, effect, at)
    _recompute(case, at)
    case.overdue_level = level_of(case, at)
    event.save(force_insert=True)
    case.save()
    _after_event(case, event)
    return event


def _advance(case: Case, transition: Transition, actor: AnyUser | None, role: str,
             recorded: Mapping[str, Any], effect: Effect | None, at: datetime) -> CaseEvent:
    """The transition's effects on the case in memory and its chained event, not yet saved.
    The deadlines and the level are the caller's to recompute once all transitions of the
    action are applied (they depend on the final state only)."""
    from_state = case.state
    due = case.step_deadline if case.step_started_at and case.step_started_at < at else None
    extra = effect(case, transition, at) if effect else None
    assert transition.target is not None
    case.state = transition.target.value
    if transition.starts is not None:
        _start_step(case, transition.starts, at)
    if case.state in FINAL_STATES:
        _stop_clock(case)
    case.closed_at = at if case.state == CaseState.CLOSED else None
    case.version += 1
    case.updated_at = at
    event = _event(case, transition.operation.value, actor, role, from_state,
                   {**recorded, **(extra or {})}, at)
    event.step_due_at = due  # the step this operation ended (assessment's on-time figures)
    return event


def _after_event(case: Case, event: CaseEvent) -> None:
    """Rows made during the effect that point at the event (photos, copies) get linked:
    stored rows are updated, new ones (copies) inserted with the link in one statement."""
    pending = getattr(case, "_pending_links", [])
    new = []
    for row in pending:
        row.event = event
        if row.pk is None:
            new.append(row)
        else:
            row.save(update_fields=["event"])
    if new:
        CaseCopy.objects.bulk_create(new)
    case._pending_links = []  # type: ignore[attr-defined]


def _link_later(case: Case, row: Any) -> None:
    pending = getattr(case, "_pending_links", [])
    pending.append(row)
    case._pending_links = pending  # type: ignore[attr-defined]


# --- Inputs -----------------------------------------------------------------------------------


def _text(value: Any, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise _invalid("missing_input", f"{field} is required.", field)
    if len(text) > limit:
        raise _invalid("too_long", f"{field} is longer than {limit} characters.", field)
    return text


def _department(ref: DepartmentRef | None, field: str = "department") -> Department:
    if ref is None or ref == "":
        raise _invalid("missing_input", f"{field} is required.", field)
    if isinstance(ref, Department):
        dept = ref
    else:
        qs = Department.objects.select_related("calendar", "area")
        found = (qs.filter(pk=ref).first() if isinstance(ref, int)
                 else qs.filter(code=str(ref)).first())
        if found is None:
            raise _invalid("department_not_found", f"No department {ref}.", field, value=str(ref))
        dept = found
    if not dept.active:
        raise _invalid("department_inactive", f"{dept.name} is not active.", field, value=dept.code)
    if dept.kind not in DISPATCHABLE_KINDS:
        raise _invalid("department_not_dispatchable",
                       f"{dept.name} is a {dept.get_kind_display()}; cases go to handling "
                       "departments or the collaboration platform.", field, value=dept.code)
    return dept


def _extension(text: Any) -> str:
    if isinstance(text, Duration):
        return str(text)
    try:
        duration = parse_duration(_text(text, "extension", required=True, limit=40))
    except DurationError as exc:
        raise _invalid("invalid_extension", str(exc), "extension") from None
    if duration.amount <= 0:
        raise _invalid("invalid_extension", "an extension must be longer than zero", "extension")
    return str(duration)


def _read_photo(data: PhotoInput) -> bytes:
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if hasattr(data, "read"):
        if hasattr(data, "seek"):
            data.seek(0)
        content = data.read()
        if isinstance(content, bytes):
            return content
    raise TypeError("a photo is bytes or a file opened in binary mode")


@dataclass(frozen=True)
class CheckedPhoto:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int


def check_photo(data: PhotoInput, field: str = "photo") -> CheckedPhoto:
    """Read and check a photo: a real JPEG/PNG/WebP by its content, within the size and
    dimension limits (settings CASES_PHOTO_MAX_BYTES, CASES_PHOTO_MIN_SIDE,
    CASES_PHOTO_MAX_SIDE)."""
    from PIL import Image, UnidentifiedImageError

    try:
        content = _read_photo(data)
    except TypeError as exc:
        raise _invalid("invalid_photo", str(exc), field) from None
    max_bytes = _setting("CASES_PHOTO_MAX_BYTES", 10 * 1024 * 1024)
    if not content:
        raise _invalid("invalid_photo", "The photo is empty.", field)
    if len(content) > max_bytes:
        raise _invalid("photo_too_large", f"The photo has {len(content)} bytes; at most {max_bytes}.",
                       field, size=len(content), max_bytes=max_bytes)
    try:
        with Image.open(io.BytesIO(content)) as img:
            fmt, (width, height) = img.format or "", img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _invalid("invalid_photo", "The file is not a readable JPEG, PNG or WebP image.",
                       field) from None
    if fmt not in PHOTO_FORMATS:
        raise _invalid("invalid_photo", f"{fmt or 'This'} images are not accepted; send JPEG, PNG "
                       "or WebP.", field, format=fmt)
    min_side = _setting("CASES_PHOTO_MIN_SIDE", 64)
    max_side = _setting("CASES_PHOTO_MAX_SIDE", 10000)
    if min(width, height) < min_side or max(width, height) > max_side:
        raise _invalid("photo_dimensions", f"The photo is {width}×{height}; each side must be "
                       f"{min_side}–{max_side} pixels.", field, width=width, height=height)
    return CheckedPhoto(content, PHOTO_FORMATS[fmt], fmt.lower().replace("jpeg", "jpg"), width, height)


_SAVED_FILES: ContextVar[list[tuple[Any, str]] | None] = ContextVar("saved_photo_files",
                                                                     default=None)


@contextmanager
def _delete_files_on_failure() -> Iterator[None]:
    """Photo files saved inside the block are deleted again when it raises: its transaction
    rolled back, so no row refers to them (wrap it around the `transaction.atomic`)."""
    outer = _SAVED_FILES.get()
    saved: list[tuple[Any, str]] = []
    token = _SAVED_FILES.set(saved)
    try:
        yield
    except BaseException:
        for storage, name in saved:
            with suppress(OSError):  # the storage is failing anyway; an orphan file is harmless
                storage.delete(name)
        raise
    else:
        if outer is not None:  # nested: the enclosing block's failure must remove them too
            outer.extend(saved)
    finally:
        _SAVED_FILES.reset(token)


def _store_photo(case: Case, photo: CheckedPhoto, kind: str, at: datetime) -> Photo:
    row = Photo(case=case, kind=kind, content_type=photo.content_type, size=len(photo.content),
                width=photo.width, height=photo.height,
                sha256=hashlib.sha256(photo.content).hexdigest(), uploaded_at=at)
    try:
        row.file.save(f"{case.number}-{kind}-{uuid.uuid4().hex[:12]}.{photo.extension}",
                      ContentFile(photo.content), save=False)
    except OSError as exc:
        raise StorageUnavailable("Photos cannot be stored now; try again later. Nothing was "
                                 "recorded.") from exc
    saved = _SAVED_FILES.get()
    if saved is not None:
        saved.append((row.file.storage, row.file.name))
    row.save()
    _link_later(case, row)
    return row


# --- Helpers for holders and copies -------------------------------------------------------------


def _command_centre(case: Case) -> Department | None:
    memo = _memo(case, "centre")
    if case.district_id not in memo:
        memo[case.district_id] = remembered(("centre", case.district_id), lambda: (
            Department.objects.filter(kind=DepartmentKind.COMMAND_CENTRE,
                                      area_id=case.district_id, active=True)
            .order_by("code").first()))
    found: Department | None = memo[case.district_id]
    return found


def _to_centre(case: Case) -> None:
    case.holder_department = _command_centre(case)
    case.holder_person = None


def _send_copies(case: Case, departments: Iterable[Department], at: datetime,
                 kind: str = CopyKind.COPY) -> list[str]:
    codes = []
    for dept in departments:  # inserted with the event's link once the event is stored
        _link_later(case, CaseCopy(case=case, department=dept, kind=kind, sent_at=at))
        codes.append(dept.code)
    return codes


def _check_reach(actor: AnyUser, target: Department, copied: Sequence[Department]) -> None:
    """A case is sent (and copied) only to departments its sender may see: their own
    district's and the city's, never another district's."""
    if actor is None or is_superuser(actor):
        return
    wanted = [("department", target), *(("copies", d) for d in copied)]
    reachable = set(visible_departments(actor).filter(pk__in=[d.pk for _, d in wanted])
                    .values_list("pk", flat=True))
    for field, dept in wanted:
        if dept.pk not in reachable:
            raise PermissionDenied(f"{dept.name} ({dept.code}) is outside your scope.",
                                   code="department_out_of_scope",
                                   details={"field": field, "department": dept.code})


def _returns_by(case: Case, department: Department) -> int:
    return CaseEvent.objects.filter(case=case, operation=Operation.RETURN,
                                    inputs__department=department.code).count()


def _flag_collaboration(case: Case, reason: str) -> None:
    if not case.needs_collaboration:
        case.needs_collaboration = True
        case.collaboration_reason = reason


def _hand_to(case: Case, department: Department, at: datetime) -> None:
    """Give the case to a department; the handling limit starts at the first dispatch."""
    case.holder_department = department
    case.holder_person = None
    if case.overall_started_at is None:
        limit = _limit_for(case, Step.HANDLE)
        case.overall_started_at = at
        case.overall_limit = str(limit) if limit is not None else ""
        case.overall_extensions = []
    if _is_new(case):  # a case reported in this action has no pauses and no returns yet
        return
    _end_collaboration_pause(case, at)
    if _returns_by(case, department) >= 1:
        _flag_collaboration(case, f"dispatched again to {department.code}, which returned it before")


# --- Reporting ----------------------------------------------------------------------------------


def _validate_report(source: str, kind: str, urgency: str, lon: Any, lat: Any) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    if source not in Source.values:
        problems.append({"field": "source", "message": f"unknown source {source!r}",
                         "allowed": list(Source.values)})
    if kind not in KINDS:
        problems.append({"field": "kind", "message": f"kind must be component or event, not {kind!r}"})
    if urgency not in URGENCIES:
        problems.append({"field": "urgency", "message": f"urgency must be one of {', '.join(URGENCIES)}"})
    for name, value in (("lon", lon), ("lat", lat)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append({"field": name, "message": f"{name} must be a number"})
    return problems


def _reporting_role(actor: AnyUser, source: str, role: str | None) -> str:
    allowed = REPORTING_ROLES.get(source, ())
    if role is not None:
        if role == PUBLIC_ROLE and source == Source.PUBLIC:
            return role
        if role not in allowed:
            raise PermissionDenied(f"A {source} report is made by {', '.join(allowed)}, not {role}.",
                                   code="role_not_allowed", details={"role": role, "source": source})
        if not is_superuser(actor) and role not in roles_of(actor):
            raise PermissionDenied(f"You do not hold the role {role}.", code="role_not_held",
                                   details={"role": role})
        return role
    held = roles_of(actor)
    for candidate in allowed:
        if candidate in held or is_superuser(actor):
            return candidate
    if source == Source.PUBLIC:
        return PUBLIC_ROLE
    raise PermissionDenied(f"A {source} report needs one of the roles {', '.join(allowed)}.",
                           code="role_not_allowed", details={"source": source, "allowed_roles": list(allowed)})


def _allocate_numbers(district_codes: Sequence[str], at: datetime) -> list[str]:
    """A case number for each district code, in order: district + date + sequence."""
    day = timezone.localtime(at).date()
    wanted: dict[str, int] = {}
    for code in district_codes:
        wanted[code] = wanted.get(code, 0) + 1
    # One upsert per district (PostgreSQL and SQLite): the counter row stays locked by this
    # transaction until it ends, so concurrent reports of a district and day queue on it;
    # districts in code order, so that two batches never wait on each other crosswise.
    meta, quote = CaseCounter._meta, connection.ops.quote_name
    table = quote(meta.db_table)
    column = {name: quote(meta.get_field(name).column) for name in ("district_code", "day", "last")}
    sql = (f"INSERT INTO {table} ({column['district_code']}, {column['day']}, {column['last']}) "
           f"VALUES (%s, %s, %s) ON CONFLICT ({column['district_code']}, {column['day']}) "
           f"DO UPDATE SET {column['last']} = {table}.{column['last']} + EXCLUDED.{column['last']} "
           f"RETURNING {column['last']}")
    following: dict[str, Iterator[int]] = {}
    with connection.cursor() as cursor:
        for code in sorted(wanted):
            cursor.execute(sql, [code, connection.ops.adapt_datefield_value(day), wanted[code]])
            last = int(cursor.fetchone()[0])
            following[code] = iter(range(last - wanted[code] + 1, last + 1))
    return [f"{code}{day:%Y%m%d}{next(following[code]):05d}" for code in district_codes]


def _self_handling_office(actor: AnyUser, role: str, source: str, street: Area | None,
                          routed: Department | None) -> Department | None:
    """The reporter's own street office, when street staff report inside their remit (M-11):
    in their street, and of a class the rules give that office there. Anything else they
    report goes upwards like any other report."""
    if source != Source.STREET_STAFF or role != Role.STREET_STAFF or street is None:
        return None
    person = remembered(("person", actor.pk), lambda: Person.objects.filter(
        user_id=actor.pk).select_related("department").first())
    office = person.department if person else None
    if office is None or office.level != "street" or office.area_id != street.pk or not office.active:
        return None
    if routed is None or routed.pk != office.pk:
        return None
    return office


def _check_component(kind: str, category_code: str, component_id: str, uninventoried: bool) -> None:
    """A reported component is in the inventory and of the reported class (its minor or fine
    class); an uninventoried one is a component report without an id."""
    if uninventoried and (component_id or kind != "component"):
        raise ValidationFailed("An uninventoried report is of kind component, without a component id.",
                               code="invalid_report", details=[{
                                   "field": "component_id" if component_id else "kind",
                                   "message": "an uninventoried component has no id and is of kind component"}])
    if not component_id:
        return
    from citygrid.catalog.models import Category
    from citygrid.inventory.selectors import component_by_code

    try:
        component = component_by_code(component_id)
    except NotFound:
        raise _invalid("component_not_found", f"No component {component_id} in the inventory.",
                       "component_id", value=component_id) from None
    cls = component.category
    family = {cls.code} | ({cls.parent.code} if cls.parent is not None and cls.parent.level != "major" else set())
    if kind != "component" or (category_code not in family and not Category.objects.filter(
            parent_id=cls.pk, code=category_code).exists()):
        raise _invalid("component_class_mismatch", f"Component {component_id} is a {cls.code} "
                       f"{cls.name}, not of class {category_code}.", "component_id",
                       value=component_id, component_class=cls.code)


@dataclass(frozen=True)
class ReportFields:
    """What a reporter says: one report, as the API and the pages take it."""

    source: str
    kind: str
    category_code: str
    lon: Any
    lat: Any
    crs: str = "wgs84"
    address: str = ""
    description: str = ""
    urgency: str = "ordinary"
    component_id: str = ""
    uninventoried: bool = False


def report_case(
    actor: AnyUser, *, source: str, kind: str, category_code: str, lon: float, lat: float,
    crs: str = "wgs84", address: str = "", description: str = "", urgency: str = "ordinary",
    component_id: str = "", photos: Sequence[PhotoInput] = (), idempotency_key: str | None = None,
    role: str | None = None, uninventoried: bool = False,
) -> Case:
    """A report becomes a case: geocoded, routed, numbered, and for the flat and special
    processes filed and dispatched at once. A retry with the same idempotency key by the same
    reporter returns the first case and creates nothing. A `component_id` must name a
    component of the reported class in the inventory; `uninventoried` (a component the
    inventory lacks) puts the place on the survey team's list in the same transaction."""
    with remembering():  # the reference reads of this report, each once
        return _report_one(actor, ReportFields(
            source=source, kind=kind, category_code=category_code, lon=lon, lat=lat, crs=crs,
            address=address, description=description, urgency=urgency,
            component_id=component_id, uninventoried=bool(uninventoried)),
            photos, idempotency_key, role)


def _report_one(actor: AnyUser, raw: ReportFields, photos: Sequence[PhotoInput],
                idempotency_key: str | None, role: str | None) -> Case:
    _must_be_signed_in(actor)
    key = _text(idempotency_key, "idempotency_key", limit=100) or None
    if key is not None:
        existing = Case.objects.filter(reporter_id=actor.pk, idempotency_key=key).first()
        if existing is not None:
            return existing
    fields = _checked_fields(raw)
    acting = _reporting_role(actor, fields.source, role)
    checked = [check_photo(p, f"photos[{i}]") for i, p in enumerate(photos)]
    try:
        with _delete_files_on_failure(), transaction.atomic(), calendar_snapshot():
            plan = _plan_report(actor, acting, fields)
            at = now_()
            number = _allocate_numbers([plan.district.code], at)[0]
            built = _build_case(actor, acting, fields, plan, number=number, at=at, key=key,
                                photo_hashes=[hashlib.sha256(p.content).hexdigest() for p in checked])
            case = _store_new_cases([built])[0]
            stored = [_store_photo(case, photo, PhotoKind.BEFORE, at) for photo in checked]
            _after_event(case, built.events[0][0])
            case._prefetched_objects_cache["photos"] = _known(  # type: ignore[attr-defined]
                case.photos.all(), stored)
            _flag_uninventoried(actor, case, fields)
            return case
    except IntegrityError:
        if key is not None:
            existing = Case.objects.filter(reporter_id=actor.pk, idempotency_key=key).first()
            if existing is not None:
                return existing
        raise


def _must_be_signed_in(actor: AnyUser) -> None:
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("Sign in to report.", code="not_authenticated")


def _checked_fields(fields: ReportFields) -> ReportFields:
    """The report's own inputs checked (no database but the component's), texts trimmed."""
    problems = _validate_report(fields.source, fields.kind, fields.urgency, fields.lon, fields.lat)
    if problems:
        raise ValidationFailed("; ".join(p["message"] for p in problems), code="invalid_report",
                               details=problems)
    component_id = _text(fields.component_id, "component_id", limit=32)
    _check_component(fields.kind, fields.category_code, component_id, fields.uninventoried)
    return replace(fields, lon=float(fields.lon), lat=float(fields.lat), component_id=component_id,
                   address=_text(fields.address, "address", limit=300),
                   description=_text(fields.description, "description"))


def _flag_uninventoried(actor: AnyUser, case: Case, fields: ReportFields) -> None:
    if fields.uninventoried:
        from citygrid.inventory.actions import flag_for_survey

        flag_for_survey(actor, category=case.category, lon=case.lon, lat=case.lat,
                        case_number=case.number)


# --- Batch intake --------------------------------------------------------------------------------

MAX_BATCH = 500


@dataclass(frozen=True)
class BatchReport:
    fields: ReportFields
    idempotency_key: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class BatchItem:
    """One report of a batch: its case (`created` or, for a repeated key, the existing one),
    or the error that kept it out."""

    case: Case | None
    created: bool
    error: DomainError | None = None


def report_cases(actor: AnyUser, reports: Sequence[BatchReport]) -> list[BatchItem]:
    """Many reports of one reporter at once (a phone's offline queue, a feed from a district
    system or the hotline): each is checked, geocoded, routed, numbered, filed and dispatched
    exactly as `report_case` does, in one transaction. A report with an error is left out with
    its error and the others go in; a key seen before returns its existing case. The shared
    reference reads (classes, rules, departments, limits, roles) happen once per batch and the
    rows are written with a handful of statements, which is what makes a feed fast."""
    _must_be_signed_in(actor)
    if not reports:
        raise _invalid("empty_batch", "A batch needs at least one report.", "reports")
    if len(reports) > MAX_BATCH:
        raise _invalid("batch_too_large", f"A batch holds at most {MAX_BATCH} reports, "
                       f"not {len(reports)}.", "reports", limit=MAX_BATCH)
    items: dict[int, BatchItem] = {}
    keys = _batch_keys(reports, items)
    try:
        with transaction.atomic(), calendar_snapshot(), remembering(batch=True):
            existing = {c.idempotency_key: c for c in Case.objects.filter(
                reporter_id=actor.pk, idempotency_key__in=[k for k in keys.values() if k])}
            planned = _plan_batch(actor, reports, keys, existing, items)
            _build_batch(actor, planned, keys, items)
    except IntegrityError:
        # A retry of the same keys committed meanwhile: one report at a time, each idempotent.
        return [_one_by_one(actor, report) for report in reports]
    return [items[i] for i in range(len(reports))]


def _batch_keys(reports: Sequence[BatchReport], items: dict[int, BatchItem]) -> dict[int, str | None]:
    keys: dict[int, str | None] = {}
    seen: set[str] = set()
    for i, report in enumerate(reports):
        try:
            key = _text(report.idempotency_key, f"reports[{i}].idempotency_key", limit=100) or None
        except DomainError as exc:
            items[i] = BatchItem(None, False, exc)
            continue
        if key is not None and key in seen:
            items[i] = BatchItem(None, False, _invalid(
                "duplicate_idempotency_key", f"Idempotency key {key!r} appears twice in the batch.",
                f"reports[{i}].idempotency_key"))
            continue
        if key is not None:
            seen.add(key)
        keys[i] = key
    return keys


def _plan_batch(actor: AnyUser, reports: Sequence[BatchReport], keys: Mapping[int, str | None], existing: Mapping[str, Case],
                items: dict[int, BatchItem]) -> list[tuple[int, ReportFields, str, _Plan]]:
    planned = []
    _remember_areas(reports[i].fields for i, key in keys.items() if not (key and key in existing))
    for i, key in keys.items():
        if key and key in existing:
            items[i] = BatchItem(existing[key], False)
            continue
        try:
            fields = _checked_fields(reports[i].fields)
            acting = _reporting_role(actor, fields.source, reports[i].role)
            planned.append((i, fields, acting, _plan_report(actor, acting, fields)))
        except DomainError as exc:
            items[i] = BatchItem(None, False, exc)
    return planned


def _build_batch(actor: AnyUser, planned: Sequence[tuple[int, ReportFields, str, _Plan]],
                 keys: Mapping[int, str | None], items: dict[int, BatchItem]) -> None:
    at = now_()
    numbers = _allocate_numbers([plan.district.code for _, _, _, plan in planned], at)
    built = [_build_case(actor, acting, fields, plan, number=number, at=at, key=keys[i])
             for (i, fields, acting, plan), number in zip(planned, numbers, strict=True)]
    cases = _store_new_cases(built)
    for (i, fields, _, _), case in zip(planned, cases, strict=True):
        _flag_uninventoried(actor, case, fields)
        items[i] = BatchItem(case, True)


def _one_by_one(actor: AnyUser, report: BatchReport) -> BatchItem:
    key, fields = report.idempotency_key, report.fields
    try:
        seen = bool(key) and Case.objects.filter(reporter_id=actor.pk, idempotency_key=key).exists()
        case = report_case(actor, **{f: getattr(fields, f) for f in ReportFields.__dataclass_fields__},
                           idempotency_key=key, role=report.role)
        return BatchItem(case, not seen)
    except DomainError as exc:
        return BatchItem(None, False, exc)


# --- Intake, step by step ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """Where a report lies, who must handle it, and by which process (read only)."""

    location: Any
    areas: dict[str, Area]
    district: Area
    answer: Any
    office: Department | None
    process: ProcessName
    urgency: str


def _area_codes(location: Any) -> tuple[str, ...]:
    return tuple(c for c in (location.community.code, location.street.code,
                             location.district.code) if c)


def _load_areas(codes: Iterable[str]) -> dict[str, Area]:
    """These areas with their parents up to the city, in one query (scope checks walk the
    chain; routing needs the city), without their boundaries, which nothing here reads."""
    chain = ("parent", "parent__parent", "parent__parent__parent")
    return _with_parents(Area.objects.select_related(*chain).defer(
        "geometry", *(f"{c}__geometry" for c in chain)).filter(code__in=list(codes)))


def _with_parents(areas: Iterable[Area]) -> dict[str, Area]:
    """The areas and their loaded parents, by code."""
    found: dict[str, Area] = {}
    for area in areas:
        node: Area | None = area
        while node is not None:
            found.setdefault(node.code, node)
            node = node.parent if Area.parent.is_cached(node) else None
    return found


def _areas_of(location: Any) -> dict[str, Area]:
    codes = _area_codes(location)
    return remembered(("areas", codes), lambda: _load_areas(codes))


def _remember_areas(reports: Iterable[ReportFields]) -> None:
    """A batch's areas in one query, remembered for each report's `_areas_of`."""
    from citygrid.space.geocoding import locate

    wanted = set()
    for fields in reports:
        with suppress(DomainError, TypeError, ValueError):
            wanted.add(_area_codes(locate(float(fields.lon), float(fields.lat), fields.crs)))
    loaded = _load_areas({c for codes in wanted for c in codes})
    for codes in wanted:
        mine = _with_parents(loaded[c] for c in codes if c in loaded)
        remembered(("areas", codes), lambda mine=mine: mine)


def _plan_report(actor: AnyUser, role: str, fields: ReportFields) -> _Plan:
    from citygrid.org.services import route
    from citygrid.space.geocoding import locate

    location = locate(fields.lon, fields.lat, fields.crs)
    areas = _areas_of(location)
    district = areas.get(location.district.code)
    if district is None:
        raise ValidationFailed("The point lies in no district under supervision.",
                               code="outside_coverage", details={"field": "lon"})
    place = areas.get(location.community.code) or areas.get(location.street.code) or district
    if role != PUBLIC_ROLE and not can_act(actor, role, area=place):
        raise PermissionDenied(f"Your {role} role does not cover {place.name} ({district.name}).",
                               code="out_of_scope", details={"role": role, "district": district.code})
    answer = route(fields.category_code, fields.kind, location.lon, location.lat,
                   source=fields.source, urgency=fields.urgency,
                   component_id=fields.component_id or None, location=location, with_limits=False,
                   areas=areas)
    category = answer.category
    if category.level == "major":
        raise _invalid("category_too_coarse", f"{category.code} {category.name} is a major class; "
                       "report a minor or fine class.", "category_code")
    levels = category.urgency_levels or ["ordinary", "urgent"]
    urgency = fields.urgency
    if urgency not in levels and not (urgency == "emergency" and category.is_emergency):
        raise _invalid("urgency_not_allowed", f"{category.name} admits the urgencies "
                       f"{', '.join(levels)}, not {urgency}.", "urgency", allowed=levels)
    office = _self_handling_office(actor, role, fields.source, areas.get(location.street.code),
                                   answer.department)
    process = choose_process(answer.process, fields.source, self_handle=office is not None)
    if process in (ProcessName.MANHOLE_COVER_EMERGENCY, ProcessName.EMERGENCY):
        urgency = "emergency"
    return _Plan(location, areas, district, answer, office, process, urgency)


@dataclass(frozen=True)
class _Built:
    case: Case
    events: list[tuple[CaseEvent, list[Any]]]


def _build_case(actor: AnyUser, role: str, fields: ReportFields, plan: _Plan, *, number: str,
                at: datetime, key: str | None, photo_hashes: Sequence[str] = ()) -> _Built:
    """The new case in memory with its events (and for the automatic processes, filed and
    dispatched), its deadlines and level computed: nothing stored yet."""
    location, areas, answer = plan.location, plan.areas, plan.answer
    category, process = answer.category, plan.process
    initial = get_process(process).initial
    case = Case(
        number=number, process=process.value, state=initial.value, source=fields.source,
        kind=fields.kind, category=category, urgency=plan.urgency, lon=location.lon,
        lat=location.lat, address=fields.address,
        grid=_known_grid(location), community=areas.get(location.community.code),
        street=areas.get(location.street.code),
        district=plan.district, component_id=fields.component_id, description=fields.description,
        reporter=actor, reporter_role=role, routed_department=plan.office or answer.department,
        idempotency_key=key or "", created_at=at, updated_at=at, version=1,
    )
    case.__dict__["_created_now"] = True
    if initial in (State.TO_FILE, State.TO_DISPATCH) and process not in AUTOMATIC:
        case.holder_department = _command_centre(case)
    _start_step(case, Step.VERIFY if initial is State.TO_VERIFY else Step.FILE, at)
    events = [(_event(case, "report", actor, role, "", {
        "source": fields.source, "kind": fields.kind, "category": category.code,
        "urgency": plan.urgency, "lon": location.lon, "lat": location.lat, "crs": fields.crs,
        "grid": location.grid_code, "address": fields.address, "description": fields.description,
        "component_id": fields.component_id, "process": process.value,
        "routed_department": case.routed_department.code if case.routed_department else "",
        "rule": answer.rule.code if answer.rule else "",
        "filing_condition": category.filing_condition, "photos": list(photo_hashes),
        **({"uninventoried": True} if fields.uninventoried else {}),
    }, at), [])]
    if process in AUTOMATIC:
        events += _automatic_filing(case, plan.office or answer.department, answer.copies, at)
    # The deadlines depend on the final state only: computed once.
    _settle_step(case)
    _recompute(case, at)
    case.overdue_level = level_of(case, at)
    return _Built(case, events)


def _known_grid(location: Any) -> UnitGrid:
    """The point's grid as far as geocoding knows it (id and code; the rest loads on use)."""
    return UnitGrid.from_db(connection.alias, ["id", "code"], [location.grid_id, location.grid_code])


def _store_new_cases(built: Sequence[_Built]) -> list[Case]:
    """One INSERT for the cases (each head already its last event's hash), one for all their
    events and one for the copies the events sent; the cases answer without reading back."""
    cases = [b.case for b in built]
    Case.objects.bulk_create(cases)
    CaseEvent.objects.bulk_create([event for b in built for event, _ in b.events])
    linked: dict[int, list[Any]] = {}
    for b in built:
        for event, rows in b.events:
            for row in rows:
                row.event = event
                linked.setdefault(id(b.case), []).append(row)
    if linked:
        CaseCopy.objects.bulk_create([row for rows in linked.values() for row in rows])
    for case in cases:
        case._prefetched_objects_cache = {  # type: ignore[attr-defined]
            "photos": _known(case.photos.all(), []),
            "copies": _known(case.copies.all(), linked.get(id(case), []))}
        for name in ("_created_now", "_memo_limits", "_memo_centre", "_step_unsettled"):
            case.__dict__.pop(name, None)
    return cases


def _known(queryset: Any, rows: list[Any]) -> Any:
    """`queryset` with its result already known (as prefetch_related leaves it)."""
    queryset._result_cache = rows
    queryset._prefetch_done = True
    return queryset


def _automatic_filing(case: Case, department: Department, copies: Sequence[Department],
                      at: datetime) -> list[tuple[CaseEvent, list[Any]]]:
    """The system files and dispatches (flat and special processes, M-15, M-16): the two
    transitions applied in memory; the caller stores the case, the events and the copies."""
    process = get_process(case.process)
    filing = check_transition(process, case.state, Operation.FILE, Role.SYSTEM)
    filed = _advance(case, filing, None, Role.SYSTEM, {}, None, at)
    dispatching = check_transition(process, case.state, Operation.DISPATCH, Role.SYSTEM,
                                   {"department": department.code})
    alert = case.process in (ProcessName.MANHOLE_COVER_EMERGENCY, ProcessName.EMERGENCY)

    def effect(c: Case, t: Transition, when: datetime) -> dict[str, Any]:
        _hand_to(c, department, when)
        sent = _send_copies(c, [d for d in copies if d.pk != department.pk], when)
        alerted: list[str] = []
        centre = _command_centre(c) if alert else None
        if centre is not None:
            alerted = _send_copies(c, [centre], when, CopyKind.ALERT)
        return {"department": department.code, "copies": sent, "alerts": alerted}

    dispatched = _advance(case, dispatching, None, Role.SYSTEM, {}, effect, at)
    rows = list(getattr(case, "_pending_links", []))
    case._pending_links = []  # type: ignore[attr-defined]
    return [(filed, []), (dispatched, rows)]


# --- Operations -------------------------------------------------------------------------------


def verify_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                role: str | None = None, note: str = "") -> Case:
    """An inspector confirms a public report on site; it goes on to filing."""
    note = _text(note, "note")
    return _operate(actor, case_id, Operation.VERIFY, expected_version=expected_version,
                    role=role, inputs={}, recorded={"note": note})


def file_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
              role: str | None = None, note: str = "") -> Case:
    note = _text(note, "note")
    return _operate(actor, case_id, Operation.FILE, expected_version=expected_version, role=role,
                    inputs={}, recorded={"note": note})


def reject_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                role: str | None = None, reason: str = "") -> Case:
    reason = _text(reason, "reason")
    return _operate(actor, case_id, Operation.REJECT, expected_version=expected_version, role=role,
                    inputs={"reason": reason}, recorded={"reason": reason})


def merge_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
               role: str | None = None, duplicate_of: int | str | None = None,
               reason: str = "") -> Case:
    """Mark the case a duplicate of another (linked; nothing is deleted)."""
    reason = _text(reason, "reason")

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        target = _merge_target(case, duplicate_of)
        case.duplicate_of = target
        return {"duplicate_of": target.number}

    return _operate(actor, case_id, Operation.MERGE, expected_version=expected_version, role=role,
                    inputs={"duplicate_of": duplicate_of}, recorded={"reason": reason},
                    effect=effect)


def _merge_target(case: Case, ref: int | str | None) -> Case:
    qs = Case.objects.all()
    target = (qs.filter(number=ref).first() if isinstance(ref, str)
              else qs.filter(pk=ref).first())
    if target is None:
        raise _invalid("case_not_found", f"No case {ref} to merge into.", "duplicate_of")
    while target.duplicate_of_id is not None:  # merge into the original, never a chain
        target = Case.objects.get(pk=target.duplicate_of_id)
    if target.pk == case.pk:
        raise _invalid("merge_into_itself", "A case cannot be a duplicate of itself.", "duplicate_of")
    if target.state in (CaseState.REJECTED, CaseState.VOIDED):
        raise _invalid("merge_target_invalid", f"Case {target.number} is {target.state}.",
                       "duplicate_of")
    if target.district_id != case.district_id:
        raise _invalid("merge_target_elsewhere", f"Case {target.number} lies in another district.",
                       "duplicate_of")
    return target


def dispatch_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                  role: str | None = None, department: DepartmentRef | None = None,
                  copies: Sequence[DepartmentRef] = (), note: str = "") -> Case:
    """Send the case to its handling department, with copies to others (M-17)."""
    note = _text(note, "note")
    target = _department(department) if department not in (None, "") else None
    copied = [_department(c, "copies") for c in copies]

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        assert target is not None
        _check_reach(actor, target, copied)
        _hand_to(case, target, at)
        sent = _send_copies(case, [d for d in copied if d.pk != target.pk], at)
        return {"department": target.code, "copies": sent}

    return _operate(actor, case_id, Operation.DISPATCH, expected_version=expected_version,
                    role=role, inputs={"department": target.code if target else None},
                    recorded={"note": note}, effect=effect)


def return_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                role: str | None = None, reason: str = "") -> Case:
    """The department sends the case back to the dispatcher (M-18); a second return flags it
    for the collaboration platform (M-20)."""
    reason = _text(reason, "reason")

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        returned_by = case.holder_department
        case.return_count += 1
        if case.return_count >= COLLABORATION_RETURNS:
            _flag_collaboration(case, f"returned {case.return_count} times")
        _to_centre(case)
        return {"department": returned_by.code if returned_by else ""}

    return _operate(actor, case_id, Operation.RETURN, expected_version=expected_version, role=role,
                    inputs={"reason": reason}, recorded={"reason": reason}, effect=effect)


def redispatch_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                    role: str | None = None, department: DepartmentRef | None = None,
                    copies: Sequence[DepartmentRef] = (), reason: str = "") -> Case:
    """Take the case from its department and send it to another."""
    reason = _text(reason, "reason")
    target = _department(department) if department not in (None, "") else None
    copied = [_department(c, "copies") for c in copies]

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        assert target is not None
        _check_reach(actor, target, copied)
        previous = case.holder_department
        if previous is not None and previous.pk == target.pk:
            raise _invalid("same_department", f"Case {case.number} is already with {target.name}.",
                           "department")
        _hand_to(case, target, at)
        sent = _send_copies(case, [d for d in copied if d.pk != target.pk], at)
        return {"department": target.code, "from_department": previous.code if previous else "",
                "copies": sent}

    return _operate(actor, case_id, Operation.REDISPATCH, expected_version=expected_version,
                    role=role, inputs={"department": target.code if target else None,
                                       "reason": reason},
                    recorded={"reason": reason}, effect=effect)


def accept_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                role: str | None = None, note: str = "") -> Case:
    """The department takes the case up (签收); the accepting person holds it."""
    note = _text(note, "note")

    def effect(case: Case, t: Transition, at: datetime) -> None:
        case.holder_person = Person.objects.filter(user_id=actor.pk).first()

    return _operate(actor, case_id, Operation.ACCEPT, expected_version=expected_version, role=role,
                    inputs={}, recorded={"note": note}, effect=effect)


def feedback_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                  role: str | None = None, after_photo: PhotoInput | None = None,
                  note: str = "", more_photos: Sequence[PhotoInput] = ()) -> Case:
    """The department reports the handling done, with the after photo."""
    note = _text(note, "note")
    checked = check_photo(after_photo, "after_photo") if after_photo is not None else None
    extra = [check_photo(p, f"more_photos[{i}]") for i, p in enumerate(more_photos)]

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        assert checked is not None
        rows = [_store_photo(case, p, PhotoKind.AFTER, at) for p in [checked, *extra]]
        return {"photos": [r.sha256 for r in rows]}

    return _operate(actor, case_id, Operation.FEEDBACK, expected_version=expected_version,
                    role=role, inputs={"after_photo": checked}, recorded={"note": note},
                    effect=effect)


def request_postponement(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                         role: str | None = None, reason: str = "",
                         extension: str | Duration = "") -> Case:
    """Ask for more time, e.g. extension="2 working days"."""
    reason = _text(reason, "reason")
    wanted = _extension(extension) if str(extension).strip() else ""

    def effect(case: Case, t: Transition, at: datetime) -> None:
        case.pending_extension = wanted

    return _operate(actor, case_id, Operation.REQUEST_POSTPONEMENT,
                    expected_version=expected_version, role=role,
                    inputs={"reason": reason, "extension": wanted},
                    recorded={"reason": reason, "extension": wanted}, effect=effect)


def approve_postponement(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                         role: str | None = None, note: str = "") -> Case:
    """Grant the extension asked for: the step and handling limits grow by it."""
    note = _text(note, "note")

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        granted = case.pending_extension
        if case.step == Step.HANDLE:
            case.step_extensions = [*case.step_extensions, granted]
        if case.overall_started_at is not None:
            case.overall_extensions = [*case.overall_extensions, granted]
        case.postponed, case.pending_extension = True, ""
        return {"extension": granted}

    return _operate(actor, case_id, Operation.APPROVE_POSTPONEMENT,
                    expected_version=expected_version, role=role, inputs={},
                    recorded={"note": note}, effect=effect)


def refuse_postponement(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                        role: str | None = None, reason: str = "") -> Case:
    reason = _text(reason, "reason")

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        refused, case.pending_extension = case.pending_extension, ""
        return {"extension": refused}

    return _operate(actor, case_id, Operation.REFUSE_POSTPONEMENT,
                    expected_version=expected_version, role=role, inputs={"reason": reason},
                    recorded={"reason": reason}, effect=effect)


def suspend_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                 role: str | None = None, reason: str = "") -> Case:
    """Shelve the case (挂账): its clock stops until it is resumed."""
    reason = _text(reason, "reason")

    def effect(case: Case, t: Transition, at: datetime) -> None:
        CasePause.objects.create(case=case, start=at)
        case.suspended = True

    return _operate(actor, case_id, Operation.SUSPEND, expected_version=expected_version,
                    role=role, inputs={"reason": reason}, recorded={"reason": reason},
                    effect=effect)


def resume_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                role: str | None = None, note: str = "") -> Case:
    """Take a suspended case up again; its limits move by the time it stood still."""
    note = _text(note, "note")

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        pause = CasePause.objects.filter(case=case, end__isnull=True).order_by("-start").first()
        paused = ""
        if pause is not None:
            pause.end = at
            pause.save(update_fields=["end"])
            paused = str(at - pause.start)
        case.suspended = False
        return {"paused": paused}

    return _operate(actor, case_id, Operation.RESUME, expected_version=expected_version, role=role,
                    inputs={}, recorded={"note": note}, effect=effect)


def check_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
               role: str | None = None, passed: bool | None = None, reason: str = "",
               photos: Sequence[PhotoInput] = ()) -> Case:
    """The inspector's on-site check (or the shift leader's review in the flat process):
    passed, or failed (rework, counted)."""
    if not isinstance(passed, bool):
        raise _invalid("missing_input", "passed (true or false) is required.", "passed")
    reason = _text(reason, "reason")
    checked = [check_photo(p, f"photos[{i}]") for i, p in enumerate(photos)]
    operation = Operation.CHECK_PASS if passed else Operation.CHECK_FAIL

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        rows = [_store_photo(case, p, PhotoKind.AFTER, at) for p in checked]
        if not passed:
            case.rework_count += 1
        return {"passed": passed, "photos": [r.sha256 for r in rows]}

    return _operate(actor, case_id, operation, expected_version=expected_version, role=role,
                    inputs={"reason": reason}, recorded={"reason": reason}, effect=effect)


def close_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
               role: str | None = None, note: str = "", component_state: str = "") -> Case:
    """`component_state` (e.g. intact) is set on the case's component in the inventory."""
    note = _text(note, "note")
    component_state = _text(component_state, "component_state", limit=20)

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        if not component_state:
            return {}
        if not case.component_id:
            raise _invalid("no_component", f"Case {case.number} names no component.", "component_state")
        from citygrid.inventory.actions import set_component_state

        set_component_state(actor, case.component_id, component_state, case_number=case.number)
        return {"component_state": component_state}

    return _operate(actor, case_id, Operation.CLOSE, expected_version=expected_version, role=role,
                    inputs={}, recorded={"note": note}, effect=effect)


def void_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
              role: str | None = None, reason: str = "") -> Case:
    """Cancel a case recorded in error; it stays, marked void."""
    reason = _text(reason, "reason")

    def effect(case: Case, t: Transition, at: datetime) -> None:
        _close_pause(case, at)

    return _operate(actor, case_id, Operation.VOID, expected_version=expected_version, role=role,
                    inputs={"reason": reason}, recorded={"reason": reason}, effect=effect)


def _close_pause(case: Case, at: datetime) -> None:
    if case.suspended:
        CasePause.objects.filter(case=case, end__isnull=True).update(end=at)
        case.suspended = False


def urge_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
              role: str | None = None, message: str = "") -> Case:
    """A reminder to whoever holds the case (催办); the state does not change."""
    message = _text(message, "message")

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        case.urge_count += 1
        return {"holder": case.holder_department.code if case.holder_department else ""}

    return _operate(actor, case_id, Operation.URGE, expected_version=expected_version, role=role,
                    inputs={}, recorded={"message": message}, effect=effect)


def supervise_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                   role: str | None = None, reason: str = "") -> Case:
    """Escalate (督办): the supervision level rises by one; the state does not change."""
    reason = _text(reason, "reason")

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        case.supervision_level += 1
        return {"level": case.supervision_level}

    return _operate(actor, case_id, Operation.SUPERVISE, expected_version=expected_version,
                    role=role, inputs={"reason": reason}, recorded={"reason": reason},
                    effect=effect)


def reopen_case(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                role: str | None = None, reason: str = "") -> Case:
    """A closed case goes back to dispatch; a rejected report back to filing."""
    reason = _text(reason, "reason")

    def effect(case: Case, t: Transition, at: datetime) -> None:
        _to_centre(case)

    return _operate(actor, case_id, Operation.REOPEN, expected_version=expected_version, role=role,
                    inputs={"reason": reason}, recorded={"reason": reason}, effect=effect)


# --- Collaboration platform (M-19, M-20) ----------------------------------------------------------

COLLABORATION_PAUSE = "collab"  # CasePause.kind: the handling clock stands still at the platform
# How a case reached the platform (recorded as `entry` in the event's inputs).
ENTRY_SENT = "sent"  # the dispatcher or the coordinator sent it for ownership confirmation
ENTRY_NOT_OURS = "not_ours"  # the holding department returned it as not its own


def _end_collaboration_pause(case: Case, at: datetime) -> None:
    if case.pk is not None:
        CasePause.objects.filter(case=case, kind=COLLABORATION_PAUSE, end__isnull=True).update(end=at)


def _enter_collaboration(case: Case, at: datetime, entry: str, reason: str) -> dict[str, Any]:
    """The platform holds the case; the step clock stops and the handling clock pauses."""
    from citygrid.org.selectors import collaboration_platform

    previous = case.holder_department
    case.holder_department = collaboration_platform()
    case.holder_person = None
    if entry == ENTRY_NOT_OURS:
        case.return_count += 1
    _stop_clock(case)
    if case.overall_started_at is not None and not CasePause.objects.filter(
            case=case, kind=COLLABORATION_PAUSE, end__isnull=True).exists():
        CasePause.objects.create(case=case, kind=COLLABORATION_PAUSE, start=at)
    case.needs_collaboration = True
    case.collaboration_reason = f"{entry}: {reason}"[:200]
    return {"entry": entry, "department": previous.code if previous else ""}


def send_to_collaboration(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                          role: str | None = None, reason: str = "") -> Case:
    """The dispatcher (or the coordinator) sends the case to the collaboration platform for
    ownership confirmation (M-19)."""
    reason = _text(reason, "reason")

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        return _enter_collaboration(case, at, ENTRY_SENT, reason)

    return _operate(actor, case_id, Operation.SEND_TO_COLLABORATION,
                    expected_version=expected_version, role=role, inputs={"reason": reason},
                    recorded={"reason": reason}, effect=effect)


def return_as_not_ours(actor: AnyUser, case_id: int | str, *, expected_version: int | None = None,
                       role: str | None = None, reason: str = "") -> Case:
    """The holding department returns the case as not its own: it goes to the collaboration
    platform rather than back to the dispatcher (M-20); counted as a return."""
    reason = _text(reason, "reason")

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        return _enter_collaboration(case, at, ENTRY_NOT_OURS, reason)

    return _operate(actor, case_id, Operation.SEND_TO_COLLABORATION,
                    expected_version=expected_version, role=role, inputs={"reason": reason},
                    recorded={"reason": reason}, effect=effect)


def send_to_collaboration_automatically(case_id: int | str, *, entry: str, reason: str) -> Case:
    """The system sends the case to the platform (the collaboration sweep: no rule matched,
    returned or re-dispatched too often, overdue and left alone). Role `system`, no actor."""
    reason = _text(reason, "reason", required=True)
    with transaction.atomic(), calendar_snapshot():
        case = _lock(case_id)
        try:
            transition = check_transition(case.process, case.state,
                                          Operation.SEND_TO_COLLABORATION, Role.SYSTEM,
                                          {"reason": reason})
        except TransitionError as exc:
            raise _translate(case, exc) from None

        def effect(c: Case, t: Transition, at: datetime) -> dict[str, Any]:
            return _enter_collaboration(c, at, entry, reason)

        _apply(case, transition, None, Role.SYSTEM, {"reason": reason}, effect)
    return case


def dispatch_after_collaboration(actor: AnyUser, case_id: int | str, *,
                                 expected_version: int | None = None, role: str | None = None,
                                 department: DepartmentRef | None = None,
                                 copies: Sequence[DepartmentRef] = (),
                                 decision: Mapping[str, Any] | None = None) -> Case:
    """The coordinator dispatches the case to the owner the platform confirmed, with the
    decision attached (recorded in the event); the handling clock runs on."""
    target = _department(department) if department not in (None, "") else None
    copied = [_department(c, "copies") for c in copies]
    attached = dict(decision or {})

    def effect(case: Case, t: Transition, at: datetime) -> dict[str, Any]:
        assert target is not None
        _check_reach(actor, target, copied)
        _hand_to(case, target, at)
        case.needs_collaboration = False
        sent = _send_copies(case, [d for d in copied if d.pk != target.pk], at)
        return {"department": target.code, "copies": sent}

    return _operate(actor, case_id, Operation.DISPATCH, expected_version=expected_version,
                    role=role, inputs={"department": target.code if target else None},
                    recorded={"decision": attached}, effect=effect)


# --- Sweeps ------------------------------------------------------------------------------------


def _record_rises(to_red: Any, to_yellow: Any, now: datetime) -> None:
    """A reminder for each case about to turn red or yellow, in the sweep's transaction;
    a rise already recorded (a concurrent or repeated sweep) is not recorded again."""
    fields = ("pk", "holder_department_id", "step", "step_started_at", "overall_started_at")
    rows = [Reminder(case_id=pk, level=level, holder_department_id=holder, created_at=now,
                     key=f"{level}:{step}:{_iso(step_at)}:{_iso(overall_at)}")
            for level, qs in ((OverdueLevel.RED, to_red), (OverdueLevel.YELLOW, to_yellow))
            for pk, holder, step, step_at, overall_at in qs.values_list(*fields)]
    Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)


def _iso(at: datetime | None) -> str:
    return at.isoformat(timespec="seconds") if at else "-"


def deliver_reminders(send: Callable[[Reminder], None], limit: int = 5000) -> list[Reminder]:
    """Hand the recorded, undelivered reminders to `send` and mark them delivered, oldest
    first; rows another sweep is delivering are skipped (PostgreSQL), not sent twice."""
    with transaction.atomic():
        pending = Reminder.objects.filter(delivered_at__isnull=True).select_related(
            "case", "holder_department").order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True, of=("self",))
        batch = list(pending[:limit])
        for reminder in batch:
            send(reminder)
        Reminder.objects.filter(pk__in=[r.pk for r in batch]).update(delivered_at=now_())
    return batch


def _level_rules(now: datetime) -> tuple[Any, Q, Q, Q]:
    """The running cases, and which of them are red, yellow, or limited at all, at `now`."""
    running = Case.objects.exclude(state__in=[*FINAL_STATES, CaseState.SUSPENDED])
    handling = Q(state__in=[CaseState.DISPATCHED, CaseState.HANDLING,
                            CaseState.POSTPONEMENT_REQUESTED])
    red = Q(step_deadline__lt=now) | (handling & Q(overall_deadline__lt=now))
    yellow = Q(step_warn_at__lte=now) | (handling & Q(overall_warn_at__lte=now))
    limited = Q(step_deadline__isnull=False) | (handling & Q(overall_deadline__isnull=False))
    return running, red, yellow, limited


def _rises(now: datetime) -> tuple[Any, Any]:
    running, red, yellow, _ = _level_rules(now)
    return (running.filter(red).exclude(overdue_level=OverdueLevel.RED),
            running.filter(yellow).exclude(red).filter(
                overdue_level__in=[OverdueLevel.NONE, OverdueLevel.GREEN]))


def about_to_rise(now: datetime) -> dict[int, str]:
    """The cases a sweep at `now` raises to red or yellow: case id → level (read only)."""
    to_red, to_yellow = _rises(now)
    found = dict.fromkeys(to_yellow.values_list("pk", flat=True), OverdueLevel.YELLOW.value)
    found.update(dict.fromkeys(to_red.values_list("pk", flat=True), OverdueLevel.RED.value))
    return found


def refresh_overdue_levels(now: datetime | None = None) -> int:
    """Recompute the traffic-light level of every open, running case in a few bulk updates;
    returns how many cases changed level."""
    now = now or now_()
    running, red, yellow, limited = _level_rules(now)
    changed = 0
    with transaction.atomic():
        _record_rises(*_rises(now), now)
        changed += running.filter(red).exclude(overdue_level=OverdueLevel.RED).update(
            overdue_level=OverdueLevel.RED)
        changed += running.filter(yellow).exclude(red).exclude(
            overdue_level=OverdueLevel.YELLOW).update(overdue_level=OverdueLevel.YELLOW)
        changed += running.filter(limited).exclude(red).exclude(yellow).exclude(
            overdue_level=OverdueLevel.GREEN).update(overdue_level=OverdueLevel.GREEN)
        changed += running.exclude(limited).exclude(overdue_level=OverdueLevel.NONE).update(
            overdue_level=OverdueLevel.NONE)
        changed += Case.objects.filter(state__in=FINAL_STATES).exclude(
            overdue_level=OverdueLevel.NONE).update(overdue_level=OverdueLevel.NONE)
    return changed
