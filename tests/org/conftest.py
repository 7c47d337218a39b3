"""Fixtures for the organisation tests: the small demo city with a tiny active standard,
the calendars, and the org demo (departments, people, rules) on top."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth.models import User

from citygrid.calendars.domain.durations import parse_duration

# Classes of the test standard: (kind, code, name, level, parent code)
CLASSES = [
    ("component", "01", "市政公用设施", "major", None),
    ("component", "01002", "污水井盖", "minor", "01"),
    ("component", "01005", "电力井盖", "minor", "01"),
    ("component", "01007", "通信井盖", "minor", "01"),
    ("component", "03", "市容环卫设施", "major", None),
    ("component", "03001", "垃圾箱", "minor", "03"),
    ("event", "01", "市政公用设施类", "major", None),
    ("event", "01002", "污水井盖异常", "minor", "01"),
    ("event", "0100201", "井盖缺失", "fine", "01002"),
    ("event", "06", "市容环境类", "major", None),
    ("event", "06001", "暴露垃圾", "minor", "06"),
    ("event", "08", "施工管理类", "major", None),
    ("event", "08001", "夜间施工", "minor", "08"),
]
LIMITS = {("component", "01002"): "1 working day", ("event", "0100201"): "4 hours",
          ("event", "06001"): "4 working hours"}


@pytest.fixture
def standard(db: None) -> Any:
    from citygrid.catalog import actions
    from citygrid.catalog.models import Category, Standard

    std = Standard.objects.create(code="TEST-STD", name="test", year=2026)
    made: dict[tuple[str, str], Category] = {}
    for kind, code, name, level, parent in CLASSES:
        made[(kind, code)] = Category.objects.create(
            standard=std, kind=kind, code=code, name=name, level=level,
            parent=made[(kind, parent)] if parent else None, is_emergency=level == "fine")
    for key, text in LIMITS.items():
        actions.set_handling_limit(made[key], "ordinary", parse_duration(text))
    actions.set_step_limit(std, "file", "ordinary", "any", parse_duration("30 minutes"))
    actions.set_step_limit(std, "dispatch", "ordinary", "any", parse_duration("30 minutes"))
    return actions.activate_standard(std)


@pytest.fixture
def org_city(small_city: Any, standard: Any) -> Any:
    """Small city + calendars + the org demo; returns the city plan."""
    from citygrid.calendars.actions import ensure_office_calendar, ensure_supervision_calendar
    from citygrid.org.demo import load_demo

    ensure_office_calendar()
    ensure_supervision_calendar()
    load_demo(io.StringIO(), size="small")
    return small_city


def point_in(plan: Any, code: str) -> tuple[float, float]:
    area = next(a for a in plan.areas if a.code == code)
    p = area.geometry.representative_point()
    return float(p.x), float(p.y)


def user(username: str) -> User:
    return User.objects.get(username=username)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
