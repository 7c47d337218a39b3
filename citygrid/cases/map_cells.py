"""Case counts per map cell and day, kept for the live map (`CaseCellCount`).

`refresh_map_cells` is the only writer: it counts the days from the newest kept day up to
yesterday (and every whole month), idempotently, so the daily housekeeping job, the demo and
the bulk history can all call it. A case's position, district and creation time are fixed at
its report, so the counts of past days never change afterwards; `full=True` recounts
everything after a bulk import of history.

`cell_sums` is the reader: counts of a period, at any scale up to the finest kept, for all
districts or some. Callers count cases created on or after `watermark()` live.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Max, Model, Q, QuerySet, Sum
from django.db.models.functions import Floor, TruncDate, TruncMonth
from django.utils import timezone

from citygrid.cases.domain.map_cells import CellBox, month_start, side, spans
from citygrid.cases.models import Case, CaseCellCount, CellBucket
from citygrid.core.sql import insert_select, lock_for_writing

SCALES = (13, 15, 17)  # clusters at zoom 11, 13, 15 (~4 km, ~1 km, ~270 m); heat one zoom lower

Sums = dict[tuple[int, int], list[float]]  # (cx, cy) -> [n, sum of lon, sum of lat]


def kept_scale(scale: int) -> int | None:
    """The coarsest kept scale that answers `scale`; None when it is finer than all kept."""
    return next((kept for kept in SCALES if kept >= scale), None)


def watermark() -> date | None:
    """The first day not kept (counts cover the days before it); None: nothing kept."""
    last = (CaseCellCount.objects.filter(scale=SCALES[0], bucket=CellBucket.DAY)
            .aggregate(last=Max("day"))["last"])
    return None if last is None else last + timedelta(days=1)


def midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def refresh_map_cells(today: date | None = None, *, full: bool = False) -> int:
    """Count the days before `today` not yet kept (all of them with `full`); returns how many
    rows it wrote."""
    return recount_days(CaseCellCount, today or timezone.localdate(), full=full, watermark=watermark,
                        stale=lambda since: Q(bucket=CellBucket.DAY, day__gte=since)
                        | Q(bucket=CellBucket.MONTH, day__gte=month_start(since)),
                        count=lambda since, today: _day_rows(since, today) + _month_rows(since, today))


def recount_days(model: type[Model], today: date, *, full: bool, watermark: Callable[[], date | None],
                 stale: Callable[[date], Q], count: Callable[[date | None, date], int]) -> int:
    """The refresh of kept per-day counts, in one transaction: drop the rows `stale` names
    from the watermark on (all rows with `full`), then `count(since, today)` the days again."""
    with transaction.atomic():
        lock_for_writing(model)  # two refreshes at once would count the same days
        since = None if full else watermark()
        if since is not None and since >= today:
            return 0
        kept = model._default_manager.all()
        if since is not None:
            kept = kept.filter(stale(since))
        kept.delete()
        return count(since, today)


def _day_rows(since: date | None, today: date) -> int:
    cases = Case.objects.filter(created_at__lt=midnight(today))
    if since is not None:
        cases = cases.filter(created_at__gte=midnight(since))
    written = 0
    for scale in SCALES:
        s = side(scale)
        grouped = (cases.order_by()
                   .annotate(d=TruncDate("created_at"), x=Floor(F("lon") / s), y=Floor(F("lat") / s))
                   .values("d", "x", "y", "district_id")
                   .annotate(count=Count("id"), lons=Sum("lon"), lats=Sum("lat")))
        written += _insert(grouped, scale, CellBucket.DAY, "d", "x", "y")
    return written


def _month_rows(since: date | None, today: date) -> int:
    days = CaseCellCount.objects.filter(bucket=CellBucket.DAY, day__lt=month_start(today))
    if since is not None:
        days = days.filter(day__gte=month_start(since))
    written = 0
    for scale in SCALES:
        grouped = (days.filter(scale=scale).order_by().annotate(m=TruncMonth("day"))
                   .values("m", "cx", "cy", "district_id")
                   .annotate(count=Sum("n"), lons=Sum("sum_lon"), lats=Sum("sum_lat")))
        written += _insert(grouped, scale, CellBucket.MONTH, "m", "cx", "cy")
    return written


def _insert(grouped: QuerySet[Any, dict[str, Any]], scale: int, bucket: str, day: str, x: str,
            y: str) -> int:
    return insert_select(CaseCellCount, grouped, {"day": day, "cx": x, "cy": y, "district_id": "district_id",
                                                  "n": "count", "sum_lon": "lons", "sum_lat": "lats"},
                         {"scale": scale, "bucket": bucket})


def cell_sums(box: CellBox, start: date | None, until: date,
              districts: frozenset[int] | None) -> Sums:
    """Kept counts of the cells of `box` for cases created on days [start, until) (start None:
    from the first), in `districts` (None: everywhere, cases without a district included).
    `box.scale` must be answerable (`kept_scale`) and `until` no later than `watermark()`."""
    scale = kept_scale(box.scale)
    if scale is None:
        raise ValueError(f"no kept scale answers scale {box.scale}")
    fine = box.finer(scale)
    rows = CaseCellCount.objects.filter(scale=scale, cx__gte=fine.x0, cx__lte=fine.x1,
                                        cy__gte=fine.y0, cy__lte=fine.y1)
    if districts is not None:
        rows = rows.filter(district_id__in=sorted(districts))
    rows = rows.filter(_period_q(start, until))
    shift = scale - box.scale
    found: Sums = {}
    for row in _grouped(rows, shift):
        found[(row["gx"], row["gy"])] = [row["count"], row["lons"], row["lats"]]
    return found


def _period_q(start: date | None, until: date) -> Q:
    span = spans(start, until)
    q = Q(pk__in=[])
    if span.months is not None:
        first, last = span.months
        months = Q(bucket=CellBucket.MONTH, day__lt=last)
        q |= months & Q(day__gte=first) if first is not None else months
    for begin, end in span.day_ranges():
        days = Q(bucket=CellBucket.DAY, day__lt=end)
        q |= days & Q(day__gte=begin) if begin is not None else days
    return q


def _grouped(rows: QuerySet[CaseCellCount], shift: int) -> QuerySet[Any, dict[str, Any]]:
    return (rows.order_by()
            .annotate(gx=F("cx").bitrightshift(shift), gy=F("cy").bitrightshift(shift))
            .values("gx", "gy")
            .annotate(count=Sum("n"), lons=Sum("sum_lon"), lats=Sum("sum_lat")))
