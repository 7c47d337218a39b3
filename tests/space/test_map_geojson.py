"""The stored map GeoJSON of areas and grids (`map_geojson`), the /features answer built from
it, and that answer's HTTP caching."""

import importlib
import json
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
import shapely
from django.apps import apps
from django.db import connection
from django.test import Client
from shapely import affinity
from shapely.geometry import LineString
from shapely.ops import split as shapely_split

from citygrid.space.actions import add_grids, import_coverage, rename_area, split_grid
from citygrid.space.demo import plan_features
from citygrid.space.domain.coverage_checks import CheckOptions
from citygrid.space.domain.demo_city import CityPlan
from citygrid.space.domain.map_shapes import MAP_DECIMALS, SIMPLIFY_DEG, map_geojson
from citygrid.space.domain.measure import round_coordinates
from citygrid.space.models import Area, UnitGrid

pytestmark = pytest.mark.django_db


def fresh_text(geometry: Any, level: str) -> str:
    """What features_in_bbox computed per feature before the text was stored."""
    tolerance = SIMPLIFY_DEG[level]
    g = shapely.simplify(geometry, tolerance, preserve_topology=True) if tolerance else geometry
    return str(shapely.to_geojson(round_coordinates(g, MAP_DECIMALS)))


def reference_body(level: str, box: tuple[float, float, float, float]) -> bytes:
    """The /features answer as the shapely-per-request implementation built it."""
    rows: list[tuple[str, str, Any]] = (
        [(g.code, "", g.shape) for g in UnitGrid.objects.filter(valid_to__isnull=True)] if level == "grid"
        else [(a.code, a.name, a.shape) for a in Area.objects.filter(level=level)]
    )
    window = shapely.box(*box)
    parts = [
        '{"type":"Feature","id":' + json.dumps(code) + ',"properties":'
        + json.dumps({"code": code, "name": name, "level": level}, ensure_ascii=False)
        + ',"geometry":' + fresh_text(shape, level) + "}"
        for code, name, shape in sorted(rows, key=lambda r: r[0]) if shape.intersects(window)
    ]
    return ('{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}").encode()


def features(client: Client, level: str, box: tuple[float, ...], **headers: str) -> Any:
    return client.get("/api/v1/features", {"level": level, "bbox": ",".join(map(repr, box))}, headers=headers)


def cut_boxes(plan: CityPlan) -> list[tuple[float, float, float, float]]:
    """Boxes that cut through features: the city's, a quadrant, thin strips, a grid's."""
    city = next(a for a in plan.areas if a.level == "city")
    w, s, e, n = city.geometry.bounds
    cx, cy = (w + e) / 2, (s + n) / 2
    gw, gs, ge, gn = plan.grids[40].geometry.bounds
    return [(w, s, e, n), (w, s, cx, cy), (cx - 0.0004, s, cx + 0.0004, n), (w, cy - 0.0003, e, cy + 0.0003),
            (gw, gs, ge, gn), ((gw + ge) / 2, (gs + gn) / 2, ge + 0.001, gn + 0.001)]


def corner_boxes(plan: CityPlan, level: str) -> list[tuple[float, float, float, float]]:
    """Small boxes in a corner of a feature's bbox that miss the feature itself."""
    shapes = [f.geometry for f in plan_features(plan) if f.level == level]
    out = []
    for shape in shapes[:30]:
        w, s, e, n = shape.bounds
        d = (e - w) / 40
        for x, y in ((w, s), (e - d, s), (w, n - d), (e - d, n - d)):
            corner = (x, y, x + d, y + d)
            if not shape.intersects(shapely.box(*corner)):
                out.append(corner)
                break
    return out


def test_stored_text_is_the_fresh_computation_for_every_feature(small_city: CityPlan) -> None:
    areas = list(Area.objects.all())
    grids = list(UnitGrid.objects.all())
    assert len(areas) == len(small_city.areas) and len(grids) == len(small_city.grids)
    for area in areas:
        assert area.map_geojson == fresh_text(area.shape, area.level), area.code
    for grid in grids:
        assert grid.map_geojson == fresh_text(grid.shape, "grid"), grid.code
    assert map_geojson(areas[0].shape, areas[0].level) == areas[0].map_geojson


@pytest.mark.parametrize("level", ["city", "district", "street", "community", "grid"])
def test_features_answer_is_byte_identical_to_the_per_request_computation(
    small_city: CityPlan, level: str
) -> None:
    client = Client()
    dropped = 0
    for box in cut_boxes(small_city) + corner_boxes(small_city, level):
        body = features(client, level, box).content
        assert body == reference_body(level, box)
        window = shapely.box(*box)
        dropped += sum(1 for f in plan_features(small_city) if f.level == level
                       and shapely.intersects(shapely.box(*f.geometry.bounds), window)
                       and not f.geometry.intersects(window))
    assert dropped > 0  # the boxes do exercise the exact test


def test_rows_without_stored_text_are_computed(small_city: CityPlan) -> None:
    UnitGrid.objects.update(map_geojson="")
    Area.objects.filter(level="community").update(map_geojson="")
    client = Client()
    for level in ("grid", "community"):
        for box in cut_boxes(small_city)[:3]:
            assert features(client, level, box).content == reference_body(level, box)


def test_reimported_area_boundary_refreshes_its_text(small_city: CityPlan) -> None:
    city = Area.objects.get(level="city")
    before = city.map_geojson
    bigger = affinity.scale(city.shape, 1.001, 1.001)
    feature = next(f for f in plan_features(small_city) if f.level == "city")
    loose = CheckOptions(gap_tolerance_m2=1e12, containment_tolerance_m2=1e12)
    report = import_coverage([replace(feature, geometry=bigger)], options=loose)
    assert report.areas_updated == 1
    city.refresh_from_db()
    assert city.map_geojson != before and city.map_geojson == fresh_text(bigger, "city")


def test_new_grid_versions_and_grown_areas_get_their_text(small_city: CityPlan) -> None:
    old = UnitGrid.objects.get(code=small_city.grids[5].code)
    minx, miny, maxx, maxy = old.shape.bounds
    halves = list(shapely_split(old.shape, LineString([((minx + maxx) / 2, miny - 1),
                                                       ((minx + maxx) / 2, maxy + 1)])).geoms)
    for grid in split_grid(old.code, halves):
        assert UnitGrid.objects.get(pk=grid.pk).map_geojson == fresh_text(grid.shape, "grid")
    city = Area.objects.get(level="city")
    community = Area.objects.filter(level="community").order_by("-max_lon").first()
    assert community is not None
    w, s, e, n = city.shape.bounds
    cell = shapely.box(e + 0.0001, s + 0.0005, e + 0.00114, s + 0.0014)
    add_grids(community.code, [cell])
    for area in Area.objects.filter(code__in=[community.code, community.code[:9], community.code[:6], city.code]):
        assert area.shape.covers(cell) and area.map_geojson == fresh_text(area.shape, area.level)


def test_migration_fills_the_text_of_existing_rows(small_city: CityPlan) -> None:
    stored = dict(UnitGrid.objects.values_list("pk", "map_geojson"))
    stored_areas = dict(Area.objects.values_list("pk", "map_geojson"))
    UnitGrid.objects.update(map_geojson="")
    Area.objects.update(map_geojson="")
    migration = importlib.import_module("citygrid.space.migrations.0002_map_geojson")
    migration.fill_map_geojson(apps, SimpleNamespace(connection=connection))
    assert dict(UnitGrid.objects.values_list("pk", "map_geojson")) == stored
    assert dict(Area.objects.values_list("pk", "map_geojson")) == stored_areas


def test_etag_and_not_modified(small_city: CityPlan) -> None:
    client = Client()
    box = cut_boxes(small_city)[1]
    first = features(client, "community", box)
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"')
    assert first["Cache-Control"].startswith("private, max-age=")
    again = features(client, "community", box, if_none_match=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag and again["Cache-Control"] == first["Cache-Control"]
    assert features(client, "community", box, if_none_match='"other"').status_code == 200
    assert features(client, "street", box)["ETag"] != etag


def test_a_coverage_change_invalidates_the_etag(small_city: CityPlan) -> None:
    client = Client()
    box = cut_boxes(small_city)[0]
    first = features(client, "district", box)
    rename_area("510104", "新锦江区")
    renamed = features(client, "district", box, if_none_match=first["ETag"])
    assert renamed.status_code == 200 and "新锦江区" in renamed.content.decode()
    assert renamed["ETag"] != first["ETag"]
    city = Area.objects.get(level="city")
    before = features(client, "city", box)
    feature = next(f for f in plan_features(small_city) if f.level == "city")
    loose = CheckOptions(gap_tolerance_m2=1e12, containment_tolerance_m2=1e12)
    import_coverage([replace(feature, geometry=affinity.scale(city.shape, 1.001, 1.001))], options=loose)
    reimported = features(client, "city", box, if_none_match=before["ETag"])
    assert reimported.status_code == 200 and reimported.content != before.content
    split = features(client, "grid", cut_boxes(small_city)[4])
    old = UnitGrid.objects.get(code=small_city.grids[40].code)
    minx, miny, maxx, maxy = old.shape.bounds
    halves = list(shapely_split(old.shape, LineString([((minx + maxx) / 2, miny - 1),
                                                       ((minx + maxx) / 2, maxy + 1)])).geoms)
    split_grid(old.code, halves)
    after = features(client, "grid", cut_boxes(small_city)[4], if_none_match=split["ETag"])
    assert after.status_code == 200 and after.content != split.content


def test_invalid_requests_carry_no_etag(small_city: CityPlan) -> None:
    r = Client().get("/api/v1/features", {"level": "grid", "bbox": "1,2,3"})
    assert r.status_code == 422 and not r.has_header("ETag")


@pytest.mark.parametrize("limit", [10, 150])
def test_too_many_features_counts_as_before(small_city: CityPlan, limit: int) -> None:
    """Far above the limit: the count of bbox candidates; within twice it: the exact count."""
    city = next(a for a in small_city.areas if a.level == "city")
    r = Client().get("/api/v1/features", {"level": "grid", "bbox": ",".join(map(repr, city.geometry.bounds)),
                                          "limit": limit})
    assert r.status_code == 422 and r.json()["code"] == "too_many_features"
    assert r.json()["details"] == {"count": len(small_city.grids), "limit": limit}
