"""Calendars API: the deadline of a time limit, as the `citygrid deadline` command computes it."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from citygrid.calendars.services import (
    compute_deadline,
    default_calendar,
    get_calendar,
    parse_limit,
    parse_start,
)

router = Router(tags=["calendars"])


class DeadlineOut(Schema):
    deadline: str
    provisional: bool
    provisional_years: list[int]
    explanation: list[str]
    calendar: str


class ErrorOut(Schema):
    code: str
    message: str


@router.get("/calendars/deadline", response={200: DeadlineOut, 404: ErrorOut, 422: ErrorOut},
            summary="Deadline of a time limit on a working calendar")
def deadline(request: HttpRequest, start: str, limit: str, calendar: str = "") -> DeadlineOut:
    """`start` is ISO 8601 (without an offset it is read in the calendar's time zone); `limit` is
    e.g. "1 working day", "4 working hours", "30 minutes", "2 calendar days". 1 working day is
    the calendar's standard working-day length in working time. Unknown calendar: 404
    `calendar_not_found`; bad start or limit: 422 `invalid_start` / `invalid_limit`."""
    instant = parse_start(start)
    duration = parse_limit(limit)
    cal = get_calendar(calendar) if calendar else default_calendar()
    result = compute_deadline(cal, instant, duration)
    return DeadlineOut(
        deadline=result.at.isoformat(), provisional=result.provisional,
        provisional_years=list(result.provisional_years), explanation=result.explanation,
        calendar=cal.name,
    )
