"""Who may see and do what, by role and scope. Every selector, action, API endpoint and admin
queryset asks these functions; templates only mirror them.

A role assignment's scope is its areas (each with everything inside it) plus the territories
of its departments (each with its sub-departments). An assignment with an empty scope grants
nothing; superusers see and may do everything.
"""

from __future__ import annotations

from collections.abc import Iterable

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


def roles_of(user: AnyUser) -> set[str]:
    return set(remembered(("roles_of", user.pk),
                          lambda: frozenset(assignments(user).values_list("role", flat=True))))


def _scope_department_ids(user: AnyUser, role: str | None = None) -> set[int]:
    roots = set(
        assignments(user, role).filter(departments__isnull=False).values_list("departments", flat=True)
    )
    if not roots:
        return set()
    return set(Department.objects.filter(subtree_q(roots, depth=_DEPARTMENT_DEPTH)).values_list("id", flat=True))


def assigned_area_ids(user: AnyUser, role: str | None = None) -> set[int]:
    return set(assignments(user, role).filter(areas__isnull=False).values_list("areas", flat=True))


def root_area_ids(user: AnyUser, role: str | None = None) -> set[int]:
    """The top areas of the user's scope: assigned areas and their departments' territories."""
    ids = assigned_area_ids(user, role)
    dept_ids = _scope_department_ids(user, role)
    if dept_ids:
        ids |= set(Department.objects.filter(id__in=dept_ids).values_list("area_id", flat=True))
    return ids


def visible_areas(user: AnyUser, role: str | None = None) -> QuerySet[Area]:
    if is_superuser(user):
        return Area.objects.all()
    roots = root_area_ids(user, role)
    if not roots:
        return Area.objects.none()
    return Area.objects.filter(subtree_q(roots))


def ancestor_area_ids(area_ids: set[int]) -> set[int]:
    found: set[int] = set()
    frontier = area_ids
    for _ in range(_AREA_DEPTH):
        parents = set(
            Area.objects.filter(id__in=frontier, parent__isnull=False).values_list("parent_id", flat=True)
        )
        parents -= found
        if not parents:
            break
        found |= parents
        frontier = parents
    return found


def own_departments(user: AnyUser) -> QuerySet[Department]:
    """Departments inside the user's scope: their territory lies in an assigned area, or they
    are (below) an assigned department."""
    if is_superuser(user):
        return Department.objects.all()
    roots = assigned_area_ids(user)
    dept_ids = _scope_department_ids(user)
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
    dept_ids = _scope_department_ids(user)
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


def _area_chain(area: Area) -> set[int]:
    chain: set[int] = set()
    current: Area | None = area
    while current is not None and current.pk not in chain:
        chain.add(current.pk)
        current = current.parent
    return chain


def _department_chain(department: Department) -> set[int]:
    chain: set[int] = set()
    current: Department | None = department
    while current is not None and current.pk not in chain:
        chain.add(current.pk)
        current = current.parent
    return chain


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
    area_chain = _area_chain(area) if area is not None else set()
    dept_chain = _department_chain(department) if department is not None else set()
    dept_area_chain = _area_chain(department.area) if department is not None else set()
    held = remembered(("assignments", user.pk, role), lambda: [
        ({a.pk for a in assignment.areas.all()}, list(assignment.departments.all()))
        for assignment in assignments(user, role).prefetch_related("areas", "departments__area")])
    for scope_areas, scope_depts in held:
        scope_area_ids = scope_areas | {d.area_id for d in scope_depts}
        if not scope_area_ids and not scope_depts:
            continue
        area_ok = area is None or bool(area_chain & scope_area_ids)
        dept_ok = department is None or bool(
            dept_chain & {d.pk for d in scope_depts} or dept_area_chain & scope_areas
        )
        if area_ok and dept_ok:
            return True
    return False


def holds_role(user: AnyUser, role: str) -> bool:
    return is_superuser(user) or assignments(user, role).exists()
