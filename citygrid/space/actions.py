"""Every change to areas, unit grids and responsibility grids (M-01, M-02).

Each action is one transaction. Every action that changes coverage bumps CoverageRevision in
that transaction, which tells each process that its geocoding index is stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import numpy as np
import shapely
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from citygrid.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from citygrid.space.domain.coverage_checks import (
    AREA_LEVELS,
    CheckOptions,
    FeatureInput,
    KnownArea,
    Problem,
    check_coverage,
    normalize,
    normalize_grid_code,
)
from citygrid.space.domain.demo_city import grid_sequence_order
from citygrid.space.domain.measure import local_metric
from citygrid.space.models import SHAPE_FIELDS, Area, CoverageRevision, ResponsibilityGrid, UnitGrid

BATCH = 2000
CHUNK = 500  # codes per IN (...) query, well under SQLite's parameter limit
MAX_SEQUENCE = 999
SPLIT_TOLERANCE_M2 = 1.0
SAME_SHAPE_DEG = 1e-7  # ~1 cm

Progress = Callable[[int], None]
T = TypeVar("T")


@dataclass(frozen=True)
class ImportReport:
    areas_created: int
    areas_updated: int
    areas_unchanged: int
    grids_created: int
    grids_versioned: int
    grids_unchanged: int
    revision: int

    def summary(self) -> str:
        return (
            f"areas: {self.areas_created} created, {self.areas_updated} updated, "
            f"{self.areas_unchanged} unchanged; grids: {self.grids_created} created, "
            f"{self.grids_versioned} new versions, {self.grids_unchanged} unchanged; "
            f"coverage revision {self.revision}"
        )


def _require(user: Any, perm: str) -> None:
    """`user=None` is the system itself (commands, demo); a person needs the permission."""
    if user is not None and not user.has_perm(perm):
        raise PermissionDenied(f"You need the permission {perm} to change the coverage.")


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bump_coverage_revision() -> int:
    """Call inside the transaction of a coverage-changing action."""
    updated = CoverageRevision.objects.filter(pk=1).update(
        revision=F("revision") + 1, changed_at=timezone.now()
    )
    if not updated:
        CoverageRevision.objects.create(pk=1, revision=1)
    return CoverageRevision.objects.get(pk=1).revision


def current_coverage_revision() -> int:
    row = CoverageRevision.objects.filter(pk=1).values_list("revision", flat=True).first()
    return int(row or 0)


def _raise_problems(problems: Sequence[Problem]) -> None:
    if problems:
        raise ValidationFailed(
            f"{len(problems)} problem(s) found; nothing was written.",
            code="invalid_coverage",
            details=[p.as_dict() for p in problems],
        )


# --- import -------------------------------------------------------------------------------


def import_coverage(
    features: Sequence[FeatureInput],
    *,
    user: Any = None,
    progress: Progress | None = None,
    options: CheckOptions | None = None,
    valid_from: datetime | None = None,
) -> ImportReport:
    """Validate the whole set, then write it in one transaction, or write nothing.

    Areas are created or updated by code. A grid whose code is new is created; a grid whose
    current version has another geometry gets a new version (the old one is closed with
    `valid_to`, the new one lists it in `predecessors`); an identical grid is left alone.
    Grids not in the file stay as they are. `progress(n)` is told of every n rows written.
    """
    _require(user, "space.add_unitgrid")
    feats = [normalize(f) for f in features]
    if not feats:
        raise ValidationFailed("The file holds no features.", code="invalid_coverage")
    known = _known_parents(feats)
    problems = _stored_level_conflicts(feats)
    problems += check_coverage(feats, known_areas=known, other_grids=_stored_neighbours(feats),
                               options=options)
    _raise_problems(problems)
    now = valid_from or timezone.now()
    tick = progress or (lambda n: None)
    with transaction.atomic():
        a_created, a_updated, a_same = _write_areas([f for f in feats if f.level in AREA_LEVELS], tick)
        g_created, g_versioned, g_same = _write_grids([f for f in feats if f.level == "grid"], now, tick)
        changed = a_created + a_updated + g_created + g_versioned
        revision = bump_coverage_revision() if changed else current_coverage_revision()
    return ImportReport(a_created, a_updated, a_same, g_created, g_versioned, g_same, revision)


def _known_parents(feats: Sequence[FeatureInput]) -> dict[str, KnownArea]:
    in_file = {f.code for f in feats if f.level in AREA_LEVELS}
    wanted = sorted({f.parent_code for f in feats if f.parent_code} - in_file)
    known: dict[str, KnownArea] = {}
    for chunk in _chunks(wanted, CHUNK):
        for area in Area.objects.filter(code__in=chunk):
            known[area.code] = KnownArea(area.code, area.level, area.shape)
    return known


def _stored_level_conflicts(feats: Sequence[FeatureInput]) -> list[Problem]:
    areas = {f.code: f for f in feats if f.level in AREA_LEVELS}
    out: list[Problem] = []
    for chunk in _chunks(sorted(areas), CHUNK):
        for code, level in Area.objects.filter(code__in=chunk).values_list("code", "level"):
            f = areas[code]
            if f.level != level:
                out.append(Problem(f.feature_id, code,
                                   f"code {code} is stored as a {level}, not a {f.level}",
                                   "level_conflict"))
    return out


def _stored_neighbours(feats: Sequence[FeatureInput]) -> list[FeatureInput]:
    """Current stored grids that stay (not in the file) near the file's features: for the
    overlap check and the coverage of the file's communities."""
    geoms = [f.geometry for f in feats if f.geometry is not None and not f.geometry.is_empty]
    if not geoms:
        return []
    min_lon, min_lat, max_lon, max_lat = shapely.total_bounds(np.asarray(geoms, dtype=object))
    in_file = {f.code for f in feats if f.level == "grid"}
    window = UnitGrid.objects.filter(
        valid_to__isnull=True, min_lon__lte=max_lon, max_lon__gte=min_lon,
        min_lat__lte=max_lat, max_lat__gte=min_lat,
    )
    keep = [pk for pk, code in window.values_list("pk", "code") if code not in in_file]
    out: list[FeatureInput] = []
    for chunk in _chunks(keep, CHUNK):
        rows = UnitGrid.objects.filter(pk__in=chunk).values_list(
            "code", "community__code", "geometry"
        )
        for code, community_code, wkb in rows:
            out.append(FeatureInput(f"stored {code}", code, "grid", "", community_code,
                                    shapely.from_wkb(bytes(wkb))))
    return out


_LEVEL_RANK = {level: rank for rank, level in enumerate(AREA_LEVELS)}


def _write_areas(feats: Sequence[FeatureInput], tick: Progress) -> tuple[int, int, int]:
    ids: dict[str, int] = {}
    wanted = sorted({f.parent_code for f in feats if f.parent_code} | {f.code for f in feats})
    for chunk in _chunks(wanted, CHUNK):
        ids.update(Area.objects.filter(code__in=chunk).values_list("code", "pk"))
    created = updated = same = 0
    by_level: dict[str, list[FeatureInput]] = defaultdict(list)
    for f in feats:
        by_level[f.level].append(f)
    for level in sorted(by_level, key=_LEVEL_RANK.__getitem__):
        level_feats = by_level[level]
        existing: dict[str, Area] = {}
        for chunk in _chunks([f.code for f in level_feats], CHUNK):
            existing.update((a.code, a) for a in Area.objects.filter(code__in=chunk))
        new: list[Area] = []
        changed: list[Area] = []
        for f in level_feats:
            assert f.geometry is not None
            parent_id = ids[f.parent_code] if f.parent_code else None
            area = existing.get(f.code)
            if area is None:
                area = Area(code=f.code, name=f.name, level=f.level, parent_id=parent_id)
                area.set_shape(f.geometry)
                new.append(area)
            elif (area.name, area.parent_id) != (f.name, parent_id) or not _same_shape(area.shape, f.geometry):
                area.name, area.parent_id = f.name, parent_id
                area.set_shape(f.geometry)
                changed.append(area)
            else:
                same += 1
        for batch in _chunks(new, BATCH):
            Area.objects.bulk_create(batch)
            tick(len(batch))
        fields = ["name", "parent", *SHAPE_FIELDS]
        for batch in _chunks(changed, BATCH):
            Area.objects.bulk_update(batch, fields)
            tick(len(batch))
        created += len(new)
        updated += len(changed)
        for chunk in _chunks([a.code for a in new], CHUNK):
            ids.update(Area.objects.filter(code__in=chunk).values_list("code", "pk"))
    tick(same)
    return created, updated, same


def _same_shape(a: BaseGeometry, b: BaseGeometry) -> bool:
    """Same vertices up to SAME_SHAPE_DEG (so an exported and re-imported file, rounded to
    7 decimals, changes nothing), whatever the ring orientation and start vertex."""
    return bool(shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), SAME_SHAPE_DEG))


def _write_grids(feats: Sequence[FeatureInput], now: datetime, tick: Progress) -> tuple[int, int, int]:
    if not feats:
        return 0, 0, 0
    community_ids: dict[str, int] = {}
    codes = sorted({f.parent_code for f in feats if f.parent_code})
    for chunk in _chunks(codes, CHUNK):
        community_ids.update(
            Area.objects.filter(code__in=chunk, level="community").values_list("code", "pk")
        )
    current: dict[str, UnitGrid] = {}
    for chunk in _chunks([f.code for f in feats], CHUNK):
        current.update((g.code, g) for g in UnitGrid.objects.filter(code__in=chunk, valid_to__isnull=True))
    new: list[UnitGrid] = []
    replaced: dict[str, UnitGrid] = {}
    same = 0
    for f in feats:
        assert f.geometry is not None and f.parent_code is not None
        old = current.get(f.code)
        community_id = community_ids[f.parent_code]
        if old is not None and old.community_id == community_id and _same_shape(old.shape, f.geometry):
            same += 1
            continue
        grid = UnitGrid(code=f.code, legacy_code=f.legacy_code, community_id=community_id, valid_from=now)
        grid.set_shape(f.geometry)
        new.append(grid)
        if old is not None:
            replaced[f.code] = old
    _close_versions(list(replaced.values()), now)
    _insert_grids(new, tick)
    _link_successors({code: [old] for code, old in replaced.items()}, new)
    tick(same)
    return len(new) - len(replaced), len(replaced), same


def _close_versions(olds: Sequence[UnitGrid], now: datetime) -> None:
    for chunk in _chunks([g.pk for g in olds], CHUNK):
        UnitGrid.objects.filter(pk__in=chunk).update(valid_to=now)


def _insert_grids(grids: Sequence[UnitGrid], tick: Progress) -> None:
    for batch in _chunks(grids, BATCH):
        UnitGrid.objects.bulk_create(batch)
        tick(len(batch))
    if any(g.pk is None for g in grids):  # backends that do not return ids
        by_code = {g.code: g for g in grids}
        for chunk in _chunks(sorted(by_code), CHUNK):
            for pk, code in UnitGrid.objects.filter(code__in=chunk, valid_to__isnull=True).values_list("pk", "code"):
                by_code[code].pk = pk


def _link_successors(predecessors: dict[str, list[UnitGrid]], new: Sequence[UnitGrid]) -> None:
    """Record history and move responsibility grids from the old versions to the new."""
    through = UnitGrid.predecessors.through
    resp = ResponsibilityGrid.unit_grids.through
    links = []
    resp_links = []
    old_ids: list[int] = []
    by_code = {g.code: g for g in new}
    for code, olds in predecessors.items():
        for grid in [by_code[code]] if code in by_code else []:
            for old in olds:
                links.append(through(from_unitgrid_id=grid.pk, to_unitgrid_id=old.pk))
                old_ids.append(old.pk)
    for chunk in _chunks(links, BATCH):
        through.objects.bulk_create(chunk)
    successor_ids: dict[int, list[int]] = defaultdict(list)
    for link in links:
        successor_ids[link.to_unitgrid_id].append(link.from_unitgrid_id)
    for chunk in _chunks(old_ids, CHUNK):
        rows = list(resp.objects.filter(unitgrid_id__in=chunk).values_list("pk", "responsibilitygrid_id", "unitgrid_id"))
        resp.objects.filter(pk__in=[pk for pk, _r, _u in rows]).delete()
        for _pk, rg_id, old_id in rows:
            for new_id in successor_ids[old_id]:
                resp_links.append(resp(responsibilitygrid_id=rg_id, unitgrid_id=new_id))
    resp.objects.bulk_create(resp_links, ignore_conflicts=True)


# --- split and add --------------------------------------------------------------------------


def split_grid(
    code: str, parts: Sequence[BaseGeometry], *, user: Any = None, when: datetime | None = None
) -> list[UnitGrid]:
    """Replace the current grid `code` by new grids covering exactly the same ground. The new
    grids get the next free sequence numbers of the community; the old version is closed and
    kept, and responsibility grids move to its successors."""
    _require(user, "space.change_unitgrid")
    now = when or timezone.now()
    with transaction.atomic():
        old = _current_grid_for_update(code)
        _check_split(old, parts)
        new = _new_grids(old.community, parts, now)
        _close_versions([old], now)
        _insert_grids(new, lambda n: None)
        _link_successors({g.code: [old] for g in new}, new)
        bump_coverage_revision()
    return new


def _current_grid_for_update(code: str) -> UnitGrid:
    grid = (
        UnitGrid.objects.select_for_update()
        .select_related("community")
        .filter(code=normalize_grid_code(code), valid_to__isnull=True)
        .first()
    )
    if grid is None:
        raise NotFound(f"No current unit grid has the code {code}.", code="grid_not_found")
    return grid


def _check_split(old: UnitGrid, parts: Sequence[BaseGeometry]) -> None:
    problems: list[Problem] = []
    if len(parts) < 2:
        problems.append(Problem("parts", old.code, "a split needs at least two parts", "split"))
    for i, part in enumerate(parts):
        if not isinstance(part, Polygon) or part.is_empty or not part.is_valid:
            reason = shapely.is_valid_reason(part) if part is not None else "missing"
            problems.append(Problem(f"part {i}", old.code, f"part {i} is not a valid polygon ({reason})", "geometry"))
    _raise_problems(problems)
    lat0 = (old.min_lat + old.max_lat) / 2
    metric = local_metric([old.shape, *parts], lat0)
    whole, pieces = metric[0], list(metric[1:])
    overlap = sum(pieces[i].intersection(pieces[j]).area
                  for i in range(len(pieces)) for j in range(i + 1, len(pieces)))
    if overlap > SPLIT_TOLERANCE_M2:
        problems.append(Problem("parts", old.code, f"the parts overlap by {overlap:.0f} m²", "overlap"))
    mismatch = shapely.union_all(pieces).symmetric_difference(whole).area
    if mismatch > SPLIT_TOLERANCE_M2:
        problems.append(Problem("parts", old.code,
                                f"the parts differ from the grid by {mismatch:.0f} m²", "split"))
    _raise_problems(problems)


def _new_grids(community: Area, geometries: Sequence[BaseGeometry], now: datetime) -> list[UnitGrid]:
    """Unsaved grids with the next free sequence numbers (never reusing a code of any past
    version), numbered among themselves by the grid numbering rule."""
    top = UnitGrid.objects.filter(community=community).aggregate(m=Max("code"))["m"]
    start = int(top[12:]) + 1 if top else 1
    if start + len(geometries) - 1 > MAX_SEQUENCE:
        raise Conflict(f"Community {community.code} has no free grid codes left.", code="grid_codes_exhausted")
    order = grid_sequence_order([(g.centroid.x, g.centroid.y) for g in geometries])
    grids = []
    for seq, i in enumerate(order, start=start):
        grid = UnitGrid(code=f"{community.code}{seq:03d}", community=community, valid_from=now)
        grid.set_shape(geometries[i])
        grids.append(grid)
    return grids


def add_grids(
    community_code: str,
    geometries: Sequence[BaseGeometry],
    *,
    user: Any = None,
    when: datetime | None = None,
    options: CheckOptions | None = None,
) -> list[UnitGrid]:
    """Bring new ground under supervision (new roads, new areas: M-02): new grids in an
    existing community, which with its street, district and city grows by their union. The
    new grids must not overlap any current grid."""
    _require(user, "space.add_unitgrid")
    now = when or timezone.now()
    with transaction.atomic():
        community = (
            Area.objects.select_for_update().filter(code=community_code, level="community").first()
        )
        if community is None:
            raise NotFound(f"No community has the code {community_code}.", code="area_not_found")
        feats = [
            FeatureInput(f"new {i}", f"{community_code}{i:03d}", "grid", "", community_code, g)
            for i, g in enumerate(geometries, start=1)
        ]
        if not feats:
            raise ValidationFailed("Give at least one new grid.", code="invalid_coverage")
        grown = shapely.union_all([community.shape, *[g for g in geometries if g is not None and g.is_valid]])
        known = {community_code: KnownArea(community_code, "community", grown)}
        problems = [p for p in check_coverage(feats, known_areas=known,
                                              other_grids=_stored_neighbours(feats), options=options)
                    if p.kind != "code_format"]
        _raise_problems(problems)
        new = _new_grids(community, geometries, now)
        _insert_grids(new, lambda n: None)
        _grow_ancestors(community, shapely.union_all(list(geometries)))
        bump_coverage_revision()
    return new


def _grow_ancestors(area: Area | None, extra: BaseGeometry) -> None:
    while area is not None:
        area.set_shape(shapely.union_all([area.shape, extra]))
        area.save(update_fields=SHAPE_FIELDS)
        area = area.parent


# --- responsibility grids -----------------------------------------------------------------


def create_responsibility_grid(
    code: str, name: str, area_code: str, grid_codes: Iterable[str], *, user: Any = None
) -> ResponsibilityGrid:
    """A named set of current unit grids inside one area."""
    _require(user, "space.add_responsibilitygrid")
    wanted = sorted(set(grid_codes))
    with transaction.atomic():
        area = Area.objects.filter(code=area_code).first()
        if area is None:
            raise NotFound(f"No area has the code {area_code}.", code="area_not_found")
        if ResponsibilityGrid.objects.filter(code=code).exists():
            raise Conflict(f"A responsibility grid with the code {code} exists.", code="duplicate_code")
        grids: list[UnitGrid] = []
        for chunk in _chunks(wanted, CHUNK):
            grids += UnitGrid.objects.filter(code__in=chunk, valid_to__isnull=True)
        missing = sorted(set(wanted) - {g.code for g in grids})
        if missing:
            raise ValidationFailed("Unknown or retired unit grids: " + ", ".join(missing[:20]),
                                   code="grid_not_found", details=missing)
        rg = ResponsibilityGrid.objects.create(code=code, name=name, area=area)
        rg.unit_grids.add(*grids)
    return rg


def create_community_responsibility_grids(*, user: Any = None, suffix: str = "责任网格") -> int:
    """One responsibility grid per community that has none, holding its current grids (the
    demo's starting point; inspectors are assigned later). Returns how many were created."""
    _require(user, "space.add_responsibilitygrid")
    with transaction.atomic():
        have = set(ResponsibilityGrid.objects.values_list("area_id", flat=True))
        communities = [c for c in Area.objects.filter(level="community") if c.pk not in have]
        rgs = [ResponsibilityGrid(code=f"R{c.code}", name=f"{c.name}{suffix}", area=c) for c in communities]
        ResponsibilityGrid.objects.bulk_create(rgs, batch_size=BATCH)
        rg_ids: dict[int, int] = {}
        for chunk in _chunks([r.code for r in rgs], CHUNK):
            rg_ids.update(
                ResponsibilityGrid.objects.filter(code__in=chunk).values_list("area_id", "pk")
            )
        through = ResponsibilityGrid.unit_grids.through
        rows = UnitGrid.objects.filter(valid_to__isnull=True).values_list("pk", "community_id")
        links = [
            through(responsibilitygrid_id=rg_ids[community_id], unitgrid_id=grid_id)
            for grid_id, community_id in rows.iterator(chunk_size=BATCH)
            if community_id in rg_ids
        ]
        through.objects.bulk_create(links, batch_size=BATCH)
    return len(rgs)


def rename_area(code: str, name: str, *, user: Any = None) -> Area:
    _require(user, "space.change_area")
    if not name.strip():
        raise ValidationFailed("An area needs a name.", code="invalid_name")
    with transaction.atomic():
        area = Area.objects.select_for_update().filter(code=code).first()
        if area is None:
            raise NotFound(f"No area has the code {code}.", code="area_not_found")
        area.name = name.strip()
        area.save(update_fields=["name"])
        bump_coverage_revision()  # names appear in geocoding answers
    return area




def save_responsibility_grid(
    rg: ResponsibilityGrid, unit_grids: Iterable[UnitGrid], *, user: Any = None
) -> ResponsibilityGrid:
    """Create or change a responsibility grid and set its unit grids (from the admin form)."""
    _require(user, "space.change_responsibilitygrid" if rg.pk else "space.add_responsibilitygrid")
    grids = list(unit_grids)
    retired = sorted(g.code for g in grids if g.valid_to is not None)
    if retired:
        raise ValidationFailed("Retired unit grids cannot be patrolled: " + ", ".join(retired[:20]),
                               code="grid_retired", details=retired)
    with transaction.atomic():
        rg.save()
        rg.unit_grids.set(grids)
    return rg
