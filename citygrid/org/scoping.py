"""Who may see and do what, by role and scope. Every selector, action, API endpoint and admin
queryset asks these functions; templates only mirror them.

A role assignment's scope is its areas (each with everything inside it) plus the territories
of its departments (each with its sub-departments). An assignment with an empty scope grants
nothing; superusers see and may do everything.

Inside a unit of work (`citygrid.core.memo`: one read-only request) the user's assignments are
read once, in one statement, and each tree walk once: a page asks these functions many times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from citygrid.core.memo import remembered
from citygrid.org.models import Department, Person, RoleAssignment
from citygrid.space.models import Area

AnyUser = AbstractBaseUser | AnonymousUser

# Areas nest at most four levels (city → district → street → community); departments at most
# three (city → district → street), so fixed-depth joins reach every descendant.
_AREA_DEPTH = 4
_DEPARTMENT_DEPTH = 3


def is_superuser(user: AnyUser) -> bool:
    return bool(getattr(user, "is_active", False) and getattr(user, "is_superuser", False))


def _authenticated(user: AnyUser) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def subtree_q(ids: Iterable[int], field: str = "", depth: int = _AREA_DEPTH) -> Q:
    """Rows (reached through `field`, e.g. "area__") whose tree node is in `ids` or below."""
    id_list = list(ids)
    q = Q(**{f"{field}id__in": id_list})
    path = f"{field}parent"
    for _ in range(depth - 1):
        q |= Q(**{f"{path}_id__in": id_list})
        path += "__parent"
    return q


def assignments(user: AnyUser, role: str | None = None) -> QuerySet[RoleAssignment]:
    if not _authenticated(user):
        return RoleAssignment.objects.none()
    qs = RoleAssignment.objects.filter(person__user_id=user.pk)
    return qs.filter(role=role) if role else qs


@dataclass(frozen=True)
class AssignmentScope:
    """One role assignment: its role, areas, departments and those departments' territories."""

    role: str
    areas: frozenset[int]
    departments: frozenset[int]
    department_areas: frozenset[int]


def assignment_scopes(user: AnyUser) -> tuple[AssignmentScope, ...]:
    """The user's role assignments with their scopes (none for an inactive or anonymous user)."""
    if not _authenticated(user):
        return ()
    return remembered(("assignment_scopes", user.pk), lambda: _read_scopes(user))


def _read_scopes(user: AnyUser) -> tuple[AssignmentScope, ...]:
    rows = (assignments(user).order_by("pk")
            .values_list("pk", "role", "areas", "departments", "departments__area_id"))
    found: dict[int, tuple[str, set[int], set[int], set[int]]] = {}
    for pk, role, area, department, department_area in rows:
        entry = found.setdefault(pk, (role, set(), set(), set()))
        if area is not None:
            entry[1].add(area)
        if department is not None:
            entry[2].add(department)
            entry[3].add(department_area)
    return tuple(AssignmentScope(role, frozenset(areas), frozenset(departments), frozenset(territories))
                 for role, areas, departments, territories in found.values())


def _of_role(user: AnyUser, role: str | None) -> list[AssignmentScope]:
    return [scope for scope in assignment_scopes(user) if not role or scope.role == role]


def roles_of(user: AnyUser) -> set[str]:
    return {scope.role for scope in assignment_scopes(user)}


def _department_subtree(roots: frozenset[int]) -> dict[int, int]:
    """Department id → territory id, for the roots and every department below them."""
    return remembered(("department_subtree", roots), lambda: dict(
        Department.objects.filter(subtree_q(roots, depth=_DEPARTMENT_DEPTH)).values_list("id", "area_id")))


def scope_department_ids(user: AnyUser, role: str | None = None) -> set[int]:
    roots = frozenset(d for scope in _of_role(user, role) for d in scope.departments)
    if not roots:
        return set()
    return set(_department_subtree(roots))


def assigned_area_ids(user: AnyUser, role: str | None = None) -> set[int]:
    return {a for scope in _of_role(user, role) for a in scope.areas}


def root_area_ids(user: AnyUser, role: str | None = None) -> set[int]:
    """The top areas of the user's scope: assigned areas and their departments' territories."""
    ids = assigned_area_ids(user, role)
    roots = frozenset(d for scope in _of_role(user, role) for d in scope.departments)
    if roots:
        ids |= set(_department_subtree(roots).values())
    return ids


def visible_areas(user: AnyUser, role: str | None = None) -> QuerySet[Area]:
    if is_superuser(user):
        return Area.objects.all()
    roots = root_area_ids(user, role)
    if not roots:
        return Area.objects.none()
    return Area.objects.filter(subtree_q(roots))


_AREA_ANCESTORS = tuple("parent" + "__parent" * i + "_id" for i in range(_AREA_DEPTH))
_DEPARTMENT_ANCESTORS = tuple("parent" + "__parent" * i + "_id" for i in range(_DEPARTMENT_DEPTH))


def ancestor_area_ids(area_ids: set[int]) -> set[int]:
    key = frozenset(area_ids)
    return set(remembered(("ancestor_areas", key), lambda: frozenset(
        parent for row in Area.objects.filter(id__in=key).values_list(*_AREA_ANCESTORS)
        for parent in row if parent is not None)))


def own_departments(user: AnyUser) -> QuerySet[Department]:
    """Departments inside the user's scope: their territory lies in an assigned area, or they
    are (below) an assigned department."""
    if is_superuser(user):
        return Department.objects.all()
    roots = assigned_area_ids(user)
    dept_ids = scope_department_ids(user)
    if not roots and not dept_ids:
        return Department.objects.none()
    return Department.objects.filter(subtree_q(roots, "area__") | Q(id__in=dept_ids))


def visible_departments(user: AnyUser) -> QuerySet[Department]:
    """Own departments plus the higher-level ones whose territory contains the user's scope
    (a district dispatcher sees the city's departments it dispatches and copies to, never
    another district's)."""
    if is_superuser(user):
        return Department.objects.all()
    roots = assigned_area_ids(user)
    dept_ids = scope_department_ids(user)
    if not roots and not dept_ids:
        return Department.objects.none()
    above = ancestor_area_ids(root_area_ids(user))
    return Department.objects.filter(
        subtree_q(roots, "area__") | Q(id__in=dept_ids) | Q(area_id__in=above)
    )


def visible_people(user: AnyUser) -> QuerySet[Person]:
    """People of the user's own departments, people holding a role inside the user's areas,
    and the user."""
    if is_superuser(user):
        return Person.objects.all()
    if not _authenticated(user):
        return Person.objects.none()
    roots = assigned_area_ids(user)
    own = own_departments(user).values("id")
    q = Q(user_id=user.pk) | Q(department__in=own) | Q(contractor__in=own)
    if roots:
        inside = Area.objects.filter(subtree_q(roots)).values("id")
        q |= Q(roles__areas__in=inside)
    ids = Person.objects.filter(q).values("id")
    return Person.objects.filter(id__in=ids)


def _area_chain(area_id: int) -> frozenset[int]:
    """The area and its ancestors (one statement: areas nest at most `_AREA_DEPTH` deep)."""
    return remembered(("area_chain", area_id), lambda: frozenset(
        {area_id} | {a for row in Area.objects.filter(id=area_id).values_list(*_AREA_ANCESTORS)
                     for a in row if a is not None}))


def _department_chain(department_id: int) -> frozenset[int]:
    return remembered(("department_chain", department_id), lambda: frozenset(
        {department_id} | {d for row in Department.objects.filter(id=department_id)
                           .values_list(*_DEPARTMENT_ANCESTORS) for d in row if d is not None}))


def can_act(
    user: AnyUser, role: str, area: Area | None = None, department: Department | None = None
) -> bool:
    """Whether the user holds `role` with one assignment whose scope covers `area` and
    `department` (each if given)."""
    if is_superuser(user):
        return True
    key = ("can_act", user.pk, role, area.pk if area else None, department.pk if department else None)
    return remembered(key, lambda: _can_act(user, role, area, department))


def _can_act(user: AnyUser, role: str, area: Area | None, department: Department | None) -> bool:
    scopes = [scope for scope in assignment_scopes(user) if scope.role == role]
    if not scopes:
        return False
    area_chain = _area_chain(area.pk) if area is not None else frozenset()
    dept_chain = _department_chain(department.pk) if department is not None else frozenset()
    dept_area_chain = _area_chain(department.area_id) if department is not None else frozenset()
    for scope in scopes:
        scope_area_ids = scope.areas | scope.department_areas
        if not scope_area_ids and not scope.departments:
            continue
        area_ok = area is None or bool(area_chain & scope_area_ids)
        dept_ok = department is None or bool(
            dept_chain & scope.departments or dept_area_chain & scope.areas
        )
        if area_ok and dept_ok:
            return True
    return False


def holds_role(user: AnyUser, role: str) -> bool:
    return is_superuser(user) or role in roles_of(user)
