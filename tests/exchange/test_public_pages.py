"""The public pages: report with photo and map position, tracking code, status page, map;
CSRF, upload checks, rate limits and privacy."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client


@pytest.fixture
def form(services: Any, place: Any, photo: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    lon, lat = place("510104002")

    def make(**overrides: Any) -> dict[str, Any]:
        data = {"service": "E06010", "description": "路口有垃圾", "lon": lon, "lat": lat,
                "name": "赵六", "phone": "13611112222", "email": "zl@example.com", "nonce": "n1",
                "photo": SimpleUploadedFile("p.png", photo, "image/png")}
        data.update(overrides)
        return {k: v for k, v in data.items() if v is not None}

    return make


def test_report_page_lists_services_by_group(client: Client, services: Any) -> None:
    response = client.get("/public/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<optgroup label="环境卫生">' in html and "暴露垃圾" in html
    assert 'name="csrfmiddlewaretoken"' in html and "pick-map" in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/public/"})
    english = client.get("/public/").content.decode()
    assert '<optgroup label="Cleanliness">' in english and "Rubbish left in the open" in english


def test_report_then_track(client: Client, form: Any) -> None:
    from citygrid.exchange.models import PublicRequest

    response = client.post("/public/", form())
    assert response.status_code == 302, response.content.decode()[:2000]
    row = PublicRequest.objects.get()
    assert response["Location"] == f"/public/track/{row.tracking_code}/?new=1"
    assert row.tracking_code != row.case.number and row.case.number not in row.tracking_code
    assert row.case.photos.count() == 1
    assert row.requester.phone == "13611112222" and row.channel == "web"
    page = client.get(response["Location"]).content.decode()
    assert row.tracking_code in page and "暴露垃圾" in page
    for secret in ("赵六", "13611112222", "zl@example.com", "公众 public", "public-reporter"):
        assert secret not in page
    # the same form sent twice (double tap) makes one report
    again = client.post("/public/", form())
    assert again.status_code == 302 and PublicRequest.objects.count() == 1
    # lookup by typed code, any case, without dashes
    typed = client.get("/public/track/", {"code": row.tracking_code.replace("-", "").lower()})
    assert typed.status_code == 302 and typed["Location"] == f"/public/track/{row.tracking_code}/"


def test_timeline_shows_states_and_times_without_names(client: Client, form: Any, people: Any) -> None:
    from citygrid.cases.actions import file_case, verify_case
    from citygrid.exchange.models import PublicRequest

    client.post("/public/", form())
    row = PublicRequest.objects.get()
    verify_case(people["district_inspector_jinjiang"], row.case.pk, note="现场确认，联系人 13611112222")
    file_case(people["intake_operator_jinjiang"], row.case.pk)
    page = client.get(f"/public/track/{row.tracking_code}/").content.decode()
    timeline = re.search(r'<ol class="public-timeline".*?</ol>', page, re.S).group(0)
    assert timeline.count("<li>") == 3
    for text in ("已上报", "现场核实", "立案", "待派遣"):
        assert text in timeline
    assert "现场确认" not in page and "13611112222" not in page
    for user in ("district_inspector_jinjiang", "intake_operator_jinjiang"):
        person = people[user]
        assert user not in page
        if person.get_full_name():
            assert person.get_full_name() not in page


def test_unknown_tracking_code(client: Client, services: Any) -> None:
    assert client.get("/public/track/AAAA-BBBB-CCCC/").status_code == 404
    assert client.get("/public/track/", {"code": "12"}).status_code == 404


def test_form_errors(client: Client, form: Any) -> None:
    from citygrid.exchange.models import PublicRequest

    no_place = client.post("/public/", form(lon="", lat=""))
    assert no_place.status_code == 400
    assert "Tap the map" in no_place.content.decode() or "地图" in no_place.content.decode()
    outside = client.post("/public/", form(lon=10.0, lat=10.0, nonce="n2"))
    assert outside.status_code == 400
    assert PublicRequest.objects.count() == 0


def test_upload_checks(client: Client, form: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from citygrid.exchange.models import PublicRequest
    from tests.cases.conftest import png

    fake = SimpleUploadedFile("p.png", b"<?php echo 1; ?>", "image/png")
    response = client.post("/public/", form(photo=fake))
    assert response.status_code == 400
    assert "not accepted" in response.content.decode() or "照片" in response.content.decode()
    tiny = SimpleUploadedFile("t.png", png(10, 10), "image/png")
    assert client.post("/public/", form(photo=tiny, nonce="n3")).status_code == 400
    assert PublicRequest.objects.count() == 0


def test_csrf_is_enforced(services: Any, form: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/public/", form()).status_code == 403
    page = strict.get("/public/")
    token = page.cookies["csrftoken"].value
    ok = strict.post("/public/", {**form(), "csrfmiddlewaretoken": token})
    assert ok.status_code == 302


def test_report_rate_limit(client: Client, form: Any, settings: Any) -> None:
    settings.EXCHANGE_RATES = {"web_report": "1/h"}
    assert client.post("/public/", form()).status_code == 302
    response = client.post("/public/", form(nonce="n9"))
    assert response.status_code == 429
    assert 'data-testid="limit"' in response.content.decode()


def test_public_map_is_coarse(client: Client, submit: Any) -> None:
    row = submit("E06010")
    assert client.get("/public/map/").status_code == 200
    data = json.loads(client.get("/public/map/problems.json").content)
    (feature,) = data["features"]
    lon, lat = feature["geometry"]["coordinates"]
    assert (lon, lat) != (row.case.lon, row.case.lat)
    assert abs(lon - row.case.lon) <= 0.0005 + 1e-9 and abs(lat - row.case.lat) <= 0.0005 + 1e-9
    assert round(lon * 10000) % 10 == 5 and round(lat * 10000) % 10 == 5  # cell centres
    assert feature["properties"] == {"service_code": "E06010", "name": "暴露垃圾", "count": 1}
