"""Reads for the public: services, requests and their public timelines. Nothing here returns
a person's name, phone, e-mail or device: public output is built only from these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import pgettext_lazy

from citygrid.cases.models import FINAL_STATES, Case, CaseEvent
from citygrid.core.errors import NotFound
from citygrid.exchange.domain.rules import coarsen, normalize_tracking_code, redact_contacts
from citygrid.exchange.models import PublicRequest, PublicService
from citygrid.space.models import Area, Level

# What the public reads for each state and operation (no internal detail, no names).
PUBLIC_STATE = {
    "to_verify": pgettext_lazy("public", "Waiting for on-site verification"),
    "to_file": pgettext_lazy("public", "Verified, waiting to be filed"),
    "to_dispatch": pgettext_lazy("public", "Filed, waiting to be sent to a department"),
    "dispatched": pgettext_lazy("public", "Sent to the responsible department"),
    "handling": pgettext_lazy("public", "Being handled"),
    "postponement_requested": pgettext_lazy("public", "Being handled"),
    "suspended": pgettext_lazy("public", "Handling deferred"),
    "to_check": pgettext_lazy("public", "Handled, waiting for the on-site check"),
    "to_close": pgettext_lazy("public", "Checked, waiting to be closed"),
    "closed": pgettext_lazy("public", "Closed: handled"),
    "rejected": pgettext_lazy("public", "Closed: not accepted as a case"),
    "merged": pgettext_lazy("public", "Closed: merged with an earlier report of the same problem"),
    "voided": pgettext_lazy("public", "Closed: cancelled"),
}
PUBLIC_OPERATION = {
    "report": pgettext_lazy("public", "Reported"),
    "verify": pgettext_lazy("public", "Verified on site"),
    "file": pgettext_lazy("public", "Filed as a case"),
    "reject": pgettext_lazy("public", "Not accepted as a case"),
    "merge": pgettext_lazy("public", "Merged with an earlier report"),
    "dispatch": pgettext_lazy("public", "Sent to the responsible department"),
    "redispatch": pgettext_lazy("public", "Sent to another department"),
    "return": pgettext_lazy("public", "Returned for re-dispatch"),
    "accept": pgettext_lazy("public", "Accepted by the department"),
    "feedback": pgettext_lazy("public", "Handling reported done"),
    "approve_postponement": pgettext_lazy("public", "More time granted for handling"),
    "suspend": pgettext_lazy("public", "Handling deferred"),
    "resume": pgettext_lazy("public", "Handling resumed"),
    "check_pass": pgettext_lazy("public", "Checked on site: done"),
    "check_fail": pgettext_lazy("public", "Checked on site: not done yet, handling again"),
    "close": pgettext_lazy("public", "Closed"),
    "void": pgettext_lazy("public", "Cancelled"),
    "reopen": pgettext_lazy("public", "Reopened"),
}


def cities() -> QuerySet[Area]:
    return Area.objects.filter(level=Level.CITY).order_by("code")


def services_for(city: Area | None) -> QuerySet[PublicService]:
    result = PublicService.objects.filter(active=True)
    if city is not None:
        result = result.filter(Q(jurisdiction__isnull=True) | Q(jurisdiction=city))
    return result.order_by("sort_order", "service_code")


def service_by_code(code: str, city: Area | None) -> PublicService:
    service = services_for(city).filter(service_code=code).first()
    if service is None:
        raise NotFound(f"No service {code}.", code="service_not_found")
    return service


def public_requests(city: Area | None) -> QuerySet[PublicRequest]:
    result = PublicRequest.objects.select_related(
        "service", "case", "case__holder_department", "case__district", "case__street",
        "case__community")
    if city is not None:
        result = result.filter(case__district__parent=city)
    return result


def request_by_tracking_code(text: str) -> PublicRequest:
    code = normalize_tracking_code(text)
    found = public_requests(None).filter(tracking_code=code).first() if code else None
    if found is None:
        raise NotFound("No report has this tracking code.", code="tracking_code_not_found")
    return found


def is_open(case: Case) -> bool:
    return case.state not in FINAL_STATES


def public_place(case: Case) -> str:
    """Where, as area names only (the free-text address may be someone's home)."""
    parts = [a.name for a in (case.district, case.street, case.community) if a is not None]
    return " · ".join(parts)


def agency(case: Case) -> str:
    """The department holding the case; before dispatch, the district's supervision centre."""
    if case.holder_department is not None:
        return case.holder_department.name
    return case.district.name if case.district_id else ""


def expected(case: Case) -> datetime | None:
    if not is_open(case):
        return None
    return case.overall_deadline or case.step_deadline


def public_description(request: PublicRequest) -> str:
    return redact_contacts(request.description)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    text: str
    state: str


def public_timeline(request: PublicRequest) -> list[TimelineEntry]:
    events = CaseEvent.objects.filter(case_id=request.case_id).order_by("seq").only(
        "at", "operation", "to_state")
    return [TimelineEntry(at=e.at, text=str(PUBLIC_OPERATION[e.operation]),
                          state=str(PUBLIC_STATE.get(e.to_state, "")))
            for e in events if e.operation in PUBLIC_OPERATION]


def open_problems(city: Area | None = None, limit: int = 2000) -> list[dict[str, Any]]:
    """Open public reports for the public map, each at the centre of its ~100 m cell; reports
    in the same cell and service are counted together."""
    rows = (public_requests(city).exclude(case__state__in=FINAL_STATES)
            .values_list("service__service_code", "service__name", "service__name_en",
                         "case__lon", "case__lat", "case__state")[:limit])
    cells: dict[tuple[str, float, float], dict[str, Any]] = {}
    for code, name, name_en, lon, lat, state in rows:
        c_lon, c_lat = coarsen(lon, lat)
        cell = cells.setdefault((code, c_lon, c_lat), {
            "service_code": code, "name": name, "name_en": name_en, "lon": c_lon, "lat": c_lat,
            "count": 0, "states": {}})
        cell["count"] += 1
        cell["states"][state] = cell["states"].get(state, 0) + 1
    return list(cells.values())
