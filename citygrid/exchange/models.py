"""Public participation data: the services offered to the public (Open311 service list),
API keys for Open311 clients, and the public requests with their requesters' contact data
(visible to staff only)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from citygrid.exchange.domain.rules import check_definitions


class ServiceKind(models.TextChoices):
    COMPONENT = "component", _("component")
    EVENT = "event", _("event")


class Channel(models.TextChoices):
    OPEN311 = "open311", _("Open311 API")
    WEB = "web", _("public web page")


def _default_attributes() -> list[dict[str, object]]:
    return []


class PublicService(models.Model):
    """One class of the active standard offered to the public under a plain-language name."""

    service_code = models.CharField(_("service code"), max_length=40, unique=True)
    jurisdiction = models.ForeignKey(
        "space.Area", verbose_name=_("city (empty: every city)"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="public_services", limit_choices_to={"level": "city"},
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ServiceKind.choices)
    category_code = models.CharField(_("class code"), max_length=32,
                                     help_text=_("A minor or fine class of the active standard."))
    name = models.CharField(_("plain-language name (Chinese)"), max_length=100)
    name_en = models.CharField(_("plain-language name (English)"), max_length=100)
    description = models.CharField(_("description (Chinese)"), max_length=300, blank=True)
    description_en = models.CharField(_("description (English)"), max_length=300, blank=True)
    group = models.CharField(_("group (Chinese)"), max_length=60)
    group_en = models.CharField(_("group (English)"), max_length=60)
    keywords = models.CharField(_("keywords (comma list)"), max_length=300, blank=True)
    attributes = models.JSONField(
        _("attributes"), default=_default_attributes, blank=True,
        help_text=_("Open311 attribute definitions: a list of {code, datatype, required, order, "
                    "description, description_en, values: [{key, name, name_en}]}."),
    )
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("public service")
        verbose_name_plural = _("public services")
        ordering = ["sort_order", "service_code"]

    def __str__(self) -> str:
        return f"{self.service_code} {self.name}"

    def clean(self) -> None:
        if not isinstance(self.attributes, list):
            raise ValidationError({"attributes": _("Attributes must be a JSON list.")})
        problems = check_definitions(self.attributes)
        if problems:
            raise ValidationError({"attributes": problems})


class ApiKey(models.Model):
    """An Open311 client's key. Only its SHA-256 is stored; the key itself is shown once."""

    name = models.CharField(_("client name"), max_length=100)
    prefix = models.CharField(_("key prefix"), max_length=8, db_index=True, editable=False)
    key_hash = models.CharField(_("key hash (SHA-256)"), max_length=64, unique=True, editable=False)
    contact = models.CharField(_("client contact"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("issued by"),
                                   on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class PublicRequest(models.Model):
    """A report from the public (web page or Open311) and the case it became."""

    case = models.OneToOneField("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT,
                                related_name="public_request")
    service = models.ForeignKey(PublicService, verbose_name=_("public service"),
                                on_delete=models.PROTECT, related_name="requests")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    api_key = models.ForeignKey(ApiKey, verbose_name=_("API key"), on_delete=models.PROTECT,
                                null=True, blank=True, related_name="requests")
    tracking_code = models.CharField(_("tracking code"), max_length=14, unique=True)
    token = models.CharField(_("Open311 token"), max_length=40, unique=True)
    description = models.TextField(_("description as submitted"), blank=True)
    attributes = models.JSONField(_("attribute values"), default=dict, blank=True)
    media_url = models.URLField(_("media URL (recorded, never fetched)"), max_length=1000,
                                blank=True)
    address_string = models.CharField(_("address as submitted"), max_length=300, blank=True)
    address_id = models.CharField(_("address id as submitted"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("public request")
        verbose_name_plural = _("public requests")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.tracking_code} → {self.case_id}"


class PublicRequester(models.Model):
    """Who sent a public request: personal data, shown to staff only, never published."""

    request = models.OneToOneField(PublicRequest, verbose_name=_("public request"),
                                   on_delete=models.CASCADE, related_name="requester")
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    device_id = models.CharField(_("device id"), max_length=200, blank=True)
    account_id = models.CharField(_("account id"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("public requester")
        verbose_name_plural = _("public requesters")

    def __str__(self) -> str:
        return self.name or self.email or self.phone or str(self.request_id)
