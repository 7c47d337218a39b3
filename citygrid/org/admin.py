"""Admin for departments, people, roles and responsibility rules, scoped for non-superusers by
the same functions as the API; spreadsheet import/export; the rule tester; conflict check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citygrid.core.errors import DomainError
from citygrid.core.sheets import MAX_SHEET_BYTES
from citygrid.org import actions, selectors, sheets
from citygrid.org.models import Department, Person, ResponsibilityRule, Role, RoleAssignment
from citygrid.org.scoping import can_act, visible_areas
from citygrid.org.services import KINDS, URGENCIES, route, rule_conflicts


def _export_response(what: str, rows: list[dict[str, str]], fmt: str) -> HttpResponse:
    content_type = ("text/csv; charset=utf-8" if fmt == "csv" else
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response = HttpResponse(sheets.write_table(what, rows, fmt), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{what}.{fmt}"'
    return response


class ImportForm(forms.Form):
    file = forms.FileField(label=_("spreadsheet (.xlsx or .csv)"))


class SheetAdminMixin:
    """Import and export of one sheet kind through sheets.py (validate all, then write all)."""

    sheet_name = ""
    rows_of: Any = None

    def get_urls(self) -> list[URLPattern]:
        urls = super().get_urls()  # type: ignore[misc]
        info = self.model._meta.app_label, self.model._meta.model_name  # type: ignore[attr-defined]
        return [path("import/", self.admin_site.admin_view(self.import_view),  # type: ignore[attr-defined]
                     name=f"{info[0]}_{info[1]}_import")] + urls

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):  # type: ignore[attr-defined]
            raise admin.sites.PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        errors: list[dict[str, Any]] = []
        message = ""
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                data = upload.read(MAX_SHEET_BYTES + 1)  # the reader refuses anything larger
                report = sheets.import_file(request.user, self.sheet_name, data, upload.name)
            except DomainError as exc:
                message = exc.message
                errors = [d for d in (exc.details or []) if isinstance(d, dict)]
            else:
                messages.success(request, _("Imported: %(c)d created, %(u)d updated.") % {
                    "c": report.created, "u": report.updated})
                return HttpResponse(status=302, headers={"Location": reverse(
                    f"admin:org_{self.model._meta.model_name}_changelist")})  # type: ignore[attr-defined]
        context = {**self.admin_site.each_context(request), "form": form, "errors": errors,  # type: ignore[attr-defined]
                   "message": message, "title": _("Import from a spreadsheet"),
                   "opts": self.model._meta, "columns": sheets.COLUMNS[self.sheet_name]}  # type: ignore[attr-defined]
        return TemplateResponse(request, "admin/org/import.html", context)

    @admin.action(description=_("Export selected as xlsx"))
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse:
        return _export_response(self.sheet_name, type(self).rows_of(queryset), "xlsx")

    @admin.action(description=_("Export selected as CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse:
        return _export_response(self.sheet_name, type(self).rows_of(queryset), "csv")


class ScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Non-superusers see only what the selectors let them see; foreign keys offer the same."""

    def scoped(self, request: HttpRequest) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(pk__in=self.scoped(request).values("pk"))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            if db_field.related_model is Department:
                kwargs["queryset"] = selectors.visible_departments(request.user)
            elif db_field.related_model._meta.label == "space.Area":
                kwargs["queryset"] = visible_areas(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            if db_field.related_model is Department:
                kwargs["queryset"] = selectors.visible_departments(request.user)
            elif db_field.related_model._meta.label == "space.Area":
                kwargs["queryset"] = visible_areas(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# --- Departments -----------------------------------------------------------------------------

class DepartmentForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Department
        fields = ("code", "name", "level", "kind", "area", "parent", "calendar", "phone", "active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            candidate = Department(pk=self.instance.pk, **{k: v for k, v in data.items()})
            for problem in actions.department_problems(candidate):
                self.add_error(None, problem)
        return data


@admin.register(Department)
class DepartmentAdmin(SheetAdminMixin, ScopedAdmin):
    form = DepartmentForm
    sheet_name = "departments"
    rows_of = staticmethod(sheets.department_rows)
    list_display = ("code", "name", "level", "kind", "area", "parent", "calendar", "active")
    list_filter = ("level", "kind", "active")
    search_fields = ("code", "name")
    raw_id_fields = ("area",)
    actions = ["export_xlsx", "export_csv"]
    change_list_template = "admin/org/change_list_import.html"

    def scoped(self, request: HttpRequest) -> QuerySet[Any]:
        return selectors.visible_departments(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or can_act(request.user, Role.ADMINISTRATOR, area=obj.area))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or can_act(request.user, Role.ADMINISTRATOR, area=obj.area))

    def save_model(self, request: HttpRequest, obj: Department, form: Any, change: bool) -> None:
        actions.save_department(request.user, obj)


# --- People and roles ------------------------------------------------------------------------

class RoleAssignmentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RoleAssignment
    extra = 0
    filter_horizontal = ("areas", "departments")

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            if db_field.related_model is Department:
                kwargs["queryset"] = selectors.visible_departments(request.user)
            else:
                kwargs["queryset"] = visible_areas(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Person)
class PersonAdmin(SheetAdminMixin, ScopedAdmin):
    sheet_name = "people"
    rows_of = staticmethod(sheets.people_rows)
    list_display = ("display_name", "username", "department", "contractor", "roles_held", "phone")
    list_filter = ("roles__role", "department__level")
    search_fields = ("display_name", "user__username", "employee_number", "phone")
    raw_id_fields = ("user",)
    inlines = [RoleAssignmentInline]
    actions = ["export_xlsx", "export_csv"]
    change_list_template = "admin/org/change_list_import.html"

    def scoped(self, request: HttpRequest) -> QuerySet[Any]:
        return selectors.visible_people(request.user)

    @admin.display(description=_("username"), ordering="user__username")
    def username(self, obj: Person) -> str:
        return obj.user.get_username()

    @admin.display(description=_("roles"))
    def roles_held(self, obj: Person) -> str:
        return ", ".join(str(Role(r.role).label) for r in obj.roles.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("user", "department", "contractor").prefetch_related("roles")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        actions.sync_groups(form.instance)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ScopedAdmin):
    list_display = ("person", "role", "scope", "note")
    list_filter = ("role",)
    search_fields = ("person__display_name", "person__user__username")
    filter_horizontal = ("areas", "departments")
    raw_id_fields = ("person",)

    def scoped(self, request: HttpRequest) -> QuerySet[Any]:
        return RoleAssignment.objects.filter(person__in=selectors.visible_people(request.user))

    @admin.display(description=_("scope"))
    def scope(self, obj: RoleAssignment) -> str:
        return ", ".join([a.name for a in obj.areas.all()] + [d.name for d in obj.departments.all()])

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        actions.sync_groups(form.instance.person)


# --- Responsibility rules --------------------------------------------------------------------

class RuleForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ResponsibilityRule
        fields = ("code", "active", "note", "kind", "category", "area", "grids", "polygon", "weekdays",
                  "time_from", "time_to", "date_from", "date_to", "source", "department", "copies",
                  "process", "use_component_owner", "priority")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            fields = {k: v for k, v in data.items() if k not in ("grids", "copies")}
            candidate = ResponsibilityRule(pk=self.instance.pk, **fields)
            if candidate.category_id is not None:
                candidate.kind = candidate.category.kind
            for problem in actions.rule_problems(candidate, list(data.get("grids") or []),
                                                 list(data.get("copies") or [])):
                self.add_error(None, problem)
        return data


class RouteTesterForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=[(k, _(k)) for k in KINDS])
    category = forms.CharField(label=_("class code"), max_length=32)
    lon = forms.FloatField(label=_("longitude"), initial=104.06)
    lat = forms.FloatField(label=_("latitude"), initial=30.66)
    at = forms.DateTimeField(label=_("reported at"), required=False,
                             help_text=_("Empty: now. Local time, e.g. 2026-02-13 16:00."))
    source = forms.ChoiceField(label=_("source"), required=False,
                               choices=[("", "—"), *ResponsibilityRule._meta.get_field("source").choices])
    urgency = forms.ChoiceField(label=_("urgency"), choices=[(u, _(u)) for u in URGENCIES])


@admin.register(ResponsibilityRule)
class ResponsibilityRuleAdmin(SheetAdminMixin, ScopedAdmin):
    form = RuleForm
    sheet_name = "rules"
    rows_of = staticmethod(sheets.rule_rows)
    list_display = ("code", "kind", "category", "area", "time_window", "source", "department",
                    "process", "priority", "active")
    list_filter = ("active", "kind", "process", "source", "area__level")
    search_fields = ("code", "note", "category__code", "category__name", "department__name")
    raw_id_fields = ("category", "area", "department")
    filter_horizontal = ("copies",)
    readonly_fields = ("updated_at",)
    actions = ["export_xlsx", "export_csv"]
    change_list_template = "admin/org/rule_change_list.html"
    fieldsets = (
        (None, {"fields": ("code", "active", "note")}),
        (_("Class"), {"fields": ("kind", "category")}),
        (_("Area scope (one of)"), {"fields": ("area", "grids", "polygon")}),
        (_("Time window and source (optional)"), {"fields": ("weekdays", ("time_from", "time_to"),
                                                             ("date_from", "date_to"), "source")}),
        (_("Outcome"), {"fields": ("department", "copies", "process", "use_component_owner", "priority")}),
        (None, {"fields": ("updated_at",)}),
    )

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "grids":
            kwargs["widget"] = admin.widgets.ManyToManyRawIdWidget(db_field.remote_field, self.admin_site)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def scoped(self, request: HttpRequest) -> QuerySet[Any]:
        return selectors.visible_rules(request.user)

    @admin.display(description=_("time window"))
    def time_window(self, obj: ResponsibilityRule) -> str:
        parts = []
        if obj.weekdays:
            parts.append(obj.weekdays)
        if obj.time_from and obj.time_to:
            parts.append(f"{obj.time_from:%H:%M}-{obj.time_to:%H:%M}")
        if obj.date_from or obj.date_to:
            parts.append(f"{obj.date_from or '…'}~{obj.date_to or '…'}")
        return " ".join(parts) or "—"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None or obj.area_id is None:
            return allowed
        return can_act(request.user, Role.ADMINISTRATOR, area=obj.area)

    def save_model(self, request: HttpRequest, obj: ResponsibilityRule, form: Any, change: bool) -> None:
        if obj.category_id is not None:
            obj.kind = obj.category.kind
        obj.save()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        actions.save_rule(request.user, form.instance)

    def get_urls(self) -> list[URLPattern]:
        urls = super().get_urls()
        return [
            path("tester/", self.admin_site.admin_view(self.tester_view), name="org_route_tester"),
            path("conflicts/", self.admin_site.admin_view(self.conflicts_view), name="org_rule_conflicts"),
        ] + urls

    def tester_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise admin.sites.PermissionDenied
        form = RouteTesterForm(request.GET or None)
        answer: Any = None
        error = ""
        if request.GET and form.is_valid():
            data = form.cleaned_data
            at: datetime | None = data["at"]
            try:
                answer = route(data["category"], data["kind"], data["lon"], data["lat"],
                               at=at or timezone.now(), source=data["source"] or None,
                               urgency=data["urgency"])
            except DomainError as exc:
                error = f"{exc.message} [{exc.code}]"
        context = {**self.admin_site.each_context(request), "form": form, "answer": answer,
                   "result": answer.as_dict() if answer else None, "error": error,
                   "title": _("Rule tester: who handles it, by when, and why?"), "opts": self.model._meta}
        return TemplateResponse(request, "admin/org/route_tester.html", context)

    def conflicts_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise admin.sites.PermissionDenied
        conflicts = rule_conflicts()
        context = {**self.admin_site.each_context(request), "conflicts": conflicts,
                   "title": _("Conflicting rules"), "opts": self.model._meta}
        return TemplateResponse(request, "admin/org/conflicts.html", context)
