"""Admin for the inventory (zh-Hans): components with their history, the import page with a
column mapping and per-row errors, export actions, and the survey team's work list. Every
change goes through the actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from citygrid.core.errors import DomainError
from citygrid.inventory import actions, exporting, selectors
from citygrid.inventory.domain.mapping import FIELDS, MappingError, parse_mapping
from citygrid.inventory.fileio import FORMATS
from citygrid.inventory.models import Component, ComponentChange, ImportBatch, SurveyFlag


class ComponentClassFilter(admin.SimpleListFilter):
    title = _("class")
    parameter_name = "class"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from citygrid.catalog.models import Kind
        from citygrid.catalog.selectors import active_standard

        standard = active_standard()
        if standard is None:
            return []
        cats = standard.categories.filter(kind=Kind.COMPONENT).order_by("code")
        return [(c.code, f"{c.code} {c.name}") for c in cats]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(category_id__in=selectors.class_ids(value) or [])


class DistrictFilter(admin.SimpleListFilter):
    title = _("district")
    parameter_name = "district"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from citygrid.space.models import Area, Level

        return [(a.code, a.name) for a in Area.objects.filter(level=Level.DISTRICT)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(district__code=self.value()) if self.value() else queryset


class ChangeInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ComponentChange
    extra = 0
    can_delete = False
    fields = ("at", "source", "actor", "case_number", "before", "after", "note")
    readonly_fields = fields
    ordering = ("at", "pk")
    verbose_name_plural = _("history")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _export(fmt: str) -> Any:
    content_types = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json",
                     "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Component]) -> HttpResponse:
        response = HttpResponse(exporting.export_components(fmt, queryset),
                                content_type=content_types[fmt])
        response["Content-Disposition"] = f'attachment; filename="components.{fmt}"'
        return response

    action.__name__ = f"export_{fmt}"
    return admin.action(description=_("Export selected components (%s)") % fmt)(action)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("file (.csv, .xlsx, .geojson)"))
    file_format = forms.ChoiceField(label=_("format"), required=False,
                                    choices=[("", _("from the file name"))] + [(f, f) for f in FORMATS])
    mapping = forms.CharField(
        label=_("column mapping"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One per line: the file's column = field, e.g. 编号=code. Fields: %s")
        % ", ".join(FIELDS))

    def clean_mapping(self) -> dict[str, str]:
        lines = [x for x in self.cleaned_data["mapping"].splitlines() if x.strip()]
        try:
            return parse_mapping(lines)
        except MappingError as exc:
            raise forms.ValidationError(str(exc)) from None


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "category", "state", "district", "street", "grid", "owner")
    list_filter = (ComponentClassFilter, "state", DistrictFilter)
    search_fields = ("=code", "^code")
    list_select_related = ("category", "district", "street", "grid", "owner")
    show_full_result_count = False
    list_per_page = 50
    inlines = [ChangeInline]
    readonly_fields = ("code", "category", "lon", "lat", "grid", "community", "street",
                       "district", "created_by_import", "updated_at")
    fieldsets = (
        (None, {"fields": ("code", "name", "category", "state", "photo", "remark")}),
        (_("place"), {"fields": ("lon", "lat", "grid", "community", "street", "district")}),
        (_("responsible units"), {"fields": (
            "competent_department", "competent_unit_code", "competent_unit_name",
            "owner", "owner_unit_code", "owner_unit_name",
            "maintainer", "maintainer_unit_code", "maintainer_unit_name")}),
        (_("record"), {"fields": ("initial_date", "change_date", "data_source",
                                  "created_by_import", "updated_at")}),
    )
    autocomplete_fields = ()
    raw_id_fields = ("competent_department", "owner", "maintainer")
    actions = [_export("csv"), _export("xlsx"), _export("geojson")]
    change_list_template = "admin/inventory/component/change_list.html"
    change_form_template = "admin/inventory/component/change_form.html"

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        from citygrid.cases.selectors import cases_of_component

        component = self.get_object(request, object_id)
        cases = cases_of_component(request.user, component.code) if component else []
        return super().change_view(request, object_id, form_url,
                                   {**(extra_context or {}), "component_cases": cases})

    @admin.display(description=_("created by import"))
    def created_by_import(self, obj: Component) -> str:
        batch = obj.import_batch
        if batch is None:
            return "-"
        return f"{batch.filename} · {batch.actor or '-'} · {batch.at:%Y-%m-%d %H:%M}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # components come from the survey, through import

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a component is never deleted: its state becomes "removed"

    def save_model(self, request: HttpRequest, obj: Component, form: Any, change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            actions.update_component(request.user, obj.code, changes)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def get_urls(self) -> list[URLPattern]:
        return [path("import/", self.admin_site.admin_view(self.import_view),
                     name="inventory_component_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise DjangoPermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        errors: list[dict[str, Any]] = []
        message = ""
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = actions.import_components(
                    request.user, upload.read(), upload.name,
                    fmt=form.cleaned_data["file_format"] or None,
                    mapping=form.cleaned_data["mapping"])
            except DomainError as exc:
                message = exc.message
                errors = [e for e in (exc.details or []) if isinstance(e, dict)]
            else:
                self.message_user(request, _("%(count)d components imported.")
                                  % {"count": result.created})
                return HttpResponseRedirect(reverse("admin:inventory_component_changelist"))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "form": form, "errors": errors, "error_message": message,
                   "title": _("Import components")}
        return TemplateResponse(request, "admin/inventory/component/import.html", context)


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("at", "filename", "file_format", "count", "actor")
    readonly_fields = ("filename", "file_format", "mapping", "count", "actor", "at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _resolve(status: str, label: Any) -> Any:
    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[SurveyFlag]) -> None:
        done = 0
        for flag in queryset:
            try:
                actions.resolve_survey_flag(request.user, flag.pk, status)
                done += 1
            except DomainError as exc:
                modeladmin.message_user(request, exc.message, messages.ERROR)
        modeladmin.message_user(request, _("%(count)d survey flags updated.") % {"count": done})

    action.__name__ = f"mark_{status}"
    return admin.action(description=label)(action)


@admin.register(SurveyFlag)
class SurveyFlagAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("created_at", "category", "district", "grid", "case_number", "status",
                    "map_link", "component")
    list_filter = ("status", DistrictFilter)
    search_fields = ("case_number", "category__code")
    list_select_related = ("category", "district", "grid", "component")
    readonly_fields = ("category", "lon", "lat", "grid", "district", "case_number", "note",
                       "status", "component", "created_by", "created_at", "resolved_by",
                       "resolved_at")
    actions = [_resolve("surveyed", _("Mark as surveyed")),
               _resolve("dismissed", _("Dismiss")), _resolve("open", _("Reopen"))]

    @admin.display(description=_("position"))
    def map_link(self, obj: SurveyFlag) -> str:
        return f"{obj.lon:.6f}, {obj.lat:.6f}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
