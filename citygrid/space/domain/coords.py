"""Coordinate systems: WGS84 / CGCS2000 lon/lat and GCJ-02 ("Mars coordinates").

Chinese consumer map SDKs (AMap/Gaode, Tencent, Baidu before its own BD-09 step) report
GCJ-02, an obfuscated datum that shifts WGS84 by up to several hundred metres. There is no
maintained library for it (the PyPI packages are scalar and unmaintained), so this module
implements the widely published algorithm (the Krasovsky-1940 based transform circulated
since ~2010, e.g. "eviltransform"), vectorised with numpy:

- WGS84 → GCJ-02 is the closed-form forward transform;
- GCJ-02 → WGS84 inverts it by fixed-point iteration (round trips agree within ~1e-9°);
- points outside the published rough bounding box of China pass through unchanged, which is
  the published algorithm's own rule.

CGCS2000 and WGS84 differ by centimetres, far below what a unit grid (~100 m) resolves, so
callers treat CGCS2000 as WGS84.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Krasovsky 1940 ellipsoid, as in the published algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323

# The published algorithm's "out of China" box.
_CHINA_MIN_LON, _CHINA_MAX_LON = 72.004, 137.8347
_CHINA_MIN_LAT, _CHINA_MAX_LAT = 0.8293, 55.8271

_INVERSE_ITERATIONS = 30
_INVERSE_TOLERANCE = 1e-11


def _as_arrays(lons: npt.ArrayLike, lats: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    x = np.asarray(lons, dtype=np.float64)
    y = np.asarray(lats, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"lons and lats differ in shape: {x.shape} vs {y.shape}")
    return x, y


def valid_mask(lons: npt.ArrayLike, lats: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True where (lon, lat) is a finite coordinate with -180 ≤ lon ≤ 180, -90 ≤ lat ≤ 90."""
    x, y = _as_arrays(lons, lats)
    with np.errstate(invalid="ignore"):
        return (
            np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)
        )


def is_valid(lon: float, lat: float) -> bool:
    """Scalar form of `valid_mask`."""
    return bool(valid_mask(lon, lat))


def in_china(lons: npt.ArrayLike, lats: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True where the published algorithm applies its shift (its rough box around China)."""
    x, y = _as_arrays(lons, lats)
    with np.errstate(invalid="ignore"):
        return (
            (x >= _CHINA_MIN_LON)
            & (x <= _CHINA_MAX_LON)
            & (y >= _CHINA_MIN_LAT)
            & (y <= _CHINA_MAX_LAT)
        )


def _offset(lons: FloatArray, lats: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 shift (degrees) at a WGS84 point."""
    x = lons - 105.0
    y = lats - 35.0
    pi = np.pi
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    d_lat = d_lat + common
    d_lat = d_lat + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat = d_lat + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    d_lon = d_lon + common
    d_lon = d_lon + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lon = d_lon + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0

    rad_lat = lats / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lons: npt.ArrayLike, lats: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 → GCJ-02. Points outside China (and non-finite values) pass through unchanged."""
    x, y = _as_arrays(lons, lats)
    out_x = x.copy()
    out_y = y.copy()
    inside = in_china(x, y)
    if inside.any():
        d_lon, d_lat = _offset(x[inside], y[inside])
        out_x[inside] = x[inside] + d_lon
        out_y[inside] = y[inside] + d_lat
    return out_x, out_y


def gcj02_to_wgs84(lons: npt.ArrayLike, lats: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 → WGS84 by iterating the forward transform until it reproduces the input.

    Points outside China (judged on the GCJ-02 input, as the published algorithm does) and
    non-finite values pass through unchanged.
    """
    gx, gy = _as_arrays(lons, lats)
    out_x = gx.copy()
    out_y = gy.copy()
    inside = in_china(gx, gy)
    if not inside.any():
        return out_x, out_y
    tx, ty = gx[inside], gy[inside]
    d_lon, d_lat = _offset(tx, ty)
    wx, wy = tx - d_lon, ty - d_lat
    for _ in range(_INVERSE_ITERATIONS):
        d_lon, d_lat = _offset(wx, wy)
        err_x = wx + d_lon - tx
        err_y = wy + d_lat - ty
        wx = wx - err_x
        wy = wy - err_y
        if max(float(np.max(np.abs(err_x))), float(np.max(np.abs(err_y)))) < _INVERSE_TOLERANCE:
            break
    out_x[inside] = wx
    out_y[inside] = wy
    return out_x, out_y


def gcj02_to_wgs84_point(lon: float, lat: float) -> tuple[float, float]:
    """Scalar form of `gcj02_to_wgs84`."""
    x, y = gcj02_to_wgs84(np.array([lon]), np.array([lat]))
    return float(x[0]), float(y[0])


def wgs84_to_gcj02_point(lon: float, lat: float) -> tuple[float, float]:
    """Scalar form of `wgs84_to_gcj02`."""
    x, y = wgs84_to_gcj02(np.array([lon]), np.array([lat]))
    return float(x[0]), float(y[0])
