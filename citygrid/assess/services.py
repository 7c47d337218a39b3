"""Figures, assessments, drill-down and runs, computed from the fact table (set-based).

Every figure is a named predicate on `CaseFact` grouped by one subject column; the same
predicate counts it (`compute`) and lists its cases (`drill_down`), so a drill-down's total is
the figure by construction. Over plain period/area slices every kind reads its per-day sums
(`SubjectDay`, built from the same predicates: same numbers, far fewer rows).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from citygrid.assess.domain.indicators import (
    DeductionCounts,
    MethodConfig,
    Post,
    assess,
    config_from_document,
    default_config,
)
from citygrid.assess.domain.periods import Period
from citygrid.assess.models import (
    FIGURE_SLOTS,
    AssessmentMethod,
    AssessmentResult,
    AssessmentRun,
    CaseFact,
    DeductionDay,
    RunStatus,
    SpotCheck,
    SubjectDay,
    UnitOnlineDay,
)
from citygrid.cases.models import Case
from citygrid.core.errors import ValidationFailed
from citygrid.org.models import Department, DepartmentKind, DepartmentLevel
from citygrid.space.models import Area

INSPECTOR_ROLES = ("city_inspector", "district_inspector")


@dataclass(frozen=True)
class Figure:
    key: str
    column: str  # the CaseFact column that names the subject
    q: Q


@dataclass(frozen=True)
class Subject:
    kind: str
    post: Post
    figures: tuple[Figure, ...]
    base: Q = field(default_factory=Q)  # which facts can count for this kind at all


def _region(column: str) -> tuple[Figure, ...]:
    return (
        Figure("filed", column, Q(filed=True)),
        Figure("due_to_close", column, Q(due_to_close=True)),
        Figure("closed", column, Q(due_to_close=True, closed=True)),
        Figure("closed_on_time", column, Q(due_to_close=True, closed_on_time=True)),
    )


def _department(column: str = "department_id") -> tuple[Figure, ...]:
    due = Q(due_to_handle=True)
    return (
        Figure("due_to_handle", column, due),
        Figure("handled_on_time", column, due & Q(handled_on_time=True)),
        Figure("closed", column, due & Q(closed=True)),
        Figure("overdue", column, due & Q(handled_on_time=False)),
        Figure("reworked", column, due & Q(reworks__gt=0)),
        Figure("returned", column, due & Q(returns__gt=0)),
        Figure("postponed", column, due & Q(postponed=True)),
        Figure("suspended", column, due & Q(suspended=True)),
    )


def _filing(role: str) -> tuple[Figure, ...]:
    mine = Q(filer_role=role, filed=True)
    return (
        Figure("filings", "filer_id", mine),
        Figure("filed_on_time", "filer_id", mine & Q(filed_on_time=True)),
        Figure("filings_voided", "filer_id", mine & Q(voided_at__isnull=False)),
    )


def _inspection(prefix: str) -> tuple[Figure, ...]:
    reports = Q(reporter_role__in=INSPECTOR_ROLES)
    return (
        Figure("reports", f"reporter{prefix}_id", reports),
        Figure("valid_reports", f"reporter{prefix}_id", reports & Q(valid=True)),
        Figure("verifications_due", f"verifier{prefix}_id", Q(verified_at__isnull=False)),
        Figure("verified_on_time", f"verifier{prefix}_id", Q(verified_on_time=True)),
        Figure("checks_due", f"checker{prefix}_id", Q(checked_at__isnull=False)),
        Figure("checked_on_time", f"checker{prefix}_id", Q(checked_on_time=True)),
    )


SUBJECTS: dict[str, Subject] = {
    "district": Subject("district", Post.REGION, _region("district_id")),
    "street": Subject("street", Post.REGION, _region("street_id")),
    "department": Subject("department", Post.DEPARTMENT, _department()),
    "inspector": Subject("inspector", Post.INSPECTOR, _inspection("")),
    "intake_operator": Subject("intake_operator", Post.INTAKE_OPERATOR, _filing("intake_operator")),
    "shift_leader": Subject("shift_leader", Post.SHIFT_LEADER, (
        *_filing("shift_leader"),
        Figure("closings", "closer_id", Q(close_event_at__isnull=False)),
        Figure("closed_on_time", "closer_id", Q(close_step_on_time=True)),
    )),
    "dispatcher": Subject("dispatcher", Post.DISPATCHER, (
        Figure("dispatches_due", "dispatcher_id", Q(dispatched_at__isnull=False)),
        Figure("dispatched_on_time", "dispatcher_id", Q(dispatched_on_time=True)),
        Figure("wrong_dispatches", "dispatcher_id", Q(dispatched_at__isnull=False, returns__gt=0)),
    )),
    "contractor": Subject("contractor", Post.CONTRACTOR, _inspection("_contractor")),
    "collaborating_unit": Subject("collaborating_unit", Post.COLLABORATING_UNIT, (
        Figure("due_to_handle", "department_id", Q(dispatched_at__isnull=False, valid=True)),
        Figure("responded_on_time", "department_id",
               Q(dispatched_at__isnull=False, valid=True, responded_on_time=True)),
        Figure("closed", "department_id", Q(dispatched_at__isnull=False, valid=True, closed=True)),
    ), base=Q(department_id__in=Department.objects.filter(kind=DepartmentKind.SOCIAL_UNIT)
              .values("id"))),
}
KINDS = tuple(SUBJECTS)
STREET_KEYED = {"district", "street"}  # kinds whose daily sums are kept per street too


@dataclass(frozen=True)
class Filters:
    """A slice (M-23, M-24): report days `start` … `end`, plus optional narrowing."""

    start: date
    end: date
    district_ids: tuple[int, ...] | None = None  # None: the whole city
    street_id: int | None = None
    category_prefix: str = ""
    source: str = ""
    department_id: int | None = None
    hour_from: int | None = None
    hour_to: int | None = None  # inclusive
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, period: Period, **kwargs: Any) -> Filters:
        return cls(period.start, period.end, **kwargs)

    @property
    def plain(self) -> bool:
        """Only period and area: the per-day sums (SubjectDay) can answer."""
        return not (self.category_prefix or self.source or self.department_id is not None
                    or self.hour_from is not None or self.hour_to is not None)

    def q(self) -> Q:
        q = Q(day__gte=self.start, day__lte=self.end)
        if self.district_ids is not None:
            q &= Q(district_id__in=self.district_ids)
        if self.street_id is not None:
            q &= Q(street_id=self.street_id)
        if self.category_prefix:
            q &= Q(category_code__startswith=self.category_prefix)
        if self.source:
            q &= Q(source=self.source)
        if self.department_id is not None:
            q &= Q(department_id=self.department_id)
        if self.hour_from is not None:
            q &= Q(hour__gte=self.hour_from)
        if self.hour_to is not None:
            q &= Q(hour__lte=self.hour_to)
        return q


def _subject(kind: str) -> Subject:
    try:
        return SUBJECTS[kind]
    except KeyError:
        raise ValidationFailed(f"Unknown subject kind {kind!r}.", code="unknown_subject_kind",
                               details={"field": "kind", "allowed": list(SUBJECTS)}) from None


def _figure(subject: Subject, key: str) -> Figure:
    for fig in subject.figures:
        if fig.key == key:
            return fig
    raise ValidationFailed(f"{subject.kind} has no figure {key!r}.", code="unknown_figure",
                           details={"field": "figure",
                                    "allowed": [f.key for f in subject.figures]})


def compute_figures(kind: str, filters: Filters, *, use_rollup: bool = True) -> dict[int, dict[str, int]]:
    """{subject id: {figure: count}} for every subject with at least one case in the slice."""
    subject = _subject(kind)
    if use_rollup and filters.plain and (filters.street_id is None or kind in STREET_KEYED):
        return figures_of_all(filters, kinds=(kind,))[kind]
    result: dict[int, dict[str, int]] = defaultdict(lambda: {f.key: 0 for f in subject.figures})
    by_column: dict[str, list[Figure]] = defaultdict(list)
    for fig in subject.figures:
        by_column[fig.column].append(fig)
    base = CaseFact.objects.filter(filters.q(), subject.base)
    for column, figs in by_column.items():
        rows = (base.filter(**{f"{column}__isnull": False}).values(column)
                .annotate(**{f"n_{f.key}": Count("case_id", filter=f.q) for f in figs}))
        for row in rows:
            for fig in figs:
                result[row[column]][fig.key] = row[f"n_{fig.key}"]
    return _finish_figures(kind, filters, result)


def figures_of_all(filters: Filters, kinds: Iterable[str] = KINDS) -> dict[str, dict[int, dict[str, int]]]:
    """Every subject's figures of every kind in a plain slice (period, districts, street): one
    query over the per-day sums (a street slice counts the facts for the kinds whose sums are
    not kept per street)."""
    kinds = list(kinds)
    if filters.street_id is not None and not set(kinds) <= STREET_KEYED:
        found = figures_of_all(filters, [k for k in kinds if k in STREET_KEYED])
        found.update({k: compute_figures(k, filters, use_rollup=False)
                      for k in kinds if k not in STREET_KEYED})
        return {k: found[k] for k in kinds}
    slots = [f"f{i}" for i in range(FIGURE_SLOTS)]
    q = Q(day__gte=filters.start, day__lte=filters.end, kind__in=kinds)
    if filters.district_ids is not None:
        q &= Q(district_id__in=filters.district_ids)
    if filters.street_id is not None:
        q &= Q(street_id=filters.street_id)
    rows = (SubjectDay.objects.filter(q).values_list("kind", "subject_id")
            .annotate(*(Sum(s) for s in slots)).order_by())
    found: dict[str, dict[int, dict[str, int]]] = {k: defaultdict(lambda: {}) for k in kinds}
    for kind, sid, *sums in rows:
        keys = [f.key for f in SUBJECTS[kind].figures]
        found[kind][sid] = dict(zip(keys, (int(n or 0) for n in sums), strict=False))
    return {kind: _finish_figures(kind, filters, found[kind]) for kind in kinds}


def _finish_figures(kind: str, filters: Filters,
                    result: dict[int, dict[str, int]]) -> dict[int, dict[str, int]]:
    subject = SUBJECTS[kind]
    empty = {f.key: 0 for f in subject.figures}
    result = defaultdict(lambda: dict(empty), {k: {**empty, **v} for k, v in result.items()})
    if kind in ("inspector", "contractor"):
        _add_missed(kind, filters, result)
    if kind == "collaborating_unit":
        _add_online(filters, result)
    return {k: v for k, v in result.items() if any(v.values())}


def _add_missed(kind: str, filters: Filters, result: dict[int, dict[str, int]]) -> None:
    column = "inspector_id" if kind == "inspector" else "inspector__person__contractor_id"
    rows = (SpotCheck.objects.filter(day__gte=filters.start, day__lte=filters.end)
            .values(column).annotate(missed=Sum("missed")))
    for row in rows:
        if row[column] is not None:
            result[row[column]]["missed_reports"] = int(row["missed"])


def _add_online(filters: Filters, result: dict[int, dict[str, int]]) -> None:
    rows = (UnitOnlineDay.objects.filter(day__gte=filters.start, day__lte=filters.end)
            .values("department_id")
            .annotate(days_due=Count("id"), days_online=Count("id", filter=Q(online=True))))
    for row in rows:
        result[row["department_id"]]["days_due"] = row["days_due"]
        result[row["department_id"]]["days_online"] = row["days_online"]


def deduction_facts(kind: str) -> tuple[str, QuerySet[CaseFact]] | None:
    """The subject column and the facts that cost a district or a city-level department
    points (M-22): valid cases its city inspectors found. None for the other kinds."""
    found = CaseFact.objects.filter(source="city_inspector", valid=True)
    if kind == "district":
        return "district_id", found
    if kind == "department":
        city = Department.objects.filter(level=DepartmentLevel.CITY).values("id")
        return "department_id", found.filter(department_id__in=city)
    return None


DEDUCTION_SUMS = {"n_cases": Count("case_id"),
                  "n_overdue": Count("case_id", filter=Q(due_to_handle=True, handled_on_time=False)),
                  "n_reworks": Sum("reworks"), "n_returns": Sum("returns")}


def deductions(kind: str, filters: Filters) -> dict[int, list[DeductionCounts]]:
    """Cases found by city inspectors against districts and city-level departments (M-22),
    per class; plain slices read the per-day sums (`DeductionDay`)."""
    source = deduction_facts(kind)
    if source is None:
        return {}
    column, facts = source
    if filters.plain and filters.street_id is None:
        q = Q(kind=kind, day__gte=filters.start, day__lte=filters.end)
        if filters.district_ids is not None:
            q &= Q(district_id__in=filters.district_ids)
        rows: Iterable[dict[str, Any]] = (
            DeductionDay.objects.filter(q).values("subject_id", "category_code").order_by()
            .annotate(**{name: Sum(name[2:]) for name in DEDUCTION_SUMS}))
        column = "subject_id"
    else:
        rows = facts.filter(filters.q()).values(column, "category_code").annotate(**DEDUCTION_SUMS)
    found: dict[int, list[DeductionCounts]] = defaultdict(list)
    for row in rows:
        found[row[column]].append(DeductionCounts(row["category_code"], int(row["n_cases"]),
                                                  int(row["n_overdue"]), int(row["n_reworks"] or 0),
                                                  int(row["n_returns"] or 0)))
    return found


def drill_down(kind: str, subject_id: int, figure: str, filters: Filters) -> QuerySet[Case]:
    """The cases behind one figure of one subject (their number equals the figure)."""
    subject = _subject(kind)
    fig = _figure(subject, figure)
    facts = CaseFact.objects.filter(filters.q(), fig.q, **{fig.column: subject_id})
    return Case.objects.filter(id__in=facts.values("case_id"))


HOTSPOT_LEVELS = {"community": "community_id", "grid": "grid_id"}
HOTSPOT_LIMIT = 2000


def hotspot_column(level: str) -> str:
    try:
        return HOTSPOT_LEVELS[level]
    except KeyError:
        raise ValidationFailed(f"Unknown hotspot level {level!r}.", code="unknown_level",
                               details={"field": "level", "allowed": list(HOTSPOT_LEVELS)}) from None


def hotspots(filters: Filters, level: str = "community",
             limit: int = HOTSPOT_LIMIT) -> list[dict[str, int]]:
    """Cases reported per community or unit grid in the slice, most first: {place, cases,
    closed, overdue} (overdue: due to be handled and not handled on time)."""
    column = hotspot_column(level)
    rows = (CaseFact.objects.filter(filters.q(), **{f"{column}__isnull": False})
            .values(column).annotate(cases=Count("case_id"),
                                     closed=Count("case_id", filter=Q(closed=True)),
                                     overdue=Count("case_id", filter=Q(due_to_handle=True,
                                                                        handled_on_time=False)))
            .order_by("-cases", column)[:limit])
    return [{"place": r[column], "cases": r["cases"], "closed": r["closed"],
             "overdue": r["overdue"]} for r in rows]


def hotspot_cases(filters: Filters, level: str, place_id: int) -> QuerySet[Case]:
    """The cases behind one hotspot (their number equals its `cases`)."""
    facts = CaseFact.objects.filter(filters.q(), **{hotspot_column(level): place_id})
    return Case.objects.filter(id__in=facts.values("case_id"))


def method_for(day: date) -> tuple[AssessmentMethod | None, MethodConfig]:
    method = AssessmentMethod.objects.filter(valid_from__lte=day).order_by("-valid_from").first()
    if method is None:
        return None, default_config()
    return method, config_from_document(method.document)


def names(kind: str, ids: Iterable[int]) -> dict[int, tuple[str, int | None]]:
    """{id: (display name, area id)} of the subjects."""
    ids = list(ids)
    if kind in ("district", "street"):
        return {a.id: (a.name, a.id) for a in Area.objects.filter(id__in=ids)}
    if kind in ("department", "contractor", "collaborating_unit"):
        return {d.id: (d.name, d.area_id) for d in Department.objects.filter(id__in=ids)}
    people = User.objects.filter(id__in=ids).select_related("person")
    return {u.id: (getattr(getattr(u, "person", None), "display_name", "") or u.get_username(), None)
            for u in people}


@dataclass
class Row:
    kind: str
    subject_id: int
    name: str
    area_id: int | None
    figures: dict[str, int]
    rates: dict[str, str | None]
    deduction: Decimal
    score: Decimal | None
    grade: str
    rank: int | None = None


def assess_kind(kind: str, filters: Filters, config: MethodConfig) -> list[Row]:
    """Every subject of a kind in the slice, assessed and ranked (best score first)."""
    subject = _subject(kind)
    figures = compute_figures(kind, filters)
    found = deductions(kind, filters)
    labels = names(kind, set(figures) | set(found))
    rows = []
    for sid in set(figures) | set(found):
        counts = figures.get(sid) or {f.key: 0 for f in subject.figures}
        result = assess(subject.post, counts, config, found.get(sid, ()))
        name, area = labels.get(sid, (str(sid), None))
        rows.append(Row(kind, sid, name, area, counts,
                        {k: (None if r.value is None else str(r.value)) for k, r in result.rates.items()},
                        result.deduction, result.score, result.grade))
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.name))
    for i, row in enumerate(rows, 1):
        row.rank = i if row.score is not None else None
    return rows


def generate(run: AssessmentRun, *, refresh: bool = True) -> AssessmentRun:
    """Computes every subject kind of the run's period and stores the results; progress is
    saved after each kind so the page can show it."""
    from citygrid.assess.facts import refresh_facts

    method, config = method_for(run.period_start)
    run.method, run.status, run.progress, run.message = method, RunStatus.RUNNING, 0, ""
    run.save(update_fields=["method", "status", "progress", "message"])
    try:
        if refresh:
            run.facts_as_of = timezone.now()
            refresh_facts(as_of=run.facts_as_of)
        districts = None
        if run.scope_id is not None:
            districts = tuple(Area.objects.filter(Q(id=run.scope_id) | Q(children__id=run.scope_id),
                                                  level="district").values_list("id", flat=True))
        filters = Filters(run.period_start, run.period_end, district_ids=districts)
        with transaction.atomic():
            run.results.all().delete()
            for i, kind in enumerate(KINDS, 1):
                rows = assess_kind(kind, filters, config)
                AssessmentResult.objects.bulk_create([
                    AssessmentResult(run=run, subject_kind=r.kind, subject_id=r.subject_id,
                                     subject_name=r.name[:200], area_id=r.area_id, figures=r.figures,
                                     rates=r.rates, deduction=r.deduction, score=r.score,
                                     grade=r.grade, rank=r.rank) for r in rows])
                AssessmentRun.objects.filter(pk=run.pk).update(progress=int(i * 100 / len(KINDS)))
        run.status, run.progress, run.generated_at = RunStatus.DONE, 100, timezone.now()
    except Exception as exc:  # recorded on the run for the page; the worker logs it too
        run.status, run.message = RunStatus.FAILED, str(exc)[:500]
        run.save(update_fields=["status", "message"])
        raise
    run.save(update_fields=["status", "progress", "generated_at", "facts_as_of"])
    return run


def record_online_days(records: Iterable[tuple[int, date, bool]]) -> int:
    """For the collaboration platform: (department id, day, online) rows, upserted (M-21)."""
    count = 0
    with transaction.atomic():
        for department_id, day, online in records:
            UnitOnlineDay.objects.update_or_create(department_id=department_id, day=day,
                                                   defaults={"online": online})
            count += 1
    return count
