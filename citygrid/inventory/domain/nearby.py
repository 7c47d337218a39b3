"""The in-memory nearby index: which points lie within a radius of a point, nearest first.

Points (lon/lat degrees) are projected once into a local equirectangular plane around the
data's centre and bucketed in square cells (default 50 m), stored sorted by cell key
(row * columns + column). A query visits the cell rows the search circle spans: one pair of
binary searches per row finds the points of that row's cell span, because within a row the
keys of consecutive cells are consecutive. Candidates are then measured exactly (haversine on
the sphere of radius `EARTH_RADIUS_M`, the same formula as `haversine_m`), filtered and sorted.

The projection only chooses candidates; the search box is widened by 1 % (plus a metre) to
cover the projection's distortion, which is far below that over a city (< 0.1 % within 50 km).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG = EARTH_RADIUS_M * math.pi / 180.0
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def haversine_m(lon: float, lat: float, lons: FloatArray, lats: FloatArray) -> FloatArray:
    """Great-circle distances in metres from (lon, lat) to each point."""
    p1 = math.radians(lat)
    p2 = np.radians(lats)
    dp = p2 - p1
    dl = np.radians(lons - lon)
    a = np.sin(dp / 2.0) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    result: FloatArray = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return result


class NearbyIndex:
    """Points with ids and an integer class per point, searchable by radius."""

    def __init__(self, ids: npt.ArrayLike, lons: npt.ArrayLike, lats: npt.ArrayLike,
                 classes: npt.ArrayLike | None = None, *, cell_m: float = 50.0) -> None:
        id_arr = np.asarray(ids, dtype=np.int64).ravel()
        x = np.asarray(lons, dtype=np.float64).ravel()
        y = np.asarray(lats, dtype=np.float64).ravel()
        cls = (np.zeros(id_arr.shape[0], dtype=np.int64) if classes is None
               else np.asarray(classes, dtype=np.int64).ravel())
        if not (id_arr.shape == x.shape == y.shape == cls.shape):
            raise ValueError("ids, lons, lats and classes must have the same length")
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise ValueError("lons and lats must be finite")
        if cell_m <= 0 or not math.isfinite(cell_m):
            raise ValueError("cell_m must be positive")
        self._cell = cell_m
        if x.size:
            self._lon0 = float((x.min() + x.max()) / 2.0)
            self._lat0 = float((y.min() + y.max()) / 2.0)
        else:
            self._lon0 = self._lat0 = 0.0
        self._kx = _M_PER_DEG * math.cos(math.radians(self._lat0))
        px, py = self._project(x, y)
        cx = np.floor(px / cell_m).astype(np.int64)
        cy = np.floor(py / cell_m).astype(np.int64)
        self._cx0 = int(cx.min()) if cx.size else 0
        self._cy0 = int(cy.min()) if cy.size else 0
        self._ncols = (int(cx.max()) - self._cx0 + 1) if cx.size else 1
        self._nrows = (int(cy.max()) - self._cy0 + 1) if cy.size else 1
        keys = (cy - self._cy0) * self._ncols + (cx - self._cx0)
        order = np.argsort(keys, kind="stable")
        self._keys: IntArray = keys[order]
        self._ids: IntArray = id_arr[order]
        self._lons: FloatArray = x[order]
        self._lats: FloatArray = y[order]
        self._classes: IntArray = cls[order]

    def __len__(self) -> int:
        return int(self._ids.shape[0])

    @property
    def nbytes(self) -> int:
        return int(self._keys.nbytes + self._ids.nbytes + self._lons.nbytes + self._lats.nbytes
                   + self._classes.nbytes)

    def _project(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        return (x - self._lon0) * self._kx, (y - self._lat0) * _M_PER_DEG

    def _candidates(self, lon: float, lat: float, radius_m: float) -> IntArray:
        reach = radius_m * 1.01 + 1.0
        px = (lon - self._lon0) * self._kx
        py = (lat - self._lat0) * _M_PER_DEG
        c_lo = max(math.floor((px - reach) / self._cell) - self._cx0, 0)
        c_hi = min(math.floor((px + reach) / self._cell) - self._cx0, self._ncols - 1)
        r_lo = max(math.floor((py - reach) / self._cell) - self._cy0, 0)
        r_hi = min(math.floor((py + reach) / self._cell) - self._cy0, self._nrows - 1)
        if c_lo > c_hi or r_lo > r_hi:
            return np.zeros(0, dtype=np.int64)
        rows = np.arange(r_lo, r_hi + 1, dtype=np.int64) * self._ncols
        starts = np.searchsorted(self._keys, rows + c_lo, side="left")
        ends = np.searchsorted(self._keys, rows + c_hi, side="right")
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64)
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        result: IntArray = (np.arange(total, dtype=np.int64) + offsets).astype(np.int64)
        return result

    def near(self, lon: float, lat: float, radius_m: float, *,
             classes: npt.ArrayLike | None = None, limit: int = 20) -> tuple[IntArray, FloatArray]:
        """(ids, distances in metres) of the points within `radius_m` of (lon, lat), nearest
        first (ties by id), at most `limit`; only points whose class is in `classes` if given."""
        if not (math.isfinite(lon) and math.isfinite(lat)) or radius_m < 0 or limit <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        pos = self._candidates(lon, lat, radius_m)
        if classes is not None and pos.size:
            pos = pos[np.isin(self._classes[pos], np.asarray(classes, dtype=np.int64))]
        dist = haversine_m(lon, lat, self._lons[pos], self._lats[pos])
        keep = dist <= radius_m
        pos, dist = pos[keep], dist[keep]
        ids = self._ids[pos]
        order = np.lexsort((ids, dist))[:limit]
        return ids[order], dist[order]


def brute_force_near(ids: IntArray, lons: FloatArray, lats: FloatArray, classes: IntArray,
                     lon: float, lat: float, radius_m: float, wanted: IntArray | None,
                     limit: int) -> tuple[IntArray, FloatArray]:
    """The reference answer: measure every point (tests and the benchmark use it)."""
    dist = haversine_m(lon, lat, lons, lats)
    keep = dist <= radius_m
    if wanted is not None:
        keep &= np.isin(classes, wanted)
    sel_ids, sel_dist = ids[keep], dist[keep]
    order = np.lexsort((sel_ids, sel_dist))[:limit]
    return sel_ids[order], sel_dist[order]
