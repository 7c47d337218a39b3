"""Assessment API (/api/v1/assessment/…): session or token auth, scoped (a district sees its
own assessment only, the city sees all)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from ninja.responses import Status

from citygrid.accounts.auth import API_AUTH
from citygrid.api.openapi import errors
from citygrid.assess import selectors
from citygrid.assess.export import rows_xlsx
from citygrid.assess.models import AssessmentRun
from citygrid.core.errors import NotFound, PermissionDenied
from citygrid.org.models import Role
from citygrid.org.scoping import is_superuser, visible_areas

router = Router(tags=["assessment"], auth=API_AUTH)


class SliceIn(Schema):
    kind: str = "district"
    period: str = "month"
    day: date
    end: date | None = None
    district: str = ""
    category: str = ""
    source: str = ""
    department: int | None = None
    hour_from: int | None = None
    hour_to: int | None = None


class RowOut(Schema):
    rank: int | None
    subject_id: int
    subject: str
    figures: dict[str, int]
    rates: dict[str, str | None]
    deduction: str
    score: str | None
    grade: str
    previous_score: str | None
    previous_figures: dict[str, int] | None


class TableOut(Schema):
    kind: str
    period: str
    start: date
    end: date
    rows: list[RowOut]


def _narrow(s: SliceIn) -> dict[str, Any]:
    return {"district": s.district, "category_prefix": s.category, "source": s.source,
            "department_id": s.department, "hour_from": s.hour_from, "hour_to": s.hour_to}


def _table(request: HttpRequest, s: SliceIn) -> tuple[Any, list[Any], dict[int, Any]]:
    period = selectors.period_from(s.period, s.day, s.end)
    rows, before = selectors.assessment(request.auth, s.kind, period, **_narrow(s))  # type: ignore[attr-defined]
    return period, rows, before


@router.get("/assessment/table", response=TableOut)
def table(request: HttpRequest, s: Query[SliceIn]) -> dict[str, Any]:
    period, rows, before = _table(request, s)
    out = []
    for r in rows:
        prev = before.get(r.subject_id)
        out.append({"rank": r.rank, "subject_id": r.subject_id, "subject": r.name,
                    "figures": r.figures, "rates": r.rates, "deduction": str(r.deduction),
                    "score": None if r.score is None else str(r.score), "grade": r.grade,
                    "previous_score": None if prev is None or prev.score is None else str(prev.score),
                    "previous_figures": prev.figures if prev else None})
    return {"kind": s.kind, "period": period.label(), "start": period.start, "end": period.end,
            "rows": out}


@router.get("/assessment/table.xlsx")
def table_xlsx(request: HttpRequest, s: Query[SliceIn]) -> HttpResponse:
    period, rows, _ = _table(request, s)
    body = rows_xlsx(rows, f"{s.kind} {period.label()}")
    response = HttpResponse(body, content_type=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    response["Content-Disposition"] = f'attachment; filename="assessment-{s.kind}-{period.label()}.xlsx"'
    return response


class DrillOut(Schema):
    total: int
    cases: list[str]


@router.get("/assessment/cases", response=DrillOut)
def cases(request: HttpRequest, s: Query[SliceIn], subject: int, figure: str,
          limit: int = 100, offset: int = 0) -> dict[str, Any]:
    period = selectors.period_from(s.period, s.day, s.end)
    qs = selectors.cases_behind(request.auth, s.kind, subject, figure, period,  # type: ignore[attr-defined]
                                **_narrow(s)).order_by("id")
    limit = max(1, min(limit, 1000))
    return {"total": qs.count(),
            "cases": list(qs.values_list("number", flat=True)[max(offset, 0):max(offset, 0) + limit])}


class HotspotIn(SliceIn):
    level: str = "community"


@router.get("/assessment/hotspots")
def hotspots(request: HttpRequest, s: Query[HotspotIn]) -> HttpResponse:
    """GeoJSON: the communities (or unit grids) where the slice's cases were reported, with
    their counts; scoped like the table (a district sees its own)."""
    period = selectors.period_from(s.period, s.day, s.end)
    found = selectors.hotspots(request.auth, period, s.level, **_narrow(s))  # type: ignore[attr-defined]
    # Built as text: shapely already wrote each outline as GeoJSON.
    parts = ['{"type":"Feature","id":' + json.dumps(h.code) + ',"properties":'
             + json.dumps({"id": h.id, "code": h.code, "name": h.name, "level": s.level,
                           "cases": h.cases, "closed": h.closed, "overdue": h.overdue},
                          ensure_ascii=False)
             + ',"geometry":' + h.geojson + "}" for h in found]
    body = '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
    return HttpResponse(body, content_type="application/geo+json; charset=utf-8")


@router.get("/assessment/hotspots/cases", response={200: DrillOut, **errors(404)})
def hotspot_cases(request: HttpRequest, s: Query[HotspotIn], code: str,
                  limit: int = 100, offset: int = 0) -> dict[str, Any]:
    period = selectors.period_from(s.period, s.day, s.end)
    qs = selectors.hotspot_cases(request.auth, period, s.level, code,  # type: ignore[attr-defined]
                                 **_narrow(s)).order_by("id")
    limit, offset = max(1, min(limit, 1000)), max(offset, 0)
    return {"total": qs.count(), "cases": list(qs.values_list("number", flat=True)[offset:offset + limit])}


class RunIn(Schema):
    period: str = "month"
    day: date


class RunOut(Schema):
    id: int
    period_kind: str
    period_start: date
    period_end: date
    status: str
    progress: int
    message: str
    results: int


def _run_out(run: AssessmentRun) -> dict[str, Any]:
    return {"id": run.pk, "period_kind": run.period_kind, "period_start": run.period_start,
            "period_end": run.period_end, "status": run.status, "progress": run.progress,
            "message": run.message, "results": run.results.count()}


def _city_only(user: Any) -> None:
    if selectors.scope_districts(user) is not None:
        raise PermissionDenied("Only the city centre generates the city's assessment.",
                               code="out_of_scope")


# Who generates the city's assessment: the city centre, not everyone whose scope is the city
# (a city inspector, whom the assessment rates, or a city-wide utility's handler).
RUN_ROLES = (Role.ADMINISTRATOR, Role.LEADER, Role.SHIFT_LEADER)


def _may_generate(user: Any) -> None:
    _city_only(user)
    if is_superuser(user) or any(visible_areas(user, role).filter(level="city").exists()
                                 for role in RUN_ROLES):
        return
    raise PermissionDenied("Only the city centre's administrators, leaders and shift leaders "
                           "generate the assessment.", code="role_not_allowed")


@router.post("/assessment/runs", response={202: RunOut})
def create_run(request: HttpRequest, body: RunIn) -> tuple[int, dict[str, Any]]:
    from citygrid.assess.tasks import request_run

    _may_generate(request.auth)  # type: ignore[attr-defined]
    selectors.period_from(body.period, body.day)
    run = request_run(body.period, body.day, user=request.auth)  # type: ignore[attr-defined]
    return Status(202, _run_out(run))


@router.get("/assessment/runs/{run_id}", response={200: RunOut, **errors(404)})
def get_run(request: HttpRequest, run_id: int) -> dict[str, Any]:
    _city_only(request.auth)  # type: ignore[attr-defined]
    run = AssessmentRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"No assessment run {run_id}.", code="run_not_found")
    return _run_out(run)
