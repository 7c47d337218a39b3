"""Admin: import page with mapping and row errors, component page with history, flags."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from citygrid.inventory import actions
from citygrid.inventory.models import Component, SurveyFlag
from tests.inventory.conftest import csv_bytes, grid_points


def _admin(db: Any = None) -> Client:
    c = Client()
    c.force_login(User.objects.create_superuser("root", password="x"))
    return c


def test_import_page_mapping_and_errors(city: Any) -> None:
    client = _admin()
    pts = grid_points(city, "510104", 2)
    rows = [["51010401005000001", "01005", *pts[0]], ["bad", "01005", *pts[1]]]
    upload = SimpleUploadedFile("c.csv", csv_bytes(["编号", "class", "x", "y"], rows))
    page = client.post("/admin/inventory/component/import/",
                       {"file": upload, "mapping": "编号=code\nx=lon\ny=lat"})
    assert page.status_code == 200
    assert b"import-errors" in page.content and Component.objects.count() == 0
    upload = SimpleUploadedFile("c.csv", csv_bytes(["编号", "class", "x", "y"], rows[:1]))
    done = client.post("/admin/inventory/component/import/",
                       {"file": upload, "mapping": "编号=code\nx=lon\ny=lat"})
    assert done.status_code == 302 and Component.objects.count() == 1


def test_change_page_shows_history_and_edits_through_action(city: Any) -> None:
    client = _admin()
    (lon, lat), = grid_points(city, "510104", 1)
    actions.import_components(None, csv_bytes(["code", "class", "lon", "lat"],
                                              [["51010401005000001", "01005", lon, lat]]), "a.csv")
    c = actions.set_component_state(None, "51010401005000001", "missing", case_number="C-7")
    page = client.get(f"/admin/inventory/component/{c.pk}/change/")
    assert page.status_code == 200 and b"C-7" in page.content and b"a.csv" in page.content
    assert client.get("/admin/inventory/component/?q=51010401005000001").status_code == 200
    assert client.get("/admin/inventory/component/?class=01&state=missing&district=510104").status_code == 200
    export = client.post("/admin/inventory/component/", {
        "action": "export_geojson", "_selected_action": [c.pk]})
    assert export.status_code == 200 and b"51010401005000001" in export.content


def test_flag_actions(city: Any) -> None:
    client = _admin()
    (lon, lat), = grid_points(city, "510104", 1)
    flag = actions.flag_for_survey(None, category="01005", lon=lon, lat=lat, case_number="C-8")
    assert client.get("/admin/inventory/surveyflag/").status_code == 200
    client.post("/admin/inventory/surveyflag/", {"action": "mark_surveyed",
                                                  "_selected_action": [flag.pk]})
    assert SurveyFlag.objects.get().status == "surveyed"
