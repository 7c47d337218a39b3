"""Reads of cases, scoped to what the user may see (see citygrid.org.scoping).

A user sees the cases lying in the areas of their roles (centre roles, inspectors, leaders,
street staff), the cases their departments hold or were copied on (handlers, department
heads), and the cases they reported. Superusers see everything.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from citygrid.cases.domain.processes import DEPARTMENT_ROLES, State, get_process
from citygrid.cases.domain.processes import Role as ProcessRole
from citygrid.cases.models import FINAL_STATES, Case, CaseCopy, CaseEvent
from citygrid.core.errors import NotFound
from citygrid.org.models import Department
from citygrid.org.scoping import (
    AnyUser,
    assigned_area_ids,
    is_superuser,
    own_departments,
    roles_of,
    subtree_q,
)

_RELATED = ("category", "district", "street", "community", "grid", "holder_department",
            "holder_person", "reporter")


def _area_q(area_ids: set[int]) -> Q:
    if not area_ids:
        return Q(pk__in=[])
    ids = list(area_ids)
    return Q(district_id__in=ids) | Q(street_id__in=ids) | Q(community_id__in=ids) | Q(
        district__parent_id__in=ids)


def _department_ids(user: AnyUser, role: str | None = None) -> set[int]:
    from citygrid.org.scoping import assignments

    roots = set(assignments(user, role).filter(departments__isnull=False)
                .values_list("departments", flat=True))
    if not roots:
        return set()
    return set(Department.objects.filter(subtree_q(roots, depth=3)).values_list("id", flat=True))


def visible_cases(user: AnyUser) -> QuerySet[Case]:
    if is_superuser(user):
        return Case.objects.select_related(*_RELATED)
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    area_roles = roles_of(user) - set(DEPARTMENT_ROLES)
    q = Q(reporter_id=user.pk)
    areas: set[int] = set()
    for role in area_roles:
        areas |= assigned_area_ids(user, role)
    if areas:
        q |= _area_q(areas)
    departments = own_departments(user).values("id") if roles_of(user) & set(DEPARTMENT_ROLES) else None
    if departments is not None:
        copied = CaseCopy.objects.filter(department__in=departments).values("case_id")
        q |= Q(holder_department__in=departments) | Q(pk__in=copied)
    return Case.objects.filter(q).select_related(*_RELATED)


def case_detail(user: AnyUser, case_id: int | str) -> Case:
    qs = visible_cases(user)
    found = qs.filter(number=case_id).first() if isinstance(case_id, str) else qs.filter(pk=case_id).first()
    if found is None:
        raise NotFound(f"No case {case_id} that you may see.", code="case_not_found",
                       details={"case": str(case_id)})
    return found


def case_events(user: AnyUser, case_id: int | str) -> list[CaseEvent]:
    case = case_detail(user, case_id)
    return list(CaseEvent.objects.filter(case=case).select_related("actor").order_by("seq"))


def _states_for(role: str) -> dict[str, list[str]]:
    """process → states in which `role` moves a case on."""
    from citygrid.cases.domain.processes import PROCESSES

    found: dict[str, list[str]] = {}
    for name, process in PROCESSES.items():
        states = [s.value for s in process.open_states() if role in process.acting_roles(s)]
        if states:
            found[name.value] = states
    return found


def queue_for(user: AnyUser, role: str) -> QuerySet[Case]:
    """Open cases `role` must act on now, inside the scope the user holds that role in,
    oldest deadline first. Empty if the user does not hold the role."""
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    superuser = is_superuser(user)
    if not superuser and role not in roles_of(user):
        return Case.objects.none()
    by_process = _states_for(role)
    if not by_process:
        return Case.objects.none()
    q_state = Q(pk__in=[])
    for process, states in by_process.items():
        q_state |= Q(process=process, state__in=states)
    qs = Case.objects.filter(q_state).exclude(state__in=FINAL_STATES)
    if not superuser:
        if role in DEPARTMENT_ROLES:
            qs = qs.filter(holder_department_id__in=_department_ids(user, role))
        else:
            qs = qs.filter(_area_q(assigned_area_ids(user, role)))
    return qs.select_related(*_RELATED).order_by("step_deadline", "created_at")


def allowed_operations(user: AnyUser, case: Case) -> list[tuple[str, str]]:
    """(operation, role) pairs the user may take on the case now (for buttons and forms)."""
    from citygrid.cases.actions import _in_scope

    process = get_process(case.process)
    held = set(ProcessRole) if is_superuser(user) else roles_of(user)
    result: list[tuple[str, str]] = []
    for transition in process.transitions_from(State(case.state)):
        for role in sorted(r.value for r in transition.roles if r.value in held):
            if role == ProcessRole.SYSTEM:
                continue
            if (transition.operation.value, role) in result:
                continue
            if is_superuser(user) or _in_scope(user, role, case):
                result.append((transition.operation.value, role))
    return result


def cases_of_component(user: AnyUser, component_code: str, limit: int = 50) -> QuerySet[Case]:
    """The cases reported against one component, newest first, among those the user may see."""
    return (visible_cases(user).filter(component_id=component_code)
            .select_related("category", "district").order_by("-created_at")[:limit])
