"""A deterministic demo city modelled on Chengdu's centre (M-01, M-02).

Built bottom-up so that nesting is exact:

1. An irregular, star-shaped city outline of the target area around 104.06 E, 30.66 N.
2. Seed points on a ~100 m lattice, each jittered at random; the Voronoi cells of the seeds
   inside the outline are the unit grids (irregular polygons of ~10,000 m²). The city outline
   is then the union of those cells (no clipping, so no slivers).
3. Grids go to districts by the nearest district seed (rough real positions), to streets and
   communities by k-means clusters inside their parent.
4. Every area's boundary is the union of its children (shapely.coverage_union_all), so each
   area is exactly the union of its grids and shares their vertices.

Everything is computed in a local Lambert azimuthal equal-area projection and transformed to
WGS84 lon/lat at the end; the same vertex always transforms to the same floats, so shared
edges stay shared.

Grid numbering (see `grid_sequence_order`): inside a community, grids are cut into rows of
`ROW_DEG` degrees of latitude (~100 m) counted from the northernmost grid centroid, north
first; inside a row, west to east by centroid longitude. The sequence starts at 001.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry

CENTER_LON = 104.06
CENTER_LAT = 30.66
ROW_DEG = 0.0009  # one numbering row, ~100 m of latitude

CITY_CODE = "510100"
CITY_NAME = "成都市"


@dataclass(frozen=True)
class AreaPlan:
    code: str
    name: str
    level: str  # city | district | street | community
    parent_code: str | None
    geometry: BaseGeometry  # Polygon or MultiPolygon, WGS84 lon/lat


@dataclass(frozen=True)
class GridPlan:
    code: str
    community_code: str
    geometry: Polygon  # WGS84 lon/lat


@dataclass(frozen=True)
class CityPlan:
    areas: list[AreaPlan]
    grids: list[GridPlan]


@dataclass(frozen=True)
class _District:
    code: str
    name: str
    offset_km: tuple[float, float]  # rough position east/north of the centre


# Real GB/T 2260 codes and names of Chengdu's central districts.
_DISTRICTS = (
    _District("510104", "锦江区", (4.5, -1.5)),
    _District("510105", "青羊区", (-4.0, 1.5)),
    _District("510106", "金牛区", (-2.0, 6.0)),
    _District("510107", "武侯区", (-4.5, -4.5)),
    _District("510108", "成华区", (5.0, 4.0)),
    # 高新区 is a functional zone (高新技术产业开发区), not an administrative district; it has
    # no GB/T 2260 code of its own, so the demo gives it 510109 and treats it as a district.
    _District("510109", "高新区", (0.5, -8.0)),
)


@dataclass(frozen=True)
class _Size:
    area_m2: float
    grids: int
    districts: tuple[_District, ...]
    streets: int
    communities: int


_SIZES = {
    "full": _Size(465e6, 46_000, _DISTRICTS, 80, 400),
    "small": _Size(
        2.0e6,
        200,
        (
            _District("510104", "锦江区", (0.4, 0.0)),
            _District("510105", "青羊区", (-0.4, 0.0)),
        ),
        4,
        8,
    ),
}

_NAME_HEADS = "春书合督盐牛东莲沙狮柳龙双锦府草光文金玉新西苏营驷抚青桂芳红华石清万少黄永天荷"
_NAME_TAILS = "熙院江华市光新河桥坝门林泉苑安兴城湖山溪台堂源庙坪园"
_STREET_SUFFIXES = ("街道", "路街道")


def sizes() -> list[str]:
    return sorted(_SIZES)


def build_city(size: str = "full", seed: int = 2016) -> CityPlan:
    """The demo city for `size` ("full" or "small"); the same seed gives the same city."""
    if size not in _SIZES:
        raise ValueError(f"unknown size {size!r}; choose one of {', '.join(sizes())}")
    spec = _SIZES[size]
    rng = np.random.default_rng(seed)
    spacing = math.sqrt(spec.area_m2 / spec.grids)
    points, ring = _seed_points(rng, spec.area_m2, spacing)
    cells = _voronoi_cells(points, ring)

    district_of = _nearest(points, np.array([[x * 1000, y * 1000] for x, y in (d.offset_km for d in spec.districts)]))
    street_counts = _apportion(np.bincount(district_of, minlength=len(spec.districts)), spec.streets)

    to_lonlat = _to_lonlat_transformer()
    areas: list[AreaPlan] = []
    grids: list[GridPlan] = []
    street_names = _NameSource(rng, _STREET_SUFFIXES)
    district_geoms: list[BaseGeometry] = []
    for d_index, district in enumerate(spec.districts):
        d_members = np.flatnonzero(district_of == d_index)
        street_of = _kmeans(points[d_members], int(street_counts[d_index]), rng)
        street_members = _ordered_groups(points[d_members], street_of, band_m=1000.0)
        comm_total = _apportion(np.array([len(m) for m in street_members]), _community_share(spec, d_members.size, points.shape[0]))
        community_names = _NameSource(rng, ("社区",))
        street_geoms: list[BaseGeometry] = []
        for s_index, s_local in enumerate(street_members):
            s_members = d_members[s_local]
            street_code = f"{district.code}{s_index + 1:03d}"
            comm_of = _kmeans(points[s_members], max(1, int(comm_total[s_index])), rng)
            comm_geoms: list[BaseGeometry] = []
            for c_index, c_local in enumerate(_ordered_groups(points[s_members], comm_of, band_m=300.0)):
                c_members = s_members[c_local]
                community_code = f"{street_code}{c_index + 1:03d}"
                grid_geoms = _transform(cells[c_members], to_lonlat)
                order = grid_sequence_order(
                    [(float(g.centroid.x), float(g.centroid.y)) for g in grid_geoms]
                )
                for seq, i in enumerate(order, start=1):
                    grids.append(GridPlan(f"{community_code}{seq:03d}", community_code, grid_geoms[i]))
                comm_geom = shapely.coverage_union_all(cells[c_members])
                comm_geoms.append(comm_geom)
                areas.append(
                    AreaPlan(community_code, community_names.take(), "community", street_code,
                             _transform_one(comm_geom, to_lonlat))
                )
            street_geom = shapely.coverage_union_all(comm_geoms)
            street_geoms.append(street_geom)
            areas.append(
                AreaPlan(street_code, street_names.take(), "street", district.code,
                         _transform_one(street_geom, to_lonlat))
            )
        district_geom = shapely.coverage_union_all(street_geoms)
        district_geoms.append(district_geom)
        areas.append(
            AreaPlan(district.code, district.name, "district", CITY_CODE,
                     _transform_one(district_geom, to_lonlat))
        )
    city_geom = shapely.coverage_union_all(district_geoms)
    areas.append(AreaPlan(CITY_CODE, CITY_NAME, "city", None, _transform_one(city_geom, to_lonlat)))
    level_rank = {"city": 0, "district": 1, "street": 2, "community": 3}
    areas.sort(key=lambda a: (level_rank[a.level], a.code))
    grids.sort(key=lambda g: g.code)
    return CityPlan(areas=areas, grids=grids)


def grid_sequence_order(centroids: Sequence[tuple[float, float]]) -> list[int]:
    """Indexes of `centroids` (lon, lat) in grid-code order: rows of ROW_DEG latitude from the
    northernmost centroid, north row first; west to east inside a row."""
    if not centroids:
        return []
    top = max(lat for _lon, lat in centroids)
    keyed = [
        (math.floor((top - lat) / ROW_DEG), lon, i) for i, (lon, lat) in enumerate(centroids)
    ]
    return [i for _row, _lon, i in sorted(keyed)]


# --- geometry -----------------------------------------------------------------------------


def _outline_radius(theta: NDArray[np.float64], phases: NDArray[np.float64]) -> NDArray[np.float64]:
    """Relative radius of the star-shaped outline at angle theta (1.0 on average)."""
    return np.asarray(
        1.0
        + 0.08 * np.sin(3 * theta + phases[0])
        + 0.05 * np.sin(5 * theta + phases[1])
        + 0.03 * np.sin(7 * theta + phases[2]),
        dtype=np.float64,
    )


def _seed_points(
    rng: np.random.Generator, area_m2: float, spacing: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Jittered lattice points inside an irregular outline of `area_m2` (the grids' seeds),
    and a ring of points just outside it so that the inner Voronoi cells are bounded."""
    phases = rng.uniform(0, 2 * math.pi, 3)
    theta = np.linspace(0, 2 * math.pi, 3601)
    mean_sq = float(np.mean(_outline_radius(theta, phases) ** 2))
    radius = math.sqrt(area_m2 / (math.pi * mean_sq))
    reach = radius * 1.2 + 3 * spacing
    axis = np.arange(-reach, reach + spacing, spacing)
    xx, yy = np.meshgrid(axis, axis)
    pts = np.column_stack([xx.ravel(), yy.ravel()])
    pts = pts + rng.uniform(-0.4 * spacing, 0.4 * spacing, pts.shape)
    r = np.hypot(pts[:, 0], pts[:, 1])
    limit = radius * _outline_radius(np.arctan2(pts[:, 1], pts[:, 0]), phases)
    inner = pts[r <= limit]
    ring = pts[(r > limit) & (r <= limit + 3 * spacing)]
    return inner, ring


def _voronoi_cells(inner: NDArray[np.float64], ring: NDArray[np.float64]) -> NDArray[np.object_]:
    every = np.vstack([inner, ring])
    diagram = shapely.voronoi_polygons(MultiPoint(every), ordered=True)
    cells = shapely.get_parts(diagram)[: inner.shape[0]]
    return np.asarray(cells, dtype=object)


def _to_lonlat_transformer() -> Transformer:
    laea = CRS.from_proj4(
        f"+proj=laea +lat_0={CENTER_LAT} +lon_0={CENTER_LON} +ellps=WGS84 +units=m +no_defs"
    )
    return Transformer.from_crs(laea, "EPSG:4326", always_xy=True)


def _transform(geoms: NDArray[np.object_], transformer: Transformer) -> list[BaseGeometry]:
    def _apply(x: NDArray[np.float64], y: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        lon, lat = transformer.transform(x, y)
        return np.asarray(lon), np.asarray(lat)

    return list(shapely.transform(geoms, _apply, interleaved=False))


def _transform_one(geom: BaseGeometry, transformer: Transformer) -> BaseGeometry:
    return _transform(np.asarray([geom], dtype=object), transformer)[0]


# --- grouping -----------------------------------------------------------------------------


def _nearest(points: NDArray[np.float64], centres: NDArray[np.float64]) -> NDArray[np.intp]:
    d2 = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return np.asarray(np.argmin(d2, axis=1), dtype=np.intp)


def _kmeans(points: NDArray[np.float64], k: int, rng: np.random.Generator) -> NDArray[np.intp]:
    """Cluster labels from a few Lloyd iterations: compact, roughly equal groups."""
    k = max(1, min(k, points.shape[0]))
    centres = points[rng.choice(points.shape[0], size=k, replace=False)]
    labels = _nearest(points, centres)
    for _ in range(12):
        for j in range(k):
            members = points[labels == j]
            if members.size:
                centres[j] = members.mean(axis=0)
        labels = _nearest(points, centres)
    # Relabel so that every label in 0..k-1 is used (an emptied cluster just disappears).
    _used, dense = np.unique(labels, return_inverse=True)
    return dense.astype(np.intp)


def _ordered_groups(
    points: NDArray[np.float64], labels: NDArray[np.intp], band_m: float
) -> list[NDArray[np.intp]]:
    """Member indexes per label, groups ordered north to south (bands of band_m), then west
    to east by their mean position: the order in which codes are handed out."""
    groups = [np.flatnonzero(labels == j) for j in range(int(labels.max()) + 1)]
    groups = [g for g in groups if g.size]

    def key(g: NDArray[np.intp]) -> tuple[int, float]:
        cx, cy = points[g].mean(axis=0)
        return (-math.floor(cy / band_m), float(cx))

    return sorted(groups, key=key)


def _apportion(weights: NDArray[np.int64], total: int) -> NDArray[np.int64]:
    """Split `total` in proportion to `weights` (largest remainder), at least 1 each."""
    n = weights.size
    total = max(total, n)
    exact = weights / max(int(weights.sum()), 1) * (total - n)
    counts = np.floor(exact).astype(np.int64) + 1
    for i in np.argsort(-(exact - np.floor(exact)), kind="stable")[: total - int(counts.sum())]:
        counts[i] += 1
    return counts


def _community_share(spec: _Size, district_points: int, all_points: int) -> int:
    return max(1, round(spec.communities * district_points / all_points))


class _NameSource:
    """Plausible two-character place names, unique until reset."""

    def __init__(self, rng: np.random.Generator, suffixes: tuple[str, ...]) -> None:
        pairs = [a + b for a, b in itertools.product(_NAME_HEADS, _NAME_TAILS) if a != b]
        self._names = [pairs[i] for i in rng.permutation(len(pairs))]
        self._suffixes = [suffixes[i] for i in rng.integers(0, len(suffixes), len(pairs))]
        self._next = 0

    def take(self) -> str:
        name = str(self._names[self._next]) + str(self._suffixes[self._next])
        self._next += 1
        return name
