"""Fixtures: the small demo city with a tiny active standard (component classes in both code
schemes' shape) and the org demo's departments and rules."""

from __future__ import annotations

import io
from typing import Any

import pytest

from citygrid.calendars.domain.durations import parse_duration

CLASSES = [
    ("component", "01", "市政公用设施", "major", None),
    ("component", "01002", "污水井盖", "minor", "01"),
    ("component", "01005", "电力井盖", "minor", "01"),
    ("component", "01037", "路灯", "minor", "01"),
    ("component", "03", "市容环卫设施", "major", None),
    ("component", "03005", "垃圾箱", "minor", "03"),
    ("event", "01", "市政公用设施类", "major", None),
    ("event", "06", "市容环境类", "major", None),
    ("event", "06001", "暴露垃圾", "minor", "06"),
]


@pytest.fixture
def standard(db: None) -> Any:
    from citygrid.catalog import actions
    from citygrid.catalog.models import Category, Standard

    std = Standard.objects.create(code="INV-TEST", name="test", year=2026)
    made: dict[tuple[str, str], Category] = {}
    for kind, code, name, level, parent in CLASSES:
        made[(kind, code)] = Category.objects.create(
            standard=std, kind=kind, code=code, name=name, level=level,
            parent=made[(kind, parent)] if parent else None)
    actions.set_handling_limit(made[("component", "01")], "ordinary", parse_duration("1 working day"))
    return actions.activate_standard(std)


@pytest.fixture
def city(small_city: Any, standard: Any) -> Any:
    """Small city + calendars + org demo; returns the city plan."""
    from citygrid.calendars.actions import ensure_office_calendar, ensure_supervision_calendar
    from citygrid.inventory.nearby import invalidate_index
    from citygrid.org.demo import load_demo

    ensure_office_calendar()
    ensure_supervision_calendar()
    load_demo(io.StringIO(), size="small")
    invalidate_index()
    return small_city


def point_in(plan: Any, code: str) -> tuple[float, float]:
    area = next(a for a in plan.areas if a.code == code)
    p = area.geometry.representative_point()
    return float(p.x), float(p.y)


def grid_points(plan: Any, district: str, count: int) -> list[tuple[float, float]]:
    """Representative points of the first `count` grids of a district."""
    grids = [g for g in plan.grids if g.code.startswith(district)][:count]
    return [(float(p.x), float(p.y)) for p in (g.geometry.representative_point() for g in grids)]


def csv_bytes(header: list[str], rows: list[list[object]]) -> bytes:
    lines = [",".join(header)] + [",".join(str(c) for c in r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
