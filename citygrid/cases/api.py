"""Case API under /api/v1/: report, query, act on cases; queues; photos (docs/api.md).

Thin: every write is one call to citygrid.cases.actions, every read goes through
citygrid.cases.selectors (scoped to the user). Authentication: a bearer token or the session
(with CSRF), see citygrid.accounts.auth. Errors are `{code, message, field?, details?}`.
"""
# No `from __future__ import annotations`: the operation endpoints are made in a loop and
# ninja reads their annotations as real types.

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.http import FileResponse, HttpRequest, JsonResponse
from django.utils import timezone
from ninja import Field, File, Form, Header, Query, Router, Schema, UploadedFile
from ninja.responses import Status
from pydantic import field_validator

from citygrid.accounts.auth import API_AUTH
from citygrid.cases import actions, selectors
from citygrid.cases.models import (
    FINAL_STATES,
    Case,
    CaseEvent,
    CaseProcess,
    CaseState,
    CaseStep,
    Kind,
    OverdueLevel,
    Photo,
)
from citygrid.core.errors import DomainError, PermissionDenied, ValidationFailed
from citygrid.org.models import Role, Source
from citygrid.org.scoping import is_superuser, roles_of
from citygrid.space.models import UnitGrid

router = Router(tags=["cases"], auth=API_AUTH)

DEFAULT_PAGE = 50
MAX_PAGE = 200
MAX_OFFSET = 100_000
MAX_PHOTOS = 9  # per request: a report, a feedback (besides after_photo) or a check
SORTS = ("created_at", "updated_at", "step_deadline", "overall_deadline", "number")
# The operation names of the process (allowed_operations) → the path that performs them.
OPERATION_PATHS = {"check_pass": "check", "check_fail": "check"}


# --- Errors -------------------------------------------------------------------------------------


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None
    details: Any = None


def _field_of(details: Any) -> str | None:
    if isinstance(details, dict):
        if isinstance(details.get("field"), str):
            return str(details["field"])
        fields = details.get("fields")
        if isinstance(fields, list) and fields:
            return str(fields[0])
    if isinstance(details, list) and details and isinstance(details[0], dict):
        found = details[0].get("field")
        return str(found) if found is not None else None
    return None


def error_response(exc: DomainError) -> JsonResponse:
    """The error body with the offending input's name lifted to `field` when there is one."""
    body = exc.as_dict()
    field = _field_of(exc.details)
    if field is not None:
        body["field"] = field
    return JsonResponse(body, status=exc.status, json_dumps_params={"ensure_ascii": False})


def _errors(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except DomainError as exc:
            return error_response(exc)

    return wrapped


def _invalid(code: str, message: str, field: str, **extra: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code, details={"field": field, **extra})


# What the case endpoints answer besides 401, 403 and 422 (citygrid.api.openapi adds those).
ERRORS: dict[Any, Any] = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
_IMAGE = {"schema": {"type": "string", "format": "binary"}}
PHOTO_FILE = {"responses": {200: {"description": "The photo file", "content": {
    t: _IMAGE for t in ("image/jpeg", "image/png", "image/webp")}}}}


class InSchema(Schema):
    """Input schema: no NUL characters in text (PostgreSQL cannot store them)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            raise ValueError("must not contain NUL characters")
        return value


def _case(user: Any, number: str) -> Case:
    """The case if the user may see it; a number no case can have is simply not found."""
    if "\x00" in number:
        number = ""
    return selectors.case_detail(user, number)


# --- Output -------------------------------------------------------------------------------------


class Ref(Schema):
    code: str
    name: str


class CaseOut(Schema):
    """A case in a list: enough for a row, a map marker and a traffic light."""

    number: str
    process: str
    state: str
    step: str
    version: int
    source: str
    kind: str
    category: Ref
    urgency: str
    lon: float
    lat: float
    address: str
    district: Ref
    street: Ref | None
    community: Ref | None
    grid: str
    holder_department: Ref | None
    step_deadline: datetime | None
    overall_deadline: datetime | None
    overdue_level: str
    needs_collaboration: bool
    suspended: bool
    postponed: bool
    created_at: datetime
    updated_at: datetime


class PhotoOut(Schema):
    id: int
    kind: str
    url: str
    content_type: str
    size: int
    width: int
    height: int
    sha256: str
    uploaded_at: datetime


class CopyOut(Schema):
    department: Ref
    kind: str
    sent_at: datetime


class AllowedOperation(Schema):
    operation: str
    role: str
    path: str = Field(..., description="POST /api/v1/cases/{number}/{path} performs it")


class Deadlines(Schema):
    step: str
    step_started_at: datetime | None
    step_limit: str
    step_deadline: datetime | None
    overall_started_at: datetime | None
    overall_limit: str
    overall_deadline: datetime | None
    provisional: bool
    overdue_level: str = Field(..., description="stored level, refreshed by the worker")
    traffic_light: str = Field(..., description="level now: none|green|yellow|red")


class CaseDetailOut(CaseOut):
    description: str
    component_id: str
    reporter: str | None
    reporter_role: str
    holder_person: str | None
    routed_department: Ref | None
    duplicate_of: str | None
    pending_extension: str
    rework_count: int
    return_count: int
    urge_count: int
    supervision_level: int
    collaboration_reason: str
    closed_at: datetime | None
    deadlines: Deadlines
    photos: list[PhotoOut]
    copies: list[CopyOut]
    allowed_operations: list[AllowedOperation]


class CasePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CaseOut]


class EventOut(Schema):
    seq: int
    operation: str
    actor: str | None
    actor_name: str
    role: str
    at: datetime
    from_state: str
    to_state: str
    inputs: dict[str, Any]
    hash: str


def _ref(obj: Any) -> dict[str, str] | None:
    return None if obj is None else {"code": obj.code, "name": obj.name}


def _compact(case: Case, grid_code: str | None = None) -> dict[str, Any]:
    return {
        "number": case.number, "process": case.process, "state": case.state, "step": case.step,
        "version": case.version, "source": case.source, "kind": case.kind,
        "category": _ref(case.category), "urgency": case.urgency, "lon": case.lon, "lat": case.lat,
        "address": case.address, "district": _ref(case.district), "street": _ref(case.street),
        "community": _ref(case.community), "grid": grid_code or case.grid.code,
        "holder_department": _ref(case.holder_department), "step_deadline": case.step_deadline,
        "overall_deadline": case.overall_deadline, "overdue_level": case.overdue_level,
        "needs_collaboration": case.needs_collaboration, "suspended": case.suspended,
        "postponed": case.postponed, "created_at": case.created_at, "updated_at": case.updated_at,
    }


def photo_url(case: Case, photo: Photo) -> str:
    return f"/api/v1/cases/{case.number}/photos/{photo.pk}"


def _related(case: Case, name: str, query: Callable[[], Any], order: Callable[[Any], Any]) -> list[Any]:
    """The case's photos or copies: those the action left on the case (a new case), in the
    order the query would give, else the query."""
    cached = getattr(case, "_prefetched_objects_cache", {}).get(name)
    return sorted(cached, key=order) if cached is not None else list(query())


def _detail(user: Any, case: Case) -> dict[str, Any]:
    person = case.holder_person
    return {
        **_compact(case),
        "description": case.description, "component_id": case.component_id,
        "reporter": case.reporter.get_username() if case.reporter else None,
        "reporter_role": case.reporter_role,
        "holder_person": str(person) if person else None,
        "routed_department": _ref(case.routed_department),
        "duplicate_of": case.duplicate_of.number if case.duplicate_of else None,
        "pending_extension": case.pending_extension, "rework_count": case.rework_count,
        "return_count": case.return_count, "urge_count": case.urge_count,
        "supervision_level": case.supervision_level,
        "collaboration_reason": case.collaboration_reason, "closed_at": case.closed_at,
        "deadlines": {
            "step": case.step, "step_started_at": case.step_started_at,
            "step_limit": case.step_limit, "step_deadline": case.step_deadline,
            "overall_started_at": case.overall_started_at, "overall_limit": case.overall_limit,
            "overall_deadline": case.overall_deadline, "provisional": case.deadline_provisional,
            "overdue_level": case.overdue_level, "traffic_light": actions.level_of(case),
        },
        "photos": [
            {"id": p.pk, "kind": p.kind, "url": photo_url(case, p), "content_type": p.content_type,
             "size": p.size, "width": p.width, "height": p.height, "sha256": p.sha256,
             "uploaded_at": p.uploaded_at}
            for p in _related(case, "photos", lambda: case.photos.order_by("uploaded_at", "id"),
                              lambda p: (p.uploaded_at, p.pk))
        ],
        "copies": [
            {"department": _ref(c.department), "kind": c.kind, "sent_at": c.sent_at}
            for c in _related(case, "copies",
                              lambda: case.copies.select_related("department").order_by("sent_at", "id"),
                              lambda c: (c.sent_at, c.pk))
        ],
        "allowed_operations": [
            {"operation": op, "role": role, "path": OPERATION_PATHS.get(op, op.replace("_", "-"))}
            for op, role in selectors.allowed_operations(user, case)
        ],
    }


# --- Report -------------------------------------------------------------------------------------


class ReportIn(InSchema):
    source: str = Field(..., max_length=24, description="|".join(Source.values))
    kind: str = Field(..., max_length=10, description="component|event")
    category_code: str = Field(..., min_length=1, max_length=32,
                               description="a minor or fine class of the active standard")
    lon: float = Field(..., ge=-180, le=180, allow_inf_nan=False)
    lat: float = Field(..., ge=-90, le=90, allow_inf_nan=False)
    crs: str = Field("wgs84", max_length=16, description="wgs84|cgcs2000|gcj02")
    address: str = Field("", max_length=300)
    description: str = Field("", max_length=4000)
    urgency: str = Field("ordinary", max_length=10, description="ordinary|urgent|emergency")
    component_id: str = Field("", max_length=32)
    uninventoried: bool = Field(False, description="a component the inventory lacks (no component_id): "
                                "flagged for the survey team")
    idempotency_key: str | None = Field(None, max_length=100,
                                        description="or the Idempotency-Key header")
    role: str | None = Field(None, max_length=32, description="the role to report in")


def _report(request: HttpRequest, body: ReportIn, header_key: str | None,
            photos: list[UploadedFile]) -> Status[dict[str, Any]]:
    user = request.auth  # type: ignore[attr-defined]
    key = body.idempotency_key or header_key
    if body.idempotency_key and header_key and body.idempotency_key != header_key:
        raise _invalid("idempotency_key_mismatch",
                       "The Idempotency-Key header and the body's idempotency_key differ.",
                       "idempotency_key")
    # One indexed read (the key is unique per reporter); a reporter always sees own reports.
    seen = bool(key) and Case.objects.filter(reporter_id=user.pk, idempotency_key=key).exists()
    data = body.dict(exclude={"idempotency_key"})
    case = actions.report_case(user, **data, photos=photos, idempotency_key=key)
    return Status(200 if seen else 201, _detail(user, case))


@router.post("/cases", response={200: CaseDetailOut, 201: CaseDetailOut, **ERRORS},
             summary="Report a case (JSON; photos: use /cases/with-photos)", operation_id="case_report")
@_errors
def report_case(request: HttpRequest, body: ReportIn,
                idempotency_key: str | None = Header(None, alias="Idempotency-Key")) -> Any:
    return _report(request, body, idempotency_key, [])


@router.post("/cases/with-photos", response={200: CaseDetailOut, 201: CaseDetailOut, **ERRORS},
             summary="Report a case with photos (multipart/form-data)",
             operation_id="case_report_with_photos")
@_errors
def report_case_with_photos(request: HttpRequest, body: Form[ReportIn],
                            photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
                            idempotency_key: str | None = Header(None, alias="Idempotency-Key")) -> Any:
    return _report(request, body, idempotency_key, _photos(photos, "photos"))


class BatchIn(InSchema):
    reports: list[ReportIn] = Field(..., min_length=1, max_length=actions.MAX_BATCH)


class BatchItemOut(Schema):
    index: int
    status: int = Field(..., description="201 created, 200 a repeated key's case, 4xx refused")
    case: CaseOut | None = None
    error: ErrorOut | None = None


class BatchOut(Schema):
    created: int
    existing: int
    refused: int
    results: list[BatchItemOut]


@router.post("/cases/batch", response={200: BatchOut, **ERRORS},
             summary="Report many cases at once (an offline queue, a feed; JSON, no photos)",
             operation_id="case_report_batch")
@_errors
def report_batch(request: HttpRequest, body: BatchIn) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    items = actions.report_cases(user, [actions.BatchReport(
        actions.ReportFields(**r.dict(exclude={"idempotency_key", "role"})), r.idempotency_key, r.role)
        for r in body.reports])
    results = [_batch_result(i, item) for i, item in enumerate(items)]
    counts = {status: sum(1 for r in results if r["status"] == status) for status in (200, 201)}
    return {"created": counts[201], "existing": counts[200],
            "refused": len(results) - counts[200] - counts[201], "results": results}


def _batch_result(index: int, item: "actions.BatchItem") -> dict[str, Any]:
    if item.error is not None:
        body = item.error.as_dict()
        field = _field_of(item.error.details)
        if field is not None:
            body["field"] = field
        return {"index": index, "status": item.error.status, "error": body}
    assert item.case is not None
    return {"index": index, "status": 201 if item.created else 200, "case": _compact(item.case)}


# --- Queries ------------------------------------------------------------------------------------


class CaseFilter(InSchema):
    state: str | None = Field(None, max_length=300, description="comma-separated states")
    open: bool | None = Field(None, description="true: only open cases; false: only final ones")
    process: str | None = Field(None, max_length=300, description="comma-separated processes")
    step: str | None = Field(None, max_length=100, description="comma-separated steps")
    holder: str | None = Field(None, max_length=64, description="holding department's code")
    area: str | None = Field(None, max_length=15,
                             description="district, street, community or grid code")
    kind: str | None = Field(None, max_length=10)
    category: str | None = Field(None, max_length=32,
                                 description="class code; a major or minor class includes its sub-classes")
    source: str | None = Field(None, max_length=200, description="comma-separated sources")
    overdue: str | None = Field(None, max_length=40, description="comma-separated: none,green,yellow,red")
    needs_collaboration: bool | None = None
    created_from: datetime | None = Field(None, description="created at or after (ISO 8601)")
    created_to: datetime | None = Field(None, description="created before (ISO 8601, exclusive)")
    bbox: str | None = Field(None, max_length=200, description="minlon,minlat,maxlon,maxlat (WGS84)")
    sort: str = Field("-created_at", max_length=20,
                      description="created_at|updated_at|step_deadline|overall_deadline|number; "
                                  "prefix - for descending")


class PageIn(InSchema):
    limit: int = Field(DEFAULT_PAGE, ge=1, le=MAX_PAGE)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


def _choices(value: str | None, allowed: list[str], field: str) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise _invalid("invalid_filter", f"{field} must be among {', '.join(allowed)}.", field,
                       value=value)
    return items


def _aware(moment: datetime) -> datetime:
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _area_q(code: str) -> Q:
    from citygrid.core.errors import NotFound
    from citygrid.space.selectors import area_by_code

    try:
        area = area_by_code(code)
    except NotFound:
        if code.isdigit() and len(code) in (14, 15):
            from citygrid.space.domain.coverage_checks import normalize_grid_code

            return Q(grid__code=normalize_grid_code(code))
        raise _invalid("area_not_found", f"No area or grid has the code {code}.", "area") from None
    field = {"city": "district__parent_id", "district": "district_id", "street": "street_id",
             "community": "community_id"}.get(area.level, "district_id")
    return Q(**{field: area.pk})


def _bbox_q(text: str) -> Q:
    from citygrid.space.selectors import parse_bbox

    try:
        min_lon, min_lat, max_lon, max_lat = parse_bbox(text)
    except ValidationFailed as exc:
        raise _invalid(exc.code, exc.message, "bbox") from None
    return Q(lon__gte=min_lon, lon__lte=max_lon, lat__gte=min_lat, lat__lte=max_lat)


def _order(sort: str) -> list[Any]:
    name = sort.lstrip("-")
    if name not in SORTS or sort.count("-") > 1:
        raise _invalid("invalid_sort", f"sort must be one of {', '.join(SORTS)}, optionally with -.",
                       "sort", value=sort)
    descending = sort.startswith("-")
    key = F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
    return [key, F("id").desc() if descending else F("id").asc()]


def filter_cases(qs: QuerySet[Case], f: CaseFilter) -> QuerySet[Case]:
    """Apply the list filters to an (already scoped) queryset."""
    for field, value, allowed in (
        ("state", f.state, list(CaseState.values)),
        ("process", f.process, list(CaseProcess.values)),
        ("step", f.step, [s for s in CaseStep.values if s]),
        ("source", f.source, list(Source.values)),
        ("overdue_level", f.overdue, list(OverdueLevel.values)),
    ):
        items = _choices(value, allowed, "overdue" if field == "overdue_level" else field)
        if items is not None:
            qs = qs.filter(**{f"{field}__in": items})
    if f.kind is not None:
        qs = qs.filter(kind__in=_choices(f.kind, list(Kind.values), "kind"))
    if f.open is not None:
        qs = qs.exclude(state__in=FINAL_STATES) if f.open else qs.filter(state__in=FINAL_STATES)
    if f.holder:
        qs = qs.filter(holder_department__code=f.holder)
    if f.area:
        qs = qs.filter(_area_q(f.area))
    if f.category:
        qs = qs.filter(category__code__startswith=f.category)
    if f.needs_collaboration is not None:
        qs = qs.filter(needs_collaboration=f.needs_collaboration)
    if f.created_from is not None:
        qs = qs.filter(created_at__gte=_aware(f.created_from))
    if f.created_to is not None:
        qs = qs.filter(created_at__lt=_aware(f.created_to))
    if f.bbox:
        qs = qs.filter(_bbox_q(f.bbox))
    return qs.order_by(*_order(f.sort))


# A list row's relations: five joined, the grid's code by a subquery (PostgreSQL took 7–17 ms
# to plan a join of six or eight of them on cg_load, under 2 ms for this), and without the
# columns a row never needs: the areas' geometries (WKB, large for a district), the class's
# long texts.
_LIST_RELATED = ("category", "district", "street", "community", "holder_department")
_HEAVY = ("district__geometry", "street__geometry", "community__geometry",
          "category__filing_condition", "category__closing_condition")


def _page(qs: QuerySet[Case], page: PageIn) -> dict[str, Any]:
    rows = (qs.select_related(None).select_related(*_LIST_RELATED).defer(*_HEAVY)
            .annotate(grid_code=Subquery(UnitGrid.objects.filter(pk=OuterRef("grid_id")).values("code")[:1])))
    items: list[Any] = list(rows[page.offset:page.offset + page.limit])  # with their grid_code
    count = qs.count() if len(items) == page.limit or page.offset else page.offset + len(items)
    return {"count": count, "limit": page.limit, "offset": page.offset,
            "items": [_compact(c, c.grid_code) for c in items]}


@router.get("/cases", response={200: CasePage, **ERRORS}, summary="Cases I may see, filtered",
            operation_id="case_list")
@_errors
def list_cases(request: HttpRequest, filters: Query[CaseFilter], page: Query[PageIn]) -> Any:
    qs = filter_cases(selectors.visible_cases(request.auth), filters)  # type: ignore[attr-defined]
    return _page(qs, page)


@router.get("/queues/{role}", response={200: CasePage, **ERRORS},
            summary="What this role must act on now", operation_id="case_queue")
@_errors
def queue(request: HttpRequest, role: str, page: Query[PageIn]) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    if role not in Role.values:
        raise _invalid("unknown_role", f"No role {role}.", "role", allowed=list(Role.values))
    if not is_superuser(user) and role not in roles_of(user):
        raise PermissionDenied(f"You do not hold the role {role}.", code="role_not_held",
                               details={"role": role})
    return _page(selectors.queue_for(user, role), page)


@router.get("/cases/{number}", response={200: CaseDetailOut, **ERRORS}, summary="One case",
            operation_id="case_detail")
@_errors
def case_detail(request: HttpRequest, number: str) -> Any:
    user = request.auth  # type: ignore[attr-defined]
    return _detail(user, _case(user, number))


@router.get("/cases/{number}/events", response={200: list[EventOut], **ERRORS},
            summary="A case's history", operation_id="case_events")
@_errors
def case_events(request: HttpRequest, number: str) -> Any:
    case = _case(request.auth, number)  # type: ignore[attr-defined]
    events = CaseEvent.objects.filter(case=case).select_related("actor").order_by("seq")
    return [
        {"seq": e.seq, "operation": e.operation,
         "actor": e.actor.get_username() if e.actor else None, "actor_name": e.actor_name,
         "role": e.role, "at": e.at, "from_state": e.from_state, "to_state": e.to_state,
         "inputs": e.inputs, "hash": e.hash}
        for e in events
    ]


@router.get("/cases/{number}/photos/{photo_id}", response={200: None, 404: ErrorOut},
            summary="A case photo's file (only for those who may see the case)",
            operation_id="case_photo", openapi_extra=PHOTO_FILE)
@_errors
def case_photo(request: HttpRequest, number: str, photo_id: int) -> Any:
    from citygrid.core.errors import NotFound

    case = _case(request.auth, number)  # type: ignore[attr-defined]
    photo = Photo.objects.filter(case=case, pk=photo_id).first()
    not_found = NotFound(f"Case {number} has no photo {photo_id}.", code="photo_not_found",
                         details={"case": number, "photo": photo_id})
    if photo is None:
        raise not_found
    try:
        handle = photo.file.open("rb")
    except OSError:
        raise not_found from None
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Disposition"] = f'inline; filename="{number}-{photo.pk}"'
    return response


# --- Operations ---------------------------------------------------------------------------------


class OperationIn(InSchema):
    expected_version: int | None = Field(None, ge=1, description="the version you saw: 409 if it changed")
    role: str | None = Field(None, max_length=32, description="the role to act in (default: the first that fits)")


class NoteIn(OperationIn):
    note: str = Field("", max_length=2000)


class ReasonIn(OperationIn):
    reason: str = Field("", max_length=2000)


class MergeIn(ReasonIn):
    duplicate_of: str = Field("", max_length=32, description="the original case's number")


class CloseIn(NoteIn):
    component_state: str = Field("", max_length=20, description="the case's component's state "
                                 "now (intact|damaged|missing|abandoned|removed), set in the inventory")


class DispatchIn(NoteIn):
    department: str = Field("", max_length=64, description="the department's code")
    copies: list[str] = Field(default_factory=list, max_length=20,
                              description="codes of departments to send copies to (抄告)")


class RedispatchIn(ReasonIn):
    department: str = Field("", max_length=64, description="the department's code")
    copies: list[str] = Field(default_factory=list, max_length=20)


class PostponementIn(ReasonIn):
    extension: str = Field("", max_length=40, description='e.g. "2 working days", "4 hours"')


class UrgeIn(OperationIn):
    message: str = Field("", max_length=2000)


class FeedbackIn(NoteIn):
    pass


class CheckIn(ReasonIn):
    passed: bool | None = Field(None, description="true: passed; false: failed (rework; reason required)")


def _photos(files: list[UploadedFile] | None, field: str) -> list[UploadedFile]:
    files = list(files or [])
    if len(files) > MAX_PHOTOS:
        raise _invalid("too_many_photos", f"At most {MAX_PHOTOS} photos at once.", field,
                       count=len(files))
    return files


def _visible(request: HttpRequest, number: str) -> Any:
    """The acting user; 404 `case_not_found` if they may not see the case (as on its detail),
    so that case numbers outside one's scope are not confirmed by a 403."""
    user = request.auth  # type: ignore[attr-defined]
    _case(user, number)
    return user


def _respond(request: HttpRequest, case: Case) -> dict[str, Any]:
    return _detail(request.auth, case)  # type: ignore[attr-defined]


def _blank_to_none(data: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        if data.get(name) == "":
            data[name] = None
    return data


OPERATIONS: list[tuple[str, type[Schema], Callable[..., Case], str]] = [
    ("verify", NoteIn, actions.verify_case, "Verify a public report on site"),
    ("file", NoteIn, actions.file_case, "File (立案)"),
    ("reject", ReasonIn, actions.reject_case, "Reject (不予立案)"),
    ("merge", MergeIn, actions.merge_case, "Merge as a duplicate of another case"),
    ("dispatch", DispatchIn, actions.dispatch_case, "Dispatch to a department (派遣), with copies"),
    ("return", ReasonIn, actions.return_case, "Return to the centre (回退)"),
    ("redispatch", RedispatchIn, actions.redispatch_case, "Re-dispatch to another department"),
    ("accept", NoteIn, actions.accept_case, "Accept (签收)"),
    ("request-postponement", PostponementIn, actions.request_postponement, "Ask for more time"),
    ("approve-postponement", NoteIn, actions.approve_postponement, "Approve the extension"),
    ("refuse-postponement", ReasonIn, actions.refuse_postponement, "Refuse the extension"),
    ("suspend", ReasonIn, actions.suspend_case, "Suspend (挂账): the clock stops"),
    ("resume", NoteIn, actions.resume_case, "Resume a suspended case"),
    ("close", CloseIn, actions.close_case, "Close (结案)"),
    ("void", ReasonIn, actions.void_case, "Void (作废)"),
    ("urge", UrgeIn, actions.urge_case, "Urge (催办)"),
    ("supervise", ReasonIn, actions.supervise_case, "Supervise (督办): escalate"),
    ("reopen", ReasonIn, actions.reopen_case, "Reopen a closed or rejected case"),
]


def _operation_endpoint(name: str, schema: type[Schema], action: Callable[..., Case],
                        summary: str) -> None:
    def endpoint(request: HttpRequest, number: str, body: schema) -> Any:  # type: ignore[valid-type]
        user = _visible(request, number)
        data = _blank_to_none(body.dict(), "duplicate_of", "department")
        return _respond(request, action(user, number, **data))

    endpoint.__name__ = f"case_{name.replace('-', '_')}"
    router.post(f"/cases/{{number}}/{name}", response={200: CaseDetailOut, **ERRORS}, summary=summary,
                operation_id=endpoint.__name__, url_name=endpoint.__name__)(_errors(endpoint))


for _op in OPERATIONS:
    _operation_endpoint(*_op)


@router.post("/cases/{number}/feedback", response={200: CaseDetailOut, **ERRORS},
             summary="Feed back with an after photo (multipart/form-data)", operation_id="case_feedback")
@_errors
def feedback(request: HttpRequest, number: str, body: Form[FeedbackIn],
             after_photo: File[UploadedFile] = None,  # type: ignore[assignment]
             more_photos: File[list[UploadedFile]] = None) -> Any:  # type: ignore[assignment]
    case = actions.feedback_case(_visible(request, number), number, **body.dict(),
                                 after_photo=after_photo, more_photos=_photos(more_photos, "more_photos"))
    return _respond(request, case)


@router.post("/cases/{number}/check", response={200: CaseDetailOut, **ERRORS},
             summary="Check on site: passed or failed (multipart/form-data or form)",
             operation_id="case_check")
@_errors
def check(request: HttpRequest, number: str, body: Form[CheckIn],
          photos: File[list[UploadedFile]] = None) -> Any:  # type: ignore[assignment]
    case = actions.check_case(_visible(request, number), number, **body.dict(),
                              photos=_photos(photos, "photos"))
    return _respond(request, case)
