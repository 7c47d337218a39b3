"""Indicators, scores and grades of the assessment (GB/T 30428.4 / CJ/T 292; M-22, M-23).

Pure: no Django. The ratio definitions of the standards are code (they are the standard); the
weights, grade boundaries, step limits and point tables differ between cities and are data
(`MethodConfig`, built from an administrator-edited JSON document, versioned by period).

A rate keeps its numerator and denominator; a zero denominator gives no figure (`None`), never
0 % or 100 %. Percentages are rounded half up to two decimals (911 / 972 → 93.72).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


class Post(StrEnum):
    """The kinds of subject an assessment scores."""

    INSPECTOR = "inspector"
    INTAKE_OPERATOR = "intake_operator"
    SHIFT_LEADER = "shift_leader"
    DISPATCHER = "dispatcher"
    REGION = "region"  # district government, street
    DEPARTMENT = "department"  # handling department, city department
    CONTRACTOR = "contractor"  # inspection contractor (outsourcing method, M-09)
    COLLABORATING_UNIT = "collaborating_unit"  # M-21


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def value(self) -> Decimal | None:
        """The percentage, two decimals, or None when nothing was due."""
        if self.denominator <= 0:
            return None
        return (Decimal(self.numerator) * HUNDRED / Decimal(self.denominator)).quantize(
            CENT, rounding=ROUND_HALF_UP)


def rate(numerator: int, denominator: int) -> Rate:
    if numerator < 0 or denominator < 0:
        raise ValueError("counts are never negative")
    return Rate(numerator, denominator)


@dataclass(frozen=True)
class Indicator:
    """numerator / denominator, both figures (counts) of the subject. `subtract` is a figure
    taken off the numerator ((filed − voided) / filed)."""

    key: str
    numerator: str
    denominator: str
    subtract: str = ""
    higher_is_better: bool = True

    def of(self, figures: Mapping[str, int]) -> Rate:
        top = figures.get(self.numerator, 0) - (figures.get(self.subtract, 0) if self.subtract else 0)
        return rate(max(top, 0), figures.get(self.denominator, 0))


_FILING = (
    Indicator("on_time_filing_rate", "filed_on_time", "filings"),
    Indicator("accurate_filing_rate", "filings", "filings", subtract="filings_voided"),
)
INDICATORS: dict[Post, tuple[Indicator, ...]] = {
    Post.INSPECTOR: (
        Indicator("valid_report_rate", "valid_reports", "reports"),
        Indicator("on_time_verification_rate", "verified_on_time", "verifications_due"),
        Indicator("on_time_check_rate", "checked_on_time", "checks_due"),
        Indicator("missed_report_rate", "missed_reports", "valid_reports", higher_is_better=False),
    ),
    Post.INTAKE_OPERATOR: _FILING,
    Post.SHIFT_LEADER: (
        *_FILING,
        Indicator("on_time_closing_rate", "closed_on_time", "closings"),
    ),
    Post.DISPATCHER: (
        Indicator("on_time_dispatch_rate", "dispatched_on_time", "dispatches_due"),
        Indicator("accurate_dispatch_rate", "dispatches_due", "dispatches_due",
                  subtract="wrong_dispatches"),
    ),
    Post.REGION: (
        Indicator("closing_rate", "closed", "due_to_close"),
        Indicator("on_time_closing_rate", "closed_on_time", "due_to_close"),
    ),
    Post.DEPARTMENT: (
        Indicator("on_time_handling_rate", "handled_on_time", "due_to_handle"),
        Indicator("closing_rate", "closed", "due_to_handle"),
        Indicator("rework_rate", "reworked", "due_to_handle", higher_is_better=False),
        Indicator("return_rate", "returned", "due_to_handle", higher_is_better=False),
    ),
    Post.CONTRACTOR: (
        Indicator("valid_report_rate", "valid_reports", "reports"),
        Indicator("missed_report_rate", "missed_reports", "valid_reports", higher_is_better=False),
        Indicator("on_time_verification_rate", "verified_on_time", "verifications_due"),
        Indicator("on_time_check_rate", "checked_on_time", "checks_due"),
    ),
    Post.COLLABORATING_UNIT: (
        Indicator("online_rate", "days_online", "days_due"),
        Indicator("on_time_response_rate", "responded_on_time", "due_to_handle"),
        Indicator("resolution_rate", "closed", "due_to_handle"),
    ),
}


def rates(post: Post, figures: Mapping[str, int]) -> dict[str, Rate]:
    return {ind.key: ind.of(figures) for ind in INDICATORS[post]}


# --- Configuration (versioned by period, edited by administrators) ------------------------------


class ConfigError(ValueError):
    """An assessment method document that cannot be used; `path` names the bad entry."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class GradeBand:
    minimum: Decimal
    grade: str


@dataclass(frozen=True)
class PointRule:
    """Points deducted per case found by city inspectors, plus extras (M-22)."""

    per_case: Decimal = Decimal("0.1")
    per_overdue: Decimal = Decimal("0.2")
    per_rework: Decimal = Decimal("0.2")
    per_return: Decimal = Decimal("0.1")


@dataclass(frozen=True)
class MethodConfig:
    weights: Mapping[str, Mapping[str, Decimal]]
    grades: tuple[GradeBand, ...]
    lowest_grade: str = "E"
    points: Mapping[str, PointRule] = field(default_factory=dict)  # class-code prefix → rule
    default_points: PointRule = PointRule()


DEFAULT_DOCUMENT: dict[str, Any] = {
    "weights": {
        "inspector": {"valid_report_rate": 40, "on_time_verification_rate": 20,
                      "on_time_check_rate": 20, "missed_report_rate": 20},
        "intake_operator": {"on_time_filing_rate": 50, "accurate_filing_rate": 50},
        "shift_leader": {"on_time_filing_rate": 30, "accurate_filing_rate": 30,
                         "on_time_closing_rate": 40},
        "dispatcher": {"on_time_dispatch_rate": 50, "accurate_dispatch_rate": 50},
        "region": {"closing_rate": 40, "on_time_closing_rate": 60},
        "department": {"on_time_handling_rate": 50, "closing_rate": 30, "rework_rate": 10,
                       "return_rate": 10},
        "contractor": {"valid_report_rate": 40, "missed_report_rate": 20,
                       "on_time_verification_rate": 20, "on_time_check_rate": 20},
        "collaborating_unit": {"online_rate": 30, "on_time_response_rate": 40,
                               "resolution_rate": 30},
    },
    # One published implementation: A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, else E.
    "grades": [["A", 90], ["B", 75], ["C", 60], ["D", 40]],
    "lowest_grade": "E",
    "points": {"default": {"per_case": "0.1", "per_overdue": "0.2", "per_rework": "0.2",
                           "per_return": "0.1"}},
}


def _decimal(value: Any, path: str) -> Decimal:
    if isinstance(value, bool):
        raise ConfigError(path, "expected a number")
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ConfigError(path, f"expected a number, got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ConfigError(path, "expected a finite number ≥ 0")
    return number


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(path, "expected an object")
    return value


def _point_rule(value: Any, path: str) -> PointRule:
    data = _mapping(value, path)
    known = {"per_case", "per_overdue", "per_rework", "per_return"}
    for key in data:
        if key not in known:
            raise ConfigError(f"{path}.{key}", f"unknown entry; expected one of {sorted(known)}")
    base = PointRule()
    return PointRule(**{k: _decimal(data.get(k, getattr(base, k)), f"{path}.{k}") for k in known})


def config_from_document(doc: Mapping[str, Any]) -> MethodConfig:
    """Reads and checks a method document (the JSON an administrator edits)."""
    doc = _mapping(doc, "$")
    weights: dict[str, dict[str, Decimal]] = {}
    for post_name, table in _mapping(doc.get("weights", {}), "weights").items():
        try:
            post = Post(post_name)
        except ValueError:
            raise ConfigError(f"weights.{post_name}", "unknown post") from None
        keys = {ind.key for ind in INDICATORS[post]}
        weights[post.value] = {}
        for key, weight in _mapping(table, f"weights.{post_name}").items():
            if key not in keys:
                raise ConfigError(f"weights.{post_name}.{key}",
                                  f"unknown indicator; expected one of {sorted(keys)}")
            weights[post.value][key] = _decimal(weight, f"weights.{post_name}.{key}")
    raw_grades = doc.get("grades", [])
    if not isinstance(raw_grades, Sequence) or isinstance(raw_grades, str) or not raw_grades:
        raise ConfigError("grades", "expected a non-empty list of [grade, minimum]")
    bands: list[GradeBand] = []
    for i, item in enumerate(raw_grades):
        if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 2:
            raise ConfigError(f"grades[{i}]", "expected [grade, minimum]")
        bands.append(GradeBand(_decimal(item[1], f"grades[{i}]"), str(item[0])))
    if [b.minimum for b in bands] != sorted((b.minimum for b in bands), reverse=True) or \
            len({b.minimum for b in bands}) != len(bands):
        raise ConfigError("grades", "minimums must strictly decrease")
    points_doc = dict(_mapping(doc.get("points", {}), "points"))
    default = _point_rule(points_doc.pop("default", {}), "points.default")
    points = {str(code): _point_rule(rule, f"points.{code}") for code, rule in points_doc.items()}
    return MethodConfig(weights=weights, grades=tuple(bands),
                        lowest_grade=str(doc.get("lowest_grade", "E")), points=points,
                        default_points=default)


def default_config() -> MethodConfig:
    return config_from_document(DEFAULT_DOCUMENT)


# --- Scores, grades, deductions ----------------------------------------------------------------


def grade(score: Decimal | None, config: MethodConfig) -> str:
    """The first band whose minimum the score reaches; "" when there is no score."""
    if score is None:
        return ""
    for band in config.grades:
        if score >= band.minimum:
            return band.grade
    return config.lowest_grade


def weighted_score(post: Post, figures: Mapping[str, Rate], config: MethodConfig) -> Decimal | None:
    """Weighted mean of the indicators that have a figure (a rate with no denominator is left
    out, its weight too); lower-is-better rates count as 100 − rate. None when none has one."""
    weights = config.weights.get(post.value, {})
    total = Decimal(0)
    weight_sum = Decimal(0)
    for ind in INDICATORS[post]:
        weight = weights.get(ind.key, Decimal(0))
        value = figures[ind.key].value if ind.key in figures else None
        if value is None or weight == 0:
            continue
        total += weight * (value if ind.higher_is_better else HUNDRED - value)
        weight_sum += weight
    if weight_sum == 0:
        return None
    return (total / weight_sum).quantize(CENT, rounding=ROUND_HALF_UP)


def point_rule(category_code: str, config: MethodConfig) -> PointRule:
    """The rule of the longest class-code prefix in the point table, else the default."""
    best = ""
    for prefix in config.points:
        if category_code.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return config.points[best] if best else config.default_points


@dataclass(frozen=True)
class DeductionCounts:
    """What city inspectors found against one subject in one class."""

    category_code: str
    cases: int
    overdue: int = 0
    reworks: int = 0
    returns: int = 0


def deduction(counts: DeductionCounts, config: MethodConfig) -> Decimal:
    rule = point_rule(counts.category_code, config)
    return (rule.per_case * counts.cases + rule.per_overdue * counts.overdue
            + rule.per_rework * counts.reworks + rule.per_return * counts.returns)


@dataclass(frozen=True)
class Assessment:
    rates: dict[str, Rate]
    indicator_score: Decimal | None
    deduction: Decimal
    score: Decimal | None
    grade: str


def assess(post: Post, figures: Mapping[str, int], config: MethodConfig,
           deductions: Sequence[DeductionCounts] = ()) -> Assessment:
    """Rates, weighted score, point deductions (M-22) and grade of one subject.

    score = weighted indicator score − deductions, floored at 0. A subject with deductions but
    no rate starts from 100."""
    found = rates(post, figures)
    indicator_score = weighted_score(post, found, config)
    points = sum((deduction(d, config) for d in deductions), Decimal(0))
    if indicator_score is None and not points:
        final: Decimal | None = None
    else:
        base = indicator_score if indicator_score is not None else HUNDRED
        final = max(base - points, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Assessment(found, indicator_score, points, final, grade(final, config))
