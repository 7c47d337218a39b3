"""Fixtures for the case tests.

`demo_small`: the small demo city with the calendars, the demo classification standard and the
organisation demo (departments, people for every role, responsibility rules). Loading takes
a few seconds, so it is loaded once per test package (committed, outside the tests'
transactions) and removed again after the package; each test still runs in its own rolled-back
transaction. A transactional test (`transactional_db`) empties the database when it ends; the
next test that asks for `demo_small` loads it again.

`people`: demo users by username, e.g. people["dispatcher_jinjiang"].
`place`: a representative lon/lat inside an area code, e.g. place("510104001001").
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

JINJIANG, QINGYANG = "510104", "510105"


def _load() -> Any:
    from citygrid.calendars.demo import load_demo as calendars
    from citygrid.catalog.demo import load_demo as catalog
    from citygrid.org.demo import load_demo as org
    from citygrid.space.demo import load_city
    from citygrid.space.geocoding import invalidate_index

    invalidate_index()
    plan = load_city("small")
    calendars(io.StringIO())
    catalog(io.StringIO())
    org(io.StringIO(), size="small")
    return plan


def _loaded() -> bool:
    from citygrid.org.models import Department

    return Department.objects.filter(code="CITY-COLLAB").exists()


def _flush() -> None:
    call_command("flush", interactive=False, verbosity=0)


@pytest.fixture(scope="package")
def _demo_plan(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    holder: dict[str, Any] = {}
    with django_db_blocker.unblock():
        _flush()
        holder["plan"] = _load()
    yield holder
    with django_db_blocker.unblock():
        _flush()


@pytest.fixture
def _demo_committed(_demo_plan: dict[str, Any], django_db_blocker: Any) -> Any:
    """Makes sure the committed demo data is there (a transactional test may have flushed it);
    runs before the test's transaction starts."""
    with django_db_blocker.unblock():
        if not _loaded():
            _flush()
            _demo_plan["plan"] = _load()
    return _demo_plan["plan"]


@pytest.fixture
def demo_small(_demo_committed: Any, db: None, settings: Any, tmp_path: Any) -> Any:
    """The small demo city, calendars, standard and organisation; returns the city plan."""
    from citygrid.space.geocoding import invalidate_index

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    invalidate_index()
    return _demo_committed


@pytest.fixture
def demo_small_tx(transactional_db: None, settings: Any, tmp_path: Any) -> Any:
    """The same data for transactional tests (real commits, several connections): loaded in
    the test itself; the database is emptied when the test ends."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    if not _loaded():
        _flush()
        return _load()
    return None


@pytest.fixture
def people(demo_small: Any) -> dict[str, User]:
    return {u.username: u for u in User.objects.all()}


def point_in(plan: Any, code: str) -> tuple[float, float]:
    area = next(a for a in plan.areas if a.code == code)
    p = area.geometry.representative_point()
    return float(p.x), float(p.y)


@pytest.fixture
def place(demo_small: Any) -> Callable[[str], tuple[float, float]]:
    from citygrid.space.models import Area, UnitGrid

    def find(code: str) -> tuple[float, float]:
        area = Area.objects.get(code=code)
        if area.level != "community":
            area = Area.objects.filter(code__startswith=code, level="community").order_by("code").first()
        grid = UnitGrid.objects.filter(community=area, valid_to__isnull=True).order_by("code").first()
        p = grid.shape.representative_point()
        return float(p.x), float(p.y)

    return find


def png(width: int = 200, height: int = 150, color: str = "red") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def photo() -> bytes:
    return png()
