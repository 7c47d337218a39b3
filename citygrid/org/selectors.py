"""Reads of organisation data, scoped to what the user may see (see scoping.py)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from citygrid.core.errors import NotFound
from citygrid.org.models import Department, DepartmentKind, Person, ResponsibilityRule
from citygrid.org.scoping import (
    AnyUser,
    ancestor_area_ids,
    is_superuser,
    own_departments,
    root_area_ids,
    subtree_q,
    visible_areas,
    visible_departments,
    visible_people,
)
from citygrid.space.models import Area

__all__ = [
    "collaboration_platform",
    "department_list",
    "people_list",
    "rule_list",
    "visible_areas",
    "visible_departments",
    "visible_people",
    "visible_rules",
]


def department_list(user: AnyUser, *, level: str | None = None, kind: str | None = None) -> QuerySet[Department]:
    qs = visible_departments(user).select_related("area", "parent")
    if level:
        qs = qs.filter(level=level)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("code")


def people_list(user: AnyUser, *, department: str | None = None) -> QuerySet[Person]:
    qs = visible_people(user).select_related("user", "department", "contractor")
    if department:
        qs = qs.filter(department__code=department)
    return qs.prefetch_related("roles__areas", "roles__departments").order_by("user__username")


def visible_rules(user: AnyUser) -> QuerySet[ResponsibilityRule]:
    """Rules of the user's areas, of the areas above them (city-wide rules apply there too),
    and rules naming one of the user's own departments."""
    if is_superuser(user):
        return ResponsibilityRule.objects.all()
    roots = root_area_ids(user)
    own = own_departments(user).values("id")
    q = Q(department__in=own)
    if roots:
        inside = subtree_q(roots)
        q |= (subtree_q(roots, "area__") | Q(area_id__in=ancestor_area_ids(roots))
              | Q(area__isnull=True, grids__isnull=True)
              | Q(grids__community__in=Area.objects.filter(inside).values("id")))
    ids = ResponsibilityRule.objects.filter(q).values("id")
    return ResponsibilityRule.objects.filter(id__in=ids)


def rule_list(user: AnyUser, *, active: bool | None = None) -> QuerySet[ResponsibilityRule]:
    qs = visible_rules(user).select_related("category", "area", "department")
    if active is not None:
        qs = qs.filter(active=active)
    return qs.prefetch_related("copies", "grids").order_by("code")


def collaboration_platform() -> Department:
    """The city collaboration platform, where cases without an owner go (M-19)."""
    platform = (
        Department.objects.filter(kind=DepartmentKind.COLLABORATION_PLATFORM, active=True)
        .select_related("area").order_by("code").first()
    )
    if platform is None:
        raise NotFound(
            "No active collaboration platform department is configured; add a department of "
            "kind 'collaboration platform'.", code="no_collaboration_platform",
        )
    return platform
