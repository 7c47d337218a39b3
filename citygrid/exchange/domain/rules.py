"""Pure rules of the public exchange: Open311 parameter parsing, attribute checks, tracking
codes, location coarsening and contact redaction. No Django here."""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

# Tracking codes: 12 symbols from an alphabet without look-alikes (no 0/O, 1/I/L), shown in
# groups of four. 31^12 ≈ 7.9e17 codes: not guessable under any rate limit.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 12

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
MAX_WINDOW = timedelta(days=90)
# Date-times a client may name: the window around them stays representable and PostgreSQL
# takes the offset (the API fuzz tests found 9999-12-31 overflowing and -21:08 refused).
FIRST_YEAR, LAST_YEAR = 1970, 9998
MAX_OFFSET = timedelta(hours=14)  # the widest offset in use (Kiribati, UTC+14)

# Grid for the public map and the public Open311 output: 0.001° (≈111 m north-south,
# ≈96 m east-west at Chengdu's latitude); every point is shown at its cell's centre.
COARSE_STEP = 0.001

_ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
_PHONE = re.compile(r"(?<![\d])(?:\+?\d[\d\s-]{5,}\d)(?![\d])")
_DATE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


class RuleError(ValueError):
    """Bad input for an Open311 request; `code` is machine-readable, the message plain."""

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code


def new_tracking_code() -> str:
    raw = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))
    return format_tracking_code(raw)


def format_tracking_code(raw: str) -> str:
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def normalize_tracking_code(text: str) -> str | None:
    """The canonical form of what a person typed (any case, spaces or dashes), or None."""
    raw = re.sub(r"[\s-]", "", text or "").upper()
    if len(raw) != TRACKING_LENGTH or any(ch not in TRACKING_ALPHABET for ch in raw):
        return None
    return format_tracking_code(raw)


def coarsen(lon: float, lat: float, step: float = COARSE_STEP) -> tuple[float, float]:
    """The centre of the `step`-degree cell holding the point, rounded to stable decimals."""
    if not (math.isfinite(lon) and math.isfinite(lat)) or step <= 0:
        raise RuleError("coordinates must be finite numbers", "invalid_location")
    digits = max(0, -math.floor(math.log10(step))) + 1

    def centre(value: float) -> float:
        return round((math.floor(value / step) + 0.5) * step, digits)

    return centre(lon), centre(lat)


def redact_contacts(text: str) -> str:
    """Public copies of a description: phone numbers (and other long digit runs such as ID
    numbers) and e-mail addresses blanked out; dates and house numbers stay."""
    text = _EMAIL.sub("[…]", text or "")
    return _PHONE.sub(_blank_number, text)


def _blank_number(match: re.Match[str]) -> str:
    found = match.group(0)
    digits = sum(ch.isdigit() for ch in found)
    if digits < 7 or _DATE.match(found):
        return found
    return "[…]"


def present(params: Mapping[str, str], name: str) -> str | None:
    """A parameter's value, with empty (or blank) values counting as absent."""
    value = params.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def parse_attribute_fields(items: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """`attribute[code]=v` and `attribute[code][]=v1&attribute[code][]=v2` → {code: [v, …]};
    empty values are dropped."""
    result: dict[str, list[str]] = {}
    for key, value in items:
        match = _ATTRIBUTE_KEY.match(key)
        if match is None:
            continue
        text = value.strip()
        if text:
            result.setdefault(match.group(1), []).append(text)
    return result


@dataclass(frozen=True)
class AttributeDef:
    code: str
    datatype: str
    required: bool
    order: int
    description: str
    datatype_description: str = ""
    variable: bool = True
    values: tuple[tuple[str, str], ...] = ()  # (key, name)


def attribute_defs(raw: Sequence[Mapping[str, Any]], language: str = "zh-hans") -> list[AttributeDef]:
    """Definitions from stored JSON, in order; `description_en`/`name_en` used for English."""
    english = language.startswith("en")
    defs = []
    for index, item in enumerate(raw):
        values = tuple(
            (str(v["key"]), str((v.get("name_en") if english else None) or v.get("name") or v["key"]))
            for v in item.get("values", ())
        )
        defs.append(AttributeDef(
            code=str(item["code"]), datatype=str(item.get("datatype", "string")),
            required=bool(item.get("required", False)), order=int(item.get("order", index + 1)),
            description=str((item.get("description_en") if english else None)
                            or item.get("description") or item["code"]),
            datatype_description=str(item.get("datatype_description", "")),
            variable=bool(item.get("variable", True)), values=values,
        ))
    return sorted(defs, key=lambda d: (d.order, d.code))


def check_definitions(raw: Sequence[Mapping[str, Any]]) -> list[str]:
    """Problems in stored attribute definitions (for the admin form); empty when valid."""
    problems: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping) or not str(item.get("code", "")).strip():
            problems.append(f"attribute {index + 1}: needs a code")
            continue
        code = str(item["code"])
        if code in seen:
            problems.append(f"attribute {code}: code used twice")
        seen.add(code)
        datatype = item.get("datatype", "string")
        if datatype not in DATATYPES:
            problems.append(f"attribute {code}: datatype must be one of {', '.join(DATATYPES)}")
        values = item.get("values", [])
        if datatype in ("singlevaluelist", "multivaluelist") and not values:
            problems.append(f"attribute {code}: a list needs values")
        for value in values or []:
            if not isinstance(value, Mapping) or "key" not in value:
                problems.append(f"attribute {code}: each value needs a key")
    return problems


def check_attributes(defs: Sequence[AttributeDef],
                     submitted: Mapping[str, list[str]]) -> dict[str, str | list[str]]:
    """The submitted attribute values, checked against the definitions: required ones present,
    list values among the keys, numbers and datetimes readable. Unknown codes are refused."""
    known = {d.code: d for d in defs}
    unknown = sorted(set(submitted) - set(known))
    if unknown:
        raise RuleError(f"unknown attribute {unknown[0]}", "unknown_attribute")
    result: dict[str, str | list[str]] = {}
    for d in defs:
        values = submitted.get(d.code, [])
        if not values:
            if d.required and d.variable:
                raise RuleError(f"attribute {d.code} is required", "attribute_required")
            continue
        keys = {key for key, _ in d.values}
        if d.datatype == "multivaluelist":
            bad = [v for v in values if v not in keys]
            if bad:
                raise RuleError(f"attribute {d.code}: {bad[0]} is not one of its values",
                                "attribute_invalid")
            result[d.code] = list(dict.fromkeys(values))
            continue
        if len(values) > 1:
            raise RuleError(f"attribute {d.code} takes one value", "attribute_invalid")
        value = values[0]
        if d.datatype == "singlevaluelist" and value not in keys:
            raise RuleError(f"attribute {d.code}: {value} is not one of its values",
                            "attribute_invalid")
        if d.datatype == "number":
            try:
                number = Decimal(value)
            except InvalidOperation:
                raise RuleError(f"attribute {d.code} must be a number", "attribute_invalid") from None
            if not number.is_finite():
                raise RuleError(f"attribute {d.code} must be a number", "attribute_invalid")
        if d.datatype == "datetime":
            parse_datetime(value, f"attribute {d.code}")
        if len(value) > 4000:
            raise RuleError(f"attribute {d.code} is longer than 4000 characters", "attribute_invalid")
        result[d.code] = value
    return result


def parse_datetime(text: str, field: str) -> datetime:
    """A W3C/ISO 8601 date-time; a missing zone means UTC, a bare date its midnight UTC."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise RuleError(f"{field} is not an ISO 8601 date-time such as 2026-01-31T08:00:00Z",
                        "invalid_date") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    offset = parsed.utcoffset() or timedelta(0)
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR or abs(offset) > MAX_OFFSET:
        raise RuleError(f"{field} must lie in the years {FIRST_YEAR}-{LAST_YEAR}, with an offset "
                        "of at most 14 hours", "invalid_date")
    return parsed


def date_window(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The requested_datetime range: the last 90 days by default; one bound given → the 90
    days after start or before end; both given → at most 90 days apart."""
    start_at = parse_datetime(start, "start_date") if start else None
    end_at = parse_datetime(end, "end_date") if end else None
    if start_at is None and end_at is None:
        return now - MAX_WINDOW, now
    if start_at is None:
        assert end_at is not None
        return end_at - MAX_WINDOW, end_at
    if end_at is None:
        return start_at, start_at + MAX_WINDOW
    if end_at < start_at:
        raise RuleError("end_date is before start_date", "invalid_date")
    if end_at - start_at > MAX_WINDOW:
        raise RuleError("start_date and end_date may not span more than 90 days", "invalid_date")
    return start_at, end_at


def split_list(value: str | None) -> list[str]:
    """A comma list with blanks dropped and order kept, without repeats."""
    if not value:
        return []
    return list(dict.fromkeys(item.strip() for item in value.split(",") if item.strip()))


def parse_coordinate(text: str | None, field: str, low: float, high: float) -> float:
    if text is None:
        raise RuleError(f"{field} is required", "invalid_location")
    try:
        value = float(text)
    except ValueError:
        raise RuleError(f"{field} must be a decimal number", "invalid_location") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise RuleError(f"{field} must lie between {low:g} and {high:g}", "invalid_location")
    return value
