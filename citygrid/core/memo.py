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


_BATCH = "__batch__"


@contextmanager
def remembering(batch: bool = False) -> Iterator[None]:
    """`batch`: the unit serves many reports; readers may then load wider sets once (e.g.
    a class's rules of every area) instead of the narrow set of one report."""
    if _store.get() is not None:  # nested: the outer unit of work keeps its memory
        yield
        return
    token = _store.set({_BATCH: True} if batch else {})
    try:
        yield
    finally:
        _store.reset(token)


def in_batch() -> bool:
    store = _store.get()
    return store is not None and _BATCH in store


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    store = _store.get()
    if store is None:
        return compute()
    if key not in store:
        store[key] = compute()
    found: T = store[key]
    return found
