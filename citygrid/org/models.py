"""Departments, people, roles with their scopes (M-01, M-09, M-17), and the responsibility
decomposition rules (M-06). Scoping of reads lives in selectors.py; writes in actions.py."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from citygrid.org.domain.routing import Process as ProcessValue
from citygrid.org.domain.routing import Source as SourceValue


class DepartmentLevel(models.TextChoices):
    CITY = "city", _("city")
    DISTRICT = "district", _("district")
    STREET = "street", _("street")


class DepartmentKind(models.TextChoices):
    GOVERNMENT = "government", _("government department")
    SOCIAL_UNIT = "social_unit", _("social unit")
    COMMAND_CENTRE = "command_centre", _("command centre")
    SUPERVISION_CENTRE = "supervision_centre", _("supervision centre")
    COLLABORATION_PLATFORM = "collaboration_platform", _("collaboration platform")
    INSPECTION_CONTRACTOR = "inspection_contractor", _("inspection contractor")


class Role(models.TextChoices):
    CITY_INSPECTOR = "city_inspector", _("city inspector")
    DISTRICT_INSPECTOR = "district_inspector", _("district inspector")
    INTAKE_OPERATOR = "intake_operator", _("intake operator")
    SHIFT_LEADER = "shift_leader", _("shift leader")
    DISPATCHER = "dispatcher", _("dispatcher")
    HANDLER = "handler", _("handler")
    DEPARTMENT_HEAD = "department_head", _("department head")
    COLLABORATION_COORDINATOR = "collaboration_coordinator", _("collaboration coordinator")
    STREET_STAFF = "street_staff", _("street staff")
    LEADER = "leader", _("leader")
    ADMINISTRATOR = "administrator", _("administrator")


class Process(models.TextChoices):
    STANDARD = ProcessValue.STANDARD.value, _("standard process")
    FLAT = ProcessValue.FLAT.value, _("flat process")
    MANHOLE_COVER_EMERGENCY = ProcessValue.MANHOLE_COVER_EMERGENCY.value, _("manhole-cover emergency process")
    SANITATION_PATROL = ProcessValue.SANITATION_PATROL.value, _("sanitation special patrol")
    EMERGENCY = ProcessValue.EMERGENCY.value, _("emergency case")


class Source(models.TextChoices):
    CITY_INSPECTOR = SourceValue.CITY_INSPECTOR.value, _("city inspector")
    DISTRICT_INSPECTOR = SourceValue.DISTRICT_INSPECTOR.value, _("district inspector")
    PUBLIC = SourceValue.PUBLIC.value, _("public")
    HOTLINE = SourceValue.HOTLINE.value, _("12319 hotline")
    VIDEO_PATROL = SourceValue.VIDEO_PATROL.value, _("vehicle video patrol")
    STREET_STAFF = SourceValue.STREET_STAFF.value, _("street staff")
    LEADER = SourceValue.LEADER.value, _("leader's instruction")
    MEDIA = SourceValue.MEDIA.value, _("media")


class Department(models.Model):
    """A unit that handles, commands, supervises, collaborates or inspects."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    level = models.CharField(_("level"), max_length=10, choices=DepartmentLevel.choices, db_index=True)
    kind = models.CharField(
        _("kind"), max_length=24, choices=DepartmentKind.choices, default=DepartmentKind.GOVERNMENT,
        db_index=True,
    )
    area = models.ForeignKey(
        "space.Area", verbose_name=_("territory"), on_delete=models.PROTECT,
        related_name="departments",
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("parent department"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="children",
    )
    calendar = models.ForeignKey(
        "calendars.WorkingCalendar", verbose_name=_("working calendar"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="departments",
        help_text=_("Empty: the default office calendar."),
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    active = models.BooleanField(_("active"), default=True, db_index=True)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Person(models.Model):
    """A user's working identity: who they are and where they belong."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
        related_name="person",
    )
    display_name = models.CharField(_("display name"), max_length=100)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    employee_number = models.CharField(_("employee number"), max_length=32, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="people",
    )
    contractor = models.ForeignKey(
        Department, verbose_name=_("inspection contractor"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="inspectors",
        limit_choices_to={"kind": DepartmentKind.INSPECTION_CONTRACTOR},
    )

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["user__username"]
        permissions = [("view_person_contact", _("view person contact details"))]
        constraints = [
            models.UniqueConstraint(
                fields=["employee_number"], condition=~Q(employee_number=""),
                name="person_employee_number_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.user.get_username()})"


class RoleAssignment(models.Model):
    """A role held within a scope: areas (with everything inside them) and/or departments
    (with their sub-departments). An assignment with an empty scope grants nothing."""

    person = models.ForeignKey(
        Person, verbose_name=_("person"), on_delete=models.CASCADE, related_name="roles"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, db_index=True)
    areas = models.ManyToManyField(
        "space.Area", verbose_name=_("areas"), blank=True, related_name="role_assignments"
    )
    departments = models.ManyToManyField(
        Department, verbose_name=_("departments"), blank=True, related_name="role_assignments"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        ordering = ["person", "role"]

    def __str__(self) -> str:
        return f"{self.person.display_name}: {self.get_role_display()}"


class ResponsibilityRule(models.Model):
    """One line of the responsibility decomposition: class + place (+ time, source) → who."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    kind = models.CharField(
        _("kind"), max_length=10, blank=True,
        choices=[("component", _("component")), ("event", _("event"))],
        help_text=_("Empty: components and events. Set automatically from the class."),
    )
    category = models.ForeignKey(
        "catalog.Category", verbose_name=_("class"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="responsibility_rules",
        help_text=_("A major or minor class also covers its minor and fine classes. Empty: any class."),
    )
    area = models.ForeignKey(
        "space.Area", verbose_name=_("area"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="responsibility_rules",
        help_text=_("A district, street or community (with everything inside it)."),
    )
    grids = models.ManyToManyField(
        "space.UnitGrid", verbose_name=_("unit grids"), blank=True,
        related_name="responsibility_rules",
    )
    polygon = models.TextField(
        _("drawn polygon (GeoJSON, WGS84)"), blank=True,
        help_text=_("A GeoJSON Polygon or MultiPolygon geometry in lon/lat."),
    )
    weekdays = models.CharField(
        _("weekdays"), max_length=7, blank=True,
        help_text=_("ISO weekday digits, 1 = Monday … 7 = Sunday, e.g. 12345. Empty: every day."),
    )
    time_from = models.TimeField(_("from (time of day)"), null=True, blank=True)
    time_to = models.TimeField(_("to (time of day)"), null=True, blank=True)
    date_from = models.DateField(_("from (date)"), null=True, blank=True)
    date_to = models.DateField(_("to (date)"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=24, choices=Source.choices, blank=True)
    department = models.ForeignKey(
        Department, verbose_name=_("handling department"), on_delete=models.PROTECT,
        related_name="handling_rules",
    )
    copies = models.ManyToManyField(
        Department, verbose_name=_("departments to copy"), blank=True, related_name="copied_by_rules"
    )
    process = models.CharField(
        _("process"), max_length=32, choices=Process.choices, default=Process.STANDARD
    )
    use_component_owner = models.BooleanField(
        _("defer to the component's owner/maintainer"), default=False,
        help_text=_("When the component inventory names an owner or maintainer, they handle."),
    )
    priority = models.IntegerField(
        _("priority"), null=True, blank=True,
        help_text=_("Breaks ties between equally specific rules: higher wins; set beats unset."),
    )
    active = models.BooleanField(_("active"), default=True, db_index=True)
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("responsibility rule")
        verbose_name_plural = _("responsibility rules")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code
