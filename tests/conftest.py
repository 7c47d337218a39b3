"""Shared fixtures. Each app's tests live in tests/<app>/."""

import os
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# No per-example deadline: a timing assertion would fail on a loaded machine, not on a bug.
hypothesis_settings.register_profile(
    "citygrid", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("citygrid")

if TYPE_CHECKING:
    from citygrid.space.domain.demo_city import CityPlan


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_pg = os.environ.get("DATABASE_URL", "").startswith("postgres")
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords and not on_pg:
            item.add_marker(skip_pg)


@pytest.fixture
def small_city(db: None) -> "CityPlan":
    """The small demo city (2 districts, 4 streets, 8 communities, ~200 grids) loaded into the
    test database through the import action; returns its plan (codes, names, geometries)."""
    from citygrid.space.demo import load_city

    return load_city("small")


@pytest.fixture(scope="session")
def small_city_plan() -> "CityPlan":
    """The small demo city's plan only (no database), built once per session."""
    from citygrid.space.domain.demo_city import build_city

    return build_city("small")


@pytest.fixture(autouse=True)
def _fresh_geocoding_index() -> None:
    """Each test starts with no cached geocoding index: test databases are rolled back
    between tests, so a revision number seen by one test may mean other grids in the next."""
    from citygrid.space.geocoding import invalidate_index

    invalidate_index()


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher(django_test_environment: None) -> None:
    """One fast hasher for the whole run: tests log demo users in by the hundred, and a
    hash made under one hasher setting must verify under the next test's."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache: the sign-in lockout and rate-limit counters live
    there, and one test's failed logins must not lock the next test's user out."""
    from django.core.cache import cache

    cache.clear()
