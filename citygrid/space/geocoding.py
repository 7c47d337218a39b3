"""Geocoding service (M-03): point → unit grid → community → street → district → city.

The index (`domain.geoindex.GridIndex`) is a per-process cache built from the current unit
grids (valid_to IS NULL) and the area hierarchy. Every call reads `CoverageRevision` once (one
indexed single-row query); when the revision differs from the one the index was built at, the
index is rebuilt (under a lock, once, while other threads wait). Coverage actions bump the
revision in their transaction, so every app process sees changes on its next call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
import numpy.typing as npt
import shapely

from citygrid.core.errors import NotFound, ValidationFailed
from citygrid.core.memo import remembered
from citygrid.space.domain import coords
from citygrid.space.domain.geoindex import GridIndex
from citygrid.space.models import Area, Level, UnitGrid
from citygrid.space.selectors import CoverageKey, coverage_key

Crs = Literal["wgs84", "cgcs2000", "gcj02"]
CRS_CHOICES: tuple[str, ...] = ("wgs84", "cgcs2000", "gcj02")


class OutsideCoverage(NotFound):
    code = "outside_coverage"


class InvalidCoordinates(ValidationFailed):
    code = "invalid_coordinates"


class UnsupportedCrs(ValidationFailed):
    code = "unsupported_crs"


@dataclass(frozen=True, slots=True)
class AreaRef:
    code: str
    name: str


_NO_AREA = AreaRef(code="", name="")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a point lies. lon/lat is the WGS84 point that was located (after conversion)."""

    lon: float
    lat: float
    grid_id: int
    grid_code: str
    community: AreaRef
    street: AreaRef
    district: AreaRef
    city: AreaRef


@dataclass(frozen=True, slots=True)
class _Place:
    grid_code: str
    community: AreaRef
    street: AreaRef
    district: AreaRef
    city: AreaRef


_RevisionKey = CoverageKey


@dataclass(frozen=True, slots=True)
class _Snapshot:
    key: _RevisionKey
    index: GridIndex
    places: dict[int, _Place]  # grid id → code and hierarchy


@dataclass(frozen=True, slots=True)
class BatchResult:
    """Answers for a batch, in input order. `grid_ids[i]` is -1 where `valid[i]` is False
    (invalid coordinates) or the point is outside coverage."""

    lons: npt.NDArray[np.float64]  # WGS84
    lats: npt.NDArray[np.float64]
    valid: npt.NDArray[np.bool_]
    grid_ids: npt.NDArray[np.int64]
    places: dict[int, _Place]

    def location(self, i: int) -> Location | None:
        grid_id = int(self.grid_ids[i])
        if grid_id < 0:
            return None
        return _location(float(self.lons[i]), float(self.lats[i]), grid_id, self.places[grid_id])


logger = logging.getLogger(__name__)
_lock = threading.Lock()
_snapshot: _Snapshot | None = None


def _index() -> _Snapshot:
    """The current snapshot, rebuilt first if the coverage revision moved."""
    global _snapshot
    key = remembered("coverage_key", coverage_key)  # once per batch of reports
    snap = _snapshot
    if snap is not None and snap.key == key:
        return snap
    with _lock:
        snap = _snapshot
        if snap is None or snap.key != key:
            snap = _build(key)
            _snapshot = snap
    return snap


def invalidate_index() -> None:
    """Drop this process's index; the next call rebuilds it."""
    global _snapshot
    with _lock:
        _snapshot = None


def _build(key: _RevisionKey) -> _Snapshot:
    rows = list(
        UnitGrid.objects.filter(valid_to__isnull=True).values_list(
            "id", "code", "community_id", "geometry"
        )
    )
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    wkb = np.empty(len(rows), dtype=object)
    wkb[:] = [bytes(r[3]) for r in rows]
    geoms = shapely.from_wkb(wkb, on_invalid="ignore") if rows else np.empty(0, dtype=object)
    usable = np.isin(shapely.get_type_id(geoms), (3, 6)) & ~shapely.is_empty(geoms)
    if not usable.all():
        # One broken row must not take geocoding down for the whole city.
        skipped = [rows[i][1] for i in np.flatnonzero(~usable)]
        logger.error("geocoding index skips %d grids without a polygon: %s", len(skipped), skipped[:20])
        ids, geoms = ids[usable], geoms[usable]
    hierarchy = _hierarchy()
    places = {
        int(r[0]): _Place(r[1], *hierarchy.get(r[2], (_NO_AREA,) * 4)) for r in rows
    }
    return _Snapshot(key=key, index=GridIndex(ids, geoms), places=places)


def _hierarchy() -> dict[int, tuple[AreaRef, AreaRef, AreaRef, AreaRef]]:
    """community id → (community, street, district, city), walking parents by level. A
    level missing from a chain (which the model constraints and coverage checks prevent)
    shows as an empty AreaRef rather than failing the lookup."""
    areas = {
        a_id: (code, name, level, parent)
        for a_id, code, name, level, parent in Area.objects.values_list(
            "id", "code", "name", "level", "parent_id"
        )
    }
    order = (Level.COMMUNITY, Level.STREET, Level.DISTRICT, Level.CITY)
    out: dict[int, tuple[AreaRef, AreaRef, AreaRef, AreaRef]] = {}
    for a_id, (_code, _name, level, _parent) in areas.items():
        if level != Level.COMMUNITY:
            continue
        found: dict[str, AreaRef] = {}
        current: int | None = a_id
        for _ in range(8):  # bounded: a corrupt cycle cannot hang the build
            if current is None or current not in areas:
                break
            code, name, lvl, parent = areas[current]
            found.setdefault(lvl, AreaRef(code=code, name=name))
            current = parent
        refs = tuple(found.get(lvl, _NO_AREA) for lvl in order)
        out[a_id] = cast(tuple[AreaRef, AreaRef, AreaRef, AreaRef], refs)
    return out


def _location(lon: float, lat: float, grid_id: int, place: _Place) -> Location:
    return Location(
        lon=lon,
        lat=lat,
        grid_id=grid_id,
        grid_code=place.grid_code,
        community=place.community,
        street=place.street,
        district=place.district,
        city=place.city,
    )


def _to_wgs84(
    lons: npt.NDArray[np.float64], lats: npt.NDArray[np.float64], crs: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    if crs in ("wgs84", "cgcs2000"):  # CGCS2000 and WGS84 differ by centimetres
        return lons, lats
    if crs == "gcj02":
        return coords.gcj02_to_wgs84(lons, lats)
    raise UnsupportedCrs(
        f"Unsupported coordinate system {crs!r}; use one of {', '.join(CRS_CHOICES)}.",
        details={"crs": crs, "allowed": list(CRS_CHOICES)},
    )


def locate(lon: float, lat: float, crs: str = "wgs84") -> Location:
    """The grid and areas at (lon, lat). Raises InvalidCoordinates or OutsideCoverage."""
    if not coords.is_valid(lon, lat):
        raise InvalidCoordinates(
            f"({lon}, {lat}) is not a valid lon/lat: lon must be in [-180, 180] and lat in "
            "[-90, 90], both finite.",
            details={"lon": str(lon), "lat": str(lat)},
        )
    x, y = _to_wgs84(np.array([lon], dtype=np.float64), np.array([lat], dtype=np.float64), crs)
    wlon, wlat = float(x[0]), float(y[0])
    snap = _index()
    grid_id = snap.index.locate_one(wlon, wlat)
    if grid_id is None:
        raise OutsideCoverage(
            f"({lon}, {lat}) [{crs}] is outside the area under supervision.",
            details={"lon": lon, "lat": lat, "crs": crs},
        )
    return _location(wlon, wlat, grid_id, snap.places[grid_id])


def locate_batch(
    lons: Sequence[float] | npt.ArrayLike, lats: Sequence[float] | npt.ArrayLike, crs: str = "wgs84"
) -> BatchResult:
    """Vectorised form: one revision check, one conversion, one index pass."""
    x = np.asarray(lons, dtype=np.float64).ravel()
    y = np.asarray(lats, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValidationFailed(f"{x.shape[0]} longitudes for {y.shape[0]} latitudes.")
    valid = coords.valid_mask(x, y)
    wx, wy = _to_wgs84(x, y, crs)
    snap = _index()
    grid_ids = snap.index.locate(wx, wy)
    grid_ids[~valid] = -1
    return BatchResult(lons=wx, lats=wy, valid=valid, grid_ids=grid_ids, places=snap.places)


def locate_many(
    lons: Sequence[float] | npt.ArrayLike, lats: Sequence[float] | npt.ArrayLike, crs: str = "wgs84"
) -> list[Location | None]:
    """One answer per point, None where the point is invalid or outside coverage."""
    result = locate_batch(lons, lats, crs)
    return [result.location(i) for i in range(result.grid_ids.shape[0])]
