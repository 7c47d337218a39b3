"""Validation reports every problem with the feature id (pure, no database)."""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import Polygon, box

from citygrid.space.domain.coverage_checks import (
    CheckOptions,
    FeatureInput,
    check_coverage,
    normalize,
    normalize_grid_code,
)
from citygrid.space.domain.demo_city import CityPlan
from tests.space.test_demo_city import as_features


@pytest.fixture
def features(small_city_plan: CityPlan) -> list[FeatureInput]:
    return as_features(small_city_plan)


def grid_index(features: list[FeatureInput], n: int = 0) -> int:
    return [i for i, f in enumerate(features) if f.level == "grid"][n]


def kinds_for(problems: list, feature_id: str) -> set[str]:
    return {p.kind for p in problems if p.feature_id == feature_id}


def test_clean_city_has_no_problem(features: list[FeatureInput]) -> None:
    assert check_coverage(features) == []


def test_overlap_reported_for_both_grids(features: list[FeatureInput]) -> None:
    i = grid_index(features, 10)
    moved = affinity.translate(features[i].geometry, xoff=0.0003)
    features[i] = replace(features[i], geometry=moved)
    problems = check_coverage(features)
    overlapping = {p.feature_id for p in problems if p.kind == "overlap"}
    assert features[i].feature_id in overlapping
    assert len(overlapping) >= 2


def test_gap_reported_on_the_community(features: list[FeatureInput]) -> None:
    i = grid_index(features, 10)
    community = features[i].parent_code
    del features[i]
    problems = check_coverage(features)
    assert [(p.feature_id, p.kind) for p in problems] == [(community, "gap")]


def test_code_inconsistent_with_parent(features: list[FeatureInput]) -> None:
    i = grid_index(features)
    features[i] = replace(features[i], code="510199999999001")
    assert "code_parent" in kinds_for(check_coverage(features), features[i].feature_id)


def test_wrong_code_length(features: list[FeatureInput]) -> None:
    i = next(i for i, f in enumerate(features) if f.level == "street")
    features[i] = replace(features[i], code=features[i].code + "1")
    assert "code_format" in kinds_for(check_coverage(features), features[i].feature_id)


def test_grid_outside_its_parent(features: list[FeatureInput]) -> None:
    i = grid_index(features)
    features[i] = replace(features[i], geometry=affinity.translate(features[i].geometry, xoff=0.2))
    assert "outside_parent" in kinds_for(check_coverage(features), features[i].feature_id)


def test_grid_far_from_ten_thousand_m2(features: list[FeatureInput]) -> None:
    i = grid_index(features)
    c = features[i].geometry.centroid
    features[i] = replace(features[i], geometry=box(c.x, c.y, c.x + 0.0001, c.y + 0.0001))
    problems = check_coverage(features)
    assert "grid_size" in kinds_for(problems, features[i].feature_id)
    # a looser option accepts it
    loose = CheckOptions(min_grid_m2=10.0)
    assert "grid_size" not in kinds_for(check_coverage(features, options=loose), features[i].feature_id)


def test_self_intersection(features: list[FeatureInput]) -> None:
    i = grid_index(features)
    x0, y0, x1, y1 = features[i].geometry.bounds
    bowtie = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1), (x0, y0)])
    features[i] = replace(features[i], geometry=bowtie)
    problems = [p for p in check_coverage(features) if p.feature_id == features[i].feature_id]
    assert any(p.kind == "invalid_geometry" and "Self-intersection" in p.message for p in problems)


def test_duplicate_code(features: list[FeatureInput]) -> None:
    i = grid_index(features)
    features.append(replace(features[i], feature_id="copy"))
    problems = check_coverage(features)
    assert "duplicate_code" in kinds_for(problems, "copy")


def test_unknown_parent(features: list[FeatureInput]) -> None:
    i = next(i for i, f in enumerate(features) if f.level == "community")
    features[i] = replace(features[i], parent_code="510104999")
    assert "unknown_parent" in kinds_for(check_coverage(features), features[i].feature_id)


def test_parent_of_wrong_level(features: list[FeatureInput]) -> None:
    i = next(i for i, f in enumerate(features) if f.level == "street")
    features[i] = replace(features[i], parent_code="510100")
    assert "parent_level" in kinds_for(check_coverage(features), features[i].feature_id)


def test_every_problem_is_reported_at_once(features: list[FeatureInput]) -> None:
    a, b = grid_index(features, 3), grid_index(features, 50)
    features[a] = replace(features[a], code="12")
    features[b] = replace(features[b], geometry=None)
    problems = check_coverage(features)
    assert kinds_for(problems, features[a].feature_id) >= {"code_format"}
    assert kinds_for(problems, features[b].feature_id) == {"geometry"}


def test_legacy_fourteen_digit_codes() -> None:
    assert normalize_grid_code("51010400100107") == "510104001001007"
    assert normalize_grid_code("510104001001007") == "510104001001007"
    f = normalize(FeatureInput("x", "51010400100107", "grid"))
    assert (f.code, f.legacy_code, f.parent_code) == ("510104001001007", "51010400100107", "510104001001")


def test_legacy_codes_pass_the_checks(features: list[FeatureInput]) -> None:
    out = []
    for f in features:
        if f.level == "grid" and f.code[12] == "0":
            f = normalize(replace(f, code=f.code[:12] + f.code[13:], parent_code=None))
        out.append(f)
    assert any(f.legacy_code for f in out)
    assert check_coverage(out) == []


def test_other_grids_count_for_overlaps(features: list[FeatureInput]) -> None:
    grids = [f for f in features if f.level == "grid"]
    stored = [replace(grids[0], feature_id="stored", code="510104001001999")]
    problems = check_coverage([grids[0]], other_grids=stored,
                              known_areas={})
    assert any(p.kind == "overlap" and "stored" in p.message for p in problems)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=10_000), st.floats(min_value=0.0002, max_value=0.01))
def test_any_moved_grid_is_reported(small_city_plan: CityPlan, pick: int, shift: float) -> None:
    features = as_features(small_city_plan)
    i = grid_index(features, pick % len(small_city_plan.grids))
    features[i] = replace(features[i], geometry=affinity.translate(features[i].geometry, yoff=shift))
    problems = check_coverage(features)
    assert kinds_for(problems, features[i].feature_id) & {"overlap", "outside_parent"}
    assert any(p.kind == "gap" for p in problems)
