"""The only code that changes organisation data: departments, people, roles, rules.

Each action is one transaction with its permission check; the actor is an administrator
whose scope covers what is changed (or a superuser). `actor=None` is the system itself
(data migrations, the demo loader, management commands run by an operator).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from citygrid.core.errors import PermissionDenied, ValidationFailed
from citygrid.org.models import (
    Department,
    DepartmentKind,
    Person,
    ResponsibilityRule,
    Role,
    RoleAssignment,
)
from citygrid.org.scoping import AnyUser, can_act
from citygrid.space.models import Area, UnitGrid

# Model permissions each role's group gets (app_label, model, actions). Scope is enforced by
# selectors and actions; these only say which kinds of records a role works with at all.
_ORG_MODELS = ("department", "person", "roleassignment", "responsibilityrule")
_VIEW_ORG = [("org", m, ("view",)) for m in _ORG_MODELS]
ROLE_PERMISSIONS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    Role.ADMINISTRATOR: [("org", m, ("add", "change", "delete", "view")) for m in _ORG_MODELS]
    + [(app, "*", ("add", "change", "delete", "view")) for app in ("catalog", "calendars", "space")],
    Role.DISPATCHER: _VIEW_ORG,
    Role.SHIFT_LEADER: _VIEW_ORG,
    Role.INTAKE_OPERATOR: _VIEW_ORG,
    Role.COLLABORATION_COORDINATOR: _VIEW_ORG,
    Role.DEPARTMENT_HEAD: _VIEW_ORG,
    Role.LEADER: _VIEW_ORG,
    Role.HANDLER: [("org", "department", ("view",))],
    Role.STREET_STAFF: [("org", "department", ("view",))],
    Role.CITY_INSPECTOR: [("org", "department", ("view",))],
    Role.DISTRICT_INSPECTOR: [("org", "department", ("view",))],
}
# Roles whose holders work in the admin site (is_staff); scoping still applies there.
STAFF_ROLES = {
    Role.ADMINISTRATOR, Role.DISPATCHER, Role.SHIFT_LEADER, Role.COLLABORATION_COORDINATOR,
    Role.DEPARTMENT_HEAD, Role.LEADER,
}


def _permissions_for(role: str) -> list[Permission]:
    perms: list[Permission] = []
    for app, model, verbs in ROLE_PERMISSIONS.get(role, []):
        qs = Permission.objects.filter(content_type__app_label=app)
        if model != "*":
            qs = qs.filter(content_type__model=model)
        perms += [p for p in qs if p.codename.split("_", 1)[0] in verbs]
    return perms


@transaction.atomic
def ensure_role_groups() -> dict[str, Group]:
    """One auth Group per role, named by the role's code, with its model permissions.
    Idempotent: re-running resets each group's permissions to the table above."""
    groups: dict[str, Group] = {}
    for role in Role:
        group, _ = Group.objects.get_or_create(name=role.value)
        group.permissions.set(_permissions_for(role.value))
        groups[role.value] = group
    return groups


def _city_of(area: Area) -> Area:
    current = area
    while current.parent is not None:
        current = current.parent
    return current


def require_admin(actor: AnyUser | None, *, area: Area | None = None,
                  department: Department | None = None, what: str = "this") -> None:
    if actor is None:
        return
    if not can_act(actor, Role.ADMINISTRATOR, area=area, department=department):
        raise PermissionDenied(f"You are not an administrator for {what}.", code="not_administrator")


def _full_clean(instance: Any, exclude: Sequence[str] = ()) -> None:
    try:
        instance.full_clean(exclude=list(exclude))
    except DjangoValidationError as exc:
        raise ValidationFailed(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()),
            details=exc.message_dict,
        ) from None


# --- Departments -----------------------------------------------------------------------------

def department_problems(dept: Department) -> list[str]:
    problems: list[str] = []
    area = dept.area if dept.area_id else None
    if area is not None and area.level == "community":
        problems.append("a department's territory is a city, district or street, not a community")
    if area is not None and dept.level in ("district", "street") and area.level != dept.level:
        problems.append(f"a {dept.level}-level department needs a {dept.level} as its territory, not a {area.level}")
    if dept.parent_id is not None:
        if dept.pk is not None and dept.parent_id == dept.pk:
            problems.append("a department cannot be its own parent")
        order = {"city": 0, "district": 1, "street": 2}
        parent = dept.parent
        if parent is not None and order[parent.level] > order.get(dept.level, 0):
            problems.append(f"parent {parent.code} is below this department's level")
    if dept.kind == DepartmentKind.COMMAND_CENTRE and dept.level != "district":
        problems.append("a command centre is a district-level department (M-17)")
    if dept.kind in (DepartmentKind.SUPERVISION_CENTRE, DepartmentKind.COLLABORATION_PLATFORM) and dept.level != "city":
        problems.append("the supervision centre and the collaboration platform are city-level")
    return problems


@transaction.atomic
def save_department(actor: AnyUser | None, dept: Department) -> Department:
    require_admin(actor, area=dept.area if dept.area_id else None, what=f"department {dept.code}")
    _full_clean(dept)
    problems = department_problems(dept)
    if problems:
        raise ValidationFailed(f"Department {dept.code}: " + "; ".join(problems), details=problems)
    dept.save()
    return dept


# --- People and roles ------------------------------------------------------------------------

@transaction.atomic
def save_person(
    actor: AnyUser | None, *, username: str, display_name: str, phone: str = "",
    employee_number: str = "", department: Department | None = None,
    contractor: Department | None = None, email: str = "", password: str | None = None,
    password_hash: str | None = None,
) -> Person:
    """Create or update the person with this username. Without a password the account gets an
    unusable one: the person sets theirs through the password-reset flow."""
    require_admin(actor, department=department, what=f"person {username}")
    if contractor is not None and contractor.kind != DepartmentKind.INSPECTION_CONTRACTOR:
        raise ValidationFailed(f"{contractor.code} is not an inspection contractor", code="not_contractor")
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=username, defaults={"email": email})
    if email and user.email != email:
        user.email = email
    if password:
        user.set_password(password)
    elif password_hash:
        user.password = password_hash  # an already hashed password (the demo hashes once)
    elif created:
        user.set_unusable_password()
    _full_clean(user, exclude=["password"])
    user.save()
    person = Person.objects.filter(user=user).first() or Person(user=user)
    person.display_name = display_name
    person.phone = phone
    person.employee_number = employee_number
    person.department = department
    person.contractor = contractor
    _full_clean(person)
    person.save()
    return person


def sync_groups(person: Person) -> None:
    """The user's role groups and staff flag follow their role assignments."""
    user: Any = person.user
    roles = set(person.roles.values_list("role", flat=True))
    groups = {g.name: g for g in Group.objects.filter(name__in=list(Role.values))}
    if len(groups) < len(Role):
        groups = ensure_role_groups()
    user.groups.remove(*[g for name, g in groups.items() if name not in roles])
    user.groups.add(*[groups[r] for r in roles])
    staff = bool(roles & {r.value for r in STAFF_ROLES})
    if user.is_staff != staff and not user.is_superuser:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])


@transaction.atomic
def assign_role(
    actor: AnyUser | None, person: Person, role: str, *, areas: Iterable[Area] = (),
    departments: Iterable[Department] = (), note: str = "",
) -> RoleAssignment:
    if role not in Role.values:
        raise ValidationFailed(f"unknown role {role!r}; roles: {', '.join(Role.values)}", code="unknown_role")
    area_list, dept_list = list(areas), list(departments)
    if not area_list and not dept_list:
        raise ValidationFailed("a role needs a scope: at least one area or department", code="empty_scope")
    for area in area_list:
        require_admin(actor, area=area, what=f"area {area.code}")
    for dept in dept_list:
        require_admin(actor, department=dept, what=f"department {dept.code}")
    assignment = RoleAssignment.objects.create(person=person, role=role, note=note)
    assignment.areas.set(area_list)
    assignment.departments.set(dept_list)
    sync_groups(person)
    return assignment


@transaction.atomic
def revoke_role(actor: AnyUser | None, assignment: RoleAssignment) -> None:
    for area in assignment.areas.all():
        require_admin(actor, area=area, what=f"area {area.code}")
    for dept in assignment.departments.all():
        require_admin(actor, department=dept, what=f"department {dept.code}")
    person = assignment.person
    assignment.delete()
    sync_groups(person)


# --- Responsibility rules --------------------------------------------------------------------

def polygon_problem(text: str) -> str | None:
    """None if `text` is a valid GeoJSON Polygon/MultiPolygon in lon/lat, else why not."""
    from shapely.geometry import shape

    try:
        data = json.loads(text)
        geom = shape(data.get("geometry", data) if isinstance(data, dict) else data)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        return f"polygon is not GeoJSON: {exc}"
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return f"polygon must be a Polygon or MultiPolygon, not {geom.geom_type}"
    if not geom.is_valid or geom.is_empty:
        return "polygon is empty or self-intersecting"
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        return "polygon coordinates must be WGS84 lon/lat"
    return None


def rule_problems(rule: ResponsibilityRule, grids: Sequence[UnitGrid] = (),
                  copies: Sequence[Department] = ()) -> list[str]:
    problems: list[str] = []
    scopes = sum([rule.area_id is not None, bool(grids), bool(rule.polygon.strip())])
    if scopes > 1:
        problems.append("give one area scope: an area, a set of unit grids or a polygon, not several")
    if rule.polygon.strip():
        problem = polygon_problem(rule.polygon)
        if problem:
            problems.append(problem)
    if rule.weekdays:
        if not rule.weekdays.isdigit() or any(c not in "1234567" for c in rule.weekdays):
            problems.append(f"weekdays {rule.weekdays!r}: use digits 1 (Monday) to 7 (Sunday)")
        elif len(set(rule.weekdays)) != len(rule.weekdays):
            problems.append(f"weekdays {rule.weekdays!r} repeat a day")
    if (rule.time_from is None) != (rule.time_to is None):
        problems.append("a time of day needs both 'from' and 'to'")
    if rule.date_from and rule.date_to and rule.date_from > rule.date_to:
        problems.append("the date range ends before it starts")
    if rule.category_id is not None:
        category = rule.category
        if rule.kind and rule.kind != category.kind:
            problems.append(f"kind {rule.kind} does not match class {category.code} ({category.kind})")
    if rule.department_id is not None:
        if not rule.department.active:
            problems.append(f"handling department {rule.department.code} is inactive")
        if any(d.pk == rule.department_id for d in copies):
            problems.append("the handling department cannot also be copied")
    return problems


def _rule_target_area(rule: ResponsibilityRule, grids: Sequence[UnitGrid]) -> list[Area]:
    if rule.area_id is not None:
        return [rule.area]
    if grids:
        return list({g.community_id: g.community for g in grids}.values())
    return [_city_of(rule.department.area)]


@transaction.atomic
def save_rule(
    actor: AnyUser | None, rule: ResponsibilityRule, *, grids: Sequence[UnitGrid] | None = None,
    copies: Sequence[Department] | None = None,
) -> ResponsibilityRule:
    """Validate and save a rule with its grids and copies (None: keep the current ones)."""
    grid_list = list(grids) if grids is not None else (list(rule.grids.all()) if rule.pk else [])
    copy_list = list(copies) if copies is not None else (list(rule.copies.all()) if rule.pk else [])
    if rule.category_id is not None:
        rule.kind = rule.category.kind
    _full_clean(rule)
    problems = rule_problems(rule, grid_list, copy_list)
    if problems:
        raise ValidationFailed(f"Rule {rule.code}: " + "; ".join(problems), details=problems)
    for area in _rule_target_area(rule, grid_list):
        require_admin(actor, area=area, what=f"rules in {area.code}")
    rule.save()
    rule.grids.set(grid_list)
    rule.copies.set(copy_list)
    return rule


def user_is_admin_anywhere(user: AbstractBaseUser | None) -> bool:
    return user is not None and can_act(user, Role.ADMINISTRATOR)
