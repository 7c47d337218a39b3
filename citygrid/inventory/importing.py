"""Validating an import file in bulk: every row is checked before anything is written, with
no per-row queries (classes, departments and areas are read into dicts once; points are
geocoded in one batch; duplicate codes are checked against the database in chunks)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from django.db import connection

from citygrid.catalog.models import Category, ClassLevel, Kind, Standard
from citygrid.inventory.domain.codes import CodeError, check_code, code_fits
from citygrid.inventory.fileio import Table
from citygrid.inventory.models import Component, State
from citygrid.org.models import Department
from citygrid.space.models import Area

MAX_REPORTED = 1000  # row errors listed in full; the count is always exact
_STATE_NAMES = {"完好": "intact", "破损": "damaged", "丢失": "missing", "废弃": "abandoned",
                "移除": "removed"} | {s.value: s.value for s in State}
_DEPT_FIELDS = ("competent_department", "owner", "maintainer")
_CHUNK = 5000


@dataclass
class Prepared:
    """Validated rows, ready to become Components (parallel lists)."""

    rows: list[int]
    values: dict[str, list[Any]]
    geometries: list[bytes | None]


class Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.count = 0
        self.bad_rows: set[int] = set()

    def add(self, index: int, row: int, column: str, message: str) -> None:
        self.count += 1
        self.bad_rows.add(index)
        if len(self.items) < MAX_REPORTED:
            self.items.append({"row": row, "column": column, "message": message})


def component_classes(standard: Standard) -> dict[str, tuple[int, str]]:
    """code → (category id, the minor class code the component code is numbered under)."""
    rows = Category.objects.filter(standard=standard, kind=Kind.COMPONENT).exclude(
        level=ClassLevel.MAJOR).values_list("id", "code", "level", "parent__code")
    return {code: (pk, code if level == ClassLevel.MINOR else parent or code)
            for pk, code, level, parent in rows}


def validate(table: Table, standard: Standard, *,
             progress: Callable[[str], None] | None = None) -> tuple[Prepared, Errors]:
    errors = Errors()
    index_of = {row: i for i, row in enumerate(table.rows)}
    for e in table.errors:
        errors.add(index_of[e["row"]], e["row"], e["column"], e["message"])
    n = len(table)
    rows = table.rows
    classes = component_classes(standard)
    departments = dict(Department.objects.values_list("code", "id"))
    codes, class_codes = table.get("code"), table.get("class")

    category_ids: list[int | None] = [None] * n
    minor_codes: list[str | None] = [None] * n
    for i, cc in enumerate(class_codes):
        found = classes.get(cc)
        if found is None:
            errors.add(i, rows[i], "class", f"unknown component class {cc!r} in {standard.code}"
                       if cc else "class is empty")
        else:
            category_ids[i], minor_codes[i] = found

    lons, lats = _floats(table, "lon", errors), _floats(table, "lat", errors)
    if progress:
        progress("geocoding")
    places = _geocode(lons, lats, rows, errors)

    seen: dict[str, int] = {}
    for i, code in enumerate(codes):
        if not code:
            errors.add(i, rows[i], "code", "code is empty")
            continue
        if code in seen:
            errors.add(i, rows[i], "code", f"duplicate code {code}: also in row {seen[code]}")
            continue
        seen[code] = rows[i]
        minor = minor_codes[i]
        if minor is None:
            continue
        district = places["district_code"][i] or None
        if code_fits(code, minor, district):
            continue
        try:
            check_code(code, minor, district)
        except CodeError as exc:
            errors.add(i, rows[i], "code", str(exc))
    for code in _existing_codes(list(seen)):
        row = seen[code]
        errors.add(index_of[row], row, "code", f"code {code} is already in the inventory")

    values: dict[str, list[Any]] = {
        "code": codes, "name": table.get("name"), "category_id": category_ids,
        "lon": lons, "lat": lats, "grid_id": places["grid_id"],
        "community_id": places["community_id"], "street_id": places["street_id"],
        "district_id": places["district_id"],
        "data_source": table.get("data_source"), "remark": table.get("remark"),
    }
    for f in _DEPT_FIELDS:
        values[f + "_id"] = _departments(table, f, departments, errors)
        for suffix in ("_unit_code", "_unit_name"):
            name = f.replace("_department", "") + suffix
            values[name] = table.get(name)
    values["state"] = _states(table, errors)
    for f in ("initial_date", "change_date"):
        values[f] = _dates(table, f, errors)
    geometries = table.geometries or [None] * n
    return Prepared(rows=rows, values=values, geometries=geometries), errors


def _existing_codes(codes: list[str]) -> list[str]:
    """The codes already in the inventory, asked in chunks (raw SQL: the ORM's IN lookup
    costs more than the query itself at a million codes)."""
    table = connection.ops.quote_name(Component._meta.db_table)
    column = connection.ops.quote_name(Component._meta.get_field("code").column)
    found: list[str] = []
    with connection.cursor() as cursor:
        for start in range(0, len(codes), _CHUNK):
            chunk = codes[start:start + _CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT {column} FROM {table} WHERE {column} IN ({marks})", chunk)
            found += [row[0] for row in cursor.fetchall()]
    return found


def _floats(table: Table, name: str, errors: Errors) -> list[float]:
    out: list[float] = []
    for i, text in enumerate(table.get(name)):
        try:
            value = float(text)
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            value = math.nan
            errors.add(i, table.rows[i], name, f"{name} {text!r} is not a number"
                       if text else f"{name} is empty")
        out.append(value)
    return out


def _geocode(lons: list[float], lats: list[float], rows: list[int],
             errors: Errors) -> dict[str, list[Any]]:
    from citygrid.space.geocoding import locate_batch

    n = len(rows)
    out: dict[str, list[Any]] = {k: [None] * n for k in (
        "grid_id", "community_id", "street_id", "district_id", "district_code")}
    if n == 0:
        return out
    result = locate_batch(np.asarray(lons), np.asarray(lats))
    area_ids = dict(Area.objects.values_list("code", "id"))
    grid_ids = result.grid_ids.tolist()
    per_grid: dict[int, tuple[Any, Any, Any, str]] = {}
    for grid_id in set(grid_ids) - {-1}:
        place = result.places[grid_id]
        per_grid[grid_id] = (area_ids.get(place.community.code), area_ids.get(place.street.code),
                             area_ids.get(place.district.code), place.district.code)
    finite = np.isfinite(np.asarray(lons)) & np.isfinite(np.asarray(lats))
    grid_col, community, street, district, district_code = (
        out["grid_id"], out["community_id"], out["street_id"], out["district_id"],
        out["district_code"])
    for i, grid_id in enumerate(grid_ids):
        if grid_id < 0:
            if finite[i]:
                what = ("is not a valid lon/lat" if not result.valid[i]
                        else "is outside the area under supervision")
                errors.add(i, rows[i], "lon", f"({lons[i]}, {lats[i]}) {what}")
            continue
        grid_col[i] = grid_id
        community[i], street[i], district[i], district_code[i] = per_grid[grid_id]
    return out


def _departments(table: Table, name: str, known: dict[str, int], errors: Errors) -> list[int | None]:
    out: list[int | None] = []
    for i, code in enumerate(table.get(name)):
        if not code:
            out.append(None)
        elif code in known:
            out.append(known[code])
        else:
            out.append(None)
            errors.add(i, table.rows[i], name, f"unknown department {code!r}")
    return out


def _states(table: Table, errors: Errors) -> list[str]:
    out: list[str] = []
    for i, text in enumerate(table.get("state")):
        value = _STATE_NAMES.get(text.lower() if text else "intact")
        if value is None:
            errors.add(i, table.rows[i], "state", f"unknown state {text!r}; use one of "
                       + ", ".join(s.value for s in State))
            value = "intact"
        out.append(value)
    return out


def _dates(table: Table, name: str, errors: Errors) -> list[date | None]:
    out: list[date | None] = []
    for i, text in enumerate(table.get(name)):
        if not text:
            out.append(None)
            continue
        try:
            out.append(date.fromisoformat(text[:10].replace("/", "-")))
        except ValueError:
            out.append(None)
            errors.add(i, table.rows[i], name, f"{name} {text!r} is not a date (YYYY-MM-DD)")
    return out
