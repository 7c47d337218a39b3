"""The component inventory (部件普查, M-07): components with their code, class, place and
responsible units; their change history; survey flags for uninventoried components; the
revision counter that tells each process when its nearby index is stale.

Geometry is stored portably: the point as lon/lat columns (WGS84), and for classes drawn as
lines or polygons the full shape as WKB beside it (the point is then a representative point).
"""

from __future__ import annotations

import shapely
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from shapely.geometry.base import BaseGeometry


class State(models.TextChoices):
    INTACT = "intact", _("intact")
    DAMAGED = "damaged", _("damaged")
    MISSING = "missing", _("missing")
    ABANDONED = "abandoned", _("abandoned")
    REMOVED = "removed", _("removed")


class ChangeSource(models.TextChoices):
    IMPORT = "import", _("import")
    EDIT = "edit", _("edit")
    CASE = "case", _("case")


class ImportBatch(models.Model):
    """One imported file: who loaded it, when, how many components it created. A component
    created by an import points at its batch, which is the first entry of its history."""

    filename = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=10)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    count = models.PositiveIntegerField(_("components created"), default=0)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("imported by"),
                              on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.count})"


def _dept_fk(verbose: str, related: str, index: bool = False) -> models.ForeignKey:  # type: ignore[type-arg]
    # Few indexes: each one costs every bulk import of a million rows.
    return models.ForeignKey("org.Department", verbose_name=verbose, on_delete=models.PROTECT,
                             null=True, blank=True, related_name=related, db_index=index)


class Component(models.Model):
    code = models.CharField(_("code"), max_length=17, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    category = models.ForeignKey("catalog.Category", verbose_name=_("class"),
                                 on_delete=models.PROTECT, related_name="components")
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    geometry = models.BinaryField(_("line or polygon (WKB)"), null=True, blank=True)
    grid = models.ForeignKey("space.UnitGrid", verbose_name=_("unit grid"),
                             on_delete=models.PROTECT, related_name="components")
    community = models.ForeignKey("space.Area", verbose_name=_("community"),
                                  on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                  db_index=False)
    street = models.ForeignKey("space.Area", verbose_name=_("street"), on_delete=models.PROTECT,
                               null=True, blank=True, related_name="+", db_index=False)
    district = models.ForeignKey("space.Area", verbose_name=_("district"),
                                 on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    competent_department = _dept_fk(_("competent department"), "competent_components")
    competent_unit_code = models.CharField(_("competent department code (USCC)"), max_length=32,
                                           blank=True)
    competent_unit_name = models.CharField(_("competent department name"), max_length=200,
                                           blank=True)
    owner = _dept_fk(_("owner"), "owned_components", index=True)
    owner_unit_code = models.CharField(_("owner code (USCC)"), max_length=32, blank=True)
    owner_unit_name = models.CharField(_("owner name"), max_length=200, blank=True)
    maintainer = _dept_fk(_("maintainer"), "maintained_components")
    maintainer_unit_code = models.CharField(_("maintainer code (USCC)"), max_length=32, blank=True)
    maintainer_unit_name = models.CharField(_("maintainer name"), max_length=200, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices,
                             default=State.INTACT)
    initial_date = models.DateField(_("initial date"), null=True, blank=True)
    change_date = models.DateField(_("change date"), null=True, blank=True)
    data_source = models.CharField(_("data source"), max_length=100, blank=True)
    photo = models.FileField(_("photo"), upload_to="inventory/photos/", blank=True)
    remark = models.TextField(_("remark"), blank=True)
    import_batch = models.ForeignKey(ImportBatch, verbose_name=_("import batch"),
                                     on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="components", db_index=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("component")
        verbose_name_plural = _("components")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["lon", "lat"], name="inv_component_lonlat"),
            models.Index(fields=["category", "state"], name="inv_component_cat_state"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()

    @property
    def shape(self) -> BaseGeometry:
        """The line or polygon if stored, else the point."""
        if self.geometry:
            return shapely.from_wkb(bytes(self.geometry))
        return shapely.Point(self.lon, self.lat)


class ComponentChange(models.Model):
    """Append-only history: one row per change of a component after it was created."""

    component = models.ForeignKey(Component, verbose_name=_("component"),
                                  on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("changed by"),
                              on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(_("changed at"), auto_now_add=True, db_index=True)
    source = models.CharField(_("source"), max_length=10, choices=ChangeSource.choices)
    case_number = models.CharField(_("case number"), max_length=40, blank=True)
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("component change")
        verbose_name_plural = _("component changes")
        ordering = ["component", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.component_id} {self.source} {self.at:%Y-%m-%d %H:%M}"


class SurveyFlag(models.Model):
    """A component reported but not in the inventory: the survey team's work list."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        SURVEYED = "surveyed", _("surveyed")
        DISMISSED = "dismissed", _("dismissed")

    category = models.ForeignKey("catalog.Category", verbose_name=_("class"),
                                 on_delete=models.PROTECT, related_name="survey_flags")
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    grid = models.ForeignKey("space.UnitGrid", verbose_name=_("unit grid"),
                             on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    district = models.ForeignKey("space.Area", verbose_name=_("district"),
                                 on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    case_number = models.CharField(_("case number"), max_length=40, blank=True, db_index=True)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.OPEN, db_index=True)
    component = models.ForeignKey(Component, verbose_name=_("surveyed component"),
                                  on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="survey_flags")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("flagged by"),
                                   on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(_("flagged at"), auto_now_add=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("resolved by"),
                                    on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("survey flag")
        verbose_name_plural = _("survey flags")
        ordering = ["status", "-created_at"]

    def __str__(self) -> str:
        return f"{self.category} @ {self.lon:.6f},{self.lat:.6f} ({self.status})"


class InventoryRevision(models.Model):
    """One row per database; bumped by every action that changes components, so each app
    process knows when its in-memory nearby index is stale."""

    revision = models.BigIntegerField(_("revision"), default=0)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("inventory revision")
        verbose_name_plural = _("inventory revisions")

    def __str__(self) -> str:
        return f"inventory revision {self.revision}"
