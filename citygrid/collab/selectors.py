"""Reads of the collaboration platform, scoped: a coordinator sees the dossiers of cases in
their areas; a unit sees only what it was invited to (and meetings it attends)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from citygrid.collab.actions import COORDINATOR, UNIT_ROLES
from citygrid.collab.models import Dossier, DossierStatus, Invitation, Meeting
from citygrid.core.errors import NotFound
from citygrid.org.models import Department
from citygrid.org.scoping import AnyUser, assignments, is_superuser, subtree_q, visible_areas


def unit_ids(user: AnyUser) -> set[int]:
    """The units the user answers for: departments (and their sub-departments) of their
    department_head, handler and street_staff roles."""
    roots: set[int] = set()
    for role in UNIT_ROLES:
        roots |= set(assignments(user, role).filter(departments__isnull=False)
                     .values_list("departments", flat=True))
    if not roots:
        return set()
    return set(Department.objects.filter(subtree_q(roots, depth=3)).values_list("id", flat=True))


def _coordinator_q(user: AnyUser) -> Q | None:
    if not assignments(user, COORDINATOR).exists():
        return None
    return Q(case__district__in=visible_areas(user, COORDINATOR).values("id"))


def visible_dossiers(user: AnyUser) -> QuerySet[Dossier]:
    if is_superuser(user):
        return Dossier.objects.all()
    q = Q(pk__in=[])
    coordinator = _coordinator_q(user)
    if coordinator is not None:
        q |= coordinator
    units = unit_ids(user)
    if units:
        q |= Q(invitations__department_id__in=units)
    ids = Dossier.objects.filter(q).values("id")
    return Dossier.objects.filter(id__in=ids)


def desk_queue(user: AnyUser, *, status: str = DossierStatus.OPEN) -> QuerySet[Dossier]:
    """The coordinator's queue: dossiers of cases in their areas, oldest first."""
    coordinator = Q(pk__in=[]) if not is_superuser(user) else Q()
    if not is_superuser(user):
        found = _coordinator_q(user)
        if found is not None:
            coordinator = found
    qs = Dossier.objects.filter(coordinator).filter(status=status)
    return (qs.select_related("case", "case__category", "case__district", "from_department",
                              "coordinator")
            .prefetch_related("invitations__department").order_by("opened_at", "id"))


def dossier_detail(user: AnyUser, dossier_id: int) -> Dossier:
    found = (visible_dossiers(user).filter(pk=dossier_id)
             .select_related("case", "case__category", "case__district", "from_department",
                             "coordinator").first())
    if found is None:
        raise NotFound(f"No dossier {dossier_id}.", code="dossier_not_found",
                       details={"dossier": str(dossier_id)})
    return found


def inbox(user: AnyUser, *, open_only: bool = False) -> QuerySet[Invitation]:
    """The invitations of the user's units, unanswered first, then the newest."""
    units = unit_ids(user)
    qs = Invitation.objects.filter(department_id__in=units) if not is_superuser(user) else Invitation.objects.all()
    if open_only:
        qs = qs.filter(answer="", dossier__status=DossierStatus.OPEN)
    return (qs.select_related("dossier", "dossier__case", "dossier__case__category", "department")
            .order_by("answer", "-invited_at"))


def visible_meetings(user: AnyUser) -> QuerySet[Meeting]:
    if is_superuser(user) or assignments(user, COORDINATOR).exists():
        return Meeting.objects.all()
    units = unit_ids(user)
    if not units:
        return Meeting.objects.none()
    ids = Meeting.objects.filter(Q(attendees__in=units)
                                 | Q(items__dossier__invitations__department_id__in=units)).values("id")
    return Meeting.objects.filter(id__in=ids)


def meeting_detail(user: AnyUser, meeting_id: int) -> Meeting:
    found = visible_meetings(user).filter(pk=meeting_id).first()
    if found is None:
        raise NotFound(f"No meeting {meeting_id}.", code="meeting_not_found",
                       details={"meeting": str(meeting_id)})
    return found
