"""Validation of a coverage (areas and unit grids) before anything is written.

`check_coverage` reports every problem it finds, each with the id of the feature it is about,
so an administrator can fix a whole file in one round. Checks:

- level, code format and length (city/district 6, street 9, community 12, grid 15 digits);
- duplicate codes;
- unknown parents, parents of the wrong level, codes that do not extend their parent's code
  (a district shares the first 4 digits, the prefecture, with its city);
- missing, empty, wrongly typed and invalid (self-intersecting …) geometries;
- a lower level not inside its parent (beyond `containment_tolerance_m2`);
- overlapping grids (beyond `overlap_tolerance_m2`), including with grids already stored;
- gaps inside a community: the community minus the union of its grids (beyond
  `gap_tolerance_m2`);
- grids far from the ~10,000 m² norm (outside `min_grid_m2` .. `max_grid_m2`).

Legacy 14-digit grid codes (community 12 + 2-digit sequence) are accepted and converted by
`normalize_grid_code` to 15 digits by putting a 0 before the sequence: 51010400100107 →
510104001001007. The original is kept as `legacy_code`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from citygrid.space.domain.measure import geodesic_area_m2, local_metric

LEVELS = ("city", "district", "street", "community", "grid")
AREA_LEVELS = LEVELS[:4]
CODE_LENGTH = {"city": 6, "district": 6, "street": 9, "community": 12, "grid": 15}
PARENT_LEVEL = {"district": "city", "street": "district", "community": "street", "grid": "community"}
LEGACY_GRID_CODE_LENGTH = 14


@dataclass(frozen=True)
class FeatureInput:
    """One area or grid as read from a file: plain data plus a shapely geometry (lon/lat)."""

    feature_id: str
    code: str
    level: str
    name: str = ""
    parent_code: str | None = None
    geometry: BaseGeometry | None = None
    legacy_code: str = ""


@dataclass(frozen=True)
class KnownArea:
    """An area already stored, which features may name as their parent."""

    code: str
    level: str
    geometry: BaseGeometry


@dataclass(frozen=True)
class Problem:
    feature_id: str
    code: str
    message: str
    kind: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return {"feature_id": self.feature_id, "code": self.code, "kind": self.kind,
                "message": self.message}


@dataclass(frozen=True)
class CheckOptions:
    min_grid_m2: float = 2_000.0
    max_grid_m2: float = 50_000.0
    gap_tolerance_m2: float = 1.0
    overlap_tolerance_m2: float = 1.0
    containment_tolerance_m2: float = 1.0


def normalize_grid_code(code: str) -> str:
    """15-digit form of a grid code; a 14-digit legacy code gets a 0 before its 2-digit
    sequence. Anything else is returned unchanged (and reported by the checks)."""
    if len(code) == LEGACY_GRID_CODE_LENGTH and code.isdigit():
        return code[:12] + "0" + code[12:]
    return code


def normalize(feature: FeatureInput) -> FeatureInput:
    """Legacy grid codes converted; a grid's or street's or community's missing parent taken
    from its code."""
    f = feature
    if f.level == "grid" and len(f.code) == LEGACY_GRID_CODE_LENGTH and f.code.isdigit():
        f = replace(f, code=normalize_grid_code(f.code), legacy_code=f.code)
    if not f.parent_code and f.level in ("street", "community", "grid"):
        cut = CODE_LENGTH[PARENT_LEVEL[f.level]]
        if len(f.code) > cut:
            f = replace(f, parent_code=f.code[:cut])
    return f


def check_coverage(
    features: Sequence[FeatureInput],
    *,
    known_areas: Mapping[str, KnownArea] | None = None,
    other_grids: Sequence[FeatureInput] = (),
    options: CheckOptions | None = None,
) -> list[Problem]:
    """Every problem in `features` (already normalized). `known_areas` are stored areas that
    may be parents; `other_grids` are stored current grids that stay (checked for overlaps
    and counted in the communities' coverage)."""
    opts = options or CheckOptions()
    known = known_areas or {}
    problems: list[Problem] = []
    problems += _check_attributes(features)
    problems += _check_duplicates(features)
    good = [f for f in features if _geometry_ok(f)]
    problems += _check_geometries(features)
    problems += _check_parents(features, known, good, opts)
    grids = [f for f in good if f.level == "grid"]
    problems += _check_grid_sizes(grids, opts)
    problems += _check_overlaps(grids, [g for g in other_grids if _geometry_ok(g)], opts)
    problems += _check_gaps(good, other_grids, opts)
    return problems


# --- attribute checks ---------------------------------------------------------------------


def _check_attributes(features: Iterable[FeatureInput]) -> list[Problem]:
    out: list[Problem] = []
    for f in features:
        if f.level not in LEVELS:
            out.append(Problem(f.feature_id, f.code,
                               f"level {f.level!r} is not one of {', '.join(LEVELS)}", "level"))
            continue
        want = CODE_LENGTH[f.level]
        if not (f.code.isdigit() and f.code.isascii() and len(f.code) == want):
            legacy = " (or 14 for a legacy grid code)" if f.level == "grid" else ""
            out.append(Problem(f.feature_id, f.code,
                               f"a {f.level} code has {want} digits{legacy}, got {f.code!r}",
                               "code_format"))
        if f.level != "grid" and not f.name.strip():
            out.append(Problem(f.feature_id, f.code, f"the {f.level} has no name", "name"))
    return out


def _check_duplicates(features: Iterable[FeatureInput]) -> list[Problem]:
    first: dict[tuple[bool, str], FeatureInput] = {}
    out: list[Problem] = []
    for f in features:
        key = (f.level == "grid", f.code)
        if key in first:
            out.append(Problem(f.feature_id, f.code,
                               f"duplicate code: feature {first[key].feature_id} has it too",
                               "duplicate_code"))
        else:
            first[key] = f
    return out


def _geometry_ok(f: FeatureInput) -> bool:
    g = f.geometry
    if g is None or g.is_empty or not g.is_valid:
        return False
    allowed = ("Polygon",) if f.level == "grid" else ("Polygon", "MultiPolygon")
    return g.geom_type in allowed


def _check_geometries(features: Iterable[FeatureInput]) -> list[Problem]:
    out: list[Problem] = []
    for f in features:
        g = f.geometry
        if g is None or g.is_empty:
            out.append(Problem(f.feature_id, f.code, "the geometry is missing or empty", "geometry"))
            continue
        allowed = ("Polygon",) if f.level == "grid" else ("Polygon", "MultiPolygon")
        if g.geom_type not in allowed:
            out.append(Problem(f.feature_id, f.code,
                               f"a {f.level} must be a {' or '.join(allowed)}, got {g.geom_type}",
                               "geometry"))
        elif not g.is_valid:
            reason = shapely.is_valid_reason(g)
            out.append(Problem(f.feature_id, f.code, f"invalid polygon: {reason}", "invalid_geometry"))
    return out


# --- hierarchy ----------------------------------------------------------------------------


def _check_parents(
    features: Sequence[FeatureInput],
    known: Mapping[str, KnownArea],
    good: Sequence[FeatureInput],
    opts: CheckOptions,
) -> list[Problem]:
    out: list[Problem] = []
    in_file: dict[str, FeatureInput] = {}
    for f in features:
        if f.level in AREA_LEVELS:
            in_file.setdefault(f.code, f)
    good_ids = {f.feature_id for f in good}
    pairs: list[tuple[FeatureInput, BaseGeometry, str]] = []
    for f in features:
        if f.level not in LEVELS:
            continue
        if f.level == "city":
            if f.parent_code:
                out.append(Problem(f.feature_id, f.code, "a city has no parent", "parent"))
            continue
        want = PARENT_LEVEL[f.level]
        if not f.parent_code:
            out.append(Problem(f.feature_id, f.code, f"the {f.level} names no parent {want}", "parent"))
            continue
        parent_level, parent_geom, parent_ok = _find_parent(f.parent_code, in_file, known, good_ids)
        if parent_level is None:
            out.append(Problem(f.feature_id, f.code,
                               f"unknown parent {f.parent_code}: not in the file nor stored",
                               "unknown_parent"))
            continue
        if parent_level != want:
            out.append(Problem(f.feature_id, f.code,
                               f"parent {f.parent_code} is a {parent_level}, a {f.level} needs a {want}",
                               "parent_level"))
            continue
        prefix = f.parent_code[:4] if f.level == "district" else f.parent_code
        if not f.code.startswith(prefix):
            out.append(Problem(f.feature_id, f.code,
                               f"code {f.code} does not start with {prefix} of its parent {f.parent_code}",
                               "code_parent"))
        if parent_ok and parent_geom is not None and f.feature_id in good_ids:
            assert f.geometry is not None
            pairs.append((f, parent_geom, f.parent_code))
    out += _check_containment(pairs, opts)
    return out


def _find_parent(
    code: str, in_file: Mapping[str, FeatureInput], known: Mapping[str, KnownArea],
    good_ids: set[str],
) -> tuple[str | None, BaseGeometry | None, bool]:
    if code in in_file:
        p = in_file[code]
        return p.level, p.geometry, p.feature_id in good_ids
    if code in known:
        k = known[code]
        return k.level, k.geometry, True
    return None, None, False


def _check_containment(
    pairs: Sequence[tuple[FeatureInput, BaseGeometry, str]], opts: CheckOptions
) -> list[Problem]:
    if not pairs:
        return []
    children = np.asarray([f.geometry for f, _p, _c in pairs], dtype=object)
    parents = np.asarray([p for _f, p, _c in pairs], dtype=object)
    covered = shapely.covers(parents, children)
    out: list[Problem] = []
    for i in np.flatnonzero(~covered):
        f, parent, parent_code = pairs[int(i)]
        assert f.geometry is not None
        outside = f.geometry.difference(parent)
        m2 = _metric_area(outside)
        if m2 > opts.containment_tolerance_m2:
            out.append(Problem(f.feature_id, f.code,
                               f"{m2:.0f} m² lie outside its parent {parent_code}", "outside_parent"))
    return out


# --- grids --------------------------------------------------------------------------------


def _check_grid_sizes(grids: Sequence[FeatureInput], opts: CheckOptions) -> list[Problem]:
    out: list[Problem] = []
    for g in grids:
        assert g.geometry is not None
        m2 = geodesic_area_m2(g.geometry)
        if not opts.min_grid_m2 <= m2 <= opts.max_grid_m2:
            out.append(Problem(g.feature_id, g.code,
                               f"grid area {m2:.0f} m² is outside {opts.min_grid_m2:.0f}–"
                               f"{opts.max_grid_m2:.0f} m²", "grid_size"))
    return out


def _check_overlaps(
    grids: Sequence[FeatureInput], others: Sequence[FeatureInput], opts: CheckOptions
) -> list[Problem]:
    every = list(grids) + list(others)
    if len(every) < 2 or not grids:
        return []
    geoms = np.asarray([g.geometry for g in every], dtype=object)
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms[: len(grids)], predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size == 0:
        return []
    interior = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    out: list[Problem] = []
    for i, j in zip(left[interior], right[interior], strict=True):
        a, b = every[int(i)], every[int(j)]
        m2 = _metric_area(shapely.intersection(geoms[i], geoms[j]))
        if m2 <= opts.overlap_tolerance_m2:
            continue
        stored = " (stored)" if j >= len(grids) else ""
        out.append(Problem(a.feature_id, a.code,
                           f"overlaps grid {b.code}{stored} (feature {b.feature_id}) by {m2:.0f} m²",
                           "overlap"))
        if j < len(grids):
            out.append(Problem(b.feature_id, b.code,
                               f"overlaps grid {a.code} (feature {a.feature_id}) by {m2:.0f} m²",
                               "overlap"))
    return out


def _check_gaps(
    good: Sequence[FeatureInput], others: Sequence[FeatureInput], opts: CheckOptions
) -> list[Problem]:
    by_community: dict[str, list[BaseGeometry]] = defaultdict(list)
    for g in list(good) + [o for o in others if _geometry_ok(o)]:
        if g.level == "grid" and g.parent_code and g.geometry is not None:
            by_community[g.parent_code].append(g.geometry)
    out: list[Problem] = []
    for c in good:
        if c.level != "community":
            continue
        assert c.geometry is not None
        parts = by_community.get(c.code, [])
        covered = shapely.union_all(parts) if parts else None
        gap = c.geometry if covered is None else c.geometry.difference(covered)
        m2 = _metric_area(gap)
        if m2 > opts.gap_tolerance_m2:
            where = gap.representative_point()
            out.append(Problem(c.feature_id, c.code,
                               f"{m2:.0f} m² of the community are not covered by its grids "
                               f"(e.g. near {where.x:.6f}, {where.y:.6f})", "gap"))
    return out


def _metric_area(geometry: BaseGeometry) -> float:
    if geometry.is_empty:
        return 0.0
    lat0 = (geometry.bounds[1] + geometry.bounds[3]) / 2
    return float(local_metric([geometry], lat0)[0].area)
