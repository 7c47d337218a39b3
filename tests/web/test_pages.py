import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import checks
from django.test import Client
from shapely import union_all

from tests.web.cities import load_small_city

pytestmark = pytest.mark.django_db


def map_config(html: str) -> dict:
    match = re.search(r'<script id="map-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, "map config script missing"
    return json.loads(match.group(1))


def map_labels(html: str) -> dict:
    match = re.search(r'<script id="map-labels" type="application/json">(.*?)</script>', html, re.S)
    assert match, "map labels script missing"
    return json.loads(match.group(1))


def test_map_page_renders_container_and_config(client: Client) -> None:
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'id="map"' in html
    assert "vendor/leaflet/leaflet.js" in html and "web/map.js" in html
    config = map_config(html)
    assert config["api"] == "/api/v1/"
    assert config["center"] == [30.66, 104.06]
    assert config["bounds"] is None
    assert [level["level"] for level in config["levels"]] == ["district", "street", "community", "grid"]


def test_zoom_levels_cover_every_zoom_once(client: Client) -> None:
    levels = map_config(client.get("/").content.decode())["levels"]
    for zoom in range(0, 20):
        assert sum(lv["minZoom"] <= zoom <= lv["maxZoom"] for lv in levels) == 1, zoom
    by_level = {lv["level"]: lv for lv in levels}
    assert by_level["district"]["maxZoom"] == 11
    assert by_level["grid"]["minZoom"] == 15


def test_map_fits_coverage_bounds(client: Client) -> None:
    plan = load_small_city()
    west, south, east, north = union_all([a.geometry for a in plan.areas if a.level == "district"]).bounds
    (b_south, b_west), (b_north, b_east) = map_config(client.get("/").content.decode())["bounds"]
    assert (b_west, b_south, b_east, b_north) == pytest.approx((west, south, east, north), abs=1e-9)


def test_default_language_is_chinese(client: Client) -> None:
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "citygrid 数字城管平台" in html
    assert map_labels(html)["grid"] == "单元网格"


def test_language_switch_to_english(client: Client) -> None:
    resp = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert resp.status_code == 302 and resp["Location"] == "/"
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "citygrid digital city management" in html
    assert map_labels(html)["grid"] == "Unit grid"
    assert "数字城管平台" not in html


def test_header_offers_the_other_language(client: Client) -> None:
    html = client.get("/").content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert 'name="language" value="en"' in html
    assert "csrfmiddlewaretoken" in html


def test_no_tiles_by_default(client: Client, settings) -> None:
    settings.MAP_TILE_PRESET = ""
    assert map_config(client.get("/").content.decode())["tiles"] == []


def test_tianditu_preset_with_key(client: Client, settings) -> None:
    settings.MAP_TILE_PRESET = "tianditu"
    settings.TIANDITU_KEY = "abc123key"
    tiles = map_config(client.get("/").content.decode())["tiles"]
    assert len(tiles) == 2
    base, labels = tiles
    assert "tianditu.gov.cn/vec_w/wmts" in base["url"] and "LAYER=vec" in base["url"]
    assert "tianditu.gov.cn/cva_w/wmts" in labels["url"]
    for tile in tiles:
        assert tile["url"].startswith("https://t{s}.tianditu.gov.cn/")
        assert "tk=abc123key" in tile["url"]
        assert "TILEMATRIX={z}&TILEROW={y}&TILECOL={x}" in tile["url"]
        assert tile["subdomains"] == "01234567"
    assert "天地图" in base["attribution"]


def test_tianditu_english_labels(client: Client, settings) -> None:
    settings.MAP_TILE_PRESET = "tianditu"
    settings.TIANDITU_KEY = "abc123key"
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    tiles = map_config(client.get("/").content.decode())["tiles"]
    assert "eva_w" in tiles[1]["url"]


def test_tianditu_without_key_has_no_tiles(client: Client, settings) -> None:
    settings.MAP_TILE_PRESET = "tianditu"
    settings.TIANDITU_KEY = ""
    assert map_config(client.get("/").content.decode())["tiles"] == []


def test_custom_tiles(client: Client, settings) -> None:
    settings.MAP_TILE_PRESET = "custom"
    settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "© Example"
    tiles = map_config(client.get("/").content.decode())["tiles"]
    assert [(t["url"], t["attribution"]) for t in tiles] == [
        ("https://tiles.example.org/{z}/{x}/{y}.png", "© Example")
    ]


def test_config_is_escaped_not_string_built(client: Client, settings) -> None:
    settings.MAP_TILE_PRESET = "custom"
    settings.MAP_TILE_URL = "https://t.example.org/{z}/{x}/{y}.png"
    settings.MAP_TILE_ATTRIBUTION = "</script><script>alert(1)</script>"
    html = client.get("/").content.decode()
    assert "<script>alert(1)" not in html
    assert map_config(html)["tiles"][0]["attribution"] == "</script><script>alert(1)</script>"


def test_tile_misconfiguration_is_a_system_check_warning(settings) -> None:
    settings.MAP_TILE_PRESET = "tianditu"
    settings.TIANDITU_KEY = ""
    messages = [m for m in checks.run_checks() if m.id == "web.W001"]
    assert len(messages) == 1 and "TIANDITU_KEY" in messages[0].msg
    settings.TIANDITU_KEY = "k"
    assert not [m for m in checks.run_checks() if m.id == "web.W001"]


def test_map_page_refuses_post(client: Client) -> None:
    assert client.post("/").status_code == 405


def test_healthz(client: Client) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok"}


def test_login_page_and_logout(client: Client) -> None:
    resp = client.get("/accounts/login/?next=/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'name="username"' in html and 'name="password"' in html and "csrfmiddlewaretoken" in html
    get_user_model().objects.create_user("inspector1", password="s3cret-pass-123")
    resp = client.post("/accounts/login/", {"username": "inspector1", "password": "s3cret-pass-123", "next": "/"})
    assert resp.status_code == 302 and resp["Location"] == "/"
    html = client.get("/").content.decode()
    assert "inspector1" in html and 'action="/accounts/logout/"' in html
    assert 'name="next" value="/logged-out/"' in html
    resp = client.post("/accounts/logout/", {"next": "/logged-out/"}, follow=True)
    assert resp.redirect_chain == [("/logged-out/", 302)]
    html = resp.content.decode()
    assert "您已退出登录" in html and "inspector1" not in html
    assert "inspector1" not in client.get("/").content.decode()


def test_logged_out_page_sends_a_logged_in_user_to_the_map(client: Client) -> None:
    user = get_user_model().objects.create_user("inspector2", password="s3cret-pass-123")
    client.force_login(user)
    resp = client.get("/logged-out/")
    assert resp.status_code == 302 and resp["Location"] == "/"


def test_login_failure_shows_error(client: Client) -> None:
    resp = client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    assert resp.status_code == 200
    assert 'role="alert"' in resp.content.decode()


def test_login_page_is_ours(client: Client) -> None:
    html = client.get("/accounts/login/").content.decode()
    assert "site-header" in html  # extends our base template, not the admin's
