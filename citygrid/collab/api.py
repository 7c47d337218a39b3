"""Collaboration platform API under /api/v1/collab/ (M-19 … M-21), see docs/collaboration.md.

Thin: writes call citygrid.collab.actions, reads citygrid.collab.selectors (scoped). Errors are
DomainError codes: `{code, message, details}`.
"""

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import File, Form, Router, Schema, UploadedFile
from ninja.responses import Status
from pydantic import Field

from citygrid.accounts.auth import API_AUTH
from citygrid.collab import actions, selectors, serialize
from citygrid.collab.duty import unit_duty_figures
from citygrid.core.errors import PermissionDenied, ValidationFailed
from citygrid.org.models import Role
from citygrid.org.scoping import holds_role

router = Router(tags=["collaboration"], auth=API_AUTH)
Json = dict[str, Any]


class ErrorOut(Schema):
    code: str
    message: str
    details: Any = None


ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class SendIn(Schema):
    reason: str = Field(max_length=2000)
    expected_version: int | None = None


class InviteIn(Schema):
    departments: list[str] = Field(min_length=1, max_length=50)
    note: str = ""


class AnswerIn(Schema):
    answer: str
    reason: str = ""


class DecisionIn(Schema):
    owner: str
    reasoning: str
    make_rule: bool = False
    rule_area: str = "district"
    copies: list[str] = []
    component_id: str = ""


class CommentIn(Schema):
    text: str
    reply_to: int | None = None


class VisitIn(Schema):
    text: str
    visited_at: datetime | None = None
    participants: list[str] = []


MAX_PHOTOS = 9


class MeetingIn(Schema):
    title: str
    scheduled_at: datetime
    place: str = ""
    attendees: list[str] = []
    dossiers: list[int] = []


class AgendaIn(Schema):
    dossier: int


class MeetingDecisionIn(Schema):
    dossier: int
    owner: str
    reasoning: str
    make_rule: bool = False
    rule_area: str = "district"


class HoldIn(Schema):
    minutes: str
    decisions: list[MeetingDecisionIn] = []


def _user(request: HttpRequest) -> Any:
    return request.user


@router.get("/collab/dossiers", response={200: list[Json], **ERRORS},
            summary="The coordinator's desk: dossiers of cases in my areas, oldest first")
def desk(request: HttpRequest, status: str = "open") -> Any:
    return [serialize.dossier(d) for d in selectors.desk_queue(_user(request), status=status)[:500]]


@router.get("/collab/dossiers/{dossier_id}", response={200: Json, **ERRORS},
            summary="One dossier: invitations, answers, records, decision")
def dossier_detail(request: HttpRequest, dossier_id: int) -> Any:
    return serialize.dossier(selectors.dossier_detail(_user(request), dossier_id), full=True)


def _seen(request: HttpRequest, case: str) -> None:
    """404 `case_not_found` for a case the user may not see (as the case API answers), so that
    case numbers outside one's scope are not confirmed by a 403."""
    from citygrid.cases.selectors import case_detail

    case_detail(_user(request), "" if "\x00" in case else case)


@router.post("/collab/cases/{case}/send", response={201: Json, **ERRORS},
             summary="Send a case for ownership confirmation (dispatcher, coordinator)")
def send(request: HttpRequest, case: str, body: SendIn) -> Any:
    _seen(request, case)
    found = actions.send_case(_user(request), case, reason=body.reason,
                              expected_version=body.expected_version)
    return Status(201, serialize.dossier(found))


@router.post("/collab/cases/{case}/not-ours", response={201: Json, **ERRORS},
             summary="Return a case as not our own (the holding department)")
def not_ours(request: HttpRequest, case: str, body: SendIn) -> Any:
    _seen(request, case)
    found = actions.return_not_ours(_user(request), case, reason=body.reason,
                                    expected_version=body.expected_version)
    return Status(201, serialize.dossier(found))


@router.post("/collab/dossiers/{dossier_id}/invitations", response={201: list[Json], **ERRORS},
             summary="Invite candidate units to confirm ownership")
def invite(request: HttpRequest, dossier_id: int, body: InviteIn) -> Any:
    made = actions.invite_units(_user(request), dossier_id, departments=body.departments,
                                note=body.note)
    return Status(201, [serialize.invitation(i) for i in made])


@router.get("/collab/inbox", response={200: list[Json], **ERRORS},
            summary="My units' invitations (only what they were invited to)")
def inbox(request: HttpRequest, open: bool = False) -> Any:  # noqa: A002
    return [serialize.invitation(i) for i in selectors.inbox(_user(request), open_only=open)[:500]]


@router.post("/collab/invitations/{invitation_id}/answer", response={200: Json, **ERRORS},
             summary="Answer an invitation: accept, or decline with the reason")
def answer(request: HttpRequest, invitation_id: int, body: AnswerIn) -> Any:
    done = actions.answer_invitation(_user(request), invitation_id, answer=body.answer,
                                     reason=body.reason)
    return serialize.invitation(done)


@router.post("/collab/dossiers/{dossier_id}/decision", response={201: Json, **ERRORS},
             summary="Decide the owner; dispatch the case to it; optionally make a rule")
def decide(request: HttpRequest, dossier_id: int, body: DecisionIn) -> Any:
    made = actions.decide(_user(request), dossier_id, owner=body.owner, reasoning=body.reasoning,
                          make_rule=body.make_rule, rule_area=body.rule_area, copies=body.copies,
                          component_id=body.component_id)
    return Status(201, serialize.decision(made))


@router.post("/collab/dossiers/{dossier_id}/comments", response={201: Json, **ERRORS},
             summary="Network collaboration: a comment or an answer on the dossier")
def comment(request: HttpRequest, dossier_id: int, body: CommentIn) -> Any:
    made = actions.add_comment(_user(request), dossier_id, text=body.text, reply_to=body.reply_to)
    return Status(201, serialize.record(made))


@router.post("/collab/dossiers/{dossier_id}/visits", response={201: Json, **ERRORS},
             summary="On-site collaboration: a joint visit with photos (multipart)")
def visit(request: HttpRequest, dossier_id: int, body: Form[VisitIn],
          photos: File[list[UploadedFile]] = None) -> Any:  # type: ignore[assignment]
    if photos and len(photos) > MAX_PHOTOS:
        raise ValidationFailed(f"At most {MAX_PHOTOS} photos.", code="too_many_photos",
                               details={"field": "photos"})
    made = actions.record_visit(_user(request), dossier_id, text=body.text,
                                visited_at=body.visited_at, participants=body.participants,
                                photos=list(photos or []))
    return Status(201, serialize.record(made))


@router.get("/collab/meetings", response={200: list[Json], **ERRORS}, summary="Meetings I may see")
def meetings(request: HttpRequest) -> Any:
    return [serialize.meeting(m) for m in selectors.visible_meetings(_user(request))[:200]]


@router.post("/collab/meetings", response={201: Json, **ERRORS}, summary="Convene a joint meeting")
def create_meeting(request: HttpRequest, body: MeetingIn) -> Any:
    made = actions.create_meeting(_user(request), title=body.title, scheduled_at=body.scheduled_at,
                                  place=body.place, attendees=body.attendees, dossiers=body.dossiers)
    return Status(201, serialize.meeting(made, full=True))


@router.get("/collab/meetings/{meeting_id}", response={200: Json, **ERRORS}, summary="One meeting")
def meeting(request: HttpRequest, meeting_id: int) -> Any:
    return serialize.meeting(selectors.meeting_detail(_user(request), meeting_id), full=True)


@router.post("/collab/meetings/{meeting_id}/agenda", response={201: Json, **ERRORS},
             summary="Put a dossier on the meeting's agenda")
def agenda(request: HttpRequest, meeting_id: int, body: AgendaIn) -> Any:
    actions.add_to_agenda(_user(request), meeting_id, body.dossier)
    return Status(201, serialize.meeting(selectors.meeting_detail(_user(request), meeting_id), full=True))


@router.post("/collab/meetings/{meeting_id}/held", response={200: Json, **ERRORS},
             summary="Record the meeting as held: minutes and decisions, each applied to its case")
def held(request: HttpRequest, meeting_id: int, body: HoldIn) -> Any:
    items = [actions.MeetingDecision(d.dossier, d.owner, d.reasoning, d.make_rule, d.rule_area)
             for d in body.decisions]
    done = actions.hold_meeting(_user(request), meeting_id, minutes=body.minutes, decisions=items)
    return serialize.meeting(done, full=True)


@router.post("/collab/presence", response={200: Json, **ERRORS},
             summary="Heartbeat: I am signed in and working (the pages call it every minute)")
def presence(request: HttpRequest) -> Any:
    span = actions.heartbeat(_user(request))
    if span is None:
        return {"recorded": False}
    return {"recorded": True, "department": span.department.code,
            "since": span.start.isoformat(), "until": span.end.isoformat()}


@router.get("/collab/duty", response={200: list[Json], **ERRORS},
            summary="Units on duty: online time, answers, response times, shares (M-21)")
def duty(request: HttpRequest, start: date, end: date) -> Any:
    user = _user(request)
    if not (holds_role(user, Role.COLLABORATION_COORDINATOR) or holds_role(user, Role.LEADER)):
        raise PermissionDenied("Only coordinators and leaders see the units' duty figures.",
                               code="not_coordinator")
    return [f.as_dict() for f in unit_duty_figures(start, end)]
