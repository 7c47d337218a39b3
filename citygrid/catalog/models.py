"""Classification standards (M-05) and what each class carries (M-06): filing and closing
conditions, emergency flag, handling time limits per urgency, and per-step time limits.

A standard is a versioned set; a city standard is derived from a national one and records
how each of its classes maps to the classes it came from (CategoryMapping), so history and
statistics stay comparable across versions.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from citygrid.calendars.domain.durations import Duration, Unit
from citygrid.catalog.domain.rules import Confidence


class Kind(models.TextChoices):
    COMPONENT = "component", _("component")
    EVENT = "event", _("event")


class ClassLevel(models.TextChoices):
    MAJOR = "major", _("major class")
    MINOR = "minor", _("minor class")
    FINE = "fine", _("fine class")


class Urgency(models.TextChoices):
    ORDINARY = "ordinary", _("ordinary")
    URGENT = "urgent", _("urgent")
    EMERGENCY = "emergency", _("emergency")


class Step(models.TextChoices):
    ACCEPT = "accept", _("accept")
    VERIFY = "verify", _("verify")
    FILE = "file", _("file")
    DISPATCH = "dispatch", _("dispatch")
    CHECK = "check", _("check")
    CLOSE = "close", _("close")


class AreaType(models.TextChoices):
    URBAN = "urban", _("urban")
    RURAL = "rural", _("rural")
    ANY = "any", _("any area")


class Relation(models.TextChoices):
    SAME = "same", _("same")
    RENAMED = "renamed", _("renamed")
    MERGED = "merged", _("merged")
    SPLIT = "split", _("split")
    REFINED = "refined", _("refined")
    NEW = "new", _("new")


class ConfidenceChoice(models.TextChoices):
    CONFIRMED = Confidence.CONFIRMED.value, _("confirmed")
    PARTLY = Confidence.PARTLY.value, _("partly confirmed")
    UNCERTAIN = Confidence.UNCERTAIN.value, _("uncertain")


UNIT_CHOICES = [
    (Unit.MINUTES.value, _("minutes")),
    (Unit.HOURS.value, _("clock hours")),
    (Unit.WORKING_HOURS.value, _("working hours")),
    (Unit.WORKING_DAYS.value, _("working days")),
    (Unit.CALENDAR_DAYS.value, _("calendar days")),
]


def default_urgency_levels() -> list[str]:
    return [Urgency.ORDINARY.value, Urgency.URGENT.value]


class Standard(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        ACTIVE = "active", _("active")
        RETIRED = "retired", _("retired")

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    source = models.TextField(_("source"), blank=True)
    based_on = models.ForeignKey(
        "self", verbose_name=_("based on"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="derived",
    )
    is_national = models.BooleanField(_("national standard"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    city = models.ForeignKey(
        "space.Area", verbose_name=_("city"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="standards", limit_choices_to={"level": "city"},
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("classification standard")
        verbose_name_plural = _("classification standards")
        ordering = ["-is_national", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["city"], condition=Q(status="active", city__isnull=False),
                name="standard_one_active_per_city",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class Category(models.Model):
    """A major, minor or fine class of components or events within one standard."""

    standard = models.ForeignKey(
        Standard, verbose_name=_("standard"), on_delete=models.CASCADE, related_name="categories"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=5, choices=ClassLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent class"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="children",
    )
    filing_condition = models.TextField(_("filing condition"), blank=True)
    closing_condition = models.TextField(_("closing condition"), blank=True)
    is_emergency = models.BooleanField(_("emergency"), default=False)
    urgency_levels = models.JSONField(
        _("active urgency levels"), default=default_urgency_levels, blank=True
    )
    responsible_units = models.TextField(_("responsible units (as published)"), blank=True)
    source = models.TextField(_("source"), blank=True)
    note = models.TextField(_("note"), blank=True)
    confidence = models.CharField(
        _("confidence"), max_length=10, choices=ConfidenceChoice.choices,
        default=ConfidenceChoice.CONFIRMED,
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("class")
        verbose_name_plural = _("classes")
        ordering = ["standard", "kind", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["standard", "kind", "code"], name="category_unique_kind_code"
            ),
            models.CheckConstraint(
                condition=Q(level="major", parent__isnull=True)
                | (~Q(level="major") & Q(parent__isnull=False)),
                name="category_only_majors_without_parent",
            ),
        ]
        indexes = [models.Index(fields=["standard", "kind", "level"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class HandlingTimeLimit(models.Model):
    category = models.ForeignKey(
        Category, verbose_name=_("class"), on_delete=models.CASCADE, related_name="handling_limits"
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    amount = models.DecimalField(_("amount"), max_digits=8, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=14, choices=UNIT_CHOICES)
    unit_uncertain = models.BooleanField(_("unit uncertain"), default=False)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("handling time limit")
        verbose_name_plural = _("handling time limits")
        ordering = ["category", "urgency"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "urgency"], name="handlinglimit_one_per_urgency"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="handlinglimit_amount_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.get_urgency_display()} {self.duration}"

    @property
    def duration(self) -> Duration:
        return Duration(Decimal(self.amount), Unit(self.unit))


class StepTimeLimit(models.Model):
    standard = models.ForeignKey(
        Standard, verbose_name=_("standard"), on_delete=models.CASCADE, related_name="step_limits"
    )
    step = models.CharField(_("step"), max_length=10, choices=Step.choices)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    area_type = models.CharField(
        _("area type"), max_length=5, choices=AreaType.choices, default=AreaType.ANY
    )
    amount = models.DecimalField(_("amount"), max_digits=8, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=14, choices=UNIT_CHOICES)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("step time limit")
        verbose_name_plural = _("step time limits")
        ordering = ["standard", "step", "urgency", "area_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["standard", "step", "urgency", "area_type"],
                name="steplimit_unique_step_urgency_area",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="steplimit_amount_gte_0"),
        ]

    def __str__(self) -> str:
        return (f"{self.get_step_display()} / {self.get_urgency_display()} / "
                f"{self.get_area_type_display()}: {self.duration}")

    @property
    def duration(self) -> Duration:
        return Duration(Decimal(self.amount), Unit(self.unit))


class CategoryMapping(models.Model):
    """How a class of the base standard became a class of a derived one. A class added in
    the derived standard has a mapping with no `from_category` and relation "new"."""

    from_category = models.ForeignKey(
        Category, verbose_name=_("from class"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="mappings_out",
    )
    to_category = models.ForeignKey(
        Category, verbose_name=_("to class"), on_delete=models.CASCADE, related_name="mappings_in"
    )
    relation = models.CharField(_("relation"), max_length=10, choices=Relation.choices)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("class mapping")
        verbose_name_plural = _("class mappings")
        ordering = ["to_category", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_category", "to_category"], name="mapping_unique_pair"
            ),
        ]

    def __str__(self) -> str:
        origin = self.from_category or "—"
        return f"{origin} → {self.to_category} ({self.get_relation_display()})"
