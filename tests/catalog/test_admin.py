"""The admin: lists, import page with per-row errors, export, read-only published classes."""

import io

import pytest
from django.contrib.auth.models import User
from django.test import Client
from openpyxl import load_workbook

from citygrid.catalog import actions
from citygrid.catalog.models import Category, Standard
from tests.catalog.conftest import cat

pytestmark = pytest.mark.django_db
BASE_URL = "/admin/catalog/category/"


@pytest.fixture
def admin_client(client: Client) -> Client:
    User.objects.create_superuser("root", password="pw")
    client.login(username="root", password="pw")
    return client


def test_lists_and_pages_render(admin_client: Client, base: Standard) -> None:
    city = actions.derive_standard(base, "CITY-1", "城市标准")
    for url in ["/admin/catalog/standard/", BASE_URL, "/admin/catalog/categorymapping/",
                f"{BASE_URL}?standard__id__exact={city.pk}&kind__exact=event&q=01",
                f"/admin/catalog/standard/{city.pk}/change/",
                f"{BASE_URL}{cat(city, '0101').pk}/change/", f"{BASE_URL}add/",
                f"{BASE_URL}import/"]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
    assert "Import" in admin_client.get(BASE_URL).content.decode() or \
        "导入" in admin_client.get(BASE_URL).content.decode()


def test_import_page_shows_row_errors_then_imports(admin_client: Client, base: Standard) -> None:
    city = actions.derive_standard(base, "CITY-1", "城市标准")
    header = "kind,major_code,major_name,minor_code,minor_name,limit_ordinary\n"
    bad = io.BytesIO((header + "event,01,,0105,新类,3 fortnights\n").encode())
    bad.name = "bad.csv"
    response = admin_client.post(f"{BASE_URL}import/", {"standard": city.pk, "file": bad})
    assert response.status_code == 200
    errors = response.context["errors"]
    assert errors == [{"row": 2, "column": "limit_ordinary", "message": errors[0]["message"]}]
    assert "fortnights" in response.content.decode()
    assert not city.categories.filter(code="0105").exists()
    good = io.BytesIO((header + "event,01,,0105,新类,3 working days\n").encode())
    good.name = "good.csv"
    response = admin_client.post(f"{BASE_URL}import/", {"standard": city.pk, "file": good})
    assert response.status_code == 302
    assert cat(city, "0105").name == "新类"


def test_import_page_offers_only_drafts(admin_client: Client, base: Standard) -> None:
    upload = io.BytesIO(b"kind,major_code\nevent,01\n")
    upload.name = "x.csv"
    response = admin_client.post(f"{BASE_URL}import/", {"standard": base.pk, "file": upload})
    assert response.status_code == 200 and response.context["form"].errors


def test_export_action(admin_client: Client, base: Standard) -> None:
    ids = list(base.categories.filter(kind="event").values_list("pk", flat=True))
    response = admin_client.post(BASE_URL, {"action": "export_xlsx", "_selected_action": ids})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == len(ids) + 1
    assert [c.value for c in sheet[1]][:3] == ["kind", "major_code", "major_name"]


def test_published_classes_are_view_only(admin_client: Client, base: Standard) -> None:
    url = f"{BASE_URL}{cat(base, '0101').pk}/change/"
    response = admin_client.post(url, {"name": "改名"})
    assert response.status_code == 403
    assert cat(base, "0101").name == "暴露垃圾"


def test_admin_edits_go_through_actions(admin_client: Client, base: Standard) -> None:
    city = actions.derive_standard(base, "CITY-1", "城市标准")
    minor = cat(city, "0101")
    data = {"name": "垃圾暴露", "filing_condition": "成堆", "closing_condition": "",
            "urgency_levels": '["ordinary", "urgent"]', "responsible_units": "", "source": "",
            "note": "", "confidence": "confirmed", "sort_order": "0",
            "handling_limits-TOTAL_FORMS": "0", "handling_limits-INITIAL_FORMS": "0",
            "mappings_in-TOTAL_FORMS": "0", "mappings_in-INITIAL_FORMS": "0"}
    response = admin_client.post(f"{BASE_URL}{minor.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    minor.refresh_from_db()
    assert minor.name == "垃圾暴露" and minor.filing_condition == "成堆"
    assert minor.mappings_in.get().relation == "renamed"
    before = Category.objects.count()
    add = {"standard": city.pk, "kind": "event", "level": "minor", "code": "9999",
           "parent": cat(city, "01").pk, **data, "name": "错码"}
    response = admin_client.post(f"{BASE_URL}add/", add, follow=True)
    assert Category.objects.count() == before
    assert "9999" in response.content.decode()
