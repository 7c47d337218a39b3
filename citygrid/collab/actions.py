"""The only code that changes the collaboration platform's records (M-19, M-20, M-21).

Each action is one transaction with its permission check. The case itself moves only through
the case engine's actions (citygrid.cases.actions): `send_to_collaboration`,
`return_as_not_ours`, `send_to_collaboration_automatically` bring it in;
`dispatch_after_collaboration` sends it to the confirmed owner.

Who may do what:
- the collaboration coordinator (role collaboration_coordinator, scope covering the case's
  place) runs the desk: invites units, records, decides, convenes and holds meetings;
- a unit's people (department_head, handler or street_staff whose scope covers the invited
  department) answer their invitations and comment on the dossiers they were invited to;
- the dispatcher sends cases in; the holding department returns a case as not its own (each
  side only through its own door: CENTRE_SENDERS, DEPARTMENT_SENDERS);
- a coordinator involves (invites, names as owner, copies) only departments it sees.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from citygrid.calendars.domain.durations import DurationError, parse_duration
from citygrid.cases import actions as case_actions
from citygrid.cases.domain.processes import State
from citygrid.cases.models import Case, CaseEvent, CaseState
from citygrid.collab.models import (
    AgendaItem,
    Answer,
    Decision,
    Dossier,
    DossierStatus,
    Entry,
    Invitation,
    Meeting,
    MeetingStatus,
    PresenceSpan,
    Record,
    RecordKind,
    RecordPhoto,
    Via,
)
from citygrid.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationFailed
from citygrid.org.models import (
    Department,
    DepartmentKind,
    Person,
    Process,
    ResponsibilityRule,
    Role,
)
from citygrid.org.scoping import (
    AnyUser,
    can_act,
    holds_role,
    is_superuser,
    roles_of,
    visible_departments,
)
from citygrid.space.models import Area

log = logging.getLogger("citygrid.collab")

COORDINATOR = Role.COLLABORATION_COORDINATOR
IN_COLLABORATION = State.IN_COLLABORATION.value  # (cases.models.CaseState lacks it so far)
UNIT_ROLES = (Role.DEPARTMENT_HEAD, Role.HANDLER, Role.STREET_STAFF)
# The two doors into the platform: the centre sends a case for ownership confirmation; the
# holding department returns it as not its own (counted as its return). Each door is for its
# own roles, so that neither side books the other's kind of entry.
CENTRE_SENDERS = (Role.DISPATCHER, Role.COLLABORATION_COORDINATOR)
DEPARTMENT_SENDERS = (Role.HANDLER, Role.DEPARTMENT_HEAD, Role.STREET_STAFF)
INVITABLE_KINDS = (DepartmentKind.GOVERNMENT, DepartmentKind.SOCIAL_UNIT)
ENTRY_STATES = (CaseState.TO_DISPATCH, CaseState.DISPATCHED, CaseState.HANDLING)
MAX_TEXT = 4000

DEFAULTS: dict[str, Any] = {
    "COLLAB_ANSWER_LIMIT": "1 working day",  # time a unit has to answer an invitation
    "COLLAB_MAX_TRANSFERS": 2,  # more returns + re-dispatches than this: to the platform
    "COLLAB_OVERDUE_HOURS": 24,  # overdue by more than this and left alone: to the platform
    "COLLAB_PRESENCE_GAP_SECONDS": 300,  # heartbeats further apart start a new presence span
    "COLLAB_HEARTBEAT_SECONDS": 60,  # a heartbeat counts its person online for this long
}


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def now_() -> datetime:
    return timezone.now()


# --- Checks ---------------------------------------------------------------------------------


def _text(value: Any, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ValidationFailed(f"{field} is required.", code="missing_input",
                               details={"field": field})
    if len(text) > limit:
        raise ValidationFailed(f"{field} is longer than {limit} characters.", code="too_long",
                               details={"field": field})
    return text


def _authenticated(actor: AnyUser) -> None:
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("Sign in to use the collaboration platform.",
                               code="not_authenticated")


def case_area(case: Case) -> Area:
    return case.community or case.street or case.district


def is_coordinator_for(actor: AnyUser, case: Case) -> bool:
    return can_act(actor, COORDINATOR, area=case_area(case))


def _require_coordinator(actor: AnyUser, case: Case | None = None) -> None:
    _authenticated(actor)
    if case is None:
        if holds_role(actor, COORDINATOR):
            return
        raise PermissionDenied("Only a collaboration coordinator may do this.",
                               code="not_coordinator")
    if not is_coordinator_for(actor, case):
        raise PermissionDenied(f"You are not a collaboration coordinator for case {case.number}.",
                               code="not_coordinator", details={"case": case.number})


def is_member_of(actor: AnyUser, department: Department) -> bool:
    return any(can_act(actor, role, department=department) for role in UNIT_ROLES)


def _department(ref: Department | int | str | None, field: str = "department") -> Department:
    if ref is None or ref == "":
        raise ValidationFailed(f"{field} is required.", code="missing_input",
                               details={"field": field})
    if isinstance(ref, Department):
        return ref
    qs = Department.objects.select_related("calendar", "area")
    found = qs.filter(pk=ref).first() if isinstance(ref, int) else qs.filter(code=str(ref)).first()
    if found is None:
        raise ValidationFailed(f"No department {ref}.", code="department_not_found",
                               details={"field": field, "value": str(ref)})
    return found


def _unit(ref: Department | int | str | None, field: str = "department") -> Department:
    dept = _department(ref, field)
    if not dept.active:
        raise ValidationFailed(f"{dept.name} is not active.", code="department_inactive",
                               details={"field": field, "value": dept.code})
    if dept.kind not in INVITABLE_KINDS:
        raise ValidationFailed(
            f"{dept.name} is a {dept.get_kind_display()}; only handling departments and social "
            "units can own a case.", code="not_a_collaborating_unit",
            details={"field": field, "value": dept.code})
    return dept


def _within_reach(actor: AnyUser, units: Sequence[Department], field: str) -> None:
    """A coordinator involves only units it sees (its areas' and the city's above them): a
    district's coordinator does not invite another district's units, nor hand them a case."""
    if is_superuser(actor):
        return
    ids = {u.pk for u in units}
    seen = set(visible_departments(actor).filter(pk__in=ids).values_list("pk", flat=True))
    for unit in units:
        if unit.pk not in seen:
            raise PermissionDenied(f"{unit.name} lies outside your scope.",
                                   code="department_out_of_scope",
                                   details={"field": field, "value": unit.code})


def _lock_dossier(dossier_id: int) -> Dossier:
    try:
        return (Dossier.objects.select_for_update(of=("self",))
                .select_related("case", "case__district", "case__street", "case__community")
                .get(pk=dossier_id))
    except (Dossier.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No dossier {dossier_id}.", code="dossier_not_found",
                       details={"dossier": str(dossier_id)}) from None


def _require_open(dossier: Dossier) -> None:
    if dossier.status != DossierStatus.OPEN:
        raise Conflict(f"The dossier of case {dossier.case.number} is {dossier.status}.",
                       code="dossier_closed",
                       details={"dossier": dossier.pk, "status": dossier.status})


# --- Entry (M-19, M-20) --------------------------------------------------------------------------


def _entry_of(case: Case) -> tuple[str, str, Department | None]:
    """Why and from where the case came in, read from its last send_to_collaboration event."""
    event = (CaseEvent.objects.filter(case=case, operation="send_to_collaboration")
             .order_by("-seq").first())
    if event is None:
        return Entry.SENT, "", None
    inputs = event.inputs or {}
    entry = str(inputs.get("entry", Entry.SENT))
    if entry not in Entry.values:
        entry = Entry.SENT
    code = str(inputs.get("department", "") or "")
    dept = Department.objects.filter(code=code).first() if code else None
    return entry, str(inputs.get("reason", "")), dept


def ensure_dossier(case: Case) -> Dossier:
    """The open dossier of a case at the platform; made from the case's entry event if there
    is none (a case sent in through the case engine directly)."""
    found = Dossier.objects.filter(case=case, status=DossierStatus.OPEN).first()
    if found is not None:
        return found
    if case.state != IN_COLLABORATION:
        raise Conflict(f"Case {case.number} is not at the collaboration platform.",
                       code="not_in_collaboration",
                       details={"case": case.number, "state": case.state})
    entry, reason, dept = _entry_of(case)
    return Dossier.objects.create(case=case, entry=entry, reason=reason, from_department=dept,
                                  opened_at=case.updated_at or now_())


def _sending_role(actor: AnyUser, case_id: int | str, role: str | None,
                  allowed: Sequence[str]) -> str:
    """The role to send the case in: the one asked for, if this door admits it; else the first
    of the door's roles the actor may send this case in (the case engine checks the rest)."""
    if role is not None:
        if role not in allowed:
            raise PermissionDenied(f"This is for the roles {', '.join(allowed)}, not {role}.",
                                   code="role_not_allowed",
                                   details={"role": role, "allowed_roles": list(allowed)})
        return role
    _authenticated(actor)
    if is_superuser(actor):
        return allowed[0]
    held = [r for r in allowed if r in roles_of(actor)]
    if not held:
        raise PermissionDenied(f"This needs one of the roles {', '.join(allowed)}.",
                               code="role_not_allowed", details={"allowed_roles": list(allowed)})
    from citygrid.cases.selectors import allowed_operations

    lookup = {"pk": case_id} if isinstance(case_id, int) else {"number": case_id}
    case = Case.objects.select_related("district", "street", "community",
                                       "holder_department").filter(**lookup).first()
    if case is not None:
        for operation, candidate in allowed_operations(actor, case):
            if operation == "send_to_collaboration" and candidate in held:
                return candidate
    return held[0]


def send_case(actor: AnyUser, case_id: int | str, *, reason: str,
              expected_version: int | None = None, role: str | None = None) -> Dossier:
    """The dispatcher (or coordinator) sends a case for ownership confirmation."""
    reason = _text(reason, "reason", required=True)
    role = _sending_role(actor, case_id, role, CENTRE_SENDERS)
    with transaction.atomic():
        case = case_actions.send_to_collaboration(actor, case_id, expected_version=expected_version,
                                                  role=role, reason=reason)
        return ensure_dossier(case)


def return_not_ours(actor: AnyUser, case_id: int | str, *, reason: str,
                    expected_version: int | None = None, role: str | None = None) -> Dossier:
    """The holding department returns the case as not its own (reason kind "not_ours")."""
    reason = _text(reason, "reason", required=True)
    role = _sending_role(actor, case_id, role, DEPARTMENT_SENDERS)
    with transaction.atomic():
        case = case_actions.return_as_not_ours(actor, case_id, expected_version=expected_version,
                                               role=role, reason=reason)
        return ensure_dossier(case)


def _last_exit(case_ids: Iterable[int]) -> dict[int, datetime]:
    rows = (CaseEvent.objects.filter(case_id__in=list(case_ids), operation="dispatch",
                                     from_state=IN_COLLABORATION)
            .values_list("case_id", "at"))
    last: dict[int, datetime] = {}
    for case_id, at in rows:
        if case_id not in last or at > last[case_id]:
            last[case_id] = at
    return last


def _candidates(now: datetime) -> list[tuple[int, str, str]]:
    """(case id, entry, reason) of the cases the sweep sends in, each once, in entry order."""
    open_ = Case.objects.filter(state__in=ENTRY_STATES)
    found: dict[int, tuple[str, str]] = {}
    platform = Q(kind=DepartmentKind.COLLABORATION_PLATFORM)
    platforms = Department.objects.filter(platform).values("id")
    for pk in open_.filter(Q(state=CaseState.TO_DISPATCH, routed_department__in=platforms)
                           | Q(state=CaseState.DISPATCHED, holder_department__in=platforms)
                           ).values_list("id", flat=True):
        found.setdefault(pk, (Entry.NO_RULE, "no responsibility rule matched this class and place"))
    for pk, why in open_.filter(needs_collaboration=True).values_list("id", "collaboration_reason"):
        found.setdefault(pk, (Entry.FLAGGED, why or "flagged for the collaboration platform"))
    limit = int(setting("COLLAB_MAX_TRANSFERS"))
    moved = (open_.annotate(moves=Count("events", filter=Q(events__operation__in=["return", "redispatch"])))
             .filter(moves__gt=limit).values_list("id", flat=True))
    moved_ids = [pk for pk in moved if pk not in found]
    exits = _last_exit(moved_ids)
    for pk in moved_ids:
        events = CaseEvent.objects.filter(case_id=pk, operation__in=["return", "redispatch"])
        if pk in exits:
            events = events.filter(at__gt=exits[pk])
        count = events.count()
        if count > limit:
            found.setdefault(pk, (Entry.TRANSFERS, f"returned or re-dispatched {count} times"))
    cutoff = now - timedelta(hours=float(setting("COLLAB_OVERDUE_HOURS")))
    for pk in open_.filter(suspended=False, step_deadline__lt=cutoff).values_list("id", flat=True):
        found.setdefault(pk, (Entry.OVERDUE, f"overdue by more than {setting('COLLAB_OVERDUE_HOURS')} hours"))
    return [(pk, entry, reason) for pk, (entry, reason) in found.items()]


def sweep_into_collaboration(now: datetime | None = None) -> int:
    """Send to the platform every case that must go there on its own (M-20): routed to the
    platform (no rule matched) and filed, or dispatched to it; flagged by the case engine
    (returned twice, re-dispatched to a department that returned it); returned or re-dispatched
    more than COLLAB_MAX_TRANSFERS times since it last left the platform; overdue by more than
    COLLAB_OVERDUE_HOURS. Also opens the missing dossier of any case already at the platform and
    cancels the open dossier of a case that left it without a decision (e.g. voided).
    Each case in its own transaction; returns how many cases were sent in."""
    now = now or now_()
    sent = 0
    for pk, entry, reason in _candidates(now):
        try:
            with transaction.atomic():
                case = case_actions.send_to_collaboration_automatically(pk, entry=entry, reason=reason)
                ensure_dossier(case)
            sent += 1
        except DomainError as exc:  # the case moved on meanwhile: the next sweep looks again
            log.info("collaboration sweep skipped case %s: %s", pk, exc.message)
    for case in Case.objects.filter(state=IN_COLLABORATION).exclude(
            dossiers__status=DossierStatus.OPEN):
        with transaction.atomic():
            ensure_dossier(case)
    # a case that left the platform without a decision (voided, or dispatched through the case
    # engine directly): its dossier is cancelled
    Dossier.objects.filter(status=DossierStatus.OPEN).exclude(case__state=IN_COLLABORATION).update(
        status=DossierStatus.CANCELLED, closed_at=now)
    return sent


# --- Ownership confirmation --------------------------------------------------------------------


def _answer_due(department: Department, at: datetime) -> tuple[datetime, bool]:
    from citygrid.calendars.services import compute_deadline

    try:
        limit = parse_duration(str(setting("COLLAB_ANSWER_LIMIT")))
    except DurationError as exc:  # a configuration error, named
        raise ValidationFailed(f"COLLAB_ANSWER_LIMIT: {exc}", code="invalid_setting") from None
    calendar = department.calendar if department.calendar_id else None
    deadline = compute_deadline(calendar, at, limit)
    return deadline.at, deadline.provisional


def _take(dossier: Dossier, actor: AnyUser) -> None:
    if dossier.coordinator_id is None and getattr(actor, "is_authenticated", False):
        dossier.coordinator = actor  # type: ignore[assignment]
        dossier.save(update_fields=["coordinator"])


def invite_units(actor: AnyUser, dossier_id: int, *, departments: Sequence[Department | int | str],
                 note: str = "") -> list[Invitation]:
    """Ask candidate units whether the case is theirs; each must answer by its due time
    (COLLAB_ANSWER_LIMIT on the unit's working calendar). A unit is invited once per dossier."""
    note = _text(note, "note")
    if not departments:
        raise ValidationFailed("Name at least one unit to invite.", code="missing_input",
                               details={"field": "departments"})
    units = [_unit(d, "departments") for d in departments]
    with transaction.atomic():
        dossier = _lock_dossier(dossier_id)
        _require_coordinator(actor, dossier.case)
        _require_open(dossier)
        _within_reach(actor, units, "departments")
        already = set(dossier.invitations.values_list("department_id", flat=True))
        at = now_()
        made = []
        for unit in {u.pk: u for u in units}.values():
            if unit.pk in already:
                raise Conflict(f"{unit.name} is already invited.", code="already_invited",
                               details={"department": unit.code})
            due, provisional = _answer_due(unit, at)
            made.append(Invitation.objects.create(
                dossier=dossier, department=unit, note=note, invited_by=actor, invited_at=at,
                due_at=due, due_provisional=provisional))
        _take(dossier, actor)
    return made


def _lock_invitation(invitation_id: int) -> Invitation:
    try:
        return (Invitation.objects.select_for_update(of=("self",))
                .select_related("dossier", "dossier__case", "department").get(pk=invitation_id))
    except (Invitation.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No invitation {invitation_id}.", code="invitation_not_found",
                       details={"invitation": str(invitation_id)}) from None


def answer_invitation(actor: AnyUser, invitation_id: int, *, answer: str,
                      reason: str = "") -> Invitation:
    """The invited unit answers: accept (it is ours) or decline (with the reason why not)."""
    _authenticated(actor)
    if answer not in (Answer.ACCEPT, Answer.DECLINE):
        raise ValidationFailed("answer must be accept or decline.", code="invalid_answer",
                               details={"field": "answer", "allowed": ["accept", "decline"]})
    reason = _text(reason, "reason", required=answer == Answer.DECLINE)
    with transaction.atomic():
        invitation = _lock_invitation(invitation_id)
        if not (is_superuser(actor) or is_member_of(actor, invitation.department)):
            raise NotFound(f"No invitation {invitation_id}.", code="invitation_not_found",
                           details={"invitation": str(invitation_id)})
        _require_open(invitation.dossier)
        if invitation.answer:
            raise Conflict(f"{invitation.department.name} already answered ({invitation.answer}).",
                           code="already_answered", details={"answer": invitation.answer})
        invitation.answer, invitation.reason = answer, reason
        invitation.answered_by, invitation.answered_at = actor, now_()  # type: ignore[assignment]
        invitation.save()
    return invitation


# Hook for the component inventory (M-07): called with (component_id, owner, actor) when a
# decision names the owner of a component. The inventory app registers its `set owner` here.
ComponentOwnerSetter = Callable[[str, Department, Any], None]
_component_owner_setters: list[ComponentOwnerSetter] = []


def register_component_owner_setter(setter: ComponentOwnerSetter) -> None:
    if setter not in _component_owner_setters:
        _component_owner_setters.append(setter)


RULE_AREAS = ("community", "street", "district", "city")
RULE_PROCESSES = {p.value for p in Process}


def _make_rule(case: Case, owner: Department, area_level: str, note: str) -> ResponsibilityRule:
    from citygrid.org.actions import save_rule

    if area_level not in RULE_AREAS:
        raise ValidationFailed(f"rule_area must be one of {', '.join(RULE_AREAS)}.",
                               code="invalid_rule_area", details={"field": "rule_area"})
    area: Area | None = {"community": case.community, "street": case.street,
                         "district": case.district, "city": None}[area_level]
    if area is None and area_level != "city":
        area = case.district
    same = ResponsibilityRule.objects.filter(category=case.category, area=area, active=True)
    top = max((r.priority or 0 for r in same), default=0)
    process = case.process if case.process in RULE_PROCESSES else Process.STANDARD
    rule = ResponsibilityRule(
        code=f"COLLAB-{case.number}", category=case.category, area=area, department=owner,
        process=process, priority=top + 1 if same else None,
        note=f"Made from the collaboration platform's decision on case {case.number}: {note}"[:2000])
    # The coordinator's decision is the authority here; the rule is saved as the system.
    return save_rule(None, rule, grids=[], copies=[])


def _decide(actor: AnyUser, dossier: Dossier, *, owner: Department, reasoning: str,
            make_rule: bool, rule_area: str, copies: Sequence[Department], component_id: str,
            meeting: Meeting | None) -> Decision:
    case = dossier.case
    _within_reach(actor, [owner], "owner")
    _within_reach(actor, copies, "copies")
    if make_rule and rule_area == "city" and not can_act(actor, COORDINATOR,
                                                         area=case.district.parent or case.district):
        raise PermissionDenied("A rule for the whole city is for a coordinator of the whole city.",
                               code="out_of_scope", details={"field": "rule_area"})
    at = now_()
    decision = Decision.objects.create(
        dossier=dossier, owner=owner, reasoning=reasoning,
        via=Via.MEETING if meeting else Via.DESK, meeting=meeting, component_id=component_id,
        decided_by=actor, decided_at=at)
    if make_rule:
        decision.rule = _make_rule(case, owner, rule_area, reasoning)
        decision.save(update_fields=["rule"])
    for setter in _component_owner_setters if component_id else []:
        setter(component_id, owner, actor)
    case_actions.dispatch_after_collaboration(
        actor, case.pk, role=COORDINATOR, department=owner, copies=copies,
        decision={"dossier": dossier.pk, "decision": decision.pk, "owner": owner.code,
                  "reasoning": reasoning, "via": decision.via,
                  "meeting": meeting.pk if meeting else None,
                  "rule": decision.rule.code if decision.rule else ""})
    dossier.status, dossier.closed_at = DossierStatus.DECIDED, at
    if dossier.coordinator_id is None:
        dossier.coordinator = actor  # type: ignore[assignment]
    dossier.save(update_fields=["status", "closed_at", "coordinator"])
    return decision


def decide(actor: AnyUser, dossier_id: int, *, owner: Department | int | str, reasoning: str,
           make_rule: bool = False, rule_area: str = "district",
           copies: Sequence[Department | int | str] = (), component_id: str = "") -> Decision:
    """Confirm the owner: the decision is recorded, optionally made a responsibility rule (the
    case's class in its district, street, community or the whole city → the owner) so the next
    such case routes itself, optionally handed to the inventory as a component's owner, and the
    case is dispatched to the owner with the decision attached."""
    reasoning = _text(reasoning, "reasoning", required=True)
    component_id = _text(component_id, "component_id", limit=32)
    unit = _unit(owner, "owner")
    copied = [_department(c, "copies") for c in copies]
    with transaction.atomic():
        dossier = _lock_dossier(dossier_id)
        _require_coordinator(actor, dossier.case)
        _require_open(dossier)
        return _decide(actor, dossier, owner=unit, reasoning=reasoning, make_rule=make_rule,
                       rule_area=rule_area, copies=copied, component_id=component_id,
                       meeting=None)


# --- Collaboration records ---------------------------------------------------------------------


def _may_contribute(actor: AnyUser, dossier: Dossier) -> Department | None:
    """The unit the actor writes for (None for the coordinator); refuses anyone else."""
    _authenticated(actor)
    if is_coordinator_for(actor, dossier.case):
        return None
    for invitation in dossier.invitations.select_related("department"):
        if is_member_of(actor, invitation.department):
            return invitation.department
    raise NotFound(f"No dossier {dossier.pk}.", code="dossier_not_found",
                   details={"dossier": str(dossier.pk)})


def add_comment(actor: AnyUser, dossier_id: int, *, text: str,
                reply_to: int | None = None) -> Record:
    """Network collaboration: a comment on the dossier, or an answer to one."""
    text = _text(text, "text", required=True)
    with transaction.atomic():
        dossier = _lock_dossier(dossier_id)
        unit = _may_contribute(actor, dossier)
        _require_open(dossier)
        parent = None
        if reply_to is not None:
            parent = Record.objects.filter(pk=reply_to, dossier=dossier).first()
            if parent is None:
                raise ValidationFailed(f"No record {reply_to} on this dossier.",
                                       code="record_not_found", details={"field": "reply_to"})
        return Record.objects.create(dossier=dossier, kind=RecordKind.NETWORK, author=actor,
                                     department=unit, reply_to=parent, text=text, at=now_())


def record_visit(actor: AnyUser, dossier_id: int, *, text: str, visited_at: datetime | None = None,
                 participants: Sequence[Department | int | str] = (),
                 photos: Sequence[Any] = ()) -> Record:
    """On-site collaboration: a joint visit, who was there, what was found, with photos
    (checked like case photos: JPEG/PNG/WebP within the size limits)."""
    text = _text(text, "text", required=True)
    units = [_department(p, "participants") for p in participants]
    checked = [case_actions.check_photo(p, f"photos[{i}]") for i, p in enumerate(photos)]
    at = now_()
    if visited_at is not None and visited_at > at + timedelta(minutes=5):
        raise ValidationFailed("A visit cannot be in the future.", code="visit_in_future",
                               details={"field": "visited_at"})
    with transaction.atomic():
        dossier = _lock_dossier(dossier_id)
        _require_coordinator(actor, dossier.case)
        _require_open(dossier)
        record = Record.objects.create(dossier=dossier, kind=RecordKind.ONSITE, author=actor,
                                       text=text, visited_at=visited_at or at, at=at)
        record.participants.set(units)
        for photo in checked:
            row = RecordPhoto(record=record, content_type=photo.content_type,
                              size=len(photo.content), width=photo.width, height=photo.height,
                              sha256=hashlib.sha256(photo.content).hexdigest())
            row.file.save(f"{dossier.case.number}-visit-{uuid.uuid4().hex[:12]}.{photo.extension}",
                          ContentFile(photo.content), save=False)
            row.save()
        return record


# --- Meetings ----------------------------------------------------------------------------------


def _lock_meeting(meeting_id: int) -> Meeting:
    try:
        return Meeting.objects.select_for_update().get(pk=meeting_id)
    except (Meeting.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No meeting {meeting_id}.", code="meeting_not_found",
                       details={"meeting": str(meeting_id)}) from None


def _add_item(actor: AnyUser, meeting: Meeting, dossier_id: int) -> AgendaItem:
    dossier = Dossier.objects.select_related("case").filter(pk=dossier_id).first()
    if dossier is None:
        raise NotFound(f"No dossier {dossier_id}.", code="dossier_not_found",
                       details={"dossier": str(dossier_id)})
    _require_coordinator(actor, dossier.case)
    _require_open(dossier)
    if meeting.items.filter(dossier=dossier).exists():
        raise Conflict(f"Case {dossier.case.number} is already on the agenda.",
                       code="already_on_agenda", details={"dossier": dossier.pk})
    return AgendaItem.objects.create(meeting=meeting, dossier=dossier,
                                     position=meeting.items.count() + 1)


def create_meeting(actor: AnyUser, *, title: str, scheduled_at: datetime, place: str = "",
                   attendees: Sequence[Department | int | str] = (),
                   dossiers: Sequence[int] = ()) -> Meeting:
    """Convene a joint meeting: attending units and an agenda of open dossiers."""
    _require_coordinator(actor)
    title = _text(title, "title", required=True, limit=200)
    place = _text(place, "place", limit=200)
    if not isinstance(scheduled_at, datetime):
        raise ValidationFailed("scheduled_at is required.", code="missing_input",
                               details={"field": "scheduled_at"})
    units = [_department(a, "attendees") for a in attendees]
    with transaction.atomic():
        meeting = Meeting.objects.create(title=title, scheduled_at=scheduled_at, place=place,
                                         convened_by=actor, created_at=now_())
        meeting.attendees.set(units)
        for dossier_id in dossiers:
            _add_item(actor, meeting, dossier_id)
    return meeting


def add_to_agenda(actor: AnyUser, meeting_id: int, dossier_id: int) -> AgendaItem:
    _require_coordinator(actor)
    with transaction.atomic():
        meeting = _lock_meeting(meeting_id)
        if meeting.status != MeetingStatus.PLANNED:
            raise Conflict("The meeting was held already.", code="meeting_held",
                           details={"meeting": meeting.pk})
        return _add_item(actor, meeting, dossier_id)


@dataclass(frozen=True)
class MeetingDecision:
    dossier: int
    owner: Department | int | str
    reasoning: str
    make_rule: bool = False
    rule_area: str = "district"


def hold_meeting(actor: AnyUser, meeting_id: int, *, minutes: str,
                 decisions: Sequence[MeetingDecision] = ()) -> Meeting:
    """Record the meeting as held: its minutes, and its decisions, each applied to its case
    (recorded, optionally made a rule, the case dispatched). All or nothing: a decision that
    cannot be applied leaves the meeting planned and names the agenda item."""
    _require_coordinator(actor)
    minutes = _text(minutes, "minutes", required=True, limit=20000)
    with transaction.atomic():
        meeting = _lock_meeting(meeting_id)
        if meeting.status != MeetingStatus.PLANNED:
            raise Conflict("The meeting was held already.", code="meeting_held",
                           details={"meeting": meeting.pk})
        on_agenda = set(meeting.items.values_list("dossier_id", flat=True))
        for i, item in enumerate(decisions):
            where = f"decisions[{i}]"
            if item.dossier not in on_agenda:
                raise ValidationFailed(f"Dossier {item.dossier} is not on the agenda.",
                                       code="not_on_agenda", details={"field": where})
            try:
                dossier = _lock_dossier(item.dossier)
                _require_coordinator(actor, dossier.case)
                _require_open(dossier)
                _decide(actor, dossier, owner=_unit(item.owner, "owner"),
                        reasoning=_text(item.reasoning, "reasoning", required=True),
                        make_rule=item.make_rule, rule_area=item.rule_area, copies=[],
                        component_id="", meeting=meeting)
            except DomainError as exc:
                inner = exc.details if isinstance(exc.details, dict) else {}
                exc.details = {**inner, "field": where, "item_field": inner.get("field", ""),
                               "error": exc.code}
                raise
        meeting.minutes, meeting.status, meeting.held_at = minutes, MeetingStatus.HELD, now_()
        meeting.save(update_fields=["minutes", "status", "held_at"])
    return meeting


# --- Units on duty (M-21) ----------------------------------------------------------------------


def heartbeat(actor: AnyUser, at: datetime | None = None) -> PresenceSpan | None:
    """Record that the actor is signed in and active now, for their unit: extends their last
    presence span if it ended less than COLLAB_PRESENCE_GAP_SECONDS ago, else starts one. Each
    heartbeat counts COLLAB_HEARTBEAT_SECONDS online. None when the actor has no unit."""
    _authenticated(actor)
    person = Person.objects.filter(user_id=actor.pk).select_related("department").first()
    if person is None or person.department_id is None:
        return None
    at = at or now_()
    credit = timedelta(seconds=int(setting("COLLAB_HEARTBEAT_SECONDS")))
    gap = timedelta(seconds=int(setting("COLLAB_PRESENCE_GAP_SECONDS")))
    with transaction.atomic():
        span = (PresenceSpan.objects.select_for_update()
                .filter(person=person, department_id=person.department_id, end__gte=at - gap,
                        start__lte=at).order_by("-end").first())
        if span is None:
            return PresenceSpan.objects.create(person=person, department_id=person.department_id,
                                               start=at, end=at + credit)
        if at + credit > span.end:
            span.end = at + credit
            span.save(update_fields=["end"])
        return span


def rollup_duty(day: Any) -> int:
    """Store each unit's online minutes within its working periods on `day` (a date) as
    DutyDay rows (replacing earlier ones); returns how many units were rolled up."""
    from citygrid.collab.duty import day_figures
    from citygrid.collab.models import DutyDay

    rows = day_figures(day)
    with transaction.atomic():
        for row in rows:
            DutyDay.objects.update_or_create(
                department_id=row.department_id, day=day,
                defaults={"working_minutes": row.working_minutes,
                          "online_minutes": row.online_minutes,
                          "first_seen": row.first_seen, "last_seen": row.last_seen})
    return len(rows)
