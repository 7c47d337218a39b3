"""Map cells and time spans (citygrid.cases.domain.map_cells), without a database."""

from __future__ import annotations

import math
import random
from datetime import date

import pytest

from citygrid.cases.domain.map_cells import cell_box, cell_of, scale_for, side, spans


def test_a_coarser_cell_is_the_finer_cell_shifted() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        lon, lat = rng.uniform(-180, 180), rng.uniform(-90, 90)
        fine = 17
        for coarse in range(5, 18):
            assert cell_of(lon, fine) >> (fine - coarse) == cell_of(lon, coarse)
            assert cell_of(lat, fine) >> (fine - coarse) == cell_of(lat, coarse)


def test_scales_of_cluster_and_heat_cells() -> None:
    assert scale_for(11, 64) == 13 and scale_for(11, 32) == 14 and scale_for(11, 256) == 11
    assert side(13) == pytest.approx(360 / 8192)
    assert side(11) == 360 / 2**13 * 4  # 64 px at zoom 11
    with pytest.raises(ValueError):
        scale_for(11, 24)


def test_a_cell_box_covers_the_box_and_refines_exactly() -> None:
    box = cell_box((104.0, 30.5, 104.2, 30.7), 13)
    west, south, east, north = box.degrees()
    assert west <= 104.0 < east and south <= 30.5 < north and west <= 104.2 < east
    fine = box.finer(15)
    assert fine.count == box.count * 16
    assert fine.degrees() == box.degrees()
    assert math.floor(104.1 / side(15)) in range(fine.x0, fine.x1 + 1)


@pytest.mark.parametrize("start, months, days", [
    (None, (None, date(2026, 11, 1)), [(date(2026, 11, 1), date(2026, 11, 27))]),
    (date(2026, 8, 15), (date(2026, 9, 1), date(2026, 11, 1)),
     [(date(2026, 8, 15), date(2026, 9, 1)), (date(2026, 11, 1), date(2026, 11, 27))]),
    (date(2026, 9, 1), (date(2026, 9, 1), date(2026, 11, 1)), [(date(2026, 11, 1), date(2026, 11, 27))]),
    (date(2026, 10, 31), None, [(date(2026, 10, 31), date(2026, 11, 27))]),
    (date(2026, 11, 27), None, []),
    (date(2026, 12, 5), None, []),
])
def test_spans_use_whole_months_and_edge_days(start, months, days) -> None:
    span = spans(start, date(2026, 11, 27))
    assert span.months == months
    assert span.day_ranges() == days


def test_spans_cover_every_day_once() -> None:
    until = date(2026, 3, 10)
    for offset in range(0, 800, 7):
        start = date.fromordinal(until.toordinal() - offset)
        span = spans(start, until)
        covered: list[int] = []
        if span.months:
            first, last = span.months
            assert first is not None and first.day == 1 and last.day == 1
            covered += range(first.toordinal(), last.toordinal())
        for begin, end in span.day_ranges():
            assert begin is not None
            covered += range(begin.toordinal(), end.toordinal())
        assert sorted(covered) == list(range(start.toordinal(), until.toordinal()))
