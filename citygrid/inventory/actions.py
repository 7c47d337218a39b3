"""The only code that changes the inventory. Each action is one transaction with its
permission check; each bumps InventoryRevision in that transaction so every process rebuilds
its nearby index on its next lookup. `actor=None` is the system (demo loader, commands run by
an operator)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from citygrid.catalog.models import Category, Kind, Standard
from citygrid.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from citygrid.inventory import fileio, importing
from citygrid.inventory.models import (
    ChangeSource,
    Component,
    ComponentChange,
    ImportBatch,
    InventoryRevision,
    State,
    SurveyFlag,
)
from citygrid.org.models import Role
from citygrid.org.scoping import AnyUser, can_act
from citygrid.space.models import Area

BATCH_SIZE = 10_000
Progress = Callable[[int], None]


def bump_inventory_revision() -> None:
    """Call inside the transaction of every inventory-changing action."""
    updated = InventoryRevision.objects.filter(pk=1).update(
        revision=F("revision") + 1, changed_at=timezone.now())
    if not updated:
        InventoryRevision.objects.create(pk=1, revision=1)


def _require_admin(actor: AnyUser | None, areas: Iterable[Area | None], what: str) -> None:
    if actor is None:
        return
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("Log in first.", code="unauthenticated")
    for area in set(areas) or {None}:
        if not can_act(actor, Role.ADMINISTRATOR, area=area):
            where = f" in {area.name}" if area is not None else ""
            raise PermissionDenied(f"You are not an inventory administrator{where}: {what}.",
                                   code="not_administrator")


# --- import ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportResult:
    batch: ImportBatch
    created: int


def import_components(actor: AnyUser | None, data: bytes, filename: str, *,
                      fmt: str | None = None, mapping: dict[str, str] | None = None,
                      standard: Standard | None = None, progress: Progress | None = None,
                      stage: Callable[[str], None] | None = None) -> ImportResult:
    """Validate every row of the file, then create all its components or none.

    Raises ValidationFailed `import_failed` with `details` = every row error
    ({row, column, message}, the first 1000; `message` gives the total)."""
    fmt = fileio.guess_format(filename, fmt)
    mapping = mapping or {}
    table = fileio.read_table(data, fmt, mapping)
    return import_table(actor, table, filename, fmt=fmt, mapping=mapping, standard=standard,
                        progress=progress, stage=stage)


def import_table(actor: AnyUser | None, table: fileio.Table, filename: str, *, fmt: str,
                 mapping: dict[str, str] | None = None, standard: Standard | None = None,
                 progress: Progress | None = None,
                 stage: Callable[[str], None] | None = None) -> ImportResult:
    """`import_components` of a file already read into columns (the demo builds one)."""
    from citygrid.catalog.selectors import active_standard

    mapping = mapping or {}
    if len(table) == 0:
        raise ValidationFailed(f"{filename} has no components.", code="empty_file")
    standard = standard or active_standard()
    if standard is None:
        raise NotFound("No active classification standard.", code="no_active_standard")
    prepared, errors = importing.validate(table, standard, progress=stage)
    if errors.count:
        raise ValidationFailed(
            f"{filename}: {errors.count} problem(s) in {len(errors.bad_rows)} of {len(table)} "
            "row(s); nothing was imported.", code="import_failed", details=errors.items)
    if actor is not None:
        district_ids = set(prepared.values["district_id"])
        _require_admin(actor, Area.objects.filter(pk__in=district_ids), "import components")
    if stage:
        stage("writing")
    try:
        return _write(actor, table, prepared, filename, fmt, mapping, progress)
    except IntegrityError:
        raise Conflict(f"{filename}: another import created some of these codes meanwhile; "
                       "nothing was imported. Try again.", code="import_conflict") from None


def _write(actor: AnyUser | None, table: fileio.Table, prepared: importing.Prepared,
           filename: str, fmt: str, mapping: dict[str, str],
           progress: Progress | None) -> ImportResult:
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            filename=filename[:255], file_format=fmt, mapping=mapping, count=len(table),
            actor=actor if actor is not None and actor.is_authenticated else None)
        _bulk_create(prepared, batch, progress)
        bump_inventory_revision()
    return ImportResult(batch=batch, created=len(table))


def _bulk_create(prepared: importing.Prepared, batch: ImportBatch, progress: Progress | None) -> None:
    """Insert the rows without building model instances: COPY on PostgreSQL, executemany
    elsewhere, in chunks (the ORM's bulk_create spends most of its time per object)."""
    values = dict(prepared.values)
    n = len(prepared.rows)
    now = timezone.now()
    values["geometry"] = prepared.geometries
    values["import_batch_id"] = [batch.pk] * n
    values["photo"] = [""] * n
    fields = {f.attname: f for f in Component._meta.concrete_fields if f.attname != "id"}
    values["updated_at"] = [now] * n
    missing = set(fields) - set(values)
    if missing:
        raise RuntimeError(f"import writer lacks columns {sorted(missing)}")
    names = list(fields)
    # Rows in code order append to the unique index instead of splitting pages all over it.
    order = sorted(range(n), key=values["code"].__getitem__)
    pick = operator.itemgetter(*order) if n > 1 else (lambda col: tuple(col))
    columns = [pick(_db_column(fields[name], values[name])) for name in names]
    rows = list(zip(*columns, strict=True))
    table = connection.ops.quote_name(Component._meta.db_table)
    cols_sql = ", ".join(connection.ops.quote_name(fields[name].column) for name in names)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({cols_sql}) FROM STDIN") as copy:
                for start in range(0, n, BATCH_SIZE):
                    for row in rows[start:start + BATCH_SIZE]:
                        copy.write_row(row)
                    if progress:
                        progress(min(BATCH_SIZE, n - start))
            return
        if connection.vendor == "sqlite":  # keep the indexes in memory while importing
            cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB, this connection only
        sql = f"INSERT INTO {table} ({cols_sql}) VALUES ({', '.join(['%s'] * len(names))})"
        for start in range(0, n, BATCH_SIZE):
            cursor.executemany(sql, rows[start:start + BATCH_SIZE])
            if progress:
                progress(min(BATCH_SIZE, n - start))


def _db_column(field: Any, column: list[Any]) -> list[Any]:
    """A column of values as the database driver takes them, converted once per column."""
    internal = field.get_internal_type()
    if internal == "DateField":
        return [v.isoformat() if v is not None else None for v in column]
    if internal == "DateTimeField":
        distinct = {id(v): v for v in column}
        prepped = {k: field.get_db_prep_value(v, connection) for k, v in distinct.items()}
        return [prepped[id(v)] for v in column]
    if internal == "BinaryField":
        return [bytes(v) if v is not None else None for v in column]
    return column


# --- edits -----------------------------------------------------------------------------------

def _snapshot(component: Component, fields: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(component, name)
        out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def _locked(code: str) -> Component:
    try:
        return Component.objects.select_for_update(of=("self",)).select_related("district").get(code=code)
    except Component.DoesNotExist:
        raise NotFound(f"No component with code {code!r}.", code="component_not_found") from None


@transaction.atomic
def set_component_state(actor: AnyUser | None, code: str, state: str, *,
                        case_number: str | None = None, note: str = "") -> Component:
    """Set a component's state (e.g. missing → intact when a case closes), recorded in its
    history. With `case_number` the case engine has checked the actor's right to act on the
    case; without it the actor must be an administrator of the component's district."""
    if state not in State.values:
        raise ValidationFailed(f"Unknown state {state!r}; use one of {', '.join(State.values)}.",
                               code="invalid_state")
    component = _locked(code)
    if case_number:
        if actor is not None and not getattr(actor, "is_authenticated", False):
            raise PermissionDenied("Log in first.", code="unauthenticated")
    else:
        _require_admin(actor, [component.district], f"change component {code}")
    if component.state == state:
        return component
    before = _snapshot(component, ("state", "change_date"))
    component.state = state
    component.change_date = timezone.localdate()
    component.save(update_fields=["state", "change_date", "updated_at"])
    ComponentChange.objects.create(
        component=component, actor=actor if actor is not None else None,
        source=ChangeSource.CASE if case_number else ChangeSource.EDIT,
        case_number=case_number or "", before=before,
        after=_snapshot(component, ("state", "change_date")), note=note)
    bump_inventory_revision()
    return component


EDITABLE = ("name", "state", "competent_department", "competent_unit_code",
            "competent_unit_name", "owner", "owner_unit_code", "owner_unit_name", "maintainer",
            "maintainer_unit_code", "maintainer_unit_name", "initial_date", "change_date",
            "data_source", "remark", "photo")


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "pk"):
        return str(value)
    if hasattr(value, "name") and hasattr(value, "url"):  # a FieldFile
        return value.name or ""
    return value


@transaction.atomic
def update_component(actor: AnyUser | None, code: str, changes: dict[str, Any], *,
                     note: str = "") -> Component:
    """Change attributes of a component (not its code, class or place), recorded in its
    history with before/after of the changed fields."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise ValidationFailed(f"These fields cannot be edited: {', '.join(unknown)}.",
                               code="not_editable", details=unknown)
    if "state" in changes and changes["state"] not in State.values:
        raise ValidationFailed(f"Unknown state {changes['state']!r}.", code="invalid_state")
    component = _locked(code)
    _require_admin(actor, [component.district], f"change component {code}")
    before = {k: _jsonable(getattr(component, k)) for k in changes}
    for k, v in changes.items():
        setattr(component, k, v)
    after = {k: _jsonable(getattr(component, k)) for k in changes}
    changed = [k for k in changes if before[k] != after[k]]
    if not changed:
        return component
    component.save(update_fields=[*changed, "updated_at"])
    ComponentChange.objects.create(
        component=component, actor=actor, source=ChangeSource.EDIT,
        before={k: before[k] for k in changed}, after={k: after[k] for k in changed}, note=note)
    bump_inventory_revision()
    return component


# --- survey flags ----------------------------------------------------------------------------

@transaction.atomic
def flag_for_survey(actor: AnyUser | None, *, category: Category | str, lon: float, lat: float,
                    case_number: str, note: str = "") -> SurveyFlag:
    """Put an uninventoried component (reported in case `case_number`) on the survey team's
    work list (M-07). `category` is a component class or its code in the active standard."""
    from citygrid.space.geocoding import locate

    if actor is not None and not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("Log in first.", code="unauthenticated")
    if isinstance(category, str):
        from citygrid.inventory.selectors import component_class

        category = component_class(category)
    if category.kind != Kind.COMPONENT:
        raise ValidationFailed(f"{category} is not a component class.", code="not_component_class")
    location = locate(lon, lat)
    district = Area.objects.filter(code=location.district.code).first()
    flag = SurveyFlag.objects.create(
        category=category, lon=location.lon, lat=location.lat, grid_id=location.grid_id,
        district=district, case_number=case_number, note=note,
        created_by=actor if actor is not None else None)
    bump_inventory_revision()
    return flag


@transaction.atomic
def resolve_survey_flag(actor: AnyUser | None, flag_id: int, status: str, *,
                        component_code: str | None = None) -> SurveyFlag:
    """Close a flag as surveyed (optionally naming the component now inventoried) or
    dismissed, or reopen it."""
    if status not in SurveyFlag.Status.values:
        raise ValidationFailed(f"Unknown flag status {status!r}.", code="invalid_status")
    try:
        flag = SurveyFlag.objects.select_for_update(of=("self",)).select_related("district").get(pk=flag_id)
    except SurveyFlag.DoesNotExist:
        raise NotFound(f"No survey flag {flag_id}.", code="survey_flag_not_found") from None
    _require_admin(actor, [flag.district], "work on survey flags")
    component = None
    if component_code:
        component = Component.objects.filter(code=component_code).first()
        if component is None:
            raise NotFound(f"No component with code {component_code!r}.",
                           code="component_not_found")
    flag.status = status
    flag.component = component
    open_ = status == SurveyFlag.Status.OPEN
    flag.resolved_at = None if open_ else timezone.now()
    flag.resolved_by = None if open_ or actor is None else actor
    flag.save()
    bump_inventory_revision()
    return flag
