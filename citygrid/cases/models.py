"""Cases, their history (events, hash-chained), photos, copies and pauses (M-14 … M-18).

Only citygrid.cases.actions writes these rows. Events are append-only: saving an existing
event or deleting one raises; the hash chain makes any edit done around the code detectable
(`citygrid verify_history`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from citygrid.cases.domain.processes import Level, ProcessName, State
from citygrid.cases.domain.processes import Operation as OperationValue
from citygrid.org.models import Source


class CaseProcess(models.TextChoices):
    STANDARD = ProcessName.STANDARD.value, _("standard process")
    PUBLIC_REPORT = ProcessName.PUBLIC_REPORT.value, _("public report (verified before filing)")
    FLAT = ProcessName.FLAT.value, _("flat process")
    MANHOLE_COVER_EMERGENCY = ProcessName.MANHOLE_COVER_EMERGENCY.value, _("manhole-cover emergency process")
    SANITATION_PATROL = ProcessName.SANITATION_PATROL.value, _("sanitation special patrol")
    STREET_SELF_HANDLE = ProcessName.STREET_SELF_HANDLE.value, _("street self-report-self-handle")
    EMERGENCY = ProcessName.EMERGENCY.value, _("emergency case")


class CaseState(models.TextChoices):
    TO_VERIFY = State.TO_VERIFY.value, _("to verify")
    TO_FILE = State.TO_FILE.value, _("to file")
    TO_DISPATCH = State.TO_DISPATCH.value, _("to dispatch")
    DISPATCHED = State.DISPATCHED.value, _("dispatched")
    HANDLING = State.HANDLING.value, _("handling")
    POSTPONEMENT_REQUESTED = State.POSTPONEMENT_REQUESTED.value, _("postponement requested")
    SUSPENDED = State.SUSPENDED.value, _("suspended")
    IN_COLLABORATION = State.IN_COLLABORATION.value, _("at the collaboration platform")
    TO_CHECK = State.TO_CHECK.value, _("to check")
    TO_CLOSE = State.TO_CLOSE.value, _("to close")
    CLOSED = State.CLOSED.value, _("closed")
    REJECTED = State.REJECTED.value, _("rejected")
    MERGED = State.MERGED.value, _("merged")
    VOIDED = State.VOIDED.value, _("voided")


FINAL_STATES = (CaseState.CLOSED, CaseState.REJECTED, CaseState.MERGED, CaseState.VOIDED)
OPEN_STATES = tuple(state for state in CaseState if state not in FINAL_STATES)


class CaseStep(models.TextChoices):
    NONE = "", _("none")
    VERIFY = "verify", _("verify")
    FILE = "file", _("file")
    DISPATCH = "dispatch", _("dispatch")
    ACCEPT = "accept", _("accept")
    HANDLE = "handle", _("handle")
    CHECK = "check", _("check")
    CLOSE = "close", _("close")


class OverdueLevel(models.TextChoices):
    NONE = Level.NONE.value, _("no limit running")
    GREEN = Level.GREEN.value, _("green")
    YELLOW = Level.YELLOW.value, _("yellow")
    RED = Level.RED.value, _("red")


class Urgency(models.TextChoices):
    ORDINARY = "ordinary", _("ordinary")
    URGENT = "urgent", _("urgent")
    EMERGENCY = "emergency", _("emergency")


class Kind(models.TextChoices):
    COMPONENT = "component", _("component")
    EVENT = "event", _("event")


class Operation(models.TextChoices):
    REPORT = "report", _("report")
    VERIFY = OperationValue.VERIFY.value, _("verify")
    FILE = OperationValue.FILE.value, _("file")
    REJECT = OperationValue.REJECT.value, _("reject")
    MERGE = OperationValue.MERGE.value, _("merge as duplicate")
    DISPATCH = OperationValue.DISPATCH.value, _("dispatch")
    RETURN = OperationValue.RETURN.value, _("return")
    REDISPATCH = OperationValue.REDISPATCH.value, _("re-dispatch")
    ACCEPT = OperationValue.ACCEPT.value, _("accept")
    FEEDBACK = OperationValue.FEEDBACK.value, _("feed back")
    REQUEST_POSTPONEMENT = OperationValue.REQUEST_POSTPONEMENT.value, _("request postponement")
    APPROVE_POSTPONEMENT = OperationValue.APPROVE_POSTPONEMENT.value, _("approve postponement")
    REFUSE_POSTPONEMENT = OperationValue.REFUSE_POSTPONEMENT.value, _("refuse postponement")
    SUSPEND = OperationValue.SUSPEND.value, _("suspend")
    RESUME = OperationValue.RESUME.value, _("resume")
    CHECK_PASS = OperationValue.CHECK_PASS.value, _("check passed")
    CHECK_FAIL = OperationValue.CHECK_FAIL.value, _("check failed (rework)")
    CLOSE = OperationValue.CLOSE.value, _("close")
    VOID = OperationValue.VOID.value, _("void")
    URGE = OperationValue.URGE.value, _("urge")
    SUPERVISE = OperationValue.SUPERVISE.value, _("supervise")
    REOPEN = OperationValue.REOPEN.value, _("reopen")
    SEND_TO_COLLABORATION = OperationValue.SEND_TO_COLLABORATION.value, _("send to the collaboration platform")


class CaseCounter(models.Model):
    """The last sequence number given to a district's cases on one day (locked to number)."""

    district_code = models.CharField(_("district code"), max_length=12)
    day = models.DateField(_("day"))
    last = models.PositiveIntegerField(_("last sequence"), default=0)

    class Meta:
        verbose_name = _("case counter")
        verbose_name_plural = _("case counters")
        constraints = [
            models.UniqueConstraint(fields=["district_code", "day"], name="casecounter_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.district_code} {self.day}: {self.last}"


class Case(models.Model):
    number = models.CharField(_("number"), max_length=32, unique=True)
    process = models.CharField(_("process"), max_length=32, choices=CaseProcess.choices)
    state = models.CharField(_("state"), max_length=24, choices=CaseState.choices)
    source = models.CharField(_("source"), max_length=24, choices=Source.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    category = models.ForeignKey(
        "catalog.Category", verbose_name=_("class"), on_delete=models.PROTECT, related_name="cases"
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices,
                               default=Urgency.ORDINARY)
    lon = models.FloatField(_("longitude (WGS84)"))
    lat = models.FloatField(_("latitude (WGS84)"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    grid = models.ForeignKey("space.UnitGrid", verbose_name=_("unit grid"), on_delete=models.PROTECT,
                             related_name="cases")
    community = models.ForeignKey("space.Area", verbose_name=_("community"), on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+")
    street = models.ForeignKey("space.Area", verbose_name=_("street"), on_delete=models.PROTECT,
                               null=True, blank=True, related_name="+")
    district = models.ForeignKey("space.Area", verbose_name=_("district"), on_delete=models.PROTECT,
                                 related_name="district_cases")
    component_id = models.CharField(_("component id"), max_length=32, blank=True)
    description = models.TextField(_("description"), blank=True)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reporter"),
                                 on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="reported_cases")
    reporter_role = models.CharField(_("reporter's role"), max_length=32, blank=True)
    holder_department = models.ForeignKey(
        "org.Department", verbose_name=_("holding department"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="held_cases",
    )
    holder_person = models.ForeignKey(
        "org.Person", verbose_name=_("holding person"), on_delete=models.PROTECT, null=True,
        blank=True, related_name="held_cases",
    )
    routed_department = models.ForeignKey(
        "org.Department", verbose_name=_("department the rules chose"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+",
    )
    version = models.PositiveIntegerField(_("version"), default=1)

    step = models.CharField(_("current step"), max_length=10, choices=CaseStep.choices, blank=True)
    step_started_at = models.DateTimeField(_("step started at"), null=True, blank=True)
    step_limit = models.CharField(_("step time limit"), max_length=40, blank=True)
    step_extensions = models.JSONField(_("step extensions"), default=list, blank=True)
    step_deadline = models.DateTimeField(_("step deadline"), null=True, blank=True)
    step_warn_at = models.DateTimeField(_("step turns yellow at"), null=True, blank=True)
    overall_started_at = models.DateTimeField(_("handling started at"), null=True, blank=True)
    overall_limit = models.CharField(_("handling time limit"), max_length=40, blank=True)
    overall_extensions = models.JSONField(_("handling extensions"), default=list, blank=True)
    overall_deadline = models.DateTimeField(_("handling deadline"), null=True, blank=True)
    overall_warn_at = models.DateTimeField(_("handling turns yellow at"), null=True, blank=True)
    deadline_provisional = models.BooleanField(_("deadline provisional"), default=False)
    overdue_level = models.CharField(_("overdue level"), max_length=8, choices=OverdueLevel.choices,
                                     default=OverdueLevel.NONE)

    postponed = models.BooleanField(_("postponed"), default=False)
    pending_extension = models.CharField(_("extension asked for"), max_length=40, blank=True)
    suspended = models.BooleanField(_("suspended"), default=False)
    rework_count = models.PositiveIntegerField(_("rework count"), default=0)
    return_count = models.PositiveIntegerField(_("return count"), default=0)
    urge_count = models.PositiveIntegerField(_("urge count"), default=0)
    supervision_level = models.PositiveSmallIntegerField(_("supervision level"), default=0)
    needs_collaboration = models.BooleanField(_("needs the collaboration platform"), default=False)
    collaboration_reason = models.CharField(_("collaboration reason"), max_length=200, blank=True)
    duplicate_of = models.ForeignKey("self", verbose_name=_("duplicate of"), on_delete=models.PROTECT,
                                     null=True, blank=True, related_name="duplicates")
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    history_head = models.CharField(_("last event hash"), max_length=64, blank=True)

    created_at = models.DateTimeField(_("created at"), db_index=True)
    updated_at = models.DateTimeField(_("updated at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["reporter", "idempotency_key"],
                                    condition=~Q(idempotency_key=""),
                                    name="case_unique_idempotency_key"),
        ]
        indexes = [
            models.Index(fields=["state", "district"], name="case_state_district"),
            models.Index(fields=["district", "created_at"], name="case_district_created"),
            models.Index(fields=["category", "created_at"], name="case_category_created"),
            models.Index(fields=["holder_department", "state"], name="case_holder_state"),
            models.Index(fields=["state", "overdue_level"], name="case_state_level"),
            models.Index(fields=["step_deadline"], name="case_step_deadline"),
            # Map viewports (live case map, `bbox=` of the case list): a range on lon, then lat.
            models.Index(fields=["lon", "lat"], name="case_lon_lat"),
            # "Closed this month" on the big screen and the street platform.
            models.Index(fields=["closed_at"], name="case_closed_at"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.state not in FINAL_STATES


class CaseEvent(models.Model):
    """One operation on a case. Append-only; `hash` chains it to the event before."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT,
                             related_name="events")
    seq = models.PositiveIntegerField(_("sequence"))
    operation = models.CharField(_("operation"), max_length=24, choices=Operation.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("actor"),
                              on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor_name = models.CharField(_("actor's name"), max_length=150, blank=True)
    role = models.CharField(_("role"), max_length=32)
    at = models.DateTimeField(_("at"))
    from_state = models.CharField(_("from state"), max_length=24, blank=True)
    to_state = models.CharField(_("to state"), max_length=24)
    inputs = models.JSONField(_("inputs"), default=dict, blank=True)
    # The deadline of the step that was running when the operation ended it (working calendar;
    # null: no step limit was running). Not covered by the hash: derived from the case's limits.
    step_due_at = models.DateTimeField(_("step deadline"), null=True, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="caseevent_unique_seq")]
        indexes = [models.Index(fields=["at"], name="caseevent_at")]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.operation}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("case events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("case events are append-only")


class Reminder(models.Model):
    """A case's traffic light rose to yellow or red: its holder is to be reminded. Written in
    the same transaction as the level change (exactly once per rise: `key` names the running
    step and limits), delivered afterwards (`delivered_at`), so a worker killed in between
    leaves it for the next sweep instead of losing it."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT,
                             related_name="reminders")
    level = models.CharField(_("level"), max_length=8, choices=OverdueLevel.choices)
    key = models.CharField(_("rise"), max_length=120,
                           help_text=_("level, step and when the step and the handling started"))
    holder_department = models.ForeignKey("org.Department", verbose_name=_("holder department"),
                                          on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+")
    created_at = models.DateTimeField(_("created at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [models.UniqueConstraint(fields=["case", "key"], name="reminder_once_per_rise")]
        indexes = [models.Index(fields=["delivered_at"], name="reminder_undelivered",
                                condition=models.Q(delivered_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.case_id} {self.level}"


class PhotoKind(models.TextChoices):
    BEFORE = "before", _("before")
    AFTER = "after", _("after")


class Photo(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT,
                             related_name="photos")
    event = models.ForeignKey(CaseEvent, verbose_name=_("event"), on_delete=models.PROTECT,
                              null=True, blank=True, related_name="photos")
    kind = models.CharField(_("kind"), max_length=6, choices=PhotoKind.choices)
    file = models.FileField(_("file"), upload_to="cases/%Y/%m/")
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["case", "uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.file.name}"


class CopyKind(models.TextChoices):
    COPY = "copy", _("copy (抄告)")
    ALERT = "alert", _("alert")


class CaseCopy(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT,
                             related_name="copies")
    department = models.ForeignKey("org.Department", verbose_name=_("department"),
                                   on_delete=models.PROTECT, related_name="case_copies")
    kind = models.CharField(_("kind"), max_length=6, choices=CopyKind.choices, default=CopyKind.COPY)
    event = models.ForeignKey(CaseEvent, verbose_name=_("event"), on_delete=models.PROTECT,
                              null=True, blank=True, related_name="copies")
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("copy")
        verbose_name_plural = _("copies")
        ordering = ["case", "sent_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.department_id}"


class CasePause(models.Model):
    """A span during which the case's clock stood still (suspension)."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT,
                             related_name="pauses")
    kind = models.CharField(_("kind"), max_length=10, default="suspend")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"), null=True, blank=True)

    class Meta:
        verbose_name = _("pause")
        verbose_name_plural = _("pauses")
        ordering = ["case", "start"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.start}–{self.end or '…'}"


class CellBucket(models.TextChoices):
    DAY = "d", _("day")
    MONTH = "m", _("month")


class CaseCellCount(models.Model):
    """How many cases were reported in one map cell, district and day (or whole month): the
    live map's clusters and heat at city and district zoom add these up instead of grouping a
    year of cases on every poll (citygrid.cases.map_cells; the cells in
    citygrid.cases.domain.map_cells). Kept for days before the newest day here; later cases
    are counted live."""

    scale = models.PositiveSmallIntegerField(_("cell scale"), help_text=_("cell side 360 / 2^scale degrees"))
    bucket = models.CharField(_("bucket"), max_length=1, choices=CellBucket.choices)
    day = models.DateField(_("first day"))
    cx = models.IntegerField(_("cell x"))
    cy = models.IntegerField(_("cell y"))
    district = models.ForeignKey("space.Area", verbose_name=_("district"), on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+")
    n = models.PositiveIntegerField(_("cases"))
    sum_lon = models.FloatField(_("sum of longitudes"))
    sum_lat = models.FloatField(_("sum of latitudes"))

    class Meta:
        verbose_name = _("case count of a map cell")
        verbose_name_plural = _("case counts of map cells")
        # A period's few whole months over a box: cells first; its edge days: days first.
        indexes = [models.Index(fields=["scale", "bucket", "cx", "cy", "day"], name="casecell_cells"),
                   models.Index(fields=["scale", "bucket", "day", "cx", "cy"], name="casecell_days")]

    def __str__(self) -> str:
        return f"{self.scale}/{self.cx}/{self.cy} {self.day} {self.bucket}: {self.n}"


class CaseDayCount(models.Model):
    """Cases reported, and cases closed with a handling deadline (on time or not), per local
    day, district and major class: the big screen's 30-day and month figures add these up
    instead of reading tens of thousands of cases on every poll (citygrid.cases.day_counts).
    Kept for days before the newest day here; later days are counted live."""

    day = models.DateField(_("day"))
    district = models.ForeignKey("space.Area", verbose_name=_("district"), on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    major = models.CharField(_("major class code"), max_length=2)
    reported = models.PositiveIntegerField(_("reported"))
    closed = models.PositiveIntegerField(_("closed with a handling deadline"))
    closed_on_time = models.PositiveIntegerField(_("of those, on time"))

    class Meta:
        verbose_name = _("case count of a day")
        verbose_name_plural = _("case counts of days")
        indexes = [models.Index(fields=["day", "district"], name="casedaycount_day_district")]

    def __str__(self) -> str:
        return f"{self.day} {self.district_id} {self.kind}:{self.major}: {self.reported}/{self.closed}"
