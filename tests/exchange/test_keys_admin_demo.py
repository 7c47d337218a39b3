"""API keys (issued and revoked by administrators), the admin pages, and the demo loader."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from citygrid.core.errors import PermissionDenied


@pytest.fixture
def admin(demo_small: Any) -> Any:
    from django.contrib.auth.models import User

    return User.objects.create_superuser("root-x", password="long-enough-pass-123")


def test_keys_only_by_administrators(admin: Any, people: Any) -> None:
    from citygrid.exchange.actions import issue_api_key, revoke_api_key, use_api_key
    from citygrid.exchange.models import ApiKey

    with pytest.raises(PermissionDenied):
        issue_api_key(people["dispatcher_jinjiang"], name="x")
    row, key = issue_api_key(admin, name="aggregator")
    assert row.key_hash == ApiKey.hash_key(key) and key not in (row.key_hash, row.prefix * 5)
    assert use_api_key(key).pk == row.pk
    with pytest.raises(PermissionDenied):
        revoke_api_key(people["dispatcher_jinjiang"], row.pk)
    revoke_api_key(admin, row.pk)
    with pytest.raises(PermissionDenied) as info:
        use_api_key(key)
    assert info.value.code == "api_key_invalid"


def test_admin_issues_key_once_and_shows_requester_to_staff(client: Any, admin: Any,
                                                            submit: Any) -> None:
    from citygrid.exchange.models import ApiKey

    client.force_login(admin)
    response = client.post("/admin/exchange/apikey/add/", {"name": "partner", "contact": "ops@x"},
                           follow=True)
    assert response.status_code == 200
    key = re.search(r"(?:shown only now: |仅显示这一次）：)([\w-]+)", response.content.decode()).group(1)
    assert ApiKey.objects.get(name="partner").key_hash == ApiKey.hash_key(key)
    row = submit()
    page = client.get(f"/admin/exchange/publicrequest/{row.pk}/change/").content.decode()
    assert "13800138000" in page and "张三" in page
    assert client.get("/admin/exchange/publicservice/").status_code == 200


def test_attribute_definitions_are_checked(services: Any) -> None:
    from django.core.exceptions import ValidationError

    service = services["E06013"]
    service.attributes = [{"code": "a", "datatype": "blob"}]
    with pytest.raises(ValidationError):
        service.full_clean()


def test_demo_loader(demo_small: Any) -> None:
    from citygrid.exchange.demo import SERVICES, load_demo
    from citygrid.exchange.models import ApiKey, PublicRequest, PublicService

    out = io.StringIO()
    load_demo(out, size="small")
    text = out.getvalue()
    assert "API key" in text and ApiKey.objects.count() == 1
    assert PublicService.objects.count() == len(SERVICES)
    assert PublicRequest.objects.count() == 3
    assert all(r.case.source == "public" for r in PublicRequest.objects.all())
    load_demo(io.StringIO(), size="small")
    assert PublicRequest.objects.count() == 3 and ApiKey.objects.count() == 1


def test_key_command(demo_small: Any) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from citygrid.exchange.actions import use_api_key

    out = io.StringIO()
    call_command("open311_key", "issue", "cli client", "--contact", "ops", stdout=out)
    key = re.search(r": (\S+)\n", out.getvalue()).group(1)
    row = use_api_key(key)
    listing = io.StringIO()
    call_command("open311_key", "list", stdout=listing)
    assert "cli client" in listing.getvalue() and key not in listing.getvalue()
    call_command("open311_key", "revoke", str(row.pk), stdout=io.StringIO())
    with pytest.raises(PermissionDenied):
        use_api_key(key)
    with pytest.raises(CommandError) as info:
        call_command("open311_key", "revoke", "999999", stdout=io.StringIO())
    assert info.value.returncode == 2
