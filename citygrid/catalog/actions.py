"""Every change to classification standards, classes and time limits.

Each action is one transaction. When a `user` is given it must be a superuser or hold
`catalog.change_category`; `user=None` is the system itself (commands, demo, data import).
Only draft standards can be edited; active and retired ones raise Conflict
"standard_not_editable".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from citygrid.calendars.domain.durations import Duration, DurationError
from citygrid.catalog.domain.rules import (
    SheetRow,
    confidence_from_note,
    parse_process_row,
    parse_sample_limit,
    parse_sheet,
)
from citygrid.catalog.models import (
    AreaType,
    Category,
    CategoryMapping,
    ClassLevel,
    HandlingTimeLimit,
    Kind,
    Relation,
    Standard,
    Step,
    StepTimeLimit,
    Urgency,
)
from citygrid.catalog.sheets import NATIONAL_CSV, SAMPLE_CSV, read_data_csv
from citygrid.core.domain.rows import RowError
from citygrid.core.errors import Conflict, PermissionDenied, ValidationFailed
from citygrid.core.sheets import Rows
from citygrid.space.models import Area, Level

PERMISSION = "catalog.change_category"

NATIONAL_NAMES: dict[str, tuple[str, int]] = {
    "CJ/T 214-2007 / GB/T 30428.2-2013": ("数字化城市管理信息系统 管理部件和事件（城市实施版）", 2007),
    "GB/T 47678.5-2026": ("城市运行管理服务平台 第5部分：管理部件和事项", 2026),
}
EDITABLE_FIELDS = {
    "name", "filing_condition", "closing_condition", "is_emergency", "urgency_levels",
    "responsible_units", "source", "note", "sort_order",
}
_LEVEL_BELOW = {ClassLevel.MAJOR: ClassLevel.MINOR, ClassLevel.MINOR: ClassLevel.FINE}


# --- guards --------------------------------------------------------------------------------

def _check_permission(user: Any) -> None:
    if user is None:
        return
    if not (getattr(user, "is_superuser", False) or user.has_perm(PERMISSION)):
        raise PermissionDenied("You may not change classification standards.")


def _lock_editable(standard: Standard) -> Standard:
    locked = Standard.objects.select_for_update().get(pk=standard.pk)
    if not locked.is_editable:
        raise Conflict(
            f"Standard {locked.code} is {locked.status}; only draft standards can be edited. "
            "Derive a new version to change it.",
            code="standard_not_editable",
        )
    return locked


def _same_standard(categories: Sequence[Category], standard: Standard) -> None:
    others = [c.code for c in categories if c.standard_id != standard.pk]
    if others:
        raise ValidationFailed(
            f"Classes {', '.join(others)} belong to another standard.", code="wrong_standard"
        )


def _check_code(standard: Standard, kind: str, code: str, parent: Category | None,
                exclude: Category | None = None) -> None:
    if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z._-]{0,31}", code):
        raise ValidationFailed(f"Code {code!r} must be 1-32 letters or digits.", code="bad_code")
    if parent is not None and (not code.startswith(parent.code) or code == parent.code):
        raise ValidationFailed(
            f"Code {code!r} must start with its parent's code {parent.code!r} and be longer.",
            code="bad_code",
        )
    taken = Category.objects.filter(standard=standard, kind=kind, code=code)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        raise Conflict(f"{kind} class {code} already exists in {standard.code}.",
                       code="duplicate_code")


def _origins(category: Category) -> list[CategoryMapping]:
    return list(category.mappings_in.filter(from_category__isnull=False))


def _map(from_category: Category | None, to_category: Category, relation: str,
         note: str = "") -> None:
    CategoryMapping.objects.update_or_create(
        from_category=from_category, to_category=to_category,
        defaults={"relation": relation, "note": note},
    )


def _copy_limits(source: Category, target: Category) -> None:
    for limit in source.handling_limits.all():
        HandlingTimeLimit.objects.update_or_create(
            category=target, urgency=limit.urgency,
            defaults={"amount": limit.amount, "unit": limit.unit,
                      "unit_uncertain": limit.unit_uncertain, "note": limit.note},
        )


def _sibling(source: Category, code: str, name: str) -> Category:
    return Category.objects.create(
        standard=source.standard, kind=source.kind, code=code, name=name, level=source.level,
        parent=source.parent, filing_condition=source.filing_condition,
        closing_condition=source.closing_condition, is_emergency=source.is_emergency,
        urgency_levels=list(source.urgency_levels), responsible_units=source.responsible_units,
        source=source.source, confidence=source.confidence, sort_order=source.sort_order,
    )


# --- loading the published standards --------------------------------------------------------

@dataclass(frozen=True)
class SetCount:
    majors: int
    minors: int


@transaction.atomic
def import_national_standards(
    path: Path | str | None = None, *, user: Any = None
) -> dict[tuple[str, str], SetCount]:
    """Load every set in categories.csv as national standards (created active, read-only).

    Idempotent: classes are matched by (standard, kind, code) and updated in place. Returns
    the number of major and minor classes per (standard code, kind).
    """
    _check_permission(user)
    rows = read_data_csv(Path(path) if path else NATIONAL_CSV)
    standards: dict[str, Standard] = {}
    majors: dict[tuple[str, str, str], Category] = {}
    counts: dict[tuple[str, str], list[int]] = {}
    for order, row in enumerate(rows, start=1):
        code, kind = row["standard"].strip(), row["kind"].strip()
        if kind not in Kind.values:
            raise ValidationFailed(f"Row {order + 1}: unknown kind {kind!r}.", code="bad_data")
        if code not in standards:
            name, year = NATIONAL_NAMES.get(code, (code, _year_of(code)))
            standards[code], _ = Standard.objects.update_or_create(
                code=code,
                defaults={"name": name, "year": year, "is_national": True,
                          "source": row["source"]},
                create_defaults={"name": name, "year": year, "is_national": True,
                                 "source": row["source"], "status": Standard.Status.ACTIVE},
            )  # a re-import keeps the status an administrator gave it (e.g. retired)
        standard = standards[code]
        tally = counts.setdefault((code, kind), [0, 0])
        major_key = (code, kind, row["major_code"])
        if major_key not in majors:
            is_major_row = not row["minor_code"]
            majors[major_key] = _upsert(
                standard, kind, row["major_code"], row["major_name"], ClassLevel.MAJOR, None,
                source=row["source"], note=row["note"] if is_major_row else "",
                confidence=confidence_from_note(row["note"]).value, sort_order=order,
            )
            tally[0] += 1
        if row["minor_code"]:
            _upsert(
                standard, kind, row["full_code"], row["minor_name"], ClassLevel.MINOR,
                majors[major_key], source=row["source"], note=row["note"],
                confidence=confidence_from_note(row["note"]).value, sort_order=order,
            )
            tally[1] += 1
    for standard in standards.values():
        if standard.activated_at is None:
            standard.activated_at = timezone.now()
            standard.save(update_fields=["activated_at"])
    return {key: SetCount(*value) for key, value in counts.items()}


def _year_of(code: str) -> int | None:
    years = re.findall(r"(?:19|20)\d\d", code)
    return int(years[0]) if years else None


def _upsert(standard: Standard, kind: str, code: str, name: str, level: str,
            parent: Category | None, **fields: Any) -> Category:
    category, _ = Category.objects.update_or_create(
        standard=standard, kind=kind, code=code,
        defaults={"name": name, "level": level, "parent": parent, **fields},
    )
    return category


@transaction.atomic
def import_sample_standards(path: Path | str | None = None, *, user: Any = None) -> list[Standard]:
    """Load sample_standards.csv: one draft example standard per city, with its filing and
    closing conditions, handling limits (staged limits keep their first stage) and step limits.

    Codes are made whole where the sample gives only part: a major without a code gets the
    next free one, a minor code is prefixed with its major's, a repeated minor code (a second
    filing condition of the same class) becomes a fine class under it. Idempotent.
    """
    _check_permission(user)
    result: dict[str, Standard] = {}
    for row in read_data_csv(Path(path) if path else SAMPLE_CSV):
        city = row["city"].strip()
        standard = result.get(city)
        if standard is None:
            label = city.strip("()") if city.startswith("(") else city
            standard, _ = Standard.objects.update_or_create(
                code=f"SAMPLE {label}",
                defaults={"name": f"{city} 立案结案标准（样例）", "source": row["source"],
                          "is_national": False},
            )
            if not standard.is_editable:
                raise Conflict(f"Standard {standard.code} is {standard.status}.",
                               code="standard_not_editable")
            result[city] = standard
        if row["kind"].strip() == "(process)":
            _load_sample_process_row(standard, row)
        else:
            _load_sample_class_row(standard, row)
    return list(result.values())


def _load_sample_process_row(standard: Standard, row: dict[str, str]) -> None:
    try:
        specs = parse_process_row(row["category"], row["立案条件"], row["处置时限"],
                                  row["时限类型"], row["note"])
    except DurationError as exc:
        raise ValidationFailed(f"{standard.code}: {row['category']}: {exc}", code="bad_data") from None
    for spec in specs:
        StepTimeLimit.objects.update_or_create(
            standard=standard, step=spec.step, urgency=spec.urgency, area_type=spec.area_type,
            defaults={"amount": spec.duration.amount, "unit": spec.duration.unit.value,
                      "note": f"{spec.note} ({row['责任单位'] or row['source']})"},
        )


def _load_sample_class_row(standard: Standard, row: dict[str, str]) -> None:
    kind = row["kind"].strip()
    major_text = row["major"].strip()
    match = re.match(r"^(\d+)\s+(.+)$", major_text)
    if match:
        major_code, major_name = match[1], match[2]
    else:
        major_name = major_text or "其他（样例未给出大类）"
        existing = Category.objects.filter(standard=standard, kind=kind, level="major",
                                           name=major_name).first()
        major_code = existing.code if existing else (
            "99" if not major_text else _next_code(standard, kind, None, "", 2))
    major = Category.objects.filter(standard=standard, kind=kind, code=major_code).first()
    if major is None:
        major = Category.objects.create(
            standard=standard, kind=kind, code=major_code, name=major_name, level="major",
            source=row["source"], confidence="partly",
        )
    code = row["code"].strip()
    if code and not code.startswith(major_code):
        code = major_code + code
    fields = {
        "filing_condition": row["立案条件"], "closing_condition": row["结案条件"],
        "responsible_units": row["责任单位"], "source": row["source"], "note": row["note"],
        "confidence": confidence_from_note(row["note"]).value,
    }
    existing = Category.objects.filter(standard=standard, kind=kind, code=code).first() if code else None
    if existing is not None and existing.name != row["category"]:
        # Same code, another filing condition: a fine class of that minor class.
        fine = Category.objects.filter(standard=standard, kind=kind, parent=existing,
                                       name=row["category"]).first()
        code = fine.code if fine else _next_code(standard, kind, existing, existing.code, 2)
        category = _upsert(standard, kind, code, row["category"], "fine", existing, **fields)
    else:
        if not code:
            named = Category.objects.filter(standard=standard, kind=kind, parent=major,
                                            name=row["category"]).first()
            code = named.code if named else _next_code(standard, kind, major, major_code, 2)
        category = _upsert(standard, kind, code, row["category"], "minor", major, **fields)
    try:
        limit = parse_sample_limit(row["处置时限"], row["时限类型"])
    except DurationError as exc:
        raise ValidationFailed(f"{standard.code} {code}: {exc}", code="bad_data") from None
    HandlingTimeLimit.objects.update_or_create(
        category=category, urgency=Urgency.ORDINARY,
        defaults={"amount": limit.duration.amount, "unit": limit.duration.unit.value,
                  "unit_uncertain": limit.unit_uncertain, "note": limit.note},
    )


def _next_code(standard: Standard, kind: str, parent: Category | None, prefix: str,
               width: int) -> str:
    taken = set(Category.objects.filter(standard=standard, kind=kind, parent=parent)
                .values_list("code", flat=True))
    number = 1
    while f"{prefix}{number:0{width}d}" in taken:
        number += 1
    return f"{prefix}{number:0{width}d}"


# --- deriving and editing a city standard ------------------------------------------------------

@transaction.atomic
def derive_standard(base: Standard, code: str, name: str, city: Area | None = None, *,
                    year: int | None = None, user: Any = None) -> Standard:
    """A draft copy of `base` (classes, conditions, limits, step limits) whose every class
    maps to its original with relation "same"."""
    _check_permission(user)
    if city is not None and city.level != Level.CITY:
        raise ValidationFailed(f"{city} is not a city.", code="not_a_city")
    if Standard.objects.filter(code=code).exists():
        raise Conflict(f"A standard with code {code!r} already exists.", code="duplicate_code")
    standard = Standard.objects.create(
        code=code, name=name, year=year or timezone.now().year, based_on=base, city=city,
        source=f"derived from {base.code}", status=Standard.Status.DRAFT,
    )
    copies: dict[int, Category] = {}
    originals = list(base.categories.all())
    for level in (ClassLevel.MAJOR, ClassLevel.MINOR, ClassLevel.FINE):
        batch = [c for c in originals if c.level == level]
        created = Category.objects.bulk_create([
            Category(
                standard=standard, kind=c.kind, code=c.code, name=c.name, level=c.level,
                parent=copies[c.parent_id] if c.parent_id else None,
                filing_condition=c.filing_condition, closing_condition=c.closing_condition,
                is_emergency=c.is_emergency, urgency_levels=list(c.urgency_levels),
                responsible_units=c.responsible_units, source=c.source, note=c.note,
                confidence=c.confidence, sort_order=c.sort_order,
            ) for c in batch
        ])
        copies.update({c.pk: new for c, new in zip(batch, created, strict=True)})
    CategoryMapping.objects.bulk_create([
        CategoryMapping(from_category_id=pk, to_category=new, relation=Relation.SAME)
        for pk, new in copies.items()
    ])
    HandlingTimeLimit.objects.bulk_create([
        HandlingTimeLimit(category=copies[limit.category_id], urgency=limit.urgency,
                          amount=limit.amount, unit=limit.unit,
                          unit_uncertain=limit.unit_uncertain, note=limit.note)
        for limit in HandlingTimeLimit.objects.filter(category__standard=base)
    ])
    StepTimeLimit.objects.bulk_create([
        StepTimeLimit(standard=standard, step=s.step, urgency=s.urgency, area_type=s.area_type,
                      amount=s.amount, unit=s.unit, note=s.note)
        for s in base.step_limits.all()
    ])
    return standard


@transaction.atomic
def add_category(standard: Standard, *, kind: str, code: str, name: str,
                 level: str = ClassLevel.MINOR, parent: Category | None = None,
                 user: Any = None, **fields: Any) -> Category:
    """A new class; in a derived standard it is recorded as "new" (no origin)."""
    _check_permission(user)
    standard = _lock_editable(standard)
    if kind not in Kind.values or level not in ClassLevel.values:
        raise ValidationFailed(f"Unknown kind {kind!r} or level {level!r}.", code="bad_class")
    if (level == ClassLevel.MAJOR) != (parent is None):
        raise ValidationFailed("A major class has no parent; minor and fine classes need one.",
                               code="bad_parent")
    if parent is not None:
        _same_standard([parent], standard)
        if parent.kind != kind or _LEVEL_BELOW.get(ClassLevel(parent.level)) != level:
            raise ValidationFailed(
                f"A {level} {kind} class cannot sit under {parent.level} {parent.kind} {parent.code}.",
                code="bad_parent")
    _check_code(standard, kind, code, parent)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.", code="bad_field")
    category = Category.objects.create(standard=standard, kind=kind, code=code, name=name,
                                       level=level, parent=parent, **fields)
    if standard.based_on_id:
        _map(None, category, Relation.NEW)
    return category


@transaction.atomic
def update_category(category: Category, *, user: Any = None, **fields: Any) -> Category:
    """Change conditions, emergency flag, urgency levels, notes (not code or place)."""
    _check_permission(user)
    _lock_editable(category.standard)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(unknown))}.", code="bad_field")
    levels = fields.get("urgency_levels")
    if levels is not None and not set(levels) <= set(Urgency.values):
        raise ValidationFailed(f"Unknown urgency levels {levels!r}.", code="bad_urgency")
    name = fields.pop("name", None)
    for key, value in fields.items():
        setattr(category, key, value)
    if category.is_emergency and Urgency.EMERGENCY not in category.urgency_levels:
        category.urgency_levels = [*category.urgency_levels, Urgency.EMERGENCY.value]
    category.save()
    if name is not None and name != category.name:
        _rename(category, name, None, "")
    return category


@transaction.atomic
def rename_category(category: Category, name: str, *, code: str | None = None,
                    note: str = "", user: Any = None) -> Category:
    """Rename (and optionally re-code) a class; its "same" mappings become "renamed"."""
    _check_permission(user)
    _lock_editable(category.standard)
    return _rename(category, name, code, note)


def _rename(category: Category, name: str, code: str | None, note: str) -> Category:
    if not name.strip():
        raise ValidationFailed("A class needs a name.", code="bad_name")
    if code is not None and code != category.code:
        _check_code(category.standard, category.kind, code, category.parent, exclude=category)
        category.code = code
    category.name = name.strip()
    category.save()
    category.mappings_in.filter(relation=Relation.SAME).update(
        relation=Relation.RENAMED, note=note or f"renamed to {category.name}")
    return category


@transaction.atomic
def merge_categories(sources: Sequence[Category], into: Category, *, name: str | None = None,
                     note: str = "", user: Any = None) -> Category:
    """Merge `sources` into `into` (all of one kind and level in one draft standard).

    The sources' origins now map to `into` as "merged", their fine classes move under it,
    and the sources are removed from this draft.
    """
    _check_permission(user)
    standard = _lock_editable(into.standard)
    sources = [s for s in sources if s.pk != into.pk]
    if not sources:
        raise ValidationFailed("Name at least one class to merge.", code="nothing_to_merge")
    _same_standard(sources, standard)
    odd = [s.code for s in sources if (s.kind, s.level, s.parent_id)
           != (into.kind, into.level, into.parent_id)]
    if odd:
        raise ValidationFailed(
            f"Classes {', '.join(odd)} are not siblings of {into.code} (same kind, level, parent).",
            code="not_siblings")
    codes = ", ".join(s.code for s in sources)
    text = note or f"{codes} merged into {into.code}"
    for mapping in into.mappings_in.all():
        mapping.relation, mapping.note = Relation.MERGED, text
        mapping.save(update_fields=["relation", "note"])
    for source in sources:
        for mapping in _origins(source):
            _map(mapping.from_category, into, Relation.MERGED, text)
        Category.objects.filter(parent=source).update(parent=into)
        try:
            source.delete()
        except ProtectedError:
            raise Conflict(f"Class {source.code} is in use and cannot be merged away.",
                           code="category_in_use") from None
    if name:
        into.name = name
        into.save(update_fields=["name"])
    return into


@transaction.atomic
def split_category(source: Category, into: Sequence[tuple[str, str]], *, note: str = "",
                   user: Any = None) -> list[Category]:
    """Split a class into parts given as (code, name). A part with the source's own code keeps
    the source; the others are new siblings with its conditions and limits. Every origin of
    the source maps to every part as "split"; fine classes go to the first part."""
    _check_permission(user)
    _lock_editable(source.standard)
    if len(into) < 2:
        raise ValidationFailed("A split needs at least two parts.", code="bad_split")
    codes = [code for code, _ in into]
    if len(set(codes)) != len(codes):
        raise ValidationFailed("The parts of a split need different codes.", code="bad_split")
    origins = _origins(source)
    text = note or f"{source.code} {source.name} split into {', '.join(codes)}"
    parts: list[Category] = []
    for code, name in into:
        if code == source.code:
            source.name = name
            source.save(update_fields=["name"])
            parts.append(source)
            continue
        _check_code(source.standard, source.kind, code, source.parent)
        part = _sibling(source, code, name)
        _copy_limits(source, part)
        parts.append(part)
    for part in parts:
        for mapping in origins:
            _map(mapping.from_category, part, Relation.SPLIT, text)
        if not origins and source.standard.based_on_id:
            _map(None, part, Relation.NEW, text)
    if source not in parts:
        Category.objects.filter(parent=source).update(parent=parts[0])
        try:
            source.delete()
        except ProtectedError:
            raise Conflict(f"Class {source.code} is in use.", code="category_in_use") from None
    return parts


@transaction.atomic
def refine_category(minor: Category, fines: Sequence[tuple[str, str]], *, note: str = "",
                    user: Any = None) -> list[Category]:
    """Add fine classes (code, name) under a minor class; its origins map to each as
    "refined" (the minor class keeps its own mapping)."""
    _check_permission(user)
    standard = _lock_editable(minor.standard)
    if minor.level != ClassLevel.MINOR:
        raise ValidationFailed(f"{minor.code} is a {minor.level} class; fine classes go under "
                               "minor classes.", code="bad_parent")
    if not fines:
        raise ValidationFailed("Name at least one fine class.", code="bad_refine")
    origins = _origins(minor)
    created: list[Category] = []
    for code, name in fines:
        _check_code(standard, minor.kind, code, minor)
        fine = Category.objects.create(
            standard=standard, kind=minor.kind, code=code, name=name, level=ClassLevel.FINE,
            parent=minor, is_emergency=minor.is_emergency,
            urgency_levels=list(minor.urgency_levels), source=minor.source,
            confidence=minor.confidence, sort_order=minor.sort_order,
        )
        for mapping in origins:
            _map(mapping.from_category, fine, Relation.REFINED, note or f"refines {minor.code}")
        if not origins and standard.based_on_id:
            _map(None, fine, Relation.NEW, note)
        created.append(fine)
    return created


@transaction.atomic
def remove_category(category: Category, *, user: Any = None) -> None:
    """Remove a class without children from a draft (its mappings go with it)."""
    _check_permission(user)
    _lock_editable(category.standard)
    if category.children.exists():
        raise Conflict(f"Class {category.code} has sub-classes.", code="category_has_children")
    try:
        category.delete()
    except ProtectedError:
        raise Conflict(f"Class {category.code} is in use.", code="category_in_use") from None


@transaction.atomic
def activate_standard(standard: Standard, *, user: Any = None) -> Standard:
    """Make a draft the active standard (read-only from now on). The city's previously
    active standard is retired: a city has at most one active standard."""
    _check_permission(user)
    standard = _lock_editable(standard)
    if not standard.categories.exists():
        raise ValidationFailed(f"Standard {standard.code} has no classes.", code="empty_standard")
    if standard.city_id is not None:
        Standard.objects.select_for_update().filter(
            city_id=standard.city_id, status=Standard.Status.ACTIVE
        ).update(status=Standard.Status.RETIRED)
    standard.status = Standard.Status.ACTIVE
    standard.activated_at = timezone.now()
    try:
        with transaction.atomic():
            standard.save(update_fields=["status", "activated_at"])
    except IntegrityError:
        raise Conflict("Another standard became active for this city at the same time.",
                       code="concurrent_activation") from None
    return standard


@transaction.atomic
def retire_standard(standard: Standard, *, user: Any = None) -> Standard:
    _check_permission(user)
    standard = Standard.objects.select_for_update().get(pk=standard.pk)
    standard.status = Standard.Status.RETIRED
    standard.save(update_fields=["status"])
    return standard


# --- time limits --------------------------------------------------------------------------------

def _valid_urgency(urgency: str) -> None:
    if urgency not in Urgency.values:
        raise ValidationFailed(f"Unknown urgency {urgency!r}; use {', '.join(Urgency.values)}.",
                               code="bad_urgency")


@transaction.atomic
def set_handling_limit(category: Category, urgency: str, duration: Duration | None, *,
                       note: str = "", unit_uncertain: bool = False,
                       user: Any = None) -> HandlingTimeLimit | None:
    """Set (or with `duration=None` remove) a class's handling limit for one urgency."""
    _check_permission(user)
    _lock_editable(category.standard)
    _valid_urgency(urgency)
    if duration is None:
        category.handling_limits.filter(urgency=urgency).delete()
        return None
    limit, _ = HandlingTimeLimit.objects.update_or_create(
        category=category, urgency=urgency,
        defaults={"amount": Decimal(duration.amount), "unit": duration.unit.value, "note": note,
                  "unit_uncertain": unit_uncertain},
    )
    return limit


@transaction.atomic
def set_step_limit(standard: Standard, step: str, urgency: str, area_type: str,
                   duration: Duration | None, *, note: str = "",
                   user: Any = None) -> StepTimeLimit | None:
    """Set (or with `duration=None` remove) the limit of one process step."""
    _check_permission(user)
    standard = _lock_editable(standard)
    _valid_urgency(urgency)
    if step not in Step.values or area_type not in AreaType.values:
        raise ValidationFailed(f"Unknown step {step!r} or area type {area_type!r}.",
                               code="bad_step")
    lookup = {"standard": standard, "step": step, "urgency": urgency, "area_type": area_type}
    if duration is None:
        StepTimeLimit.objects.filter(**lookup).delete()
        return None
    limit, _ = StepTimeLimit.objects.update_or_create(
        **lookup, defaults={"amount": Decimal(duration.amount), "unit": duration.unit.value,
                            "note": note},
    )
    return limit


# --- spreadsheet import -------------------------------------------------------------------------

@dataclass(frozen=True)
class SheetImportResult:
    created: int  # classes created
    updated: int  # existing classes renamed or given new conditions and limits


def _existing_errors(standard: Standard, rows: list[SheetRow],
                     existing: dict[tuple[str, str], Category]) -> list[RowError]:
    """Rows that contradict classes already in the standard (other level or parent), or
    that introduce a class without a name."""
    errors: list[RowError] = []
    for row in rows:
        parent_code: str | None = None
        for level, path in (("major", row.major), ("minor", row.minor), ("fine", row.fine)):
            if path is None:
                break
            found = existing.get((row.kind, path.code))
            if found is None:
                if not path.name:
                    errors.append(RowError(row.row, f"{level}_name",
                                           f"new class {path.code} needs a name"))
            elif found.level != level:
                errors.append(RowError(row.row, f"{level}_code",
                                       f"{path.code} is a {found.level} class in {standard.code}"))
            elif parent_code is not None and found.parent is not None \
                    and found.parent.code != parent_code:
                errors.append(RowError(row.row, f"{level}_code",
                                       f"{path.code} sits under {found.parent.code}, not {parent_code}"))
            parent_code = path.code
    return errors


@transaction.atomic
def import_categories(standard: Standard, rows: Rows, *, user: Any = None) -> SheetImportResult:
    """Create or update classes of a draft standard from spreadsheet rows.

    Each row names a class down to its deepest level; missing upper levels are created.
    The deepest class gets the row's conditions, emergency flag and limits (an empty limit
    removes it). All rows are checked first; if any fails, ValidationFailed lists every
    error as {row, column, message} and nothing is written.
    """
    _check_permission(user)
    standard = _lock_editable(standard)
    parsed, errors = parse_sheet(rows)
    existing = {(c.kind, c.code): c for c in standard.categories.select_related("parent")}
    errors += _existing_errors(standard, parsed, existing)
    if errors:
        errors.sort(key=lambda e: (e.row, e.column))
        raise ValidationFailed(
            f"{len(errors)} problem(s) in the file; nothing was imported.",
            code="import_failed", details=[e.as_dict() for e in errors],
        )
    created = 0
    new_pks: set[int] = set()
    changed: set[int] = set()
    derived = standard.based_on_id is not None
    for row in parsed:
        parent: Category | None = None
        deepest: Category | None = None
        for level, path in (("major", row.major), ("minor", row.minor), ("fine", row.fine)):
            if path is None:
                break
            category = existing.get((row.kind, path.code))
            if category is None:
                category = Category.objects.create(
                    standard=standard, kind=row.kind, code=path.code, name=path.name,
                    level=level, parent=parent, sort_order=row.row,
                )
                existing[(row.kind, path.code)] = category
                if derived:
                    _map(None, category, Relation.NEW, "imported from a spreadsheet")
                created += 1
                new_pks.add(category.pk)
            elif path.name and path.name != category.name:
                _rename(category, path.name, None, "renamed by a spreadsheet import")
                changed.add(category.pk)
            parent = deepest = category
        assert deepest is not None
        if deepest.pk not in new_pks:
            changed.add(deepest.pk)
        deepest.filing_condition = row.filing_condition
        deepest.closing_condition = row.closing_condition
        deepest.is_emergency = row.is_emergency
        if row.is_emergency and Urgency.EMERGENCY not in deepest.urgency_levels:
            deepest.urgency_levels = [*deepest.urgency_levels, Urgency.EMERGENCY.value]
        deepest.save()
        for urgency, duration in row.limits.items():
            if duration is None:
                deepest.handling_limits.filter(urgency=urgency).delete()
            else:
                HandlingTimeLimit.objects.update_or_create(
                    category=deepest, urgency=urgency,
                    defaults={"amount": duration.amount, "unit": duration.unit.value,
                              "unit_uncertain": False, "note": ""},
                )
    return SheetImportResult(created=created, updated=len(changed))

