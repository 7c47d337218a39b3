"""Exporting the inventory in the formats it imports (CSV, xlsx, GeoJSON); an export
re-imports unchanged into an empty inventory."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet

from citygrid.inventory import fileio
from citygrid.inventory.models import Component

_VALUES = (
    "code", "name", "category__code", "lon", "lat", "state", "competent_department__code",
    "competent_unit_code", "competent_unit_name", "owner__code", "owner_unit_code",
    "owner_unit_name", "maintainer__code", "maintainer_unit_code", "maintainer_unit_name",
    "initial_date", "change_date", "data_source", "remark", "grid__code", "community__code",
    "street__code", "district__code", "geometry",
)
_RENAME = {"category__code": "class", "competent_department__code": "competent_department",
           "owner__code": "owner", "maintainer__code": "maintainer", "grid__code": "grid",
           "community__code": "community", "street__code": "street",
           "district__code": "district"}


def rows(queryset: QuerySet[Component] | None = None) -> Iterator[dict[str, Any]]:
    qs = Component.objects.all() if queryset is None else queryset
    for values in qs.order_by("code").values_list(*_VALUES).iterator(chunk_size=5000):
        row = {_RENAME.get(k, k): ("" if v is None and k != "geometry" else v)
               for k, v in zip(_VALUES, values, strict=True)}
        for k in ("initial_date", "change_date"):
            if row[k]:
                row[k] = row[k].isoformat()
        yield row


def export_components(fmt: str, queryset: QuerySet[Component] | None = None) -> bytes:
    return fileio.write(fmt, rows(queryset))
