"""Pure rules of the classification data: confidence of a source note, time limits as the
sample city standards write them, and the rows of a class spreadsheet."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from citygrid.calendars.domain.durations import Duration, DurationError, parse_duration
from citygrid.core.domain.rows import RowError


class Confidence(StrEnum):
    CONFIRMED = "confirmed"
    PARTLY = "partly"
    UNCERTAIN = "uncertain"


def confidence_from_note(note: str) -> Confidence:
    """How well a row is confirmed, read from its provenance note.

    UNCERTAIN anywhere wins; a code confirmed by other lists without a name caveat is
    confirmed; anything else (single source, secondary transcription, name variants) is partly.
    """
    text = note.lower()
    if "uncertain" in text:
        return Confidence.UNCERTAIN
    if "confirmed" in text and "name there" not in text and "possible" not in text:
        return Confidence.CONFIRMED
    return Confidence.PARTLY


@dataclass(frozen=True, slots=True)
class SampleLimit:
    """A limit read from a sample standard: the first stage is the limit, the rest is noted."""

    duration: Duration
    note: str = ""
    unit_uncertain: bool = False


_STAGE_SEP = re.compile(r"\s*/\s*")
_STAGE_RE = re.compile(r"^(?P<label>\D*?)\s*(?P<amount>\d+(?:\.\d+)?)\s*$")
_PAREN_RE = re.compile(r"[（(].*?[)）]")


def split_stages(text: str) -> list[str]:
    return [part for part in _STAGE_SEP.split(text.strip()) if part]


def parse_sample_limit(amount_text: str, unit_text: str) -> SampleLimit:
    """Read "15" + "工作日", or staged "停工4 / 处罚7 / 拆除20" + "工作时 / 工作日 / 工作日".

    A unit with a parenthetical caveat ("小时（时限类型未说明）") is read without the caveat
    and flagged as uncertain. Raises DurationError when nothing can be read.
    """
    amounts = split_stages(amount_text)
    units = split_stages(unit_text)
    if not amounts or not units:
        raise DurationError(f"no time limit in {amount_text!r} / {unit_text!r}")
    match = _STAGE_RE.match(amounts[0])
    if not match:
        raise DurationError(f"cannot read the amount {amounts[0]!r}")
    unit_raw = units[0]
    uncertain = bool(_PAREN_RE.search(unit_raw))
    unit_clean = _PAREN_RE.sub("", unit_raw).strip()
    duration = parse_duration(f"{match['amount']} {unit_clean}")
    notes: list[str] = []
    if len(amounts) > 1 or len(units) > 1:
        notes.append(f"staged limit: {amount_text} ({unit_text}); the first stage is the limit")
    if uncertain:
        notes.append(f"unit uncertain: {unit_raw}")
    return SampleLimit(duration, "; ".join(notes), uncertain)


# --- class spreadsheets -------------------------------------------------------------------

SHEET_COLUMNS: tuple[str, ...] = (
    "kind", "major_code", "major_name", "minor_code", "minor_name", "fine_code", "fine_name",
    "filing_condition", "closing_condition", "is_emergency", "limit_ordinary", "limit_urgent",
)
KINDS = ("component", "event")
_CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$")
_TRUE = {"1", "true", "yes", "y", "是", "√", "x"}
_FALSE = {"", "0", "false", "no", "n", "否"}


@dataclass(frozen=True, slots=True)
class ClassPath:
    """One level of a row: its code and (possibly empty) name."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class SheetRow:
    """A valid spreadsheet row: the class path down to the deepest level given."""

    row: int
    kind: str
    major: ClassPath
    minor: ClassPath | None
    fine: ClassPath | None
    filing_condition: str
    closing_condition: str
    is_emergency: bool
    limits: dict[str, Duration | None] = field(default_factory=dict)

    @property
    def level(self) -> str:
        return "fine" if self.fine else "minor" if self.minor else "major"

    @property
    def code(self) -> str:
        deepest = self.fine or self.minor or self.major
        return deepest.code


def parse_bool(text: str) -> bool:
    key = text.strip().lower()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"{text!r} is not yes/no (write 1/0, true/false, 是/否)")


def _cell(raw: dict[str, str], column: str) -> str:
    value = raw.get(column)
    return "" if value is None else str(value).strip()


def _check_code(errors: list[RowError], row: int, column: str, code: str, prefix: str) -> None:
    if not _CODE_RE.match(code):
        errors.append(RowError(row, column, f"code {code!r} must be 1-32 letters or digits"))
    elif prefix and (not code.startswith(prefix) or code == prefix):
        errors.append(
            RowError(row, column, f"code {code!r} must be the full code, starting with {prefix!r}")
        )


def parse_sheet_row(row: int, raw: dict[str, str]) -> tuple[SheetRow | None, list[RowError]]:
    """Check one row; returns the parsed row or every error found in it."""
    errors: list[RowError] = []
    kind = _cell(raw, "kind").lower()
    if kind not in KINDS:
        errors.append(RowError(row, "kind", f"kind must be component or event, not {kind!r}"))
    levels: list[ClassPath | None] = []
    prefix = ""
    for level in ("major", "minor", "fine"):
        code, name = _cell(raw, f"{level}_code"), _cell(raw, f"{level}_name")
        if not code:
            if name:
                errors.append(RowError(row, f"{level}_code", f"{level}_name given without a code"))
            levels.append(None)
            continue
        if level != "major" and levels[-1] is None:
            errors.append(RowError(row, f"{level}_code", f"a {level} class needs the level above"))
        _check_code(errors, row, f"{level}_code", code, prefix)
        prefix = code
        levels.append(ClassPath(code, name))
    major, minor, fine = levels
    if major is None:
        errors.append(RowError(row, "major_code", "major_code is required"))
    try:
        emergency = parse_bool(_cell(raw, "is_emergency"))
    except ValueError as exc:
        errors.append(RowError(row, "is_emergency", str(exc)))
        emergency = False
    limits: dict[str, Duration | None] = {}
    for urgency in ("ordinary", "urgent"):
        text = _cell(raw, f"limit_{urgency}")
        try:
            limits[urgency] = parse_duration(text) if text else None
        except DurationError as exc:
            errors.append(RowError(row, f"limit_{urgency}", str(exc)))
    if errors or major is None:
        return None, errors
    return SheetRow(
        row=row, kind=kind, major=major, minor=minor, fine=fine,
        filing_condition=_cell(raw, "filing_condition"),
        closing_condition=_cell(raw, "closing_condition"),
        is_emergency=emergency, limits=limits,
    ), []


def parse_sheet(rows: list[tuple[int, dict[str, str]]]) -> tuple[list[SheetRow], list[RowError]]:
    """Check every row and the rows against each other (no class twice, one name per code)."""
    parsed: list[SheetRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    names: dict[tuple[str, str], tuple[str, int]] = {}
    for number, raw in rows:
        row, row_errors = parse_sheet_row(number, raw)
        errors.extend(row_errors)
        if row is None:
            continue
        key = (row.kind, row.code)
        if key in seen:
            errors.append(RowError(number, f"{row.level}_code",
                                   f"{row.kind} {row.code} already given in row {seen[key]}"))
            continue
        seen[key] = number
        for level, path in (("major", row.major), ("minor", row.minor), ("fine", row.fine)):
            if path is None or not path.name:
                continue
            earlier = names.setdefault((row.kind, path.code), (path.name, number))
            if earlier[0] != path.name:
                errors.append(RowError(number, f"{level}_name",
                                       f"{path.code} is named {earlier[0]!r} in row {earlier[1]}"))
        parsed.append(row)
    return parsed, errors


def duration_text(duration: Duration | None) -> str:
    return "" if duration is None else str(duration)


# --- process step limits in the sample standards ------------------------------------------

_STEP_WORDS: tuple[tuple[str, str], ...] = (
    ("受理", "accept"), ("核实", "verify"), ("立案", "file"), ("派遣", "dispatch"),
    ("核查", "check"), ("结案", "close"),
)
_NOTE_LIMIT_RE = re.compile(r"(?P<step>受理|核实|立案|派遣|核查|结案)时限[:：]\s*(?P<body>.+)")
_AREA_LIMIT_RE = re.compile(r"^(?P<label>.*?)\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>\S+)$")


@dataclass(frozen=True, slots=True)
class StepLimitSpec:
    step: str
    urgency: str
    area_type: str
    duration: Duration
    note: str = ""


def steps_named(text: str) -> list[str]:
    """The process steps a label names, in process order: "立案、派遣时限" → file, dispatch."""
    return [step for word, step in _STEP_WORDS if word in text]


def _urgency_of(label: str) -> str:
    if "非紧急" in label or "一般" in label:
        return "ordinary"
    if "紧急" in label:
        return "urgent"
    return "ordinary"


def parse_process_row(
    label: str, condition: str, amount_text: str, unit_text: str, note: str
) -> list[StepLimitSpec]:
    """Step limits from a "(process)" row of sample_standards.csv.

    "立案、派遣时限" with "紧急项 / 非紧急项", "10 / 30", "分钟" gives file and dispatch limits
    for urgent (10 minutes) and ordinary (30 minutes). A note such as
    "核查时限: 城市、城乡结合部 1小时; 农村 2小时" adds check limits by area type (for every
    urgency, since it names none).
    """
    specs: list[StepLimitSpec] = []
    amounts = split_stages(amount_text)
    units = split_stages(unit_text) or [""]
    labels = split_stages(condition)
    paired = len(labels) == len(amounts) and len(labels) > 1
    for index, amount in enumerate(amounts):
        unit = units[index] if index < len(units) else units[-1]
        duration = parse_duration(f"{amount} {_PAREN_RE.sub('', unit).strip()}")
        urgency = _urgency_of(labels[index]) if paired else "ordinary"
        specs.extend(StepLimitSpec(step, urgency, "any", duration, label) for step in steps_named(label))
    for match in _NOTE_LIMIT_RE.finditer(note):
        for part in re.split(r"[;；]", match["body"]):
            area = _AREA_LIMIT_RE.match(part.strip())
            if not area:
                continue
            duration = parse_duration(f"{area['amount']} {area['unit']}")
            area_type = "rural" if "农村" in area["label"] else "urban"
            step = dict(_STEP_WORDS)[match["step"]]
            specs.extend(
                StepLimitSpec(step, urgency, area_type, duration, part.strip())
                for urgency in ("ordinary", "urgent")
            )
    return specs
