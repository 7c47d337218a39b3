"""The collaboration platform's records (M-19 … M-21): a dossier per case at the platform, the
units invited to confirm ownership and their answers, the decision, the collaboration records
(network, on-site, meeting) and the units' presence on duty.

Only citygrid.collab.actions writes these rows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Entry(models.TextChoices):
    NO_RULE = "no_rule", _("no responsibility rule matched")
    SENT = "sent", _("sent for ownership confirmation")
    NOT_OURS = "not_ours", _("returned as not its own")
    TRANSFERS = "transfers", _("returned or re-dispatched too often")
    FLAGGED = "flagged", _("flagged by the case engine")
    OVERDUE = "overdue", _("overdue and left alone")


class DossierStatus(models.TextChoices):
    OPEN = "open", _("open")
    DECIDED = "decided", _("decided")
    CANCELLED = "cancelled", _("cancelled")


class Dossier(models.Model):
    """The platform's record of one case's stay: why it came, who coordinates, how it ended."""

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT,
                             related_name="dossiers")
    entry = models.CharField(_("entry"), max_length=12, choices=Entry.choices)
    reason = models.TextField(_("reason"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=DossierStatus.choices,
                              default=DossierStatus.OPEN, db_index=True)
    coordinator = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("coordinator"),
                                    on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    from_department = models.ForeignKey(
        "org.Department", verbose_name=_("department it came from"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="+")
    opened_at = models.DateTimeField(_("opened at"), db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        ordering = ["opened_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(status="open"),
                                    name="dossier_one_open_per_case"),
        ]

    def __str__(self) -> str:
        return f"{self.case} ({self.get_entry_display()})"


class Answer(models.TextChoices):
    NONE = "", _("not answered")
    ACCEPT = "accept", _("accept")
    DECLINE = "decline", _("decline")


class Invitation(models.Model):
    """A candidate unit asked to confirm whether the case is its own."""

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE,
                                related_name="invitations")
    department = models.ForeignKey("org.Department", verbose_name=_("unit"),
                                   on_delete=models.PROTECT, related_name="collab_invitations")
    note = models.TextField(_("note"), blank=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("invited by"),
                                   on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    invited_at = models.DateTimeField(_("invited at"), db_index=True)
    due_at = models.DateTimeField(_("answer due at"))
    due_provisional = models.BooleanField(_("due time provisional"), default=False)
    answer = models.CharField(_("answer"), max_length=8, choices=Answer.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("answered by"),
                                    on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["invited_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "department"],
                                    name="invitation_one_per_unit"),
        ]
        indexes = [models.Index(fields=["department", "invited_at"], name="invitation_unit_at")]

    def __str__(self) -> str:
        return f"{self.dossier_id} → {self.department_id}: {self.answer or '…'}"


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("planned")
    HELD = "held", _("held")


class Meeting(models.Model):
    """A joint meeting of units on an agenda of disputed cases (meeting collaboration)."""

    title = models.CharField(_("title"), max_length=200)
    scheduled_at = models.DateTimeField(_("scheduled at"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=MeetingStatus.choices,
                              default=MeetingStatus.PLANNED)
    attendees = models.ManyToManyField("org.Department", verbose_name=_("attending units"),
                                       blank=True, related_name="collab_meetings")
    minutes = models.TextField(_("minutes"), blank=True)
    convened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("convened by"),
                                    on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(_("created at"))
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-scheduled_at", "-id"]

    def __str__(self) -> str:
        return self.title


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE,
                                related_name="items")
    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.PROTECT,
                                related_name="agenda_items")
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "dossier"], name="agenda_item_once"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} #{self.position}: {self.dossier_id}"


class Via(models.TextChoices):
    DESK = "desk", _("coordinator's desk")
    MEETING = "meeting", _("meeting")


class Decision(models.Model):
    """Who owns the case, and why; dispatched with the case, optionally made a rule."""

    dossier = models.OneToOneField(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE,
                                   related_name="decision")
    owner = models.ForeignKey("org.Department", verbose_name=_("owner"), on_delete=models.PROTECT,
                              related_name="collab_decisions")
    reasoning = models.TextField(_("reasoning"))
    via = models.CharField(_("decided at"), max_length=8, choices=Via.choices, default=Via.DESK)
    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.PROTECT,
                                null=True, blank=True, related_name="decisions")
    rule = models.ForeignKey("org.ResponsibilityRule", verbose_name=_("rule made from it"),
                             on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    component_id = models.CharField(_("component whose owner it names"), max_length=32,
                                    blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"),
                                   on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided at"), db_index=True)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.dossier_id} → {self.owner_id}"


class RecordKind(models.TextChoices):
    NETWORK = "network", _("network collaboration (comment or answer)")
    ONSITE = "onsite", _("on-site collaboration (joint visit)")


class Record(models.Model):
    """A collaboration record on a dossier: a comment/answer, or a joint visit with photos."""

    dossier = models.ForeignKey(Dossier, verbose_name=_("dossier"), on_delete=models.CASCADE,
                                related_name="records")
    kind = models.CharField(_("kind"), max_length=8, choices=RecordKind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"),
                               on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("org.Department", verbose_name=_("for unit"),
                                   on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    reply_to = models.ForeignKey("self", verbose_name=_("answer to"), on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="answers")
    text = models.TextField(_("text"))
    visited_at = models.DateTimeField(_("visited at"), null=True, blank=True)
    participants = models.ManyToManyField("org.Department", verbose_name=_("units on site"),
                                          blank=True, related_name="+")
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("collaboration record")
        verbose_name_plural = _("collaboration records")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.dossier_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class RecordPhoto(models.Model):
    record = models.ForeignKey(Record, verbose_name=_("record"), on_delete=models.CASCADE,
                               related_name="photos")
    file = models.FileField(_("file"), upload_to="collab/%Y/%m/")
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveIntegerField(_("size (bytes)"))
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("record photo")
        verbose_name_plural = _("record photos")
        ordering = ["record", "id"]

    def __str__(self) -> str:
        return self.file.name


class PresenceSpan(models.Model):
    """A stretch of time a unit's person was signed in and active (heartbeats), M-21."""

    person = models.ForeignKey("org.Person", verbose_name=_("person"), on_delete=models.CASCADE,
                               related_name="presence_spans")
    department = models.ForeignKey("org.Department", verbose_name=_("unit"),
                                   on_delete=models.CASCADE, related_name="presence_spans")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))

    class Meta:
        verbose_name = _("presence span")
        verbose_name_plural = _("presence spans")
        ordering = ["department", "start"]
        indexes = [
            models.Index(fields=["department", "start"], name="presence_unit_start"),
            models.Index(fields=["person", "end"], name="presence_person_end"),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.start:%Y-%m-%d %H:%M}–{self.end:%H:%M}"


class DutyDay(models.Model):
    """One unit's online time on one day, within its working periods (the daily rollup)."""

    department = models.ForeignKey("org.Department", verbose_name=_("unit"),
                                   on_delete=models.CASCADE, related_name="duty_days")
    day = models.DateField(_("day"))
    working_minutes = models.PositiveIntegerField(_("working minutes"))
    online_minutes = models.PositiveIntegerField(_("minutes online in working time"))
    first_seen = models.DateTimeField(_("first seen"), null=True, blank=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)

    class Meta:
        verbose_name = _("unit's day on duty")
        verbose_name_plural = _("units' days on duty")
        ordering = ["-day", "department"]
        constraints = [
            models.UniqueConstraint(fields=["department", "day"], name="dutyday_once"),
        ]

    def __str__(self) -> str:
        return f"{self.department_id} {self.day}: {self.online_minutes}/{self.working_minutes}"
