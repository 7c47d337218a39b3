"""China's official holidays and make-up working days (调休), from the `holidays` package.

The package publishes the State Council's yearly schedule as data: days off (category
"public"; the "half_day" category — Women's Day, Youth Day … — concerns only some people
and is not used) and, for each day off moved from a weekend, the weekend day that is worked
instead (`weekend_workdays`). For a year the package has no published notice for, it still
*extrapolates* the statutory days by rule (no make-up days, observed rules); such a year is reported by `is_official_year`
as not official, and deadlines that cross it are provisional until an administrator confirms it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from holidays.constants import PUBLIC
from holidays.countries.china import China, ChinaStaticHolidays

FIRST_OFFICIAL_YEAR = 2001  # the package is checked against the State Council notices from 2001


@dataclass(frozen=True, slots=True)
class OfficialSchedule:
    holidays: frozenset[date]
    makeup_days: frozenset[date]
    names: dict[date, str]


@lru_cache(maxsize=32)
def official_schedule(first_year: int, last_year: int) -> OfficialSchedule:
    """Holidays and make-up working days of China for the years first_year..last_year."""
    years = range(first_year, last_year + 1)
    data = China(years=years, categories=(PUBLIC,), language="zh_CN")  # type: ignore[no-untyped-call]
    days = frozenset(d for d in data if first_year <= d.year <= last_year)
    makeup = frozenset(d for d in data.weekend_workdays if first_year <= d.year <= last_year)
    names = {d: str(data[d]) for d in days}
    names.update({d: "调休上班" for d in makeup})
    return OfficialSchedule(days, makeup, names)


def is_official_year(year: int) -> bool:
    """Whether the package holds the State Council's published schedule for `year`."""
    if year < FIRST_OFFICIAL_YEAR:
        return False
    published: dict[int, object] = getattr(ChinaStaticHolidays, "special_public_holidays", {})
    # Only years with the State Council's notice (its substitutions) are published data; for
    # other years the package extrapolates the statutory days, which is an estimate.
    return year in published
