"""Geocoding service and API against a tiny coverage built in the database."""

from dataclasses import FrozenInstanceError

import pytest
from django.db.models import F
from django.test import Client
from django.utils import timezone
from shapely.geometry import Polygon, box

from citygrid.space import geocoding
from citygrid.space.api_geocode import GeocodeBatchOut
from citygrid.space.domain import coords
from citygrid.space.models import Area, CoverageRevision, UnitGrid

pytestmark = pytest.mark.django_db

X0, Y0 = 104.0625, 30.65625
S = 1 / 1024  # ~100 m; edges and vertices exactly representable
COMMUNITY = "510104001001"


def _geometry_fields(geom):
    min_x, min_y, max_x, max_y = geom.bounds
    return {
        "geometry": geom.wkb,
        "min_lon": min_x,
        "min_lat": min_y,
        "max_lon": max_x,
        "max_lat": max_y,
        "area_m2": geom.area * 111_320**2 * 0.86,
    }


def bump_revision():
    updated = CoverageRevision.objects.filter(pk=1).update(
        revision=F("revision") + 1, changed_at=timezone.now()
    )
    if not updated:
        CoverageRevision.objects.create(pk=1, revision=1)


def build_coverage():
    """City → district → street → community, and a 2 x 2 block of grids:

        [ g3 | g4 ]      g2 has a hole in its middle; grids are created g1..g4, so
        [ g1 | g2 ]      their ids ascend in that order.
    """
    outline = box(X0, Y0, X0 + 2 * S, Y0 + 2 * S)
    parent = None
    for code, name, level in [
        ("510100", "成都市", "city"),
        ("510104", "锦江区", "district"),
        ("510104001", "春熙路街道", "street"),
        (COMMUNITY, "和平街社区", "community"),
    ]:
        parent = Area.objects.create(
            code=code, name=name, level=level, parent=parent, **_geometry_fields(outline)
        )
    hole = box(X0 + 1.25 * S, Y0 + 0.25 * S, X0 + 1.75 * S, Y0 + 0.75 * S)
    squares = [
        box(X0, Y0, X0 + S, Y0 + S),
        Polygon(box(X0 + S, Y0, X0 + 2 * S, Y0 + S).exterior.coords, [hole.exterior.coords]),
        box(X0, Y0 + S, X0 + S, Y0 + 2 * S),
        box(X0 + S, Y0 + S, X0 + 2 * S, Y0 + 2 * S),
    ]
    grids = [
        UnitGrid.objects.create(
            code=f"{COMMUNITY}{seq:03d}",
            community=parent,
            valid_from=timezone.now(),
            **_geometry_fields(geom),
        )
        for seq, geom in enumerate(squares, start=1)
    ]
    bump_revision()
    return grids


@pytest.fixture(autouse=True)
def fresh_index():
    geocoding.invalidate_index()
    yield
    geocoding.invalidate_index()


@pytest.fixture
def grids():
    return build_coverage()


@pytest.fixture
def client():
    return Client()


def get(client, **params):
    return client.get("/api/v1/geocode", params)


def test_inside_point_resolves_to_grid_and_hierarchy(client, grids):
    response = get(client, lon=X0 + 0.5 * S, lat=Y0 + 1.5 * S)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["grid"] == {"code": grids[2].code}
    assert body["community"] == {"code": COMMUNITY, "name": "和平街社区"}
    assert body["street"] == {"code": "510104001", "name": "春熙路街道"}
    assert body["district"] == {"code": "510104", "name": "锦江区"}
    assert body["city"] == {"code": "510100", "name": "成都市"}
    assert body["crs"] == "wgs84"
    assert body["wgs84"] == {"lon": X0 + 0.5 * S, "lat": Y0 + 1.5 * S}


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((X0 + S, Y0 + 0.5 * S), 0),  # edge g1|g2 → smaller id g1
        ((X0 + 1.5 * S, Y0 + S), 1),  # edge g2|g4 → g2
        ((X0 + S, Y0 + 1.5 * S), 2),  # edge g3|g4 → g3
        ((X0 + S, Y0 + S), 0),  # vertex shared by all four → g1
        ((X0 + 1.25 * S, Y0 + 0.5 * S), 1),  # on the hole's rim: still g2
        ((X0 + 2 * S, Y0 + 2 * S), 3),  # outer corner
    ],
)
def test_shared_borders_go_to_the_smallest_id(client, grids, point, expected):
    ordered = sorted(grids, key=lambda g: g.pk)
    assert [g.code for g in ordered] == [g.code for g in grids]  # ids ascend g1..g4
    response = get(client, lon=point[0], lat=point[1])
    assert response.status_code == 200, response.content
    assert response.json()["grid"]["code"] == grids[expected].code


@pytest.mark.parametrize(
    "point",
    [
        (X0 + 1.5 * S, Y0 + 0.5 * S),  # in the hole of g2
        (X0 - 0.001, Y0 + 0.5 * S),  # west of coverage
        (0.0, 0.0),
    ],
)
def test_hole_and_outside_are_404_outside_coverage(client, grids, point):
    response = get(client, lon=point[0], lat=point[1])
    assert response.status_code == 404
    assert response.json()["code"] == "outside_coverage"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"lon": X0, "lat": 95}, "invalid_coordinates"),
        ({"lon": 181, "lat": Y0}, "invalid_coordinates"),
        ({"lon": "NaN", "lat": Y0}, "invalid_coordinates"),
        ({"lon": X0, "lat": "nan"}, "invalid_coordinates"),
        ({"lon": "inf", "lat": Y0}, "invalid_coordinates"),
        ({"lon": X0}, "invalid_request"),
        ({}, "invalid_request"),
        ({"lon": "east", "lat": Y0}, "invalid_request"),
        ({"lon": X0, "lat": Y0, "crs": "bd09"}, "invalid_request"),
    ],
)
def test_bad_coordinates_are_422_not_500(client, grids, params, code):
    response = client.get("/api/v1/geocode", params)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code


def test_gcj02_input_resolves_like_its_wgs84_original(client, grids):
    wgs = (X0 + 0.3 * S, Y0 + 1.7 * S)
    gcj = coords.wgs84_to_gcj02_point(*wgs)
    assert abs(gcj[0] - wgs[0]) > 2 * S  # the shift is larger than the whole block
    plain = get(client, lon=gcj[0], lat=gcj[1])
    assert plain.status_code == 404  # read as WGS84, the GCJ-02 point is elsewhere
    response = get(client, lon=gcj[0], lat=gcj[1], crs="gcj02")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["grid"]["code"] == grids[2].code
    assert body["crs"] == "gcj02" and (body["lon"], body["lat"]) == gcj
    assert body["wgs84"]["lon"] == pytest.approx(wgs[0], abs=1e-7)
    assert body["wgs84"]["lat"] == pytest.approx(wgs[1], abs=1e-7)
    cgcs = get(client, lon=wgs[0], lat=wgs[1], crs="cgcs2000")
    assert cgcs.json()["grid"]["code"] == grids[2].code


def test_batch_keeps_order_and_mixes_errors(client, grids):
    points = [
        [X0 + 1.5 * S, Y0 + 1.5 * S],  # g4
        [X0 + 1.5 * S, Y0 + 0.5 * S],  # hole
        [X0, 95.0],  # invalid
        [X0 + 0.5 * S, Y0 + 0.5 * S],  # g1
        [X0 + S, Y0 + S],  # vertex → g1
        [200.0, Y0],  # invalid
        [10.0, 10.0],  # outside
    ]
    response = client.post("/api/v1/geocode/batch", {"points": points}, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 7 and body["located"] == 3
    got = [r["grid"]["code"] if "grid" in r else r["error"]["code"] for r in body["results"]]
    assert got == [
        grids[3].code,
        "outside_coverage",
        "invalid_coordinates",
        grids[0].code,
        grids[0].code,
        "invalid_coordinates",
        "outside_coverage",
    ]
    assert body["results"][0]["district"]["code"] == "510104"
    # Each located item is exactly what the single endpoint answers, and the whole body
    # matches the schema OpenAPI documents.
    single = get(client, lon=points[0][0], lat=points[0][1]).json()
    assert body["results"][0] == single
    GeocodeBatchOut.model_validate(body)


def test_batch_gcj02(client, grids):
    wgs = [(X0 + 0.5 * S, Y0 + 0.5 * S), (X0 + 1.5 * S, Y0 + 1.5 * S)]
    gcj = [list(coords.wgs84_to_gcj02_point(*p)) for p in wgs]
    response = client.post(
        "/api/v1/geocode/batch", {"crs": "gcj02", "points": gcj}, content_type="application/json"
    )
    codes = [r["grid"]["code"] for r in response.json()["results"]]
    assert codes == [grids[0].code, grids[3].code]


def test_batch_limits_and_malformed_bodies(client, grids):
    too_many = {"points": [[X0, Y0]] * 100_001}
    response = client.post("/api/v1/geocode/batch", too_many, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["code"] == "batch_too_large"
    for body in ({"points": [[X0]]}, {"points": "x"}, {}, {"points": [], "crs": "bd09"}):
        response = client.post("/api/v1/geocode/batch", body, content_type="application/json")
        assert response.status_code == 422, body
        assert response.json()["code"] == "invalid_request"
    response = client.post("/api/v1/geocode/batch", "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    empty = client.post("/api/v1/geocode/batch", {"points": []}, content_type="application/json")
    assert empty.json() == {"count": 0, "located": 0, "results": []}


def test_changed_grids_and_revision_rebuild_the_index(grids):
    point = (X0 + 0.5 * S, Y0 + 0.5 * S)
    assert geocoding.locate(*point).grid_code == grids[0].code
    # Split coverage: g1 is closed and replaced by a new version with a new code.
    now = timezone.now()
    UnitGrid.objects.filter(pk=grids[0].pk).update(valid_to=now)
    new = UnitGrid.objects.create(
        code=f"{COMMUNITY}005",
        community=grids[0].community,
        valid_from=now,
        **_geometry_fields(box(X0, Y0, X0 + S, Y0 + S)),
    )
    # Without a revision bump this process still answers from its cached index...
    assert geocoding.locate(*point).grid_code == grids[0].code
    bump_revision()
    # ...and with it, the next call rebuilds.
    location = geocoding.locate(*point)
    assert location.grid_code == new.code and location.grid_id == new.pk
    # Renamed areas show up after a bump too.
    Area.objects.filter(code=COMMUNITY).update(name="新社区")
    bump_revision()
    assert geocoding.locate(*point).community.name == "新社区"


def test_no_revision_row_means_revision_zero(grids):
    CoverageRevision.objects.all().delete()
    geocoding.invalidate_index()
    assert geocoding.locate(X0 + 0.5 * S, Y0 + 0.5 * S).grid_code == grids[0].code


def test_service_functions(grids):
    found = geocoding.locate_many(
        [X0 + 0.5 * S, 0.0, float("nan")], [Y0 + 1.5 * S, 0.0, 0.0]
    )
    assert found[0] is not None and found[0].grid_code == grids[2].code
    assert found[1] is None and found[2] is None
    location = found[0]
    assert location.street.code == "510104001"
    with pytest.raises(FrozenInstanceError):
        location.grid_code = "x"  # type: ignore[misc]
    with pytest.raises(geocoding.OutsideCoverage) as outside:
        geocoding.locate(0.0, 0.0)
    assert outside.value.code == "outside_coverage" and outside.value.status == 404
    with pytest.raises(geocoding.InvalidCoordinates) as invalid:
        geocoding.locate(0.0, -91.0)
    assert invalid.value.code == "invalid_coordinates" and invalid.value.status == 422
    with pytest.raises(geocoding.UnsupportedCrs):
        geocoding.locate(X0, Y0, crs="bd09")


def test_empty_coverage_is_outside_everywhere():
    with pytest.raises(geocoding.OutsideCoverage):
        geocoding.locate(X0, Y0)


def test_openapi_documents_both_endpoints(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/geocode" in schema["paths"]
    batch = schema["paths"]["/api/v1/geocode/batch"]["post"]
    assert "requestBody" in batch
    components = schema["components"]["schemas"]
    assert {"GeocodeResult", "GeocodeBatchIn", "GeocodeBatchOut"} <= set(components)


def test_a_grid_without_a_usable_polygon_is_skipped_not_fatal(grids, caplog):
    UnitGrid.objects.filter(pk=grids[3].pk).update(geometry=b"not wkb")
    UnitGrid.objects.filter(pk=grids[2].pk).update(geometry=box(0, 0, 1, 1).boundary.wkb)
    bump_revision()
    assert geocoding.locate(X0 + 0.5 * S, Y0 + 0.5 * S).grid_code == grids[0].code
    with pytest.raises(geocoding.OutsideCoverage):
        geocoding.locate(X0 + 1.5 * S, Y0 + 1.5 * S)
    assert grids[3].code in caplog.text and grids[2].code in caplog.text
