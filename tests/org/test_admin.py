"""Admin pages render in zh-Hans and write through the actions' validation."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from citygrid.org.models import Department, ResponsibilityRule
from tests.org.conftest import user

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(org_city: Any) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_pages_render(superuser_client: Client) -> None:
    for url in ("/admin/org/department/", "/admin/org/department/add/", "/admin/org/person/",
                "/admin/org/person/add/", "/admin/org/roleassignment/", "/admin/org/responsibilityrule/",
                "/admin/org/responsibilityrule/add/", "/admin/org/department/import/",
                "/admin/org/responsibilityrule/tester/"):
        response = superuser_client.get(url)
        assert response.status_code == 200, url
    rule = ResponsibilityRule.objects.first()
    assert rule is not None
    page = superuser_client.get(f"/admin/org/responsibilityrule/{rule.pk}/change/")
    assert page.status_code == 200 and "处置部门" in page.content.decode()


def test_rule_form_refuses_two_scopes(superuser_client: Client) -> None:
    dept = Department.objects.get(code="510104-HW")
    area = dept.area
    data = {"code": "TWO-SCOPES", "active": "on", "kind": "event", "area": area.pk,
            "polygon": '{"type": "Polygon", "coordinates": [[[104,30],[105,30],[105,31],[104,30]]]}',
            "department": dept.pk, "process": "standard"}
    page = superuser_client.post("/admin/org/responsibilityrule/add/", data)
    assert page.status_code == 200
    assert "not several" in page.content.decode()
    assert not ResponsibilityRule.objects.filter(code="TWO-SCOPES").exists()
    del data["polygon"]
    done = superuser_client.post("/admin/org/responsibilityrule/add/", data)
    assert done.status_code == 302
    assert ResponsibilityRule.objects.get(code="TWO-SCOPES").area == area


def test_district_administrator_edits_only_its_district(org_city: Any) -> None:
    client = Client()
    client.force_login(user("administrator_jinjiang"))
    own = Department.objects.get(code="510104-HW")
    form = client.get(f"/admin/org/department/{own.pk}/change/")
    assert form.status_code == 200
    area_choices = form.context["adminform"].form.fields["parent"].queryset
    assert not area_choices.filter(code__startswith="510105").exists()
    other = Department.objects.get(code="510105-HW")
    assert client.get(f"/admin/org/department/{other.pk}/change/").status_code == 302
