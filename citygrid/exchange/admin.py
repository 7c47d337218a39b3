from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from citygrid.core.errors import DomainError
from citygrid.exchange import actions
from citygrid.exchange.models import ApiKey, PublicRequest, PublicRequester, PublicService


@admin.register(PublicService)
class PublicServiceAdmin(admin.ModelAdmin):
    list_display = ("service_code", "name", "name_en", "group", "kind", "category_code",
                    "jurisdiction", "active", "sort_order")
    list_filter = ("active", "kind", "group")
    search_fields = ("service_code", "name", "name_en", "keywords", "category_code")
    list_editable = ("active", "sort_order")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "contact", "created_at", "created_by", "last_used_at",
                    "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "contact")
    fields = ("name", "contact", "prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "created_by", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        row, key = actions.issue_api_key(request.user, name=obj.name, contact=obj.contact)
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = row.pk, row.prefix, row.key_hash, row.created_at
        messages.warning(request, _("The new API key, shown only now: %(key)s") % {"key": key})

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        try:
            for row in queryset:
                actions.revoke_api_key(request.user, row.pk)
        except DomainError as exc:
            messages.error(request, exc.message)


class PublicRequesterInline(admin.StackedInline):
    model = PublicRequester
    can_delete = False
    readonly_fields = ("name", "email", "phone", "device_id", "account_id")
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PublicRequest)
class PublicRequestAdmin(admin.ModelAdmin):
    """Staff only (the admin): the requester's contact data appears here and nowhere public."""

    list_display = ("tracking_code", "case", "service", "channel", "api_key", "created_at")
    list_filter = ("channel", "service")
    search_fields = ("tracking_code", "case__number")
    readonly_fields = ("case", "service", "channel", "api_key", "tracking_code", "token",
                       "description", "attributes", "media_url", "address_string", "address_id",
                       "created_at")
    inlines = [PublicRequesterInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
