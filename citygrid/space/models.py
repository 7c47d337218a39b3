"""The four supervision levels, unit grids and responsibility grids (M-01, M-02).

Geometries are stored portably as WKB (WGS84 lon/lat) with their bounding box in plain
columns, so viewport queries run on any database and PostGIS stays optional. Beside them
each row keeps the map's GeoJSON text of its shape (`map_geojson`), written with it.
"""

from __future__ import annotations

import shapely
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from shapely.geometry.base import BaseGeometry

from citygrid.space.domain import map_shapes
from citygrid.space.domain.measure import BBox, geodesic_area_m2


class Level(models.TextChoices):
    CITY = "city", _("city")
    DISTRICT = "district", _("district")
    STREET = "street", _("street")
    COMMUNITY = "community", _("community")


# Code length per level: GB/T 2260 district 6, street +3, community +3. A city uses the
# 6-digit prefecture code (e.g. 510100 Chengdu).
CODE_LENGTH = {Level.CITY: 6, Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12}
PARENT_LEVEL = {
    Level.DISTRICT: Level.CITY,
    Level.STREET: Level.DISTRICT,
    Level.COMMUNITY: Level.STREET,
}


class GeometryColumns(models.Model):
    """WKB geometry plus its bounding box, for viewport queries without a spatial index, and
    its map GeoJSON, so the map's reads need no geometry work."""

    geometry = models.BinaryField(_("geometry (WKB, WGS84)"))
    min_lon = models.FloatField(_("min longitude"))
    min_lat = models.FloatField(_("min latitude"))
    max_lon = models.FloatField(_("max longitude"))
    max_lat = models.FloatField(_("max latitude"))
    area_m2 = models.FloatField(_("area (m²)"))
    # "" only for rows written around set_shape; the map then computes the text itself.
    map_geojson = models.TextField(_("map GeoJSON (simplified, rounded)"), blank=True, default="",
                                   editable=False)

    class Meta:
        abstract = True

    @property
    def shape(self) -> BaseGeometry:
        """The geometry as a shapely object (lon/lat)."""
        return shapely.from_wkb(bytes(self.geometry))

    @property
    def bbox(self) -> BBox:
        return (self.min_lon, self.min_lat, self.max_lon, self.max_lat)

    @property
    def map_level(self) -> str:
        """The level whose simplification the map GeoJSON uses."""
        raise NotImplementedError

    def set_shape(self, geometry: BaseGeometry) -> None:
        """Store `geometry` with its bounding box, geodesic area and map GeoJSON, always
        together (save them with SHAPE_FIELDS). An area's level must be set first."""
        self.geometry = shapely.to_wkb(geometry)
        self.min_lon, self.min_lat, self.max_lon, self.max_lat = geometry.bounds
        self.area_m2 = geodesic_area_m2(geometry)
        self.map_geojson = map_shapes.map_geojson(geometry, self.map_level)


# What set_shape writes: the update_fields of a saved shape.
SHAPE_FIELDS = ("geometry", "min_lon", "min_lat", "max_lon", "max_lat", "area_m2", "map_geojson")


class Area(GeometryColumns):
    """A city, district, street or community, with its boundary."""

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children",
        verbose_name=_("parent"),
    )

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level="city", parent__isnull=True) | ~Q(level="city"),
                name="area_city_has_no_parent",
            ),
            models.CheckConstraint(
                condition=Q(level="city") | Q(parent__isnull=False),
                name="area_lower_levels_have_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def map_level(self) -> str:
        return str(self.level)


class UnitGrid(GeometryColumns):
    """A unit grid (万米单元网格) version. Changing coverage closes a version (valid_to) and
    opens new ones, so whatever points at an old version keeps pointing at it."""

    code = models.CharField(_("code"), max_length=15, db_index=True)
    legacy_code = models.CharField(_("legacy 14-digit code"), max_length=14, blank=True)
    community = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="grids", limit_choices_to={"level": "community"},
        verbose_name=_("community"),
    )
    valid_from = models.DateTimeField(_("valid from"))
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True, db_index=True)
    predecessors = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="successors",
        verbose_name=_("predecessors"),
    )

    class Meta:
        verbose_name = _("unit grid")
        verbose_name_plural = _("unit grids")
        ordering = ["code", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=Q(valid_to__isnull=True), name="unitgrid_current_code_unique"
            ),
        ]
        indexes = [
            # Viewports: "bbox meets box" is four range tests; with all four in one index only
            # the matching rows are read from the table (one column per index read ~13x more
            # rows for a map view of the full demo city).
            models.Index(fields=["max_lon", "min_lon", "max_lat", "min_lat"],
                         condition=Q(valid_to__isnull=True), name="unitgrid_current_bbox"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def map_level(self) -> str:
        return "grid"

    @property
    def is_current(self) -> bool:
        return self.valid_to is None


class ResponsibilityGrid(models.Model):
    """A named set of unit grids that one inspector (or team) patrols."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="responsibility_grids", verbose_name=_("area")
    )
    unit_grids = models.ManyToManyField(
        UnitGrid, related_name="responsibility_grids", blank=True, verbose_name=_("unit grids")
    )

    class Meta:
        verbose_name = _("responsibility grid")
        verbose_name_plural = _("responsibility grids")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CoverageRevision(models.Model):
    """One row per database; bumped by every action that changes areas or grids, so each
    app process knows when its in-memory geocoding index is stale."""

    revision = models.BigIntegerField(_("revision"), default=0)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("coverage revision")
        verbose_name_plural = _("coverage revisions")

    def __str__(self) -> str:
        return f"coverage revision {self.revision}"
