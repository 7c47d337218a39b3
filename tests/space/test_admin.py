"""Admin: lists, read-only geometry, GeoJSON import page and export link."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from citygrid.space.demo import plan_features
from citygrid.space.domain.demo_city import CityPlan, build_city
from citygrid.space.geojson_io import write_geojson
from citygrid.space.models import Area, UnitGrid

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/space/unitgrid/import/"


@pytest.fixture
def admin(django_user_model) -> Client:
    user = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    client = Client()
    client.force_login(user)
    return client


def small_city_geojson() -> bytes:
    out = io.StringIO()
    write_geojson(plan_features(build_city("small")), out)
    return out.getvalue().encode()


def upload(client: Client, data: bytes):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile("c.geojson", data, "application/geo+json")})


def test_good_file_is_imported(admin: Client) -> None:
    r = upload(admin, small_city_geojson())
    assert r.status_code == 302
    assert UnitGrid.objects.count() > 150 and Area.objects.filter(level="community").count() == 8


def test_bad_file_shows_every_problem_and_writes_nothing(admin: Client) -> None:
    doc = json.loads(small_city_geojson())
    grids = [f for f in doc["features"] if f["properties"]["level"] == "grid"]
    grids[0]["properties"]["code"] = "123"
    grids[1]["geometry"]["coordinates"][0] = [[x + 0.0003, y] for x, y in grids[1]["geometry"]["coordinates"][0]]
    r = upload(admin, json.dumps(doc).encode())
    assert r.status_code == 422
    html = r.content.decode()
    assert 'id="import-problems"' in html
    assert grids[0]["id"] in html and grids[1]["id"] in html
    assert "code_format" in html and "overlap" in html
    assert Area.objects.count() == 0 and UnitGrid.objects.count() == 0


def test_unreadable_file(admin: Client) -> None:
    r = upload(admin, b"not json at all")
    assert r.status_code == 422 and "JSON" in r.content.decode()
    assert Area.objects.count() == 0


def test_import_page_needs_permission(django_user_model) -> None:
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client = Client()
    client.force_login(user)
    assert client.get(IMPORT_URL).status_code == 403


def test_changelists_and_detail(admin: Client, small_city: CityPlan) -> None:
    r = admin.get("/admin/space/unitgrid/")
    assert r.status_code == 200 and IMPORT_URL in r.content.decode()
    assert admin.get("/admin/space/unitgrid/", {"q": small_city.grids[0].code}).status_code == 200
    assert admin.get("/admin/space/unitgrid/", {"current": "yes", "district": "510104"}).status_code == 200
    grid = UnitGrid.objects.first()
    page = admin.get(f"/admin/space/unitgrid/{grid.pk}/change/").content.decode()
    assert "Polygon" in page
    assert admin.get("/admin/space/area/", {"level": "street"}).status_code == 200
    area = Area.objects.get(level="city")
    assert admin.get(f"/admin/space/area/{area.pk}/change/").status_code == 200
    assert admin.get("/admin/space/responsibilitygrid/").status_code == 200
    rg_page = admin.get("/admin/space/responsibilitygrid/add/")
    assert rg_page.status_code == 200


def test_rename_area_through_admin(admin: Client, small_city: CityPlan) -> None:
    area = Area.objects.get(level="city")
    r = admin.post(f"/admin/space/area/{area.pk}/change/", {"name": "新成都市"})
    assert r.status_code == 302
    area.refresh_from_db()
    assert area.name == "新成都市"


def test_export_link(admin: Client, small_city: CityPlan) -> None:
    r = admin.get("/admin/space/unitgrid/export/")
    assert r.status_code == 200
    doc = json.loads(b"".join(r.streaming_content))
    assert len(doc["features"]) == len(small_city.areas) + len(small_city.grids)


def test_responsibility_grid_through_admin(admin: Client, small_city: CityPlan) -> None:
    from citygrid.space.models import ResponsibilityGrid

    community = Area.objects.filter(level="community").first()
    grids = list(UnitGrid.objects.filter(community=community)[:2])
    r = admin.post("/admin/space/responsibilitygrid/add/", {
        "code": "RG-T", "name": "测试责任网格", "area": community.pk,
        "unit_grids": [g.pk for g in grids],
    })
    assert r.status_code == 302, r.content.decode()[:2000]
    rg = ResponsibilityGrid.objects.get(code="RG-T")
    assert set(rg.unit_grids.all()) == set(grids)
    auto = admin.get("/admin/autocomplete/", {"app_label": "space", "model_name": "responsibilitygrid",
                                               "field_name": "unit_grids", "term": grids[0].code})
    assert auto.status_code == 200 and grids[0].code in auto.content.decode()
