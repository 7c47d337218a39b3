"""Admin for the coverage. Areas and grids change only through the import and the actions
(so history and the coverage revision stay right); the admin shows them read-only, renames
areas, edits responsibility grids, and offers GeoJSON import and export pages."""

from __future__ import annotations

from typing import Any

import shapely
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from citygrid.core.errors import DomainError
from citygrid.space.actions import import_coverage, rename_area, save_responsibility_grid
from citygrid.space.geojson_io import iter_geojson, read_features
from citygrid.space.models import Area, CoverageRevision, ResponsibilityGrid, UnitGrid
from citygrid.space.selectors import export_features

GEOJSON_PREVIEW_CHARS = 4000


class GeometryDisplay:
    """Read-only geometry fields: bbox, area, and the GeoJSON text (cut when long)."""

    @admin.display(description=_("bounding box"))
    def bbox_display(self, obj: Area | UnitGrid) -> str:
        return ", ".join(f"{v:.6f}" for v in obj.bbox) if obj.pk else "-"

    @admin.display(description=_("geometry (GeoJSON)"))
    def geometry_geojson(self, obj: Area | UnitGrid) -> str:
        if not obj.pk:
            return "-"
        text = shapely.to_geojson(obj.shape)
        if len(text) > GEOJSON_PREVIEW_CHARS:
            text = text[:GEOJSON_PREVIEW_CHARS] + " …"
        return format_html('<pre style="white-space:pre-wrap;max-height:20em;overflow:auto">{}</pre>', text)


@admin.register(Area)
class AreaAdmin(GeometryDisplay, admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "area_m2")
    list_filter = ("level",)
    search_fields = ("code", "name")
    fields = ("code", "name", "level", "parent", "area_m2", "bbox_display", "geometry_geojson")
    readonly_fields = ("code", "level", "parent", "area_m2", "bbox_display", "geometry_geojson")
    list_select_related = ("parent",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # areas come from a GeoJSON import

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Area, form: Any, change: bool) -> None:
        rename_area(obj.code, obj.name, user=request.user)


class CurrentFilter(admin.SimpleListFilter):
    title = _("validity")
    parameter_name = "current"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return [("yes", _("current")), ("no", _("retired"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(valid_to__isnull=True)
        if self.value() == "no":
            return queryset.filter(valid_to__isnull=False)
        return queryset


class GridLevelFilter(admin.SimpleListFilter):
    """Grids inside one district (the level above community that matters most)."""

    title = _("district")
    parameter_name = "district"

    def lookups(self, request: HttpRequest, model_admin: Any) -> Any:
        return list(Area.objects.filter(level="district").values_list("code", "name"))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(code__startswith=value) if value else queryset


class ImportForm(forms.Form):
    file = forms.FileField(label=_("GeoJSON file"))


@admin.register(UnitGrid)
class UnitGridAdmin(GeometryDisplay, admin.ModelAdmin):
    list_display = ("code", "community", "area_m2", "valid_from", "valid_to")
    list_filter = (CurrentFilter, GridLevelFilter)
    search_fields = ("code", "legacy_code")
    list_select_related = ("community",)
    fields = ("code", "legacy_code", "community", "area_m2", "valid_from", "valid_to",
              "predecessors_display", "bbox_display", "geometry_geojson")
    readonly_fields = fields
    change_list_template = "admin/space/unitgrid/change_list.html"
    show_full_result_count = False

    @admin.display(description=_("predecessors"))
    def predecessors_display(self, obj: UnitGrid) -> str:
        return ", ".join(f"{p.code} ({p.valid_from:%Y-%m-%d})" for p in obj.predecessors.all()) or "-"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        if request.path.endswith("/autocomplete/"):  # responsibility grids take current grids only
            queryset = queryset.filter(valid_to__isnull=True)
        return super().get_search_results(request, queryset, search_term)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="space_unitgrid_import"),
            path("export/", wrap(self.export_view), name="space_unitgrid_export"),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("space.add_unitgrid"):
            raise DjangoPermissionDenied
        problems: list[dict[str, Any]] = []
        error = ""
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                features = read_features(form.cleaned_data["file"].read())
                report = import_coverage(features, user=request.user)
            except DomainError as exc:
                error = exc.message
                problems = [p for p in (exc.details or []) if isinstance(p, dict)]
            else:
                self.message_user(request, _("Imported: %s") % report.summary(), messages.SUCCESS)
                return redirect(reverse("admin:space_unitgrid_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import areas and grids (GeoJSON)"),
            "opts": self.model._meta,
            "form": form,
            "error": error,
            "problems": problems,
            "revision": CoverageRevision.objects.filter(pk=1).first(),
        }
        status = 422 if error else 200
        return TemplateResponse(request, "admin/space/unitgrid/import.html", context, status=status)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("space.view_unitgrid"):
            raise DjangoPermissionDenied
        response = StreamingHttpResponse(iter_geojson(export_features()),
                                         content_type="application/geo+json; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="coverage.geojson"'
        return response


@admin.register(ResponsibilityGrid)
class ResponsibilityGridAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "area", "grid_count")
    search_fields = ("code", "name", "area__name")
    autocomplete_fields = ("area", "unit_grids")
    list_select_related = ("area",)

    @admin.display(description=_("unit grids"))
    def grid_count(self, obj: ResponsibilityGrid) -> int:
        return obj.unit_grids.count()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if "unit_grids" in form.base_fields:
            form.base_fields["unit_grids"].queryset = UnitGrid.objects.filter(valid_to__isnull=True)
        return form

    def save_model(self, request: HttpRequest, obj: ResponsibilityGrid, form: Any, change: bool) -> None:
        pass  # saved with its grids, in one action, by save_related

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        save_responsibility_grid(form.instance, form.cleaned_data["unit_grids"], user=request.user)



@admin.register(CoverageRevision)
class CoverageRevisionAdmin(admin.ModelAdmin):
    list_display = ("revision", "changed_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

