"""Admin for standards, classes, limits and mappings. Changes go through the actions, so the
admin obeys the same rules (drafts only, mappings recorded) as every other caller."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from citygrid.catalog import actions, selectors
from citygrid.catalog.models import (
    Category,
    CategoryMapping,
    HandlingTimeLimit,
    Standard,
    StepTimeLimit,
)
from citygrid.catalog.sheets import read_sheet, write_csv, write_xlsx
from citygrid.core.errors import DomainError


def _editable(obj: Any) -> bool:
    if obj is None:
        return True
    standard = obj if isinstance(obj, Standard) else getattr(obj, "standard", None)
    return standard is None or standard.is_editable


def _download(rows: list[dict[str, str]], name: str, as_csv: bool = False) -> HttpResponse:
    if as_csv:
        response = HttpResponse(write_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    response = HttpResponse(
        write_xlsx(rows),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


class ReadOnlyWhenPublished:
    """Inline and model admins: objects of an active or retired standard are view-only."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editable(obj) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editable(obj) and super().has_delete_permission(request, obj)  # type: ignore[misc]



class InlineReadOnlyWhenPublished(ReadOnlyWhenPublished):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editable(obj) and super().has_add_permission(request, obj)  # type: ignore[misc]


class StepTimeLimitInline(InlineReadOnlyWhenPublished, admin.TabularInline):
    model = StepTimeLimit
    extra = 0
    fields = ["step", "urgency", "area_type", "amount", "unit", "note"]


@admin.register(Standard)
class StandardAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "year", "status", "is_national", "city", "based_on",
                    "majors", "minors", "fines"]
    list_filter = ["status", "is_national"]
    search_fields = ["code", "name"]
    readonly_fields = ["status", "activated_at", "created_at", "based_on"]
    inlines = [StepTimeLimitInline]
    actions = ["export_xlsx", "export_csv", "activate"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Standard]:
        return super().get_queryset(request).select_related("city", "based_on").annotate(
            n_major=Count("categories", filter=Q(categories__level="major")),
            n_minor=Count("categories", filter=Q(categories__level="minor")),
            n_fine=Count("categories", filter=Q(categories__level="fine")),
        )

    @admin.display(description=_("major classes"), ordering="n_major")
    def majors(self, obj: Any) -> int:
        return int(getattr(obj, "n_major", 0))

    @admin.display(description=_("minor classes"), ordering="n_minor")
    def minors(self, obj: Any) -> int:
        return int(getattr(obj, "n_minor", 0))

    @admin.display(description=_("fine classes"), ordering="n_fine")
    def fines(self, obj: Any) -> int:
        return int(getattr(obj, "n_fine", 0))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editable(obj) and super().has_delete_permission(request, obj)

    @admin.action(description=_("Export classes (xlsx)"))
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet[Standard]) -> HttpResponse:
        rows = selectors.export_rows(Category.objects.filter(standard__in=queryset))
        return _download(rows, "classes")

    @admin.action(description=_("Export classes (CSV)"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Standard]) -> HttpResponse:
        rows = selectors.export_rows(Category.objects.filter(standard__in=queryset))
        return _download(rows, "classes", as_csv=True)

    @admin.action(description=_("Activate the selected draft standards"),
                  permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Standard]) -> None:
        for standard in queryset:
            try:
                actions.activate_standard(standard, user=request.user)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(request, _("Activated %s.") % standard.code)


class HandlingTimeLimitInline(InlineReadOnlyWhenPublished, admin.TabularInline):
    model = HandlingTimeLimit
    extra = 0
    fields = ["urgency", "amount", "unit", "unit_uncertain", "note"]


class MappingInline(admin.TabularInline):
    model = CategoryMapping
    fk_name = "to_category"
    extra = 0
    fields = ["from_category", "relation", "note"]
    readonly_fields = fields
    verbose_name = _("origin")
    verbose_name_plural = _("origins (mappings from the base standard)")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ImportForm(forms.Form):
    standard = forms.ModelChoiceField(
        label=_("target draft standard"),
        queryset=Standard.objects.filter(status=Standard.Status.DRAFT),
    )
    file = forms.FileField(label=_("spreadsheet (.xlsx or .csv)"))


@admin.register(Category)
class CategoryAdmin(ReadOnlyWhenPublished, admin.ModelAdmin):
    change_list_template = "admin/catalog/category/change_list.html"
    list_display = ["code", "name", "kind", "level", "parent", "is_emergency", "confidence",
                    "standard"]
    list_filter = ["standard", "kind", "level", "is_emergency", "confidence"]
    search_fields = ["code", "name"]
    list_select_related = ["standard", "parent"]
    autocomplete_fields = ["parent"]
    inlines = [HandlingTimeLimitInline, MappingInline]
    actions = ["export_xlsx", "export_csv"]
    fields = ["standard", "kind", "level", "code", "parent", "name", "filing_condition",
              "closing_condition", "is_emergency", "urgency_levels", "responsible_units",
              "source", "note", "confidence", "sort_order"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["standard", "kind", "level", "code", "parent"] if obj else []

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in form.changed_data
                  if name in actions.EDITABLE_FIELDS}
        if change:
            original = Category.objects.get(pk=obj.pk)
            actions.update_category(original, user=request.user, **fields)
            return
        created = actions.add_category(
            obj.standard, kind=obj.kind, code=obj.code, name=obj.name, level=obj.level,
            parent=obj.parent, user=request.user,
            **{k: v for k, v in fields.items() if k != "name"},
        )
        obj.pk = created.pk

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        actions.remove_category(obj, user=request.user)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        found = super().get_actions(request)
        found.pop("delete_selected", None)  # deletions go one by one through the action
        return found

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "standard":
            kwargs["queryset"] = Standard.objects.filter(status=Standard.Status.DRAFT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def changeform_view(self, request: HttpRequest, object_id: str | None = None,
                        form_url: str = "", extra_context: dict[str, Any] | None = None
                        ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:  # the action refused: nothing was saved
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request: HttpRequest, object_id: str,
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:catalog_category_changelist"))

    def get_urls(self) -> list[URLPattern]:
        return [
            path("import/", self.admin_site.admin_view(self.import_view),
                 name="catalog_category_import"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise DjangoPermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        errors: list[dict[str, Any]] = []
        message = ""
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            standard = form.cleaned_data["standard"]
            try:
                rows = read_sheet(upload, upload.name)
                result = actions.import_categories(standard, rows, user=request.user)
            except DomainError as exc:
                message, errors = exc.message, list(exc.details or [])
            else:
                self.message_user(request, _("%(created)d classes created, %(updated)d updated.")
                                  % {"created": result.created, "updated": result.updated})
                url = reverse("admin:catalog_category_changelist")
                return HttpResponseRedirect(f"{url}?standard__id__exact={standard.pk}")
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "form": form, "errors": errors, "error_message": message,
                   "title": _("Import classes")}
        return TemplateResponse(request, "admin/catalog/category/import.html", context)

    @admin.action(description=_("Export selected classes (xlsx)"))
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet[Category]) -> HttpResponse:
        return _download(selectors.export_rows(queryset), "classes")

    @admin.action(description=_("Export selected classes (CSV)"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Category]) -> HttpResponse:
        return _download(selectors.export_rows(queryset), "classes", as_csv=True)


@admin.register(CategoryMapping)
class CategoryMappingAdmin(admin.ModelAdmin):
    list_display = ["from_category", "to_category", "relation", "note"]
    list_filter = ["relation", "to_category__standard"]
    search_fields = ["from_category__code", "from_category__name", "to_category__code",
                     "to_category__name"]
    list_select_related = ["from_category", "to_category"]
    raw_id_fields = ["from_category", "to_category"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # mappings are recorded by the class edits

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
