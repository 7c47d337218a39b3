"""Reads the pages need from other apps."""

from __future__ import annotations

from django.db.models import Max, Min

from citygrid.space.models import Area, Level

Bounds = tuple[tuple[float, float], tuple[float, float]]


def coverage_bounds() -> Bounds | None:
    """((south, west), (north, east)) of all districts, in Leaflet's order; None when empty."""
    agg = Area.objects.filter(level=Level.DISTRICT).aggregate(
        west=Min("min_lon"), south=Min("min_lat"), east=Max("max_lon"), north=Max("max_lat")
    )
    if any(value is None for value in agg.values()):
        return None
    return ((agg["south"], agg["west"]), (agg["north"], agg["east"]))
