"""Reads of cases, scoped to what the user may see (see citygrid.org.scoping).

A user sees the cases lying in the areas of their roles (centre roles, inspectors, leaders,
street staff), the cases their departments hold or were copied on (handlers, department
heads), and the cases they reported. Superusers see everything.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Q, QuerySet

from citygrid.cases.domain.processes import DEPARTMENT_ROLES, State, get_process
from citygrid.cases.domain.processes import Role as ProcessRole
from citygrid.cases.models import FINAL_STATES, Case, CaseCopy, CaseEvent
from citygrid.core.errors import NotFound
from citygrid.core.memo import remembered
from citygrid.org.models import Department
from citygrid.org.scoping import (
    AnyUser,
    assigned_area_ids,
    is_superuser,
    own_departments,
    roles_of,
    subtree_q,
)
from citygrid.space.models import Area, Level

_RELATED = ("category", "district", "street", "community", "grid", "holder_department",
            "holder_person", "reporter")


def _area_q(area_ids: set[int]) -> Q:
    """Cases lying in the areas, one column per level (district, street, community), each
    area counted once under its highest covered ancestor. A city area stands for its
    districts. The planner estimates `district_id IN (…)` well; an OR over every level
    through a join made it expect 1 % of the rows it got and sort on disk (bench/load.py)."""
    if not area_ids:
        return Q(pk__in=[])
    districts, streets, communities = covered_areas(frozenset(area_ids))
    q = Q(pk__in=[])
    for column, ids in (("district_id", districts), ("street_id", streets),
                        ("community_id", communities)):
        if ids:
            q |= Q(**{f"{column}__in": sorted(ids)})
    return q


def covered_areas(area_ids: frozenset[int]) -> tuple[set[int], set[int], set[int]]:
    """(district ids, street ids, community ids) the areas cover, without the streets and
    communities already inside a covered district or street."""
    return remembered(("covered_areas", area_ids), lambda: _covered_areas(area_ids))


def _covered_areas(area_ids: frozenset[int]) -> tuple[set[int], set[int], set[int]]:
    rows = list(Area.objects.filter(id__in=area_ids)
                .values_list("id", "level", "parent_id", "parent__parent_id"))
    cities = {r[0] for r in rows if r[1] == Level.CITY}
    districts = {r[0] for r in rows if r[1] == Level.DISTRICT}
    if cities:
        districts |= set(Area.objects.filter(level=Level.DISTRICT, parent_id__in=cities)
                         .values_list("id", flat=True))
    streets = {r[0] for r in rows if r[1] == Level.STREET and r[2] not in districts}
    communities = {r[0] for r in rows if r[1] == Level.COMMUNITY
                   and r[2] not in streets and r[3] not in districts}
    return districts, streets, communities


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
    return Case.objects.filter(_scope_q(user)).select_related(*_RELATED)


def visible_q(user: AnyUser, prefix: str = "") -> Q:
    """The condition `visible_cases` filters on, for rows that reach the case through
    `prefix` (e.g. "case__" from CaseEvent): a query can start from its own index and apply
    the scope to the cases it joins. Empty for a superuser; matches nothing for anonymous."""
    if is_superuser(user):
        return Q()
    if not getattr(user, "is_authenticated", False):
        return prefixed_q(Q(pk__in=[]), prefix)
    return prefixed_q(_scope_q(user), prefix)


def prefixed_q(q: Q, prefix: str) -> Q:
    """`q` for rows that reach the case through `prefix` (its lookups prefixed)."""
    if not prefix:
        return q
    children: list[Q | tuple[str, Any]] = []
    for child in q.children:
        if isinstance(child, Q):
            children.append(prefixed_q(child, prefix))
        else:
            lookup, value = cast(tuple[str, Any], child)
            children.append((prefix + lookup, value))
    return Q(*children, _connector=q.connector, _negated=q.negated)


def _scope_q(user: AnyUser) -> Q:
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
    return q


def case_detail(user: AnyUser, case_id: int | str) -> Case:
    """The case with its related rows, read in two statements of a few joins each: PostgreSQL
    spent 12–16 ms planning one statement joining all eight (cg_load), about 1 ms each of these.
    The areas' geometries stay behind (a district's is some 25 kB); the grid's is shown."""
    lookup = {"number": case_id} if isinstance(case_id, str) else {"pk": case_id}
    # Unordered: one row at most, and ordering made Django hash every selected column.
    rows = (visible_cases(user).select_related(None)
            .select_related("category", "district", "street", "community", "holder_department")
            .defer("district__geometry", "street__geometry", "community__geometry")
            .filter(**lookup).order_by()[:1])
    if not rows:
        raise NotFound(f"No case {case_id} that you may see.", code="case_not_found",
                       details={"case": str(case_id)})
    found = rows[0]
    others = ("grid", "holder_person", "reporter", "routed_department")
    rest = (Case.objects.select_related("grid", "holder_person__user", "reporter", "routed_department")
            .only("pk", *others).filter(pk=found.pk).order_by()[:1])
    for name in others:  # a row changed in between: that relation is read when first used
        if rest and getattr(rest[0], f"{name}_id") == getattr(found, f"{name}_id"):
            setattr(found, name, getattr(rest[0], name))
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
    from citygrid.org.scoping import scope_department_ids

    by_process = _states_for(role)
    if not by_process:
        return Case.objects.none()
    by_states: dict[tuple[str, ...], list[str]] = {}  # one condition per set of states: a short query
    for process, states in by_process.items():
        by_states.setdefault(tuple(sorted(states)), []).append(process)
    q_state = Q(pk__in=[])
    for states, processes in by_states.items():
        q_state |= Q(process__in=processes, state__in=states)
    qs = Case.objects.filter(q_state).exclude(state__in=FINAL_STATES)
    if not superuser:
        if role in DEPARTMENT_ROLES:
            qs = qs.filter(holder_department_id__in=sorted(scope_department_ids(user, role)))
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


def whole_districts(user: AnyUser) -> frozenset[int] | None:
    """The districts whose every case the user sees, when those and the cases they reported
    are all they see (the live map then adds up kept per-district counts). Superusers: every
    district, given as None. Raises NotWholeDistricts when the user sees cases by department
    or by street or community."""
    if is_superuser(user):
        return None
    held = roles_of(user)
    if held & set(DEPARTMENT_ROLES):
        raise NotWholeDistricts
    areas: set[int] = set()
    for role in held:
        areas |= assigned_area_ids(user, role)
    districts, streets, communities = covered_areas(frozenset(areas))
    if streets or communities:
        raise NotWholeDistricts
    return frozenset(districts)


class NotWholeDistricts(Exception):
    """The user's view of cases is not a set of whole districts."""
