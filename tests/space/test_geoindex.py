"""The raster geocoding index (citygrid.space.domain.geoindex), checked against brute force."""

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon, box

from citygrid.space.domain.geoindex import GridIndex

LON0, LAT0 = 104.0, 30.6
SIDE = 0.01  # degrees, ~1 km


def brute_force(ids, polygons, lons, lats):
    """The documented rule, computed naively: smallest id among the covering polygons."""
    out = []
    for x, y in zip(lons, lats, strict=True):
        covering = [i for i, p in zip(ids, polygons, strict=True) if p.intersects(Point(x, y))]
        out.append(min(covering) if covering else -1)
    return np.array(out, dtype=np.int64)


def voronoi_grids(seed, n, hole, gap, merge=False):
    """Voronoi cells of n random points clipped to a box; optionally one cell gets a hole,
    one cell is dropped (a gap in coverage) and two cells become one grid (a MultiPolygon
    when they are apart, a non-convex Polygon when they touch)."""
    rng = np.random.default_rng(seed)
    frame = box(LON0, LAT0, LON0 + SIDE, LAT0 + SIDE)
    seeds = shapely.points(rng.uniform(LON0, LON0 + SIDE, n), rng.uniform(LAT0, LAT0 + SIDE, n))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame))
    polygons = [p for p in shapely.intersection(cells, frame) if not p.is_empty]
    polygons = [p for p in polygons if p.geom_type in ("Polygon", "MultiPolygon")]
    if hole and polygons:
        c = polygons[0].representative_point()
        inner = c.buffer(SIDE / 200)
        if polygons[0].contains(inner):
            polygons[0] = polygons[0].difference(inner)
    if gap and len(polygons) > 2:
        polygons.pop(1)
    if merge and len(polygons) > 3:
        polygons[2] = shapely.union(polygons[2], polygons.pop())
    ids = rng.choice(10_000, size=len(polygons), replace=False).astype(np.int64)
    return ids, polygons


grids = st.builds(
    voronoi_grids,
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 30),
    hole=st.booleans(),
    gap=st.booleans(),
    merge=st.booleans(),
)
cell_sizes = st.sampled_from([2.0, 7.0, 10.0, 33.0, 150.0])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids, cell_sizes, st.integers(0, 2**32 - 1))
def test_random_points_follow_the_rule(grid, cell_size, seed):
    ids, polygons = grid
    index = GridIndex(ids, polygons, cell_size_m=cell_size)
    rng = np.random.default_rng(seed)
    margin = SIDE * 0.05
    lons = rng.uniform(LON0 - margin, LON0 + SIDE + margin, 300)
    lats = rng.uniform(LAT0 - margin, LAT0 + SIDE + margin, 300)
    got = index.locate(lons, lats)
    assert np.array_equal(got, index.locate_exact(lons, lats))
    assert np.array_equal(got, brute_force(ids, polygons, lons, lats))
    by_id = dict(zip(ids.tolist(), polygons, strict=True))
    for x, y, g in zip(lons, lats, got, strict=True):
        assert index.locate_one(x, y) == (None if g == -1 else g)
        if g != -1:
            assert by_id[int(g)].intersects(Point(x, y))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grids, cell_sizes)
def test_vertices_and_edges_follow_the_rule(grid, cell_size):
    ids, polygons = grid
    index = GridIndex(ids, polygons, cell_size_m=cell_size)
    # Shared vertices are exact; edge midpoints are on (or within an ulp of) shared edges.
    xy = shapely.get_coordinates(shapely.boundary(polygons))
    mid = (xy[:-1] + xy[1:]) / 2
    points = np.vstack([xy, mid])
    lons, lats = points[:, 0], points[:, 1]
    got = index.locate(lons, lats)
    assert np.array_equal(got, brute_force(ids, polygons, lons, lats))
    assert np.array_equal(got, index.locate_exact(lons, lats))
    # Every vertex is covered by the polygon it came from, so none may be -1.
    assert (got[: len(xy)] != -1).all()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_every_interior_point_resolves_to_exactly_one_grid(seed):
    ids, polygons = voronoi_grids(seed, 20, hole=False, gap=False)
    index = GridIndex(ids, polygons)
    rng = np.random.default_rng(seed)
    lons = rng.uniform(LON0, LON0 + SIDE, 500)
    lats = rng.uniform(LAT0, LAT0 + SIDE, 500)
    got = index.locate(lons, lats)
    assert (got != -1).all()  # full coverage of the box: nothing falls through
    counts = np.zeros(len(lons), dtype=int)
    for p in polygons:
        counts += shapely.contains_xy(p, lons, lats)
    # Random points are (almost surely) interior to exactly one grid: the one we return.
    assert (counts == 1).all()


# A 2 x 2 lattice of squares whose edges and vertices are exactly representable.
#   ids:  [ 40 | 10 ]     (top row)
#         [ 30 | 20 ]     (bottom row)
STEP = 1 / 1024


def lattice():
    x0, y0 = 104.0, 30.5
    squares = {
        30: box(x0, y0, x0 + STEP, y0 + STEP),
        20: box(x0 + STEP, y0, x0 + 2 * STEP, y0 + STEP),
        40: box(x0, y0 + STEP, x0 + STEP, y0 + 2 * STEP),
        10: box(x0 + STEP, y0 + STEP, x0 + 2 * STEP, y0 + 2 * STEP),
    }
    # Square 20 has a hole in its middle.
    hole = box(x0 + 1.25 * STEP, y0 + 0.25 * STEP, x0 + 1.75 * STEP, y0 + 0.75 * STEP)
    squares[20] = Polygon(squares[20].exterior.coords, [hole.exterior.coords])
    return x0, y0, squares


@pytest.mark.parametrize("cell_size", [1.0, 10.0, 37.0, 500.0])
def test_lattice_border_rule(cell_size):
    x0, y0, squares = lattice()
    ids = list(squares)
    index = GridIndex(np.array(ids), list(squares.values()), cell_size_m=cell_size)
    s = STEP
    cases = {
        (x0 + 0.5 * s, y0 + 0.5 * s): 30,  # inside
        (x0 + s, y0 + 0.2 * s): 20,  # edge 30|20 → 20
        (x0 + 0.5 * s, y0 + s): 30,  # edge 30|40 → 30
        (x0 + 1.5 * s, y0 + s): 10,  # edge 20|10 → 10
        (x0 + s, y0 + 1.5 * s): 10,  # edge 40|10 → 10
        (x0 + s, y0 + s): 10,  # vertex shared by all four → 10
        (x0 + 1.5 * s, y0 + 0.5 * s): -1,  # in the hole of 20
        (x0 + 1.25 * s, y0 + 0.5 * s): 20,  # on the hole's edge: covered by 20
        (x0, y0): 30,  # outer corner
        (x0 + 2 * s, y0 + 2 * s): 10,  # outer corner
        (x0 - 1e-12, y0 + 0.5 * s): -1,  # just outside
        (x0 + 3 * s, y0 + 3 * s): -1,  # outside
        (-181.0, 95.0): -1,  # nonsense
        (math.nan, y0): -1,
        (x0, math.inf): -1,
    }
    lons = np.array([p[0] for p in cases])
    lats = np.array([p[1] for p in cases])
    expected = np.array(list(cases.values()))
    assert index.locate(lons, lats).tolist() == expected.tolist()
    assert index.locate_exact(lons, lats).tolist() == expected.tolist()
    for (x, y), want in cases.items():
        assert index.locate_one(x, y) == (None if want == -1 else want)


def test_multipolygon_and_input_order():
    a = MultiPolygon([box(0, 0, 1, 1), box(2, 0, 3, 1)])
    b = box(1, 0, 2, 1)
    index = GridIndex(np.array([9, 4]), [a, b], cell_size_m=5000)
    got = index.locate(np.array([0.5, 2.5, 1.5, 1.0, 2.0, 1.5]), np.array([0.5] * 5 + [2.0]))
    assert got.tolist() == [9, 9, 4, 4, 4, -1]


def test_keeps_input_shape_and_large_extent_shrinks_raster():
    index = GridIndex(np.array([1]), [box(70, 10, 130, 50)], cell_size_m=10, max_cells=10_000)
    rows, cols = index.raster_shape
    assert rows * cols < 12_000
    got = index.locate(np.array([[100.0, 60.0], [70.0, 130.0]]), np.array([[30.0, 30.0], [10.0, 50.0]]))
    assert got.tolist() == [[1, -1], [1, 1]]


def test_empty_index():
    index = GridIndex(np.array([], dtype=np.int64), [])
    assert index.locate(np.array([1.0]), np.array([2.0])).tolist() == [-1]
    assert index.locate_one(1.0, 2.0) is None
    assert len(index) == 0


@pytest.mark.parametrize(
    ("ids", "geoms", "message"),
    [
        ([1, 1], [box(0, 0, 1, 1), box(1, 0, 2, 1)], "unique"),
        ([1], [Point(0, 0)], "Polygon"),
        ([1, 2], [box(0, 0, 1, 1)], "ids for"),
    ],
)
def test_bad_input_is_refused(ids, geoms, message):
    with pytest.raises(ValueError, match=message):
        GridIndex(np.array(ids), geoms)


def test_shape_mismatch_is_refused():
    index = GridIndex(np.array([1]), [box(0, 0, 1, 1)])
    with pytest.raises(ValueError):
        index.locate(np.zeros(2), np.zeros(3))
