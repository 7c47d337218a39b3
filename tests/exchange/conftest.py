"""Fixtures: the case tests' demo city (reused), public services, an API key, a submitted
request. Rate-limit counters live in the cache: emptied before every test."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.cache import cache

from tests.cases import conftest as cases_fixtures

# The case tests' fixtures, reused by this package.
_demo_plan = cases_fixtures._demo_plan
_demo_committed = cases_fixtures._demo_committed
demo_small = cases_fixtures.demo_small
demo_small_tx = cases_fixtures.demo_small_tx
people = cases_fixtures.people
place = cases_fixtures.place
photo = cases_fixtures.photo


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    cache.clear()


@pytest.fixture
def services(demo_small: Any) -> dict[str, Any]:
    from citygrid.exchange.demo import load_services
    from citygrid.exchange.models import PublicService

    load_services(io.StringIO())
    return {s.service_code: s for s in PublicService.objects.all()}


@pytest.fixture
def api_key(demo_small: Any) -> str:
    from citygrid.exchange.actions import issue_api_key

    return issue_api_key(None, name="test client")[1]


@pytest.fixture
def submit(services: dict[str, Any], place: Any) -> Any:
    """submit(code="E06010", area="510104002", **kwargs) → PublicRequest, via the action."""
    from citygrid.exchange.actions import Contact, submit_public_request

    def run(code: str = "E06010", area: str = "510104002", **kwargs: Any) -> Any:
        lon, lat = place(area)
        kwargs.setdefault("channel", "web")
        kwargs.setdefault("contact", Contact(name="张三", phone="13800138000", email="zs@example.com"))
        return submit_public_request(service=services[code], lon=lon, lat=lat, **kwargs)

    return run
