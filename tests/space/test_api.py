"""GET /api/v1/areas/{code}, /grids/{code}, /features."""

import pytest
import shapely
from django.test import Client
from shapely.geometry import shape

from citygrid.space.domain.demo_city import CityPlan

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client()


def test_area(client: Client, small_city: CityPlan) -> None:
    community = next(a for a in small_city.areas if a.level == "community")
    body = client.get(f"/api/v1/areas/{community.code}").json()
    assert body["code"] == community.code and body["name"] == community.name
    assert body["level"] == "community" and body["parent_code"] == community.parent_code
    assert [h["level"] for h in body["hierarchy"]] == ["city", "district", "street", "community"]
    assert body["hierarchy"][0] == {"code": "510100", "name": "成都市", "level": "city"}
    minx, miny, maxx, maxy = body["bbox"]
    assert minx < maxx and miny < maxy and body["area_m2"] > 100_000


def test_area_not_found(client: Client, small_city: CityPlan) -> None:
    r = client.get("/api/v1/areas/999999")
    assert r.status_code == 404 and r.json()["code"] == "area_not_found"


def test_grid(client: Client, small_city: CityPlan) -> None:
    grid = small_city.grids[0]
    body = client.get(f"/api/v1/grids/{grid.code}").json()
    assert body["code"] == grid.code and body["valid_to"] is None
    assert body["community"]["code"] == grid.community_code
    assert body["street"]["code"] == grid.code[:9]
    assert body["district"]["code"] == grid.code[:6]
    assert body["city"] == {"code": "510100", "name": "成都市"}
    assert 2_000 < body["area_m2"] < 50_000


def test_grid_by_legacy_code(client: Client, small_city: CityPlan) -> None:
    grid = next(g for g in small_city.grids if g.code[12] == "0")
    r = client.get(f"/api/v1/grids/{grid.code[:12] + grid.code[13:]}")
    assert r.status_code == 200 and r.json()["code"] == grid.code


@pytest.mark.parametrize("code", ["510104001001998", "12", "abc"])
def test_grid_not_found(client: Client, small_city: CityPlan, code: str) -> None:
    r = client.get(f"/api/v1/grids/{code}")
    assert r.status_code == 404 and r.json()["code"] == "grid_not_found"


def test_features_in_bbox(client: Client, small_city: CityPlan) -> None:
    grid = small_city.grids[20]
    minx, miny, maxx, maxy = grid.geometry.bounds
    r = client.get("/api/v1/features", {"level": "grid", "bbox": f"{minx},{miny},{maxx},{maxy}"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/geo+json")
    body = r.json()
    assert body["type"] == "FeatureCollection"
    codes = {f["properties"]["code"] for f in body["features"]}
    assert grid.code in codes
    # exactly the grids that intersect the box, not every bbox candidate
    expected = {g.code for g in small_city.grids if g.geometry.intersects(shapely.box(minx, miny, maxx, maxy))}
    assert codes == expected
    f = next(f for f in body["features"] if f["properties"]["code"] == grid.code)
    assert f["properties"]["level"] == "grid"
    assert shape(f["geometry"]).symmetric_difference(grid.geometry).area < 0.005 * grid.geometry.area
    x, y = f["geometry"]["coordinates"][0][0]
    assert round(x, 6) == x and round(y, 6) == y


def test_district_features(client: Client, small_city: CityPlan) -> None:
    city = next(a for a in small_city.areas if a.level == "city")
    bbox = ",".join(str(v) for v in city.geometry.bounds)
    body = client.get("/api/v1/features", {"level": "district", "bbox": bbox}).json()
    assert sorted((f["properties"]["code"], f["properties"]["name"]) for f in body["features"]) == [
        ("510104", "锦江区"), ("510105", "青羊区")]


def test_features_outside_coverage_is_empty(client: Client, small_city: CityPlan) -> None:
    body = client.get("/api/v1/features", {"level": "grid", "bbox": "0,0,0.1,0.1"}).json()
    assert body["features"] == []


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "104.1,30.6,104.0,30.7", "90,0,100,9", "0,0,181,1", "nan,0,1,1"])
def test_invalid_bbox(client: Client, small_city: CityPlan, bbox: str) -> None:
    r = client.get("/api/v1/features", {"level": "grid", "bbox": bbox})
    assert r.status_code == 422 and r.json()["code"] == "invalid_bbox"


def test_too_many_features(client: Client, small_city: CityPlan) -> None:
    city = next(a for a in small_city.areas if a.level == "city")
    bbox = ",".join(str(v) for v in city.geometry.bounds)
    r = client.get("/api/v1/features", {"level": "grid", "bbox": bbox, "limit": 10})
    assert r.status_code == 422 and r.json()["code"] == "too_many_features"
    assert r.json()["details"]["limit"] == 10


def test_bad_level(client: Client, small_city: CityPlan) -> None:
    r = client.get("/api/v1/features", {"level": "planet", "bbox": "104,30,104.1,30.1"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"


def test_openapi_lists_the_endpoints(client: Client) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/areas/{code}", "/api/v1/grids/{code}", "/api/v1/features"} <= set(paths)
