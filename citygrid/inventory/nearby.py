"""The per-process nearby index of current components (not removed), rebuilt when
InventoryRevision moves (read once per call: one primary-key query), like the geocoder's
index and CoverageRevision. It holds ids, points and classes only; the components are read
from the database after the lookup, so what a caller sees is always current."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from django.db import connection

from citygrid.inventory.domain.nearby import NearbyIndex
from citygrid.inventory.models import Component, InventoryRevision, State

_RevisionKey = tuple[int, object]


@dataclass(frozen=True, slots=True)
class _Snapshot:
    key: _RevisionKey
    index: NearbyIndex


_lock = threading.Lock()
_snapshot: _Snapshot | None = None


def _current_key() -> _RevisionKey:
    meta, quote = InventoryRevision._meta, connection.ops.quote_name
    revision = quote(meta.get_field("revision").column)
    changed_at = quote(meta.get_field("changed_at").column)
    sql = f"SELECT {revision}, {changed_at} FROM {quote(meta.db_table)} WHERE id = 1"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return (0, None) if row is None else (int(row[0]), row[1])


def index() -> NearbyIndex:
    """The current index, rebuilt first if the inventory revision moved."""
    global _snapshot
    key = _current_key()
    snap = _snapshot
    if snap is not None and snap.key == key:
        return snap.index
    with _lock:
        snap = _snapshot
        if snap is None or snap.key != key:
            snap = _Snapshot(key=key, index=build())
            _snapshot = snap
    return snap.index


def invalidate_index() -> None:
    global _snapshot
    with _lock:
        _snapshot = None


def build() -> NearbyIndex:
    rows = Component.objects.exclude(state=State.REMOVED).values_list(
        "id", "lon", "lat", "category_id").order_by()
    data = np.array(list(rows), dtype=np.float64).reshape(-1, 4)
    return NearbyIndex(data[:, 0].astype(np.int64), data[:, 1], data[:, 2],
                       data[:, 3].astype(np.int64))
