"""System check: warn while this year's or next year's official holiday schedule is unknown."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Tags, Warning, register
from django.db import DatabaseError, connection


@register(Tags.compatibility)
def check_official_years(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from citygrid.calendars.models import ConfirmedYear
    from citygrid.calendars.services import years_needing_attention

    try:
        if ConfirmedYear._meta.db_table not in connection.introspection.table_names():
            return []  # not migrated yet
        years = years_needing_attention()
    except DatabaseError:
        return []
    return [
        Warning(
            f"The official holiday schedule for {year} is not in the holidays package and no "
            "administrator has confirmed it: deadlines that count working time in that year are "
            "provisional.",
            hint="Enter the year's holidays and make-up working days as date overrides in the admin "
            "(工作日历 › 日期调整), then confirm the year (已确认年份). See docs/calendars.md.",
            id="calendars.W001",
        )
        for year in years
    ]
