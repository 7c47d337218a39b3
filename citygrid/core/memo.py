"""Reference reads remembered for one unit of work.

A batch of reports reads the same classes, rules, departments, roles and limits for every
report. Inside `remembering()` each such read runs once per key; outside it, `remembered`
simply computes. Only reads of reference data that the unit of work does not change itself
belong here (the unit is one transaction, so it sees one state of that data anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_store: ContextVar[dict[Hashable, Any] | None] = ContextVar("citygrid_memo", default=None)


@contextmanager
def remembering() -> Iterator[None]:
    if _store.get() is not None:  # nested: the outer unit of work keeps its memory
        yield
        return
    token = _store.set({})
    try:
        yield
    finally:
        _store.reset(token)


def remembering_now() -> bool:
    return _store.get() is not None


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    store = _store.get()
    if store is None:
        return compute()
    if key not in store:
        store[key] = compute()
    found: T = store[key]
    return found
