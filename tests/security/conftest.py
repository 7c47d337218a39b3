from collections.abc import Iterator

import pytest
from django.core.cache import cache

PASSWORD = "Gongcheng-2026!"


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Failed sign-ins and lockouts live in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user(db):
    from django.contrib.auth.models import User

    return User.objects.create_user("zhang", password=PASSWORD)


@pytest.fixture
def admin_user(db):
    from django.contrib.auth.models import User

    return User.objects.create_superuser("root", password=PASSWORD)
