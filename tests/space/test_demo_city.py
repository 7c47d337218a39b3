"""The demo city generator: deterministic, nested, coded, ~10,000 m² grids tiling communities."""

from collections import Counter

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from citygrid.space.domain.coverage_checks import FeatureInput, check_coverage
from citygrid.space.domain.demo_city import CityPlan, build_city, grid_sequence_order
from citygrid.space.domain.measure import geodesic_area_m2


def as_features(plan: CityPlan) -> list[FeatureInput]:
    return [FeatureInput(a.code, a.code, a.level, a.name, a.parent_code, a.geometry) for a in plan.areas] + [
        FeatureInput(g.code, g.code, "grid", "", g.community_code, g.geometry) for g in plan.grids
    ]


def test_same_seed_same_city(small_city_plan: CityPlan) -> None:
    again = build_city("small", seed=2016)
    assert [a.code for a in again.areas] == [a.code for a in small_city_plan.areas]
    assert [g.code for g in again.grids] == [g.code for g in small_city_plan.grids]
    assert all(a.geometry.equals_exact(b.geometry, 0) for a, b in zip(again.grids, small_city_plan.grids, strict=True))


def test_other_seed_other_city(small_city_plan: CityPlan) -> None:
    other = build_city("small", seed=7)
    assert [g.geometry.wkb for g in other.grids] != [g.geometry.wkb for g in small_city_plan.grids]


def test_small_shape(small_city_plan: CityPlan) -> None:
    levels = Counter(a.level for a in small_city_plan.areas)
    assert levels == {"city": 1, "district": 2, "street": 4, "community": 8}
    assert 150 <= len(small_city_plan.grids) <= 250
    city = next(a for a in small_city_plan.areas if a.level == "city")
    assert (city.code, city.name) == ("510100", "成都市")


def test_codes_extend_parents(small_city_plan: CityPlan) -> None:
    lengths = {"city": 6, "district": 6, "street": 9, "community": 12}
    by_code = {a.code: a for a in small_city_plan.areas}
    for a in small_city_plan.areas:
        assert len(a.code) == lengths[a.level] and a.code.isdigit()
        if a.level in ("street", "community"):
            assert a.code.startswith(a.parent_code or "x")
    for g in small_city_plan.grids:
        assert len(g.code) == 15 and g.code[:12] == g.community_code
        assert by_code[g.community_code].level == "community"
    assert len({g.code for g in small_city_plan.grids}) == len(small_city_plan.grids)


def test_levels_nest_and_grids_tile_communities(small_city_plan: CityPlan) -> None:
    assert check_coverage(as_features(small_city_plan)) == []
    by_code = {a.code: a for a in small_city_plan.areas}
    for a in small_city_plan.areas:
        if a.parent_code:
            assert by_code[a.parent_code].geometry.covers(a.geometry)
    for code, area in by_code.items():
        if area.level != "community":
            continue
        grids = [g.geometry for g in small_city_plan.grids if g.community_code == code]
        assert shapely.union_all(grids).symmetric_difference(area.geometry).area < 1e-12


def test_grid_areas_near_ten_thousand_m2(small_city_plan: CityPlan) -> None:
    areas = [geodesic_area_m2(g.geometry) for g in small_city_plan.grids]
    assert all(2_000 < a < 50_000 for a in areas)
    assert 8_000 < sum(areas) / len(areas) < 12_000


def test_grids_are_irregular(small_city_plan: CityPlan) -> None:
    vertex_counts = Counter(len(g.geometry.exterior.coords) for g in small_city_plan.grids)
    assert len(vertex_counts) > 2  # not a lattice of identical squares


def test_grid_numbering_rule(small_city_plan: CityPlan) -> None:
    community = small_city_plan.grids[0].community_code
    grids = [g for g in small_city_plan.grids if g.community_code == community]
    centroids = [(g.geometry.centroid.x, g.geometry.centroid.y) for g in grids]
    order = grid_sequence_order(centroids)
    assert [grids[i].code[-3:] for i in order] == [f"{n:03d}" for n in range(1, len(grids) + 1)]
    assert grids[0].code.endswith("001")
    # 001 is in the northernmost row.
    top = max(lat for _lon, lat in centroids)
    assert top - centroids[0][1] < 0.0009


def test_numbering_north_to_south_west_to_east() -> None:
    # two rows ~100 m apart; west first in each row
    pts = [(104.001, 30.5), (104.000, 30.5), (104.0005, 30.501)]
    assert grid_sequence_order(pts) == [2, 1, 0]


def test_unknown_size() -> None:
    with pytest.raises(ValueError):
        build_city("huge")


@settings(max_examples=5, deadline=None)
@given(st.integers(min_value=0, max_value=10_000))
def test_any_seed_gives_a_clean_coverage(seed: int) -> None:
    plan = build_city("small", seed=seed)
    assert check_coverage(as_features(plan)) == []
    assert Counter(a.level for a in plan.areas)["community"] == 8
