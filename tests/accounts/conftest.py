from collections.abc import Iterator

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Failed sign-ins are counted in the cache: every test starts with none."""
    cache.clear()
    yield
    cache.clear()
