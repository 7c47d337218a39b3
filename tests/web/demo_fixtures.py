"""The case tests' demo fixtures for tests/web modules, with the committed demo data kept for
one module only: tests.cases keeps it for its whole package, which in tests/web would leak into
the map tests that expect their own small city (or none)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases import conftest as cases_conftest

_demo_committed = cases_conftest._demo_committed
demo_small = cases_conftest.demo_small
people = cases_conftest.people
place = cases_conftest.place
photo = cases_conftest.photo


@pytest.fixture(scope="module")
def _demo_plan(django_db_setup: None, django_db_blocker: Any) -> Any:
    holder: dict[str, Any] = {}
    with django_db_blocker.unblock():
        cases_conftest._flush()
        holder["plan"] = cases_conftest._load()
    yield holder
    with django_db_blocker.unblock():
        cases_conftest._flush()
