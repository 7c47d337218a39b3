"""Plain dicts of the platform's records, shared by the API and the pages."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from citygrid.collab.models import Decision, Dossier, Invitation, Meeting, Record


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _dept(d: Any) -> dict[str, str] | None:
    return {"code": d.code, "name": d.name} if d is not None else None


def invitation(i: Invitation) -> dict[str, Any]:
    return {
        "id": i.pk, "dossier": i.dossier_id, "case": i.dossier.case.number,
        "department": _dept(i.department), "note": i.note, "invited_at": _iso(i.invited_at),
        "due_at": _iso(i.due_at), "due_provisional": i.due_provisional,
        "overdue": not i.answer and timezone.now() > i.due_at,
        "answer": i.answer, "reason": i.reason,
        "answered_by": i.answered_by.get_username() if i.answered_by_id else None,
        "answered_at": _iso(i.answered_at),
    }


def record(r: Record) -> dict[str, Any]:
    return {
        "id": r.pk, "kind": r.kind, "author": r.author.get_username(),
        "department": _dept(r.department), "reply_to": r.reply_to_id, "text": r.text,
        "visited_at": _iso(r.visited_at), "at": _iso(r.at),
        "participants": [_dept(d) for d in r.participants.all()],
        "photos": [{"id": p.pk, "sha256": p.sha256, "content_type": p.content_type}
                   for p in r.photos.all()],
    }


def decision(d: Decision) -> dict[str, Any]:
    return {
        "id": d.pk, "owner": _dept(d.owner), "reasoning": d.reasoning, "via": d.via,
        "meeting": d.meeting_id, "rule": d.rule.code if d.rule_id and d.rule else None,
        "component_id": d.component_id,
        "decided_by": d.decided_by.get_username() if d.decided_by_id else None,
        "decided_at": _iso(d.decided_at),
    }


def dossier(d: Dossier, *, full: bool = False) -> dict[str, Any]:
    case = d.case
    data: dict[str, Any] = {
        "id": d.pk, "case": case.number, "case_state": case.state,
        "category": {"code": case.category.code, "name": case.category.name},
        "district": _dept(case.district), "address": case.address,
        "entry": d.entry, "reason": d.reason, "status": d.status,
        "from_department": _dept(d.from_department),
        "coordinator": d.coordinator.get_username() if d.coordinator_id else None,
        "opened_at": _iso(d.opened_at), "closed_at": _iso(d.closed_at),
        "age_hours": round(((d.closed_at or timezone.now()) - d.opened_at).total_seconds() / 3600, 1),
        "invitations": [invitation(i) for i in d.invitations.all()],
    }
    if full:
        data["records"] = [record(r) for r in d.records.select_related("author", "department")
                           .prefetch_related("participants", "photos")]
        found = Decision.objects.filter(dossier=d).select_related("owner", "rule", "decided_by").first()
        data["decision"] = decision(found) if found else None
    return data


def meeting(m: Meeting, *, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": m.pk, "title": m.title, "scheduled_at": _iso(m.scheduled_at), "place": m.place,
        "status": m.status, "attendees": [_dept(a) for a in m.attendees.all()],
        "held_at": _iso(m.held_at),
    }
    if full:
        data["minutes"] = m.minutes
        data["agenda"] = [{"position": i.position, "dossier": dossier(i.dossier)}
                          for i in m.items.select_related("dossier__case__category",
                                                          "dossier__case__district")]
        data["decisions"] = [decision(x) for x in m.decisions.select_related("owner", "rule", "decided_by")]
    return data
