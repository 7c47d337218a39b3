"""The live server driven by the `georeport` client from PyPI (and `requests` for POST,
which the client does not offer)."""

from __future__ import annotations

import io
from typing import Any

import pytest
import requests
from georeport import GeoReport


@pytest.fixture
def live(live_server: Any, demo_small_tx: Any, settings: Any) -> dict[str, Any]:
    from citygrid.exchange.actions import issue_api_key
    from citygrid.exchange.demo import load_services
    from citygrid.space.models import UnitGrid

    load_services(io.StringIO())
    grid = UnitGrid.objects.filter(valid_to__isnull=True,
                                   community__code__startswith="510104002").order_by("code").first()
    point = grid.shape.representative_point()
    return {"root": live_server.url + "/open311/v2", "key": issue_api_key(None, name="live")[1],
            "lon": float(point.x), "lat": float(point.y)}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client(live: dict[str, Any], fmt: str) -> None:
    client = GeoReport(live["root"], api_key=live["key"], output_format=fmt)
    services = client.get_service_list()
    codes = {s["service_code"] for s in services}
    assert {"E06010", "E09009", "E01003"} <= codes
    definition = client.get_service_definition("E01003")
    attributes = definition["attributes"]
    attribute = attributes[0] if fmt == "json" else attributes["attribute"]
    assert attribute["code"] == "cover_state"

    created = []
    for code, extra in [("E06010", {"attribute[amount]": "large"}),
                        ("E01003", {"attribute[cover_state]": "broken"}),
                        ("E06013", {})]:
        response = requests.post(f"{live['root']}/requests.json", data={
            "api_key": live["key"], "service_code": code, "lat": live["lat"], "long": live["lon"],
            "description": f"live {code}", **extra}, timeout=30)
        assert response.status_code == 200, response.text
        created.append(response.json()[0]["service_request_id"])

    everything = client.get_service_requests()
    assert {r["service_request_id"] for r in everything} == set(created)
    only = client.get_service_requests(service_code="E06013,E06010")
    only = only if isinstance(only, list) else [only]
    assert {r["service_code"] for r in only} == {"E06013", "E06010"}
    assert {r["service_request_id"] for r in only} == {created[0], created[2]}
    picked = client.get_service_requests(service_request_id=created[1])
    picked = picked if isinstance(picked, list) else [picked]
    assert [r["service_request_id"] for r in picked] == [created[1]]
    single = client.get_service_request(created[0])
    assert single["service_request_id"] == created[0]
    assert single["status"] == "open" and single["service_code"] == "E06010"
