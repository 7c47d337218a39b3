"""GCJ-02 ⇄ WGS84 (citygrid.space.domain.coords)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from citygrid.space.domain import coords

# Reference vectors published with the algorithm (eviltransform's tests): WGS84 → GCJ-02.
REFERENCE = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]

china_lon = st.floats(73.0, 135.0)
china_lat = st.floats(3.0, 53.0)


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_forward_matches_published_reference(wgs, gcj):
    lon, lat = coords.wgs84_to_gcj02_point(*wgs)
    assert lon == pytest.approx(gcj[0], abs=1e-9)
    assert lat == pytest.approx(gcj[1], abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_inverse_recovers_reference(wgs, gcj):
    lon, lat = coords.gcj02_to_wgs84_point(*gcj)
    assert lon == pytest.approx(wgs[0], abs=1e-7)
    assert lat == pytest.approx(wgs[1], abs=1e-7)


@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=50))
def test_round_trip_within_1e7_degrees(points):
    lons = np.array([p[0] for p in points])
    lats = np.array([p[1] for p in points])
    glons, glats = coords.wgs84_to_gcj02(lons, lats)
    wlons, wlats = coords.gcj02_to_wgs84(glons, glats)
    assert np.max(np.abs(wlons - lons)) < 1e-7
    assert np.max(np.abs(wlats - lats)) < 1e-7


@given(china_lon, china_lat)
def test_offset_is_tens_to_hundreds_of_metres(lon, lat):
    glon, glat = coords.wgs84_to_gcj02_point(lon, lat)
    metres = math.hypot((glon - lon) * math.cos(math.radians(lat)), glat - lat) * 111_320
    assert 1.0 < metres < 1_500.0


def test_chengdu_shift_is_a_few_hundred_metres():
    glon, glat = coords.wgs84_to_gcj02_point(104.06, 30.66)
    metres = math.hypot((glon - 104.06) * math.cos(math.radians(30.66)), glat - 30.66) * 111_320
    assert 200 < metres < 600


@pytest.mark.parametrize("point", [(2.35, 48.85), (-74.0, 40.7), (151.2, -33.9), (0.0, 0.0)])
def test_outside_china_passes_through(point):
    assert coords.wgs84_to_gcj02_point(*point) == point
    assert coords.gcj02_to_wgs84_point(*point) == point


def test_vectorised_matches_scalar_and_keeps_shape():
    lons = np.array([[104.0, 2.0], [116.4, 121.5]])
    lats = np.array([[30.6, 48.0], [39.9, 31.2]])
    glons, glats = coords.wgs84_to_gcj02(lons, lats)
    assert glons.shape == (2, 2)
    for i in range(2):
        for j in range(2):
            assert (glons[i, j], glats[i, j]) == coords.wgs84_to_gcj02_point(lons[i, j], lats[i, j])


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError):
        coords.wgs84_to_gcj02(np.zeros(2), np.zeros(3))


def test_non_finite_values_pass_through_without_warnings():
    with np.errstate(all="raise"):
        lons, lats = coords.gcj02_to_wgs84(np.array([np.nan, 104.0]), np.array([30.0, np.inf]))
    assert np.isnan(lons[0]) and np.isinf(lats[1])


@pytest.mark.parametrize(
    ("lon", "lat", "ok"),
    [
        (104.06, 30.66, True),
        (180.0, 90.0, True),
        (-180.0, -90.0, True),
        (180.0001, 0.0, False),
        (0.0, 95.0, False),
        (math.nan, 0.0, False),
        (0.0, math.inf, False),
    ],
)
def test_validation(lon, lat, ok):
    assert coords.is_valid(lon, lat) is ok
    assert bool(coords.valid_mask(np.array([lon]), np.array([lat]))[0]) is ok
