"""The demo inventory on the small demo city: loads, owners as planned, idempotent."""

from __future__ import annotations

import io
from typing import Any

from citygrid.inventory.models import Component


def test_demo_inventory(small_city: Any) -> None:
    from citygrid.calendars.demo import load_demo as calendars
    from citygrid.catalog.demo import load_demo as catalog
    from citygrid.inventory.demo import load_demo
    from citygrid.org.demo import load_demo as org

    calendars(io.StringIO())
    catalog(io.StringIO())
    org(io.StringIO(), size="small")
    out = io.StringIO()
    load_demo(out, size="small")
    count = Component.objects.count()
    assert count > 500, out.getvalue()
    covers = Component.objects.filter(category__code="01005")
    assert covers.exists() and not covers.exclude(owner__code="SU-POWER").exists()
    assert not Component.objects.filter(category__code="01007").exclude(
        owner__code="SU-TELECOM").exists()
    assert set(Component.objects.values_list("state", flat=True)) <= {
        "intact", "damaged", "missing", "abandoned"}
    load_demo(out, size="small")
    assert Component.objects.count() == count
