"""Case pages for the centre (issue 4, item 9): queues per role, the report form, the case
detail with its timeline and the operation forms. Thin: reads go through the selectors,
writes through the actions; every DomainError is shown on the page with its code."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote, urlencode

import shapely.geometry
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import models
from django.db.models import F, Q, QuerySet
from django.forms.renderers import DjangoTemplates
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from citygrid.cases import actions, selectors
from citygrid.cases.domain.history import ChainLink, first_broken_link
from citygrid.cases.forms import (
    PAGE_SIZE,
    SORTS,
    CheckForm,
    CloseForm,
    DispatchForm,
    FeedbackForm,
    MergeForm,
    NoteForm,
    OperationForm,
    PostponementForm,
    QueueFilterForm,
    ReasonForm,
    RedispatchForm,
    ReportForm,
    UrgeForm,
)
from citygrid.cases.history import Break
from citygrid.cases.models import (
    Case,
    CaseEvent,
    CaseState,
    CaseStep,
    Kind,
    Operation,
    OverdueLevel,
    Photo,
    PhotoKind,
    Urgency,
)
from citygrid.catalog.selectors import active_standard
from citygrid.core.errors import Conflict, DomainError, NotFound
from citygrid.org.models import Role
from citygrid.org.scoping import AnyUser, is_superuser, roles_of
from citygrid.web.views import api_base, map_config

ALL_TAB = "all"
ROLE_LABELS = {**dict(Role.choices), "system": "system", "public": "public"}


@dataclass(frozen=True)
class OperationSpec:
    action: Callable[..., Case]
    form: type[OperationForm]
    fixed: dict[str, Any]
    danger: bool = False


# The collaboration platform (docs/collaboration.md): `send_to_collaboration` is one transition
# of the engine, but the page offers it as two operations through the collab app's wrappers
# (which also open the platform's dossier): the centre sends a case for ownership confirmation,
# the holding department returns it as not its own.
RETURN_NOT_OURS = "return_not_ours"
CENTRE_SENDERS = frozenset({Role.DISPATCHER, Role.COLLABORATION_COORDINATOR})


def _send_case(actor: AnyUser, case_id: int, **kwargs: Any) -> Case:
    from citygrid.collab.actions import send_case

    return Case.objects.get(pk=send_case(actor, case_id, **kwargs).case_id)


def _return_not_ours(actor: AnyUser, case_id: int, **kwargs: Any) -> Case:
    from citygrid.collab.actions import return_not_ours

    return Case.objects.get(pk=return_not_ours(actor, case_id, **kwargs).case_id)


# The desk's keyboard shortcut for each operation (one key each, unique, none of j, k, u, / and ?,
# which the pages use themselves): the detail page marks its panels with them (desk-keys.js).
OPERATION_KEYS = {
    "verify": "v", "file": "f", "reject": "x", "merge": "m", "dispatch": "d", "return": "b",
    "redispatch": "r", "accept": "a", "feedback": "e", "request_postponement": "p",
    "approve_postponement": "y", "refuse_postponement": "n", "suspend": "s", "resume": "w",
    "check_pass": "c", "check_fail": "z", "close": "l", "void": "q", "urge": "g",
    "supervise": "t", "reopen": "o", "send_to_collaboration": "h", "return_not_ours": "i",
}

OPERATIONS: dict[str, OperationSpec] = {
    "verify": OperationSpec(actions.verify_case, NoteForm, {}),
    "file": OperationSpec(actions.file_case, NoteForm, {}),
    "reject": OperationSpec(actions.reject_case, ReasonForm, {}, danger=True),
    "merge": OperationSpec(actions.merge_case, MergeForm, {}),
    "dispatch": OperationSpec(actions.dispatch_case, DispatchForm, {}),
    "return": OperationSpec(actions.return_case, ReasonForm, {}),
    "redispatch": OperationSpec(actions.redispatch_case, RedispatchForm, {}),
    "accept": OperationSpec(actions.accept_case, NoteForm, {}),
    "feedback": OperationSpec(actions.feedback_case, FeedbackForm, {}),
    "request_postponement": OperationSpec(actions.request_postponement, PostponementForm, {}),
    "approve_postponement": OperationSpec(actions.approve_postponement, NoteForm, {}),
    "refuse_postponement": OperationSpec(actions.refuse_postponement, ReasonForm, {}),
    "suspend": OperationSpec(actions.suspend_case, ReasonForm, {}),
    "resume": OperationSpec(actions.resume_case, NoteForm, {}),
    "check_pass": OperationSpec(actions.check_case, CheckForm, {"passed": True}),
    "check_fail": OperationSpec(actions.check_case, CheckForm, {"passed": False}),
    "close": OperationSpec(actions.close_case, CloseForm, {}),
    "void": OperationSpec(actions.void_case, ReasonForm, {}, danger=True),
    "urge": OperationSpec(actions.urge_case, UrgeForm, {}),
    "supervise": OperationSpec(actions.supervise_case, ReasonForm, {}),
    "reopen": OperationSpec(actions.reopen_case, ReasonForm, {}),
    "send_to_collaboration": OperationSpec(_send_case, ReasonForm, {}),
    RETURN_NOT_OURS: OperationSpec(_return_not_ours, ReasonForm, {}),
}


def _case_or_404(user: AnyUser, number: str) -> Case:
    try:
        return selectors.case_detail(user, number)
    except NotFound:
        raise Http404(_("No such case, or not one you may see.")) from None


# --- Queues ------------------------------------------------------------------------------------


def role_tabs(user: AnyUser) -> list[tuple[str, str]]:
    """The user's roles in the order the organisation lists them, then "all I may see"."""
    held = set(Role.values) - {Role.ADMINISTRATOR} if is_superuser(user) else roles_of(user)
    tabs = [(value, str(label)) for value, label in Role.choices if value in held]
    return [*tabs, (ALL_TAB, _("All I may see"))]


WIDGETS = "django/forms/widgets/"
# Widget templates that only include input.html.
INPUT_TEMPLATES = {f"{WIDGETS}{name}.html" for name in ("input", "text", "hidden", "number", "email")}


def _attrs_html(attrs: dict[str, Any]) -> str:
    return "".join(f" {conditional_escape(name)}" if value is True
                   else f' {conditional_escape(name)}="{conditional_escape(value)}"'
                   for name, value in attrs.items() if value is not False)


def _option_html(option: dict[str, Any]) -> str:
    return (f'<option value="{conditional_escape(option["value"])}"{_attrs_html(option["attrs"])}>'
            f'{conditional_escape(option["label"])}</option>\n')


def _select_html(widget: dict[str, Any]) -> str:
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs_html(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        parts.extend("\n  " + _option_html(option) for option in options)
        if group_name:
            parts.append("\n  </optgroup>")
    return "".join(parts) + "\n</select>"


class WidgetRenderer(DjangoTemplates):
    """Django's form renderer, writing the plain widgets (inputs, text areas, menus) in Python,
    to the byte what Django's templates write (tests/cases/test_page_costs.py): through the
    templates a menu option costs two template includes, and the filter and action forms
    were a sixth of the queue and case pages' time."""

    def render(self, template_name: str, context: dict[str, Any], request: HttpRequest | None = None) -> str:
        widget = context.get("widget", {})
        if template_name in INPUT_TEMPLATES:
            value = "" if widget["value"] is None else f' value="{conditional_escape(widget["value"])}"'
            return (f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
                    f'{value}{_attrs_html(widget["attrs"])}>')
        if template_name == f"{WIDGETS}textarea.html":
            text = conditional_escape(widget["value"]) if widget["value"] else ""
            return f'<textarea name="{conditional_escape(widget["name"])}"{_attrs_html(widget["attrs"])}>\n{text}</textarea>'
        if template_name == f"{WIDGETS}select.html" and all(
                o["template_name"] == f"{WIDGETS}select_option.html"
                for _n, group, _i in widget["optgroups"] for o in group):
            return _select_html(widget)
        return str(super().render(template_name, context, request))


WIDGET_RENDERER = WidgetRenderer()


def _filtered(qs: QuerySet[Case], data: dict[str, Any]) -> QuerySet[Case]:
    if data.get("state"):
        qs = qs.filter(state=data["state"])
    if data.get("district"):
        qs = qs.filter(district__code=data["district"])
    if data.get("category"):
        qs = qs.filter(category__code__startswith=data["category"])
    if data.get("level"):
        qs = qs.filter(overdue_level=data["level"])
    if data.get("q"):
        text = data["q"].strip()
        qs = qs.filter(Q(number__startswith=text) | Q(address__icontains=text))
    return qs.order_by(*SORTS.get(data.get("sort") or "deadline", SORTS["deadline"]))


# What a queue row shows, and what its traffic light is computed from (`actions.level_of`): the
# cases' other columns and their related rows (the areas' geometries, the class's long texts)
# stay in the database.
_ROW_FIELDS = ("number", "state", "step", "urgency", "needs_collaboration", "address", "overdue_level",
               "step_started_at", "step_warn_at", "step_deadline", "deadline_provisional",
               "overall_started_at", "overall_warn_at", "overall_deadline")
_ROW_NAMES = {"category_code": F("category__code"), "category_name": F("category__name"),
              "district_name": F("district__name"), "street_name": F("street__name"),
              "community_name": F("community__name"), "holder_name": F("holder_department__name"),
              "person_name": F("holder_person__display_name")}
FILTERS = ("state", "district", "category", "level", "q")


def labels(choices: type[models.TextChoices]) -> dict[str, str]:
    """value → label in the current language, translated once per page (not once per row)."""
    return {value: str(label) for value, label in choices.choices}


def lights() -> dict[str, tuple[str, str]]:
    """Traffic-light level → (label, title), as `_level.html` shows them."""
    # The template's msgid, "%" doubled: {% translate %} looks it up so and undoubles the result.
    over_80 = _("Over 80 %% of the time limit used").replace("%%", "%")
    return {OverdueLevel.RED: (_("red"), _("Over the time limit")),
            OverdueLevel.YELLOW: (_("yellow"), over_80),
            OverdueLevel.GREEN: (_("green"), _("Within the time limit"))}


def _queue_rows(cases: Iterable[Any]) -> list[dict[str, Any]]:
    now = actions.now_()
    states, steps, urgencies, shown = labels(CaseState), labels(CaseStep), labels(Urgency), lights()
    detail = reverse("cases:detail", args=["0"])[:-2]  # "/cases/": each row adds its number
    rows = []
    for case in cases:
        level = actions.level_of(case, now)
        light, light_title = shown.get(level, ("", ""))
        rows.append({
            "number": case.number, "url": f"{detail}{quote(case.number)}/", "level": level,
            "light": light, "light_title": light_title, "urgent": case.urgency != Urgency.ORDINARY,
            "urgency": urgencies.get(case.urgency, case.urgency), "collaboration": case.needs_collaboration,
            "state": states.get(case.state, case.state),
            "step": steps.get(case.step, case.step) if case.step else "",
            "category_code": case.category_code, "category_name": case.category_name,
            "district": case.district_name, "street": case.street_name, "community": case.community_name,
            "address": case.address, "holder": case.holder_name, "person": case.person_name,
            "deadline": case.step_deadline, "provisional": case.deadline_provisional,
        })
    return rows


@login_required
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    tabs = role_tabs(user)
    role = request.GET.get("role") or tabs[0][0]
    if role not in dict(tabs):
        role = tabs[0][0]
    # The page's refresh every 30 s without filters needs no form (nor its district menu).
    bare = request.htmx and not any(request.GET.get(name) for name in (*FILTERS, "sort"))
    form = None if bare else QueueFilterForm(request.GET or None, user=user, renderer=WIDGET_RENDERER)
    data = form.cleaned_data if form is not None and form.is_bound and form.is_valid() else {}
    base = selectors.visible_cases(user) if role == ALL_TAB else selectors.queue_for(user, role)
    page = Paginator(_filtered(base, data).select_related(None).only(*_ROW_FIELDS),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    rows = _queue_rows(cast(QuerySet[Case], page.object_list).annotate(**_ROW_NAMES))  # not in the count
    kept = {k: v for k, v in request.GET.items() if k != "page" and v}
    kept["role"] = role
    counts: dict[str, int] = {}
    if not request.htmx:
        if role != ALL_TAB and not any(data.get(name) for name in FILTERS):
            counts[role] = page.paginator.count  # the tab shown: its count is the page's
        counts.update({value: selectors.queue_for(user, value).count()
                       for value, _label in tabs if value not in (ALL_TAB, *counts)})
    context = {
        "tabs": [(value, label, counts.get(value)) for value, label in tabs],
        "role": role, "form": form, "page": page, "rows": rows,
        "query": urlencode(kept), "refresh_query": urlencode({**kept, "page": page.number}),
        "tab_query": urlencode({k: v for k, v in kept.items() if k != "role"}),
    }
    template = "cases/_queue_results.html" if request.htmx else "cases/queue.html"
    return render(request, template, context)


# --- Reporting ---------------------------------------------------------------------------------


def _report_categories() -> Any:
    standard = active_standard()
    if standard is None:
        return []
    return (standard.categories.filter(level__in=["minor", "fine"])
            .select_related("parent__parent").order_by("kind", "sort_order", "code"))


REPORT_FIELDS = {"source", "kind", "category_code", "urgency", "lon", "lat", "address",
                 "component_id", "uninventoried", "description"}


def _field_of(name: Any, known: set[str], default: str | None = None) -> str | None:
    """The form field an action's error `field` names ("photos[0]" → "photos")."""
    if not isinstance(name, str):
        return default
    base = name.split("[", 1)[0]
    return base if base in known else default


def error_text(exc: DomainError) -> str:
    """The page's words for the commonest refusals; the action's own message follows."""
    known = {
        "missing_input": _("Required for this operation."),
        "role_not_allowed": _("Your role may not do this."),
        "role_not_held": _("You do not hold this role."),
        "out_of_scope": _("This case lies outside your scope."),
        "case_changed": _("The case changed meanwhile."),
        "operation_not_allowed_in_state": _("This operation is not open in the case's state."),
    }
    lead = known.get(exc.code)
    return f"{lead} {exc.message} ({exc.code})" if lead else f"{exc.message} ({exc.code})"


def add_domain_error(form: Any, exc: DomainError, known: set[str], default: str | None = None) -> None:
    details = exc.details
    items: list[tuple[str | None, str]] = []
    if isinstance(details, list):
        items = [(_field_of(d.get("field"), known, default),
                  f"{d.get('message', exc.message)} ({exc.code})") for d in details if isinstance(d, dict)]
    elif isinstance(details, dict):
        names = details.get("fields") or [details.get("field")]
        fields = {_field_of(n, known, default) for n in names if n}
        items = [(field, error_text(exc)) for field in (fields or {default})]
    if not items:
        items = [(default, error_text(exc))]
    for field, message in items:
        form.add_error(field if field in form.fields else None, message)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    user = request.user
    categories = list(_report_categories())
    form = ReportForm(request.POST or None, request.FILES or None, user=user, categories=categories)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case = actions.report_case(user, **form.cleaned_data)
            except DomainError as exc:
                add_domain_error(form, exc, REPORT_FIELDS | {"photos"}, default=None)
                status = exc.status
            else:
                messages.success(request, _("Case %(number)s reported.") % {"number": case.number})
                return redirect("cases:detail", number=case.number)
        else:
            status = 422
        if request.FILES:
            form.photos_note = _("Choose the photos again.")  # type: ignore[attr-defined]
    context = {
        "form": form,
        "map": {**_map_base(), "geocode": api_base() + "geocode", "api": api_base()},
        "has_standard": bool(categories),
        "geocode_labels": {
            "district": _("District"), "street": _("Street"), "community": _("Community"),
            "grid": _("Unit grid"), "outside": _("This place is outside the area under supervision."),
            "failed": _("Could not look the place up. Try again."),
            "kinds": {value: str(label) for value, label in Kind.choices},
        },
    }
    return render(request, "cases/report.html", context, status=status)


def _map_base() -> dict[str, Any]:
    config = map_config(get_language() or settings.LANGUAGE_CODE)
    return {"tiles": config["tiles"], "center": config["center"], "zoom": config["zoom"],
            "bounds": config["bounds"]}


# --- Detail and operations ---------------------------------------------------------------------


def _roles_by_operation(user: AnyUser, case: Case) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for operation, role in selectors.allowed_operations(user, case):
        if operation == Operation.SEND_TO_COLLABORATION and role not in CENTRE_SENDERS:
            operation = RETURN_NOT_OURS
        found.setdefault(operation, []).append((role, str(ROLE_LABELS.get(role, role))))
    return found


def _operation_label(operation: str) -> str:
    if operation == RETURN_NOT_OURS:
        return _("Not our responsibility: return to the collaboration platform")
    if operation == Operation.SEND_TO_COLLABORATION:
        return _("Send to the collaboration platform for ownership confirmation")
    return str(dict(Operation.choices).get(operation, operation))


def _dossier_of(user: AnyUser, case: Case) -> Any:
    """The open dossier of a case at the collaboration platform, if the user may see it."""
    if case.state != CaseState.IN_COLLABORATION:
        return None
    from citygrid.collab.models import DossierStatus
    from citygrid.collab.selectors import visible_dossiers

    return (visible_dossiers(user).filter(case=case, status=DossierStatus.OPEN)
            .order_by("-opened_at", "-id").first())


def _form_for(operation: str, user: AnyUser, case: Case, roles: list[tuple[str, str]],
              data: Any = None, files: Any = None) -> OperationForm:
    spec = OPERATIONS[operation]
    kwargs: dict[str, Any] = {"roles": roles, "prefix": operation, "renderer": WIDGET_RENDERER,
                              "initial": {"expected_version": case.version}}
    if issubclass(spec.form, DispatchForm):
        kwargs["user"] = user
        if case.routed_department_id and data is None:
            kwargs["initial"]["department"] = case.routed_department_id
    form = spec.form(data, files, **kwargs)
    if isinstance(form, CloseForm) and not case.component_id:
        del form.fields["component_state"]
    if isinstance(form, DispatchForm) and data is None:
        _share_targets(form)
    return form


def _share_targets(form: DispatchForm) -> None:
    """The department and copies menus list the same departments: read them once for both
    (each menu would read its queryset when drawn). A posted form still checks its choices
    against the queryset."""
    queryset = cast("forms.ModelChoiceField[Any]", form.fields["department"]).queryset
    targets = list(queryset) if queryset is not None else []
    for name in ("department", "copies"):
        field = cast("forms.ModelChoiceField[Any]", form.fields[name])
        iterator = field.iterator(field)
        blank = [("", field.empty_label)] if field.empty_label is not None else []
        field.choices = blank + [iterator.choice(target) for target in targets]


def _decided_on_dossier(case: Case, operation: str) -> bool:
    """Dispatching out of the platform is the coordinator's decision on the dossier page."""
    return operation == Operation.DISPATCH and case.state == CaseState.IN_COLLABORATION


def _operation_panels(user: AnyUser, case: Case, bound: tuple[str, OperationForm] | None,
                      by_operation: dict[str, list[tuple[str, str]]]) -> list[dict[str, Any]]:
    panels = []
    for operation, roles in by_operation.items():
        if operation not in OPERATIONS or _decided_on_dossier(case, operation):
            continue
        if bound is not None and bound[0] == operation:
            form = bound[1]
        else:
            form = _form_for(operation, user, case, roles)
        panels.append({"operation": operation, "label": _operation_label(operation),
                       "form": form, "danger": OPERATIONS[operation].danger,
                       "key": OPERATION_KEYS.get(operation, ""),
                       "open": bound is not None and bound[0] == operation,
                       "multipart": operation in ("feedback", "check_pass", "check_fail")})
    return panels


def _input_labels() -> dict[str, str]:
    return {"reason": _("Reason"), "note": _("Note"), "department": _("Handling department"),
            "copies": _("Copies to"), "extension": _("Extension"), "message": _("Message"),
            "duplicate_of": _("Original case number"), "photos": _("Photos"),
            "component_state": _("Component state"), "uninventoried": _("Not in the inventory"),
            "address": _("Address"), "description": _("Description"), "urgency": _("Urgency")}


def _event_rows(events: list[CaseEvent]) -> list[dict[str, Any]]:
    keys = _input_labels()
    states = dict(CaseState.choices)
    operations = dict(Operation.choices)
    rows = []
    for event in events:
        inputs = [(keys.get(key, key),
                   value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
                  for key, value in (event.inputs or {}).items() if value not in ("", None, [], {})]
        rows.append({
            "event": event,
            "operation": operations.get(event.operation, event.operation),
            "who": event.actor_name or (event.actor.get_username() if event.actor else _("system")),
            "role": ROLE_LABELS.get(event.role, event.role),
            "from": states.get(event.from_state, event.from_state),
            "to": states.get(event.to_state, event.to_state),
            "inputs": inputs,
        })
    return rows


# What a suggestion uses of a case: its number, state and place (the search itself joins the
# class, district and holder; of those, only their ids).
_DUPLICATE_COLUMNS = ("number", "state", "lon", "lat", "created_at", "category__id", "district__id",
                      "holder_department__id")


def _chain_break(case: Case, events: list[CaseEvent]) -> Break | None:
    """`history.check_case_chain`, on the events the page has read already (not twice)."""
    links = (ChainLink(e.seq, actions.event_payload(e, case.number), e.prev_hash, e.hash) for e in events)
    broken = first_broken_link(links, head=case.history_head or None)
    return Break(case.number, broken.seq, broken.reason) if broken else None


def _duplicates(user: AnyUser, case: Case) -> list[Any] | None:
    """Open cases that may be the same problem, when the duplicate finder is installed."""
    try:
        from citygrid.cases.duplicates import duplicates_of
    except ImportError:
        return None
    return list(duplicates_of(case, queryset=selectors.visible_cases(user).select_related(None).only(
        *_DUPLICATE_COLUMNS)))


def display(case: Case, *names: str) -> dict[str, str]:
    """The labels of the case's choice fields, each translated once (Django's get_FOO_display
    translates every choice of the field at each call)."""
    found = {}
    for name in names:
        value = getattr(case, name)
        field = cast("models.Field[Any, Any]", Case._meta.get_field(name))
        found[name] = str(dict(field.flatchoices).get(value, value))
    return found


def _location(case: Case) -> dict[str, Any]:
    grid_shape = shapely.geometry.mapping(case.grid.shape) if case.grid_id else None
    return {**_map_base(), "point": [case.lat, case.lon], "grid": grid_shape, "zoom": 17}


def render_detail(request: HttpRequest, case: Case, *, bound: tuple[str, OperationForm] | None = None,
                  status: int = 200, conflict: DomainError | None = None,
                  error: DomainError | None = None) -> HttpResponse:
    user = request.user
    # The case is one the user may see (`_case_or_404`): its events need no second scoped read.
    events = list(CaseEvent.objects.filter(case=case).select_related("actor").order_by("seq"))
    photos = list(Photo.objects.filter(case=case).order_by("uploaded_at", "id"))
    roles = _roles_by_operation(user, case)
    context = {
        "case": case,
        "display": display(case, "state", "step", "process", "kind", "urgency", "source"),
        "level": actions.level_of(case),
        "events": _event_rows(events),
        "chain_break": _chain_break(case, events),
        "before_photos": [p for p in photos if p.kind == PhotoKind.BEFORE],
        "after_photos": [p for p in photos if p.kind == PhotoKind.AFTER],
        "copies": list(case.copies.select_related("department").order_by("sent_at", "id")),
        "panels": _operation_panels(user, case, bound, roles),
        "conflict": conflict,
        "error": error,
        "error_text": error_text(error) if error is not None else "",
        "location": _location(case),
        "duplicates": _duplicates(user, case) if "merge" in roles else None,
        "merge_roles": roles.get("merge", []),
        "in_collaboration": case.state == CaseState.IN_COLLABORATION,
        "dossier": _dossier_of(user, case),
        "hierarchy": [a for a in (case.district, case.street, case.community) if a is not None],
    }
    return render(request, "cases/detail.html", context, status=status)


@login_required
@require_safe
def detail(request: HttpRequest, number: str) -> HttpResponse:
    return render_detail(request, _case_or_404(request.user, number))


@login_required
@require_POST
def operate(request: HttpRequest, number: str, operation: str) -> HttpResponse:
    user = request.user
    case = _case_or_404(user, number)
    if operation not in OPERATIONS:
        raise Http404(_("No such operation."))
    spec = OPERATIONS[operation]
    if _decided_on_dossier(case, operation):
        return render_detail(request, case, status=409, conflict=Conflict(
            f"Case {case.number} is at the collaboration platform: the coordinator dispatches "
            "it with a decision on its dossier page.", code="decide_on_dossier",
            details={"case": case.number, "state": case.state, "version": case.version}))
    # When the operation is no longer offered (the case moved on, or the user may not), any
    # role may be named: the action then answers with the precise conflict or refusal.
    roles = _roles_by_operation(user, case).get(operation) or [
        (value, str(label)) for value, label in Role.choices]
    form = _form_for(operation, user, case, roles, request.POST, request.FILES)
    if not form.is_valid():
        return render_detail(request, case, bound=(operation, form), status=422)
    kwargs = form.action_kwargs()
    expected_version = kwargs.pop("expected_version")
    role = kwargs.pop("role") or None
    if operation == "feedback":
        kwargs["more_photos"] = request.FILES.getlist(f"{operation}-more_photos")
    if operation in ("check_pass", "check_fail"):
        kwargs["photos"] = request.FILES.getlist(f"{operation}-photos")
    try:
        case = spec.action(user, case.pk, expected_version=expected_version, role=role,
                           **kwargs, **spec.fixed)
    except Conflict as exc:
        fresh = _case_or_404(user, number)
        return render_detail(request, fresh, status=409, conflict=exc)
    except DomainError as exc:
        add_domain_error(form, exc, set(form.fields) | {"more_photos", "photos"}, default=None)
        return render_detail(request, _case_or_404(user, number), bound=(operation, form),
                             status=exc.status, error=exc)
    label = _operation_label(operation)
    messages.success(request, _("%(operation)s: done. The case is now %(state)s.") % {
        "operation": label, "state": case.get_state_display()})
    return redirect(reverse("cases:detail", args=[case.number]) + "#timeline")


@login_required
@require_safe
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    """A case photo, to those who may see the case (never from public media)."""
    found = Photo.objects.filter(pk=pk).first()
    if found is None:
        raise Http404(_("No such photo."))
    _case_or_404(request.user, found.case.number)
    try:
        handle = found.file.open("rb")
    except OSError:
        raise Http404(_("The photo file is missing.")) from None
    response = FileResponse(handle, content_type=found.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Disposition"] = f'inline; filename="{found.case.number}-{found.pk}"'
    return response
