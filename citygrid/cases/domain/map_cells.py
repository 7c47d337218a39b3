"""Map cells and time spans for the live map's counts (no Django).

A cell of scale `e` is a square of 360 / 2**e degrees: the case at (lon, lat) lies in cell
(floor(lon / side), floor(lat / side)). Sides halve from one scale to the next, so the cell of
a coarser scale E is the finer cell shifted right by e - E bits, and counts kept at one scale
answer every coarser scale exactly. Cluster cells of 64 px at zoom z are scale z + 2; heat cells
of 32 px are scale z + 3 (256-px tiles).

Counts are kept per local day and, for every whole month, per month, up to a watermark day
(exclusive); a period is answered from whole months where it can and from days at its edges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

TILE_PX = 256


def scale_for(zoom: int, cell_px: int) -> int:
    """Scale of a cell `cell_px` screen pixels wide at `zoom`; cell_px must be a power of two."""
    if cell_px <= 0 or cell_px & (cell_px - 1):
        raise ValueError("cell_px must be a power of two")
    return zoom + int(math.log2(TILE_PX // cell_px)) if cell_px <= TILE_PX else zoom


def side(scale: int) -> float:
    """Side of a cell of `scale`, in degrees (exact in binary floating point)."""
    return math.ldexp(360.0, -scale)


def cell_of(value: float, scale: int) -> int:
    return math.floor(value / side(scale))


@dataclass(frozen=True)
class CellBox:
    """The cells of one scale that meet a bounding box: x0..x1, y0..y1 inclusive."""

    scale: int
    x0: int
    y0: int
    x1: int
    y1: int

    def finer(self, scale: int) -> CellBox:
        """The same cells at a finer scale (scale >= self.scale)."""
        shift = scale - self.scale
        return CellBox(scale, self.x0 << shift, self.y0 << shift,
                       ((self.x1 + 1) << shift) - 1, ((self.y1 + 1) << shift) - 1)

    def degrees(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the cells, east and north exclusive."""
        s = side(self.scale)
        return self.x0 * s, self.y0 * s, (self.x1 + 1) * s, (self.y1 + 1) * s

    @property
    def count(self) -> int:
        return (self.x1 - self.x0 + 1) * (self.y1 - self.y0 + 1)


def cell_box(bbox: tuple[float, float, float, float], scale: int) -> CellBox:
    """The cells of `scale` that meet (west, south, east, north)."""
    west, south, east, north = bbox
    return CellBox(scale, cell_of(west, scale), cell_of(south, scale), cell_of(east, scale),
                   cell_of(north, scale))


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True)
class Spans:
    """Which kept counts answer the days [start, until) (start None: from the beginning).
    With `months` (first, last): month rows starting in [first, last) (first None: from the
    beginning) and day rows in [start, first) and [last, until); without: day rows only."""

    start: date | None
    until: date
    months: tuple[date | None, date] | None

    def day_ranges(self) -> list[tuple[date | None, date]]:
        if self.months is None:
            return [(self.start, self.until)] if self.start is None or self.start < self.until else []
        first, last = self.months
        ranges: list[tuple[date | None, date]] = []
        if first is not None and self.start is not None and self.start < first:
            ranges.append((self.start, first))
        if last < self.until:
            ranges.append((last, self.until))
        return ranges


def spans(start: date | None, until: date) -> Spans:
    """Whole months inside [start, until), and the days at the edges."""
    last = month_start(until)  # months before this one are whole
    first = None if start is None else (start if start.day == 1 else next_month(start))
    if first is not None and first >= last:
        return Spans(start, until, None)
    return Spans(start, until, (first, last))
