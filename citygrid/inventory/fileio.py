"""Reading and writing component files: CSV (UTF-8), xlsx (first sheet) and GeoJSON
(RFC 7946 FeatureCollection, WGS84). Files are read into columns (one list of text per
field), which keeps a million rows cheap; rows are numbered as people see them: the header
is row 1 in CSV/xlsx, and features are numbered from 1 in GeoJSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely

from citygrid.core.errors import ValidationFailed
from citygrid.core.sheets import cell_text
from citygrid.inventory.domain.mapping import FIELDS, MappingError, resolve_columns

FORMATS = ("csv", "xlsx", "geojson")
EXPORT_COLUMNS: tuple[str, ...] = (*FIELDS, "grid", "community", "street", "district")


@dataclass
class Table:
    """Rows of a file as columns of text per field, plus per-row geometry for GeoJSON
    lines and polygons (WKB, None for points)."""

    rows: list[int]
    columns: dict[str, list[str]]
    geometries: list[bytes | None] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, name: str) -> list[str]:
        return self.columns.get(name) or [""] * len(self.rows)


def guess_format(filename: str, given: str | None = None) -> str:
    if given:
        if given not in FORMATS:
            raise ValidationFailed(f"Unknown format {given!r}; use one of {', '.join(FORMATS)}.",
                                   code="unsupported_format")
        return given
    name = filename.lower()
    for fmt, endings in (("csv", (".csv",)), ("xlsx", (".xlsx",)),
                         ("geojson", (".geojson", ".json"))):
        if name.endswith(endings):
            return fmt
    raise ValidationFailed(f"Cannot tell the format of {filename!r}: name it .csv, .xlsx or "
                           ".geojson, or give the format.", code="unsupported_format")


def read_table(data: bytes, fmt: str, mapping: Mapping[str, str]) -> Table:
    """Parse a file into a Table; ValidationFailed (code `unreadable_file` or
    `bad_mapping`) when the file as a whole cannot be used."""
    if fmt == "geojson":
        return _geojson(data, mapping)
    header, body, first = _csv_rows(data) if fmt == "csv" else _xlsx_rows(data)
    try:
        positions = resolve_columns(header, mapping)
    except MappingError as exc:
        raise ValidationFailed(str(exc), code="bad_mapping",
                               details=[{"row": 1, "column": "", "message": str(exc)}]) from None
    rows: list[int] = []
    kept: list[Sequence[str]] = []
    for number, cells in enumerate(body, start=first):
        if any(cells):
            rows.append(number)
            kept.append(cells)
    columns = {f: [c[p].strip() if p < len(c) else "" for c in kept] for f, p in positions.items()}
    return Table(rows=rows, columns=columns)


def _unreadable(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="unreadable_file",
                            details=[{"row": 0, "column": "", "message": message}])


def _csv_rows(data: bytes) -> tuple[list[str], Iterable[list[str]], int]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _unreadable("The CSV file is not UTF-8.") from None
    try:
        table = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise _unreadable(f"The CSV file cannot be read: {exc}") from None
    if not table:
        raise ValidationFailed("The file is empty.", code="empty_file")
    return table[0], table[1:], 2


def _xlsx_rows(data: bytes) -> tuple[list[str], Iterable[list[str]], int]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        rows = [[cell_text(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)]
        book.close()
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise _unreadable(f"The file is not a readable .xlsx workbook ({exc}).") from None
    if not rows:
        raise ValidationFailed("The file is empty.", code="empty_file")
    return rows[0], rows[1:], 2


def _geojson(data: bytes, mapping: Mapping[str, str]) -> Table:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _unreadable(f"The file is not valid GeoJSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise _unreadable("A GeoJSON FeatureCollection is expected.")
    features = doc.get("features") or []
    names = sorted({str(k) for f in features if isinstance(f, dict)
                    for k in (f.get("properties") or {})})
    try:
        positions = resolve_columns(names, mapping) if names else resolve_columns(["code", "class"], {})
    except MappingError as exc:
        raise ValidationFailed(str(exc), code="bad_mapping",
                               details=[{"row": 0, "column": "", "message": str(exc)}]) from None
    by_field = {f: names[p] for f, p in positions.items()}
    table = Table(rows=[], columns={f: [] for f in (*by_field, "lon", "lat")})
    for number, feature in enumerate(features, start=1):
        props = (feature.get("properties") or {}) if isinstance(feature, dict) else {}
        table.rows.append(number)
        for f, src in by_field.items():
            if f not in ("lon", "lat"):
                table.columns[f].append(cell_text(props.get(src)))
        lon, lat, wkb, problem = _feature_geometry(feature)
        if problem:
            table.errors.append({"row": number, "column": "geometry", "message": problem})
        table.columns["lon"].append(lon)
        table.columns["lat"].append(lat)
        table.geometries.append(wkb)
    return table


def _feature_geometry(feature: Any) -> tuple[str, str, bytes | None, str]:
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not geometry:
        return "", "", None, "the feature has no geometry"
    try:
        shape = shapely.geometry.shape(geometry)
    except Exception as exc:  # noqa: BLE001 - shapely raises several kinds for bad input
        return "", "", None, f"bad geometry: {exc}"
    if shape.is_empty:
        return "", "", None, "the geometry is empty"
    if shape.geom_type == "Point":
        return repr(shape.x), repr(shape.y), None, ""
    point = shape.representative_point()
    return repr(point.x), repr(point.y), shapely.to_wkb(shape), ""


# --- writing ---------------------------------------------------------------------------------

def write(fmt: str, rows: Iterable[Mapping[str, Any]]) -> bytes:
    """rows: dicts of EXPORT_COLUMNS (plus `geometry` WKB or None for GeoJSON)."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(EXPORT_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode("utf-8-sig")
    if fmt == "xlsx":
        from citygrid.core.sheets import write_xlsx

        return write_xlsx(EXPORT_COLUMNS, ({k: _text(v) for k, v in r.items()} for r in rows),
                          "components")
    if fmt == "geojson":
        return _write_geojson(rows)
    raise ValidationFailed(f"Unknown format {fmt!r}.", code="unsupported_format")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _write_geojson(rows: Iterable[Mapping[str, Any]]) -> bytes:
    out = io.StringIO()
    out.write('{"type":"FeatureCollection","features":[')
    for i, row in enumerate(rows):
        wkb = row.get("geometry")
        if wkb:
            geometry = json.loads(shapely.to_geojson(shapely.from_wkb(bytes(wkb))))
        else:
            geometry = {"type": "Point", "coordinates": [row["lon"], row["lat"]]}
        props = {k: row.get(k) for k in EXPORT_COLUMNS if k not in ("lon", "lat")}
        feature = {"type": "Feature", "id": row["code"], "geometry": geometry, "properties": props}
        if i:
            out.write(",")
        out.write(json.dumps(feature, ensure_ascii=False, default=str))
    out.write("]}")
    return out.getvalue().encode("utf-8")
