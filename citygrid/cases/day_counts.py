"""Cases reported and closed per day, district and major class, kept for the big screen
(`CaseDayCount`).

`refresh_day_counts` is the only writer, like `citygrid.cases.map_cells.refresh_map_cells`
(the daily housekeeping job, the demo and the bulk history call both): it counts the days from
the newest kept day up to yesterday. A case's creation day, district and class never change
after its report, and a closed case stays closed, so past days' counts never change either.
`day_sums` is the reader; callers count the days from `watermark()` on live.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone

from citygrid.cases.map_cells import midnight, recount_days
from citygrid.cases.models import Case, CaseDayCount, CaseState
from citygrid.core.sql import insert_select


def watermark() -> date | None:
    """The first day not kept; None: nothing kept."""
    last = CaseDayCount.objects.aggregate(last=Max("day"))["last"]
    return None if last is None else last + timedelta(days=1)


def closed_with_deadline() -> Q:
    """The cases the on-time figures count: closed, with a handling deadline."""
    return Q(state=CaseState.CLOSED, overall_deadline__isnull=False)


def on_time() -> Q:
    return Q(closed_at__lte=F("overall_deadline"))


def refresh_day_counts(today: date | None = None, *, full: bool = False) -> int:
    """Count the days before `today` not yet kept (all of them with `full`); returns how many
    rows it wrote (a day's reports and closings are separate rows)."""
    return recount_days(CaseDayCount, today or timezone.localdate(), full=full, watermark=watermark,
                        stale=lambda since: Q(day__gte=since),
                        count=lambda since, today: _reported(since, today) + _closed(since, today))


def _window(field: str, since: date | None, today: date) -> Q:
    q = Q(**{f"{field}__lt": midnight(today)})
    return q & Q(**{f"{field}__gte": midnight(since)}) if since is not None else q


def _by_day_and_class(cases: QuerySet[Case], field: str) -> QuerySet[Any, dict[str, Any]]:
    return (cases.order_by()
            .annotate(d=TruncDate(field), major=Substr("category__code", 1, 2))
            .values("d", "district_id", "kind", "major"))


_KEYS = {"day": "d", "district_id": "district_id", "kind": "kind", "major": "major"}


def _reported(since: date | None, today: date) -> int:
    grouped = _by_day_and_class(Case.objects.filter(_window("created_at", since, today)),
                                "created_at").annotate(n=Count("id"))
    return insert_select(CaseDayCount, grouped, {**_KEYS, "reported": "n"},
                         {"closed": 0, "closed_on_time": 0})


def _closed(since: date | None, today: date) -> int:
    cases = Case.objects.filter(closed_with_deadline() & _window("closed_at", since, today))
    grouped = _by_day_and_class(cases, "closed_at").annotate(
        n=Count("id"), on_time=Count("id", filter=on_time()))
    return insert_select(CaseDayCount, grouped, {**_KEYS, "closed": "n", "closed_on_time": "on_time"},
                         {"reported": 0})


def day_sums(start: date, until: date, districts: frozenset[int] | None,
             field: str) -> QuerySet[Any, dict[str, Any]]:
    """Kept counts of days [start, until) per district, kind and major class: `field` is
    "reported" or "closed" (with "closed_on_time"). `districts` None: everywhere."""
    rows = CaseDayCount.objects.filter(day__gte=start, day__lt=until, **{f"{field}__gt": 0})
    if districts is not None:
        rows = rows.filter(district_id__in=sorted(districts))
    sums = {"reported": Sum("reported")} if field == "reported" else {
        "closed": Sum("closed"), "closed_on_time": Sum("closed_on_time")}
    return rows.order_by().values("district_id", "kind", "major").annotate(**sums)
