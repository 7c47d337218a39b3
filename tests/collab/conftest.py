"""The case tests' fixtures (small demo city, people, places, photos), reused, and helpers."""

from __future__ import annotations

from tests.cases.conftest import (  # noqa: F401  (fixtures)
    _demo_committed,
    _demo_plan,
    demo_small,
    people,
    photo,
    place,
)
