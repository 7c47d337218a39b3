"""The inventory API: login required; detail, nearby, features, survey flags."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from citygrid.inventory import actions
from tests.inventory.conftest import csv_bytes, grid_points

HEADER = ["code", "class", "lon", "lat", "owner", "state"]


@pytest.fixture
def pts(city: Any) -> list[tuple[float, float]]:
    pts = grid_points(city, "510104", 2)
    rows = [["51010401005000001", "01005", *pts[0], "SU-POWER", "damaged"],
            ["51010403005000001", "03005", *pts[1], "", "intact"]]
    actions.import_components(None, csv_bytes(HEADER, rows), "inv.csv")
    return pts


@pytest.fixture
def client(db: None) -> Client:
    c = Client()
    c.force_login(User.objects.create_user("reader", password="x"))
    return c


URLS = ["/api/v1/components/51010401005000001", "/api/v1/components/near?lon=104&lat=30",
        "/api/v1/components/features?bbox=104,30,104.01,30.01", "/api/v1/components/survey-flags"]


@pytest.mark.parametrize("url", URLS)
def test_login_required(pts: Any, url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"


def test_detail(pts: Any, client: Client) -> None:
    body = client.get("/api/v1/components/51010401005000001").json()
    assert body["class"]["code"] == "01005" and body["owner"]["code"] == "SU-POWER"
    assert body["district"]["code"] == "510104" and body["state"] == "damaged"
    missing = client.get("/api/v1/components/99")
    assert missing.status_code == 404 and missing.json()["code"] == "component_not_found"


def test_near(pts: list[tuple[float, float]], client: Client) -> None:
    lon, lat = pts[0]
    body = client.get(f"/api/v1/components/near?lon={lon}&lat={lat}&radius=3000").json()
    assert [b["component"]["code"] for b in body][0] == "51010401005000001"
    assert body == sorted(body, key=lambda b: b["distance_m"])
    only = client.get(f"/api/v1/components/near?lon={lon}&lat={lat}&radius=3000&class=03005")
    assert [b["component"]["code"] for b in only.json()] == ["51010403005000001"]
    assert client.get(f"/api/v1/components/near?lon={lon}&lat={lat}&radius=0").status_code == 422
    assert client.get(f"/api/v1/components/near?lon={lon}&lat=abc").status_code == 422
    bad = client.get(f"/api/v1/components/near?lon={lon}&lat={lat}&class=77777")
    assert bad.status_code == 404


def test_features(pts: list[tuple[float, float]], client: Client) -> None:
    lon, lat = pts[0]
    d = 0.004
    body = client.get(f"/api/v1/components/features?bbox={lon - d},{lat - d},{lon + d},{lat + d}").json()
    assert body["type"] == "FeatureCollection"
    feat = next(f for f in body["features"] if f["id"] == "51010401005000001")
    assert feat["properties"]["state"] == "damaged"
    assert client.get("/api/v1/components/features?bbox=1,2,3").status_code == 422
    assert client.get("/api/v1/components/features?bbox=100,20,110,30").json()["code"] == "bbox_too_large"


def test_survey_flags(pts: list[tuple[float, float]], client: Client) -> None:
    lon, lat = pts[1]
    actions.flag_for_survey(None, category="03005", lon=lon, lat=lat, case_number="C-2")
    body = client.get("/api/v1/components/survey-flags?status=open").json()
    assert [(f["class"]["code"], f["case_number"]) for f in body] == [("03005", "C-2")]
    assert client.get("/api/v1/components/survey-flags?status=weird").status_code == 422
