"""Import and export of departments, people and rules as spreadsheets (xlsx or CSV).

Every import validates every row first and reports all problems by row and column; only a
file without problems is written, in one transaction, through the same actions the admin uses.
Passwords are never read from a spreadsheet: new accounts get an unusable password and their
owners set one through the password-reset flow (docs/organisation.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from django.db import transaction

from citygrid.core.domain.rows import RowError
from citygrid.core.errors import DomainError, PermissionDenied, ValidationFailed
from citygrid.core.sheets import Row, Rows, read_rows, write_csv, write_xlsx
from citygrid.org import actions
from citygrid.org.models import (
    Department,
    DepartmentKind,
    DepartmentLevel,
    Person,
    Process,
    ResponsibilityRule,
    Role,
    RoleAssignment,
    Source,
)
from citygrid.org.scoping import AnyUser
from citygrid.space.models import Area, UnitGrid

DEPARTMENT_COLUMNS = ["code", "name", "level", "kind", "area_code", "parent_code", "calendar", "phone", "active"]
PEOPLE_COLUMNS = ["username", "display_name", "phone", "employee_number", "email", "department_code",
                  "contractor_code", "roles", "scope_areas", "scope_departments"]
RULE_COLUMNS = ["code", "kind", "class_code", "area_code", "grid_codes", "polygon", "weekdays",
                "time_from", "time_to", "date_from", "date_to", "source", "department_code",
                "copies", "process", "use_component_owner", "priority", "active", "note"]
REQUIRED = {
    "departments": ["code", "name", "level", "area_code"],
    "people": ["username", "display_name"],
    "rules": ["code", "department_code"],
}
COLUMNS = {"departments": DEPARTMENT_COLUMNS, "people": PEOPLE_COLUMNS, "rules": RULE_COLUMNS}


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    codes: list[str] = field(default_factory=list)


# --- Reading and writing files ---------------------------------------------------------------

def write_table(what: str, rows: Sequence[Row], fmt: str) -> bytes:
    """The rows of one sheet kind as "csv" (UTF-8 with BOM) or, for any other fmt, xlsx."""
    if fmt == "csv":
        return write_csv(COLUMNS[what], rows)
    return write_xlsx(COLUMNS[what], rows, title=what)


def _bool(value: str, default: bool) -> bool | None:
    if value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "y", "是", "x"):
        return True
    if lowered in ("0", "false", "no", "n", "否"):
        return False
    return None


def _time(value: str) -> time | None:
    return time.fromisoformat(value if len(value) > 5 else value.zfill(5))


def _split(value: str) -> list[str]:
    return [v for v in value.replace(";", " ").replace(",", " ").split() if v]


# --- Export ----------------------------------------------------------------------------------

def department_rows(qs: Any) -> list[Row]:
    return [{"code": d.code, "name": d.name, "level": d.level, "kind": d.kind,
             "area_code": d.area.code, "parent_code": d.parent.code if d.parent else "",
             "calendar": d.calendar.name if d.calendar else "", "phone": d.phone,
             "active": "1" if d.active else "0"}
            for d in qs.select_related("area", "parent", "calendar")]


CONTACT_PERMISSION = "org.view_person_contact"


def _sees_contacts(viewer: AnyUser | None) -> bool:
    """Whether exports for `viewer` show phone numbers and e-mail in full. Without an explicit
    viewer, the signed-in user of the request being served decides (so every export from the
    pages is masked by default); outside any request (commands) the data is shown in full."""
    if viewer is None:
        from citygrid.security.context import current_request

        request = current_request.get()
        viewer = getattr(request, "user", None) if request is not None else None
        if request is None:
            return True
    return bool(viewer is not None and viewer.has_perm(CONTACT_PERMISSION))


def people_rows(qs: Any, viewer: AnyUser | None = None) -> list[Row]:
    """People as sheet rows; phone and e-mail masked (138****5678) for viewers without the
    org.view_person_contact permission (a masked sheet is refused on import)."""
    from citygrid.security.domain.masking import mask_email, mask_phone

    full = _sees_contacts(viewer)
    rows = []
    for p in qs.select_related("user", "department", "contractor").prefetch_related(
            "roles__areas", "roles__departments"):
        assignments = list(p.roles.all())
        rows.append({
            "username": p.user.get_username(), "display_name": p.display_name,
            "phone": p.phone if full else mask_phone(p.phone),
            "employee_number": p.employee_number,
            "email": p.user.email if full else mask_email(p.user.email),
            "department_code": p.department.code if p.department else "",
            "contractor_code": p.contractor.code if p.contractor else "",
            "roles": " ".join(sorted({a.role for a in assignments})),
            "scope_areas": " ".join(sorted({x.code for a in assignments for x in a.areas.all()})),
            "scope_departments": " ".join(sorted({x.code for a in assignments for x in a.departments.all()})),
        })
    return rows


def rule_rows(qs: Any) -> list[Row]:
    return [{
        "code": r.code, "kind": r.kind, "class_code": r.category.code if r.category else "",
        "area_code": r.area.code if r.area else "",
        "grid_codes": " ".join(sorted(g.code for g in r.grids.all())), "polygon": r.polygon,
        "weekdays": r.weekdays, "time_from": r.time_from.strftime("%H:%M") if r.time_from else "",
        "time_to": r.time_to.strftime("%H:%M") if r.time_to else "",
        "date_from": r.date_from.isoformat() if r.date_from else "",
        "date_to": r.date_to.isoformat() if r.date_to else "", "source": r.source,
        "department_code": r.department.code, "copies": " ".join(sorted(d.code for d in r.copies.all())),
        "process": r.process, "use_component_owner": "1" if r.use_component_owner else "0",
        "priority": "" if r.priority is None else str(r.priority), "active": "1" if r.active else "0",
        "note": r.note,
    } for r in qs.select_related("category", "area", "department").prefetch_related("grids", "copies")]


# --- Import ----------------------------------------------------------------------------------

class _Errors:
    def __init__(self) -> None:
        self.items: list[RowError] = []

    def add(self, row: int, column: str, message: str) -> None:
        self.items.append(RowError(row, column, message))

    def raise_if_any(self, what: str) -> None:
        if self.items:
            raise ValidationFailed(
                f"{len(self.items)} problem(s) in the {what} file; nothing was imported.",
                code="import_invalid", details=[e.as_dict() for e in self.items],
            )


def _run(plan: list[tuple[int, Callable[[], Any]]], what: str) -> None:
    """Apply every planned write in one transaction; any refusal rolls all of it back and is
    reported against its row."""
    errors = _Errors()
    try:
        with transaction.atomic():
            for number, step in plan:
                try:
                    step()
                except DomainError as exc:
                    errors.add(number, "", exc.message)
                    raise
    except PermissionDenied as exc:
        raise PermissionDenied(f"{exc.message} Nothing was imported.", code=exc.code,
                               details=[e.as_dict() for e in errors.items]) from None
    except DomainError:
        errors.raise_if_any(what)
        raise


def import_departments(actor: AnyUser | None, rows: Rows) -> ImportReport:
    from citygrid.calendars.models import WorkingCalendar

    errors = _Errors()
    areas = {a.code: a for a in Area.objects.filter(code__in={r.get("area_code", "") for _, r in rows})}
    calendars = {c.name: c for c in WorkingCalendar.objects.filter(name__in={r.get("calendar", "") for _, r in rows})}
    file_codes: dict[str, int] = {}
    for number, row in rows:
        code = row.get("code", "")
        if not code:
            errors.add(number, "code", "required")
        elif code in file_codes:
            errors.add(number, "code", f"{code} already on row {file_codes[code]}")
        else:
            file_codes[code] = number
    existing = {d.code: d for d in Department.objects.filter(
        code__in=set(file_codes) | {r.get("parent_code", "") for _, r in rows})}
    level_order = {DepartmentLevel.CITY: 0, DepartmentLevel.DISTRICT: 1, DepartmentLevel.STREET: 2}
    parsed: list[tuple[int, Row, bool]] = []
    for number, row in rows:
        if not row.get("name"):
            errors.add(number, "name", "required")
        if row.get("level") not in DepartmentLevel.values:
            errors.add(number, "level", f"{row.get('level')!r}: use {', '.join(DepartmentLevel.values)}")
        kind = row.get("kind") or DepartmentKind.GOVERNMENT
        if kind not in DepartmentKind.values:
            errors.add(number, "kind", f"{kind!r}: use {', '.join(DepartmentKind.values)}")
        if row.get("area_code") not in areas:
            errors.add(number, "area_code", f"no area {row.get('area_code')!r}")
        parent = row.get("parent_code", "")
        if parent and parent not in existing and parent not in file_codes:
            errors.add(number, "parent_code", f"no department {parent!r} in the database or the file")
        if parent and parent == row.get("code"):
            errors.add(number, "parent_code", "a department cannot be its own parent")
        if row.get("calendar") and row["calendar"] not in calendars:
            errors.add(number, "calendar", f"no working calendar {row['calendar']!r}")
        active = _bool(row.get("active", ""), True)
        if active is None:
            errors.add(number, "active", f"{row.get('active')!r}: use 1/0, yes/no")
        parsed.append((number, row, bool(active)))
    errors.raise_if_any("departments")

    report = ImportReport()
    saved: dict[str, Department] = dict(existing)
    plan: list[tuple[int, Callable[[], Any]]] = []
    ordered = sorted(parsed, key=lambda t: level_order.get(t[1]["level"], 9))
    deferred_parents: list[tuple[int, str, str]] = []

    def make_step(number: int, row: Row, active: bool) -> Callable[[], Any]:
        def step() -> None:
            dept = saved.get(row["code"]) or Department(code=row["code"])
            report.updated += dept.pk is not None
            report.created += dept.pk is None
            dept.name, dept.level, dept.kind = row["name"], row["level"], row.get("kind") or DepartmentKind.GOVERNMENT
            dept.area = areas[row["area_code"]]
            dept.calendar = calendars.get(row.get("calendar", ""))
            dept.phone, dept.active = row.get("phone", ""), active
            parent_code = row.get("parent_code", "")
            dept.parent = saved.get(parent_code) if parent_code else None
            if parent_code and dept.parent is None:
                deferred_parents.append((number, row["code"], parent_code))
            saved[row["code"]] = actions.save_department(actor, dept)
            report.codes.append(row["code"])
        return step

    for number, row, active in ordered:
        plan.append((number, make_step(number, row, active)))

    def fix_parents() -> None:
        for _number, code, parent_code in deferred_parents:
            dept = saved[code]
            dept.parent = saved[parent_code]
            actions.save_department(actor, dept)

    plan.append((ordered[-1][0] if ordered else 0, fix_parents))
    _run(plan, "departments")
    return report


def import_people(actor: AnyUser | None, rows: Rows) -> ImportReport:
    errors = _Errors()
    dept_codes = {r.get(c, "") for _, r in rows for c in ("department_code", "contractor_code")}
    dept_codes |= {c for _, r in rows for c in _split(r.get("scope_departments", ""))}
    depts = {d.code: d for d in Department.objects.filter(code__in=dept_codes)}
    area_codes = {c for _, r in rows for c in _split(r.get("scope_areas", ""))}
    areas = {a.code: a for a in Area.objects.filter(code__in=area_codes)}
    seen: dict[str, int] = {}
    for number, row in rows:
        username = row.get("username", "")
        if not username:
            errors.add(number, "username", "required")
        elif username in seen:
            errors.add(number, "username", f"{username} already on row {seen[username]}")
        else:
            seen[username] = number
        if "password" in row and row["password"]:
            errors.add(number, "password", "passwords are never imported; leave the column out")
        if not row.get("display_name"):
            errors.add(number, "display_name", "required")
        for col in ("phone", "email"):
            if "*" in row.get(col, ""):
                errors.add(number, col, "masked value (from a masked export): give the full value or leave it out")
        for col in ("department_code", "contractor_code"):
            if row.get(col) and row[col] not in depts:
                errors.add(number, col, f"no department {row[col]!r}")
        if row.get("contractor_code") in depts and depts[row["contractor_code"]].kind != DepartmentKind.INSPECTION_CONTRACTOR:
            errors.add(number, "contractor_code", f"{row['contractor_code']} is not an inspection contractor")
        roles = _split(row.get("roles", ""))
        for role in roles:
            if role not in Role.values:
                errors.add(number, "roles", f"unknown role {role!r}; roles: {', '.join(Role.values)}")
        scope_a = _split(row.get("scope_areas", ""))
        scope_d = _split(row.get("scope_departments", ""))
        for code in scope_a:
            if code not in areas:
                errors.add(number, "scope_areas", f"no area {code!r}")
        for code in scope_d:
            if code not in depts:
                errors.add(number, "scope_departments", f"no department {code!r}")
        if roles and not scope_a and not scope_d:
            errors.add(number, "roles", "roles need a scope: scope_areas and/or scope_departments")
    errors.raise_if_any("people")

    report = ImportReport()
    existing = set(Person.objects.filter(user__username__in=list(seen)).values_list("user__username", flat=True))

    def make_step(row: Row) -> Callable[[], Any]:
        def step() -> None:
            person = actions.save_person(
                actor, username=row["username"], display_name=row["display_name"],
                phone=row.get("phone", ""), employee_number=row.get("employee_number", ""),
                email=row.get("email", ""), department=depts.get(row.get("department_code", "")),
                contractor=depts.get(row.get("contractor_code", "")),
            )
            if "roles" in row:
                for assignment in list(RoleAssignment.objects.filter(person=person)):
                    actions.revoke_role(actor, assignment)
                for role in _split(row["roles"]):
                    actions.assign_role(
                        actor, person, role,
                        areas=[areas[c] for c in _split(row.get("scope_areas", ""))],
                        departments=[depts[c] for c in _split(row.get("scope_departments", ""))],
                    )
            report.updated += row["username"] in existing
            report.created += row["username"] not in existing
            report.codes.append(row["username"])
        return step

    _run([(number, make_step(row)) for number, row in rows], "people")
    return report


def import_rules(actor: AnyUser | None, rows: Rows, standard: Any = None) -> ImportReport:
    from citygrid.catalog.models import Category
    from citygrid.catalog.selectors import active_standard

    standard = standard or active_standard()
    errors = _Errors()
    dept_codes = {r.get("department_code", "") for _, r in rows} | {
        c for _, r in rows for c in _split(r.get("copies", ""))}
    depts = {d.code: d for d in Department.objects.filter(code__in=dept_codes)}
    areas = {a.code: a for a in Area.objects.filter(code__in={r.get("area_code", "") for _, r in rows})}
    grid_codes = {c for _, r in rows for c in _split(r.get("grid_codes", ""))}
    grids = {g.code: g for g in UnitGrid.objects.filter(code__in=grid_codes, valid_to__isnull=True)}
    existing = {r.code: r for r in ResponsibilityRule.objects.filter(code__in={r.get("code", "") for _, r in rows})}
    seen: dict[str, int] = {}
    planned: list[tuple[int, ResponsibilityRule, list[UnitGrid], list[Department]]] = []
    for number, row in rows:
        code = row.get("code", "")
        if not code:
            errors.add(number, "code", "required")
        elif code in seen:
            errors.add(number, "code", f"{code} already on row {seen[code]}")
        seen[code] = number
        rule = existing.get(code) or ResponsibilityRule(code=code)
        kind = row.get("kind", "")
        if kind not in ("", "component", "event"):
            errors.add(number, "kind", f"{kind!r}: use component, event or leave empty")
        rule.kind = kind
        rule.category = None
        if row.get("class_code"):
            if not kind:
                errors.add(number, "kind", "a class code needs its kind (component or event)")
            elif standard is None:
                errors.add(number, "class_code", "no active classification standard")
            else:
                category = Category.objects.filter(standard=standard, kind=kind, code=row["class_code"]).first()
                if category is None:
                    errors.add(number, "class_code", f"no {kind} class {row['class_code']} in {standard.code}")
                rule.category = category
        rule.area = None
        if row.get("area_code"):
            if row["area_code"] not in areas:
                errors.add(number, "area_code", f"no area {row['area_code']!r}")
            rule.area = areas.get(row["area_code"])
        rule_grids = []
        for gc in _split(row.get("grid_codes", "")):
            if gc not in grids:
                errors.add(number, "grid_codes", f"no current unit grid {gc!r}")
            else:
                rule_grids.append(grids[gc])
        rule.polygon = row.get("polygon", "")
        rule.weekdays = row.get("weekdays", "")
        for col in ("time_from", "time_to"):
            try:
                setattr(rule, col, _time(row[col]) if row.get(col) else None)
            except ValueError:
                errors.add(number, col, f"{row[col]!r} is not a time like 08:30")
        for col in ("date_from", "date_to"):
            try:
                setattr(rule, col, date.fromisoformat(row[col]) if row.get(col) else None)
            except ValueError:
                errors.add(number, col, f"{row[col]!r} is not a date like 2026-02-13")
        rule.source = row.get("source", "")
        if rule.source and rule.source not in Source.values:
            errors.add(number, "source", f"unknown source {rule.source!r}; sources: {', '.join(Source.values)}")
        if row.get("department_code") not in depts:
            errors.add(number, "department_code", f"no department {row.get('department_code')!r}")
        else:
            rule.department = depts[row["department_code"]]
        copies = []
        for cc in _split(row.get("copies", "")):
            if cc not in depts:
                errors.add(number, "copies", f"no department {cc!r}")
            else:
                copies.append(depts[cc])
        rule.process = row.get("process") or Process.STANDARD
        if rule.process not in Process.values:
            errors.add(number, "process", f"{rule.process!r}: use {', '.join(Process.values)}")
        for col, default in (("use_component_owner", False), ("active", True)):
            value = _bool(row.get(col, ""), default)
            if value is None:
                errors.add(number, col, f"{row.get(col)!r}: use 1/0, yes/no")
            setattr(rule, col, bool(value))
        try:
            rule.priority = int(row["priority"]) if row.get("priority") else None
        except ValueError:
            errors.add(number, "priority", f"{row['priority']!r} is not a whole number")
        rule.note = row.get("note", "")
        if not any(e.row == number for e in errors.items):
            for problem in actions.rule_problems(rule, rule_grids, copies):
                errors.add(number, "", problem)
        planned.append((number, rule, rule_grids, copies))
    errors.raise_if_any("rules")

    report = ImportReport()

    def make_step(rule: ResponsibilityRule, rule_grids: list[UnitGrid], copies: list[Department]) -> Callable[[], Any]:
        def step() -> None:
            report.updated += rule.pk is not None
            report.created += rule.pk is None
            actions.save_rule(actor, rule, grids=rule_grids, copies=copies)
            report.codes.append(rule.code)
        return step

    _run([(number, make_step(rule, g, c)) for number, rule, g, c in planned], "rules")
    return report


IMPORTERS: dict[str, Callable[..., ImportReport]] = {
    "departments": import_departments, "people": import_people, "rules": import_rules,
}


def import_file(actor: AnyUser | None, what: str, data: bytes, filename: str) -> ImportReport:
    if what not in IMPORTERS:
        raise ValidationFailed(f"unknown sheet {what!r}; use departments, people or rules", code="unknown_sheet")
    return IMPORTERS[what](actor, read_rows(data, filename, REQUIRED[what]))
