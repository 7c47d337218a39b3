"""Import action, versioning, split, add grids, GeoJSON round trip (database)."""

import io
import json
from dataclasses import replace

import pytest
from shapely import affinity
from shapely.geometry import LineString, box
from shapely.ops import split as shapely_split

from citygrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from citygrid.space.actions import (
    add_grids,
    create_responsibility_grid,
    import_coverage,
    split_grid,
)
from citygrid.space.demo import plan_features
from citygrid.space.domain.demo_city import CityPlan, build_city
from citygrid.space.geojson_io import read_features, write_geojson
from citygrid.space.models import Area, CoverageRevision, ResponsibilityGrid, UnitGrid
from citygrid.space.selectors import export_features

pytestmark = pytest.mark.django_db


def revision() -> int:
    row = CoverageRevision.objects.filter(pk=1).first()
    return row.revision if row else 0


def test_small_city_loads(small_city: CityPlan) -> None:
    assert Area.objects.count() == len(small_city.areas)
    assert UnitGrid.objects.filter(valid_to__isnull=True).count() == len(small_city.grids)
    assert ResponsibilityGrid.objects.count() == 8
    grid = UnitGrid.objects.get(code=small_city.grids[0].code)
    assert 2_000 < grid.area_m2 < 50_000
    assert grid.community.code == small_city.grids[0].community_code
    assert grid.shape.equals_exact(small_city.grids[0].geometry, 0)
    assert revision() >= 1


def test_bad_file_writes_nothing() -> None:
    plan = build_city("small")
    feats = plan_features(plan)
    i = next(i for i, f in enumerate(feats) if f.level == "grid")
    feats[i] = replace(feats[i], geometry=affinity.translate(feats[i].geometry, xoff=0.0004))
    with pytest.raises(ValidationFailed) as err:
        import_coverage(feats)
    assert err.value.code == "invalid_coverage"
    assert {"overlap", "gap"} <= {p["kind"] for p in err.value.details}
    assert feats[i].feature_id in {p["feature_id"] for p in err.value.details}
    assert Area.objects.count() == 0 and UnitGrid.objects.count() == 0 and revision() == 0


def test_person_needs_permission(django_user_model) -> None:
    user = django_user_model.objects.create_user("clerk", password="x")
    with pytest.raises(PermissionDenied):
        import_coverage(plan_features(build_city("small")), user=user)
    assert Area.objects.count() == 0


def geojson_text(levels=None) -> str:
    out = io.StringIO()
    write_geojson(export_features(levels), out)
    return out.getvalue()


def test_round_trip_keeps_codes_and_changes_nothing(small_city: CityPlan) -> None:
    text = geojson_text()
    doc = json.loads(text)
    assert doc["type"] == "FeatureCollection"
    assert {f["properties"]["code"] for f in doc["features"]} == (
        {a.code for a in small_city.areas} | {g.code for g in small_city.grids}
    )
    before = revision()
    report = import_coverage(read_features(text))
    assert (report.grids_created, report.grids_versioned, report.areas_updated) == (0, 0, 0)
    assert report.grids_unchanged == len(small_city.grids)
    assert revision() == before  # nothing changed, nothing to invalidate


def test_export_import_export_into_an_empty_database() -> None:
    plan = build_city("small")
    first = io.StringIO()
    write_geojson(plan_features(plan), first)
    import_coverage(read_features(first.getvalue()))
    second = json.loads(geojson_text())
    first_doc = json.loads(first.getvalue())
    key = lambda doc: sorted((f["properties"]["code"], f["properties"]["level"], f["properties"]["parent"]) for f in doc["features"])  # noqa: E731
    assert key(second) == key(first_doc)
    assert sorted(UnitGrid.objects.values_list("code", flat=True)) == sorted(g.code for g in plan.grids)


def test_reimport_changed_geometry_creates_a_version(small_city: CityPlan) -> None:
    features = read_features(geojson_text())
    community = small_city.grids[0].community_code
    # move a shared vertex? simpler: re-import the community with one grid split in two halves
    target = next(f for f in features if f.level == "grid" and f.parent_code == community)
    old = UnitGrid.objects.get(code=target.code)
    rg = ResponsibilityGrid.objects.get(unit_grids=old)
    minx, miny, maxx, maxy = target.geometry.bounds
    cut = LineString([((minx + maxx) / 2, miny - 1), ((minx + maxx) / 2, maxy + 1)])
    left, right = shapely_split(target.geometry, cut).geoms
    new_code = community + "999"
    changed = [replace(f, geometry=left) if f.code == target.code else f for f in features]
    changed.append(replace(target, feature_id="new", code=new_code, geometry=right))
    before = revision()
    report = import_coverage(changed, options=None)
    assert (report.grids_versioned, report.grids_created) == (1, 1)
    old.refresh_from_db()
    assert old.valid_to is not None
    current = UnitGrid.objects.get(code=target.code, valid_to__isnull=True)
    assert list(current.predecessors.all()) == [old]
    assert UnitGrid.objects.filter(code=target.code).count() == 2
    assert revision() == before + 1
    assert set(rg.unit_grids.all()) >= {current} and old not in rg.unit_grids.all()


def test_split_grid_keeps_history(small_city: CityPlan) -> None:
    code = small_city.grids[5].code
    old = UnitGrid.objects.get(code=code)
    g = old.shape
    minx, miny, maxx, maxy = g.bounds
    halves = list(shapely_split(g, LineString([((minx + maxx) / 2, miny - 1), ((minx + maxx) / 2, maxy + 1)])).geoms)
    before = revision()
    new = split_grid(code, halves)
    assert len(new) == 2
    top = max(int(c[-3:]) for c in UnitGrid.objects.filter(community=old.community).exclude(pk__in=[n.pk for n in new]).values_list("code", flat=True))
    assert sorted(int(n.code[-3:]) for n in new) == [top + 1, top + 2]
    old.refresh_from_db()
    assert old.valid_to is not None
    for n in new:
        assert list(UnitGrid.objects.get(pk=n.pk).predecessors.all()) == [old]
    assert revision() == before + 1
    with pytest.raises(NotFound):
        split_grid(code, halves)  # no longer current


def test_split_must_cover_the_grid(small_city: CityPlan) -> None:
    code = small_city.grids[5].code
    g = UnitGrid.objects.get(code=code).shape
    minx, miny, maxx, maxy = g.bounds
    with pytest.raises(ValidationFailed) as err:
        split_grid(code, [box(minx, miny, maxx, (miny + maxy) / 2), box(minx, miny, maxx, maxy)])
    assert {"overlap", "split"} & {p["kind"] for p in err.value.details}
    assert UnitGrid.objects.get(code=code).valid_to is None


def test_add_grids_for_a_new_area(small_city: CityPlan) -> None:
    city = Area.objects.get(level="city")
    minx, miny, maxx, maxy = city.shape.bounds
    community = Area.objects.filter(level="community").order_by("-max_lon").first()
    # a new road east of the city: two ~100 m cells outside all current grids
    d = 0.00104
    cells = [box(maxx + 0.0001, miny + 0.0005, maxx + 0.0001 + d, miny + 0.0005 + 0.0009),
             box(maxx + 0.0001 + d, miny + 0.0005, maxx + 0.0001 + 2 * d, miny + 0.0005 + 0.0009)]
    area_before = city.area_m2
    before = revision()
    new = add_grids(community.code, cells)
    assert [g.code[:12] for g in new] == [community.code] * 2
    assert new[0].shape.centroid.x < new[1].shape.centroid.x  # west first
    city.refresh_from_db()
    assert city.area_m2 > area_before and city.shape.covers(new[1].shape)
    assert revision() == before + 1
    with pytest.raises(ValidationFailed) as err:
        add_grids(community.code, cells)  # same place again: overlaps
    assert "overlap" in {p["kind"] for p in err.value.details}


def test_add_grids_unknown_community(small_city: CityPlan) -> None:
    with pytest.raises(NotFound) as err:
        add_grids("510104999999", [box(0, 0, 0.001, 0.001)])
    assert err.value.code == "area_not_found"


def test_legacy_codes_import(small_city: CityPlan) -> None:
    text = geojson_text(["grid"])
    doc = json.loads(text)
    grid = next(f for f in doc["features"] if f["properties"]["code"][12] == "0")
    code15 = grid["properties"]["code"]
    grid["properties"]["code"] = code15[:12] + code15[13:]
    grid["properties"]["parent"] = None
    grid["geometry"]["coordinates"][0] = [[x + 1e-5, y] for x, y in grid["geometry"]["coordinates"][0]]
    feats = read_features(json.dumps({"type": "FeatureCollection", "features": [grid]}))
    assert feats[0].code == code15
    with pytest.raises(ValidationFailed):
        import_coverage(feats)  # moved: overlaps its neighbours
    assert UnitGrid.objects.filter(code=code15).count() == 1


def test_responsibility_grid(small_city: CityPlan) -> None:
    codes = [g.code for g in small_city.grids[:3]]
    rg = create_responsibility_grid("T1", "测试", small_city.grids[0].community_code, codes)
    assert sorted(rg.unit_grids.values_list("code", flat=True)) == sorted(codes)
    with pytest.raises(ValidationFailed):
        create_responsibility_grid("T2", "x", small_city.grids[0].community_code, ["510104001001998"])
    assert not ResponsibilityGrid.objects.filter(code="T2").exists()


def test_bad_geojson_is_rejected_with_every_problem() -> None:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "a", "properties": {"level": "grid"}, "geometry": None},
        {"type": "Feature", "id": "b", "properties": {"code": "1", "level": "nation"}, "geometry": None},
        {"type": "Feature", "properties": {"code": "510100", "level": "city"},
         "geometry": {"type": "Polygon", "coordinates": "nope"}},
    ]}
    with pytest.raises(ValidationFailed) as err:
        read_features(json.dumps(doc))
    assert [p["feature_id"] for p in err.value.details] == ["a", "b", "#2"]
    for bad in ("not json", "[]", '{"type": "FeatureCollection"}'):
        with pytest.raises(ValidationFailed):
            read_features(bad)
