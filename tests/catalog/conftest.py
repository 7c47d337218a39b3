"""Fixtures for the catalog tests: a small national standard built by hand, users."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from citygrid.catalog.models import Category, Standard


@pytest.fixture
def base() -> Standard:
    """A tiny active national standard: events 01 (0101, 0102, 0103) and 02 (0201);
    components 01 (0101)."""
    standard = Standard.objects.create(code="BASE-1", name="base", year=2020, is_national=True,
                                       status=Standard.Status.ACTIVE)
    e01 = Category.objects.create(standard=standard, kind="event", code="01", name="市容环境",
                                  level="major")
    e02 = Category.objects.create(standard=standard, kind="event", code="02", name="街面秩序",
                                  level="major")
    for code, name in [("0101", "暴露垃圾"), ("0102", "店外经营"), ("0103", "占道经营")]:
        Category.objects.create(standard=standard, kind="event", code=code, name=name,
                                level="minor", parent=e01)
    Category.objects.create(standard=standard, kind="event", code="0201", name="乱堆物料",
                            level="minor", parent=e02)
    c01 = Category.objects.create(standard=standard, kind="component", code="01",
                                  name="公用设施", level="major")
    Category.objects.create(standard=standard, kind="component", code="0101", name="上水井盖",
                            level="minor", parent=c01)
    return standard


def cat(standard: Standard, code: str, kind: str = "event") -> Category:
    return Category.objects.get(standard=standard, kind=kind, code=code)


@pytest.fixture
def editor(db: None) -> User:
    user = User.objects.create_user("editor", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="change_category"))
    return User.objects.get(pk=user.pk)  # fresh: permissions are cached per instance


@pytest.fixture
def outsider(db: None) -> User:
    return User.objects.create_user("outsider", password="pw")
