"""The nearby index against brute force."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from citygrid.inventory.domain.nearby import NearbyIndex, brute_force_near


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(0, 400),
    radius=st.floats(1.0, 3000.0),
    cell=st.sampled_from([10.0, 50.0, 333.0]),
    use_classes=st.booleans(),
    limit=st.integers(1, 50),
)
def test_matches_brute_force(seed: int, n: int, radius: float, cell: float, use_classes: bool,
                             limit: int) -> None:
    rng = np.random.default_rng(seed)
    lons = 104.0 + rng.random(n) * 0.05
    lats = 30.6 + rng.random(n) * 0.05
    if n > 3:  # duplicates and exact ties
        lons[1], lats[1] = lons[0], lats[0]
    ids = rng.permutation(n).astype(np.int64) + 1
    classes = rng.integers(1, 4, n).astype(np.int64)
    index = NearbyIndex(ids, lons, lats, classes, cell_m=cell)
    for _ in range(5):
        lon, lat = 104.0 + rng.random() * 0.06 - 0.005, 30.6 + rng.random() * 0.06 - 0.005
        wanted = np.array([1, 3]) if use_classes else None
        got_ids, got_d = index.near(lon, lat, radius, classes=wanted, limit=limit)
        exp_ids, exp_d = brute_force_near(ids, lons, lats, classes, lon, lat, radius, wanted, limit)
        assert got_ids.tolist() == exp_ids.tolist()
        assert np.allclose(got_d, exp_d)
        assert (np.diff(got_d) >= 0).all()


def test_empty_index() -> None:
    index = NearbyIndex([], [], [])
    ids, dists = index.near(104.0, 30.0, 100.0)
    assert ids.size == 0 and dists.size == 0


def test_distance_is_metres() -> None:
    index = NearbyIndex([7], [104.0], [30.0 + 100 / 111_195.0])
    ids, dists = index.near(104.0, 30.0, 150.0)
    assert ids.tolist() == [7] and abs(dists[0] - 100.0) < 0.1
    assert index.near(104.0, 30.0, 90.0)[0].size == 0
