"""Pages of the collaboration platform: the coordinator's desk, a unit's inbox, a dossier,
meetings. Thin: parse, call an action or a selector, render. Login required."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from citygrid.collab import actions, selectors
from citygrid.collab.models import DossierStatus, Entry, MeetingStatus
from citygrid.core.errors import DomainError, ValidationFailed
from citygrid.org.models import Department, DepartmentKind, Role
from citygrid.org.scoping import holds_role


def _is_coordinator(request: HttpRequest) -> bool:
    return holds_role(request.user, Role.COLLABORATION_COORDINATOR)


def _units() -> Any:
    return (Department.objects.filter(active=True, kind__in=actions.INVITABLE_KINDS)
            .order_by("level", "code"))


def _done(request: HttpRequest, to: str, message: str) -> HttpResponse:
    messages.success(request, message)
    return HttpResponseRedirect(to)


def _failed(request: HttpRequest, to: str, exc: DomainError) -> HttpResponse:
    messages.error(request, f"{exc.message} ({exc.code})")
    return HttpResponseRedirect(to)


@login_required
def desk(request: HttpRequest) -> HttpResponse:
    if not _is_coordinator(request):
        return HttpResponseRedirect(reverse("collab:inbox"))
    status = request.GET.get("status", DossierStatus.OPEN)
    if status not in DossierStatus.values:
        status = DossierStatus.OPEN
    queue = selectors.desk_queue(request.user, status=status)[:300]
    return render(request, "collab/desk.html", {
        "queue": queue, "status": status, "statuses": DossierStatus.choices,
        "entries": dict(Entry.choices), "now": timezone.now()})


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "collab/inbox.html", {
        "invitations": selectors.inbox(request.user)[:300], "now": timezone.now(),
        "is_coordinator": _is_coordinator(request)})


@login_required
def dossier(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        found = selectors.dossier_detail(request.user, pk)
    except DomainError as exc:
        return render(request, "collab/missing.html", {"error": exc}, status=404)
    coordinator = actions.is_coordinator_for(request.user, found.case)
    mine = [i for i in found.invitations.select_related("department")
            if actions.is_member_of(request.user, i.department)]
    return render(request, "collab/dossier.html", {
        "dossier": found, "case": found.case, "coordinator": coordinator, "mine": mine,
        "invitations": found.invitations.select_related("department", "answered_by"),
        "records": found.records.select_related("author", "department").prefetch_related(
            "participants", "photos"),
        "decision": getattr(found, "decision", None) if found.status == DossierStatus.DECIDED else None,
        "units": _units() if coordinator else [], "entries": dict(Entry.choices),
        "rule_areas": actions.RULE_AREAS, "now": timezone.now(),
        "meetings": selectors.visible_meetings(request.user).filter(status=MeetingStatus.PLANNED)
        if coordinator else []})


def _back(pk: int) -> str:
    return reverse("collab:dossier", args=[pk])


@login_required
@require_POST
def dossier_do(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    p = request.POST
    user = request.user
    try:
        if what == "invite":
            actions.invite_units(user, pk, departments=p.getlist("departments"), note=p.get("note", ""))
            return _done(request, _back(pk), _("Units invited."))
        if what == "comment":
            reply = p.get("reply_to") or None
            actions.add_comment(user, pk, text=p.get("text", ""),
                                reply_to=int(reply) if reply and reply.isascii() and reply.isdigit() else None)
            return _done(request, _back(pk), _("Comment recorded."))
        if what == "visit":
            visited = parse_datetime(p.get("visited_at", "")) if p.get("visited_at") else None
            if visited is not None and timezone.is_naive(visited):
                visited = timezone.make_aware(visited)
            actions.record_visit(user, pk, text=p.get("text", ""), visited_at=visited,
                                 participants=p.getlist("participants"),
                                 photos=request.FILES.getlist("photos")[:9])
            return _done(request, _back(pk), _("Visit recorded."))
        if what == "decide":
            actions.decide(user, pk, owner=p.get("owner", ""), reasoning=p.get("reasoning", ""),
                           make_rule=p.get("make_rule") == "on",
                           rule_area=p.get("rule_area", "district"),
                           component_id=p.get("component_id", ""))
            return _done(request, _back(pk), _("Decided; the case is dispatched to its owner."))
        if what == "agenda":
            meeting = p.get("meeting", "")
            if not (meeting.isascii() and meeting.isdigit()):  # "³".isdigit() too
                raise ValidationFailed("Choose a meeting.", code="missing_input",
                                       details={"field": "meeting"})
            actions.add_to_agenda(user, int(meeting), pk)
            return _done(request, reverse("collab:meeting", args=[int(meeting)]),
                         _("Put on the agenda."))
    except DomainError as exc:
        return _failed(request, _back(pk), exc)
    return HttpResponse(status=404)


@login_required
@require_POST
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    to = request.POST.get("next") or reverse("collab:inbox")
    if not to.startswith("/"):
        to = reverse("collab:inbox")
    try:
        actions.answer_invitation(request.user, pk, answer=request.POST.get("answer", ""),
                                  reason=request.POST.get("reason", ""))
    except DomainError as exc:
        return _failed(request, to, exc)
    return _done(request, to, _("Answer sent."))


@login_required
def meetings(request: HttpRequest) -> HttpResponse:
    coordinator = _is_coordinator(request)
    if request.method == "POST" and coordinator:
        when = parse_datetime(request.POST.get("scheduled_at", ""))
        if when is not None and timezone.is_naive(when):
            when = timezone.make_aware(when)
        try:
            made = actions.create_meeting(
                request.user, title=request.POST.get("title", ""),
                scheduled_at=when if isinstance(when, datetime) else None,  # type: ignore[arg-type]
                place=request.POST.get("place", ""), attendees=request.POST.getlist("attendees"),
                dossiers=[int(x) for x in request.POST.getlist("dossiers")
                          if x.isascii() and x.isdigit()])
        except DomainError as exc:
            return _failed(request, reverse("collab:meetings"), exc)
        return _done(request, reverse("collab:meeting", args=[made.pk]), _("Meeting convened."))
    return render(request, "collab/meetings.html", {
        "meetings": selectors.visible_meetings(request.user).prefetch_related("attendees")[:200],
        "coordinator": coordinator, "units": _units() if coordinator else [],
        "open": selectors.desk_queue(request.user)[:200] if coordinator else []})


@login_required
def meeting(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        found = selectors.meeting_detail(request.user, pk)
    except DomainError as exc:
        return render(request, "collab/missing.html", {"error": exc}, status=404)
    coordinator = _is_coordinator(request)
    if request.method == "POST" and coordinator:
        p = request.POST
        decisions = []
        for item in found.items.all():
            owner = p.get(f"owner_{item.dossier_id}", "")
            if owner:
                decisions.append(actions.MeetingDecision(
                    item.dossier_id, owner, p.get(f"reasoning_{item.dossier_id}", ""),
                    p.get(f"make_rule_{item.dossier_id}") == "on"))
        try:
            actions.hold_meeting(request.user, pk, minutes=p.get("minutes", ""), decisions=decisions)
        except DomainError as exc:
            return _failed(request, reverse("collab:meeting", args=[pk]), exc)
        return _done(request, reverse("collab:meeting", args=[pk]), _("Meeting recorded."))
    return render(request, "collab/meeting.html", {
        "meeting": found, "coordinator": coordinator,
        "items": found.items.select_related("dossier__case__category", "dossier__case__district"),
        "decisions": found.decisions.select_related("owner", "rule", "dossier__case"),
        "units": _units() if coordinator else [], "planned": found.status == MeetingStatus.PLANNED,
        "platform_kind": DepartmentKind.COLLABORATION_PLATFORM})


@login_required
@require_POST
def presence(request: HttpRequest) -> HttpResponse:
    actions.heartbeat(request.user)
    return HttpResponse(status=204)
