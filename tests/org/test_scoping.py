"""A district dispatcher never sees another district's departments or people: selectors,
API and admin."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from citygrid.org import scoping, selectors
from citygrid.org.models import Department, Person, ResponsibilityRule, Role
from citygrid.space.models import Area
from tests.org.conftest import user

pytestmark = pytest.mark.django_db


def codes(qs: Any) -> set[str]:
    return set(qs.values_list("code", flat=True))


def test_demo_has_every_role_and_prints_logins(org_city: Any) -> None:
    from citygrid.org.demo import DEMO_PASSWORD, load_demo

    held = set(Person.objects.values_list("roles__role", flat=True))
    assert set(Role.values) <= held
    out = io.StringIO()
    before = (Department.objects.count(), Person.objects.count(), ResponsibilityRule.objects.count())
    load_demo(out, size="small")  # idempotent
    after = (Department.objects.count(), Person.objects.count(), ResponsibilityRule.objects.count())
    assert before == after
    text = out.getvalue()
    assert "dispatcher_jinjiang" in text and DEMO_PASSWORD in text and "conflict" not in text.lower()
    assert Client().login(username="dispatcher_jinjiang", password=DEMO_PASSWORD)


def test_selectors_scope_a_district_dispatcher(org_city: Any) -> None:
    jj = user("dispatcher_jinjiang")
    depts = codes(selectors.visible_departments(jj))
    assert {"510104-ZH", "510104-HW", "510104001-JD", "CITY-COLLAB", "SU-POWER"} <= depts
    assert not {c for c in depts if c.startswith("510105")}
    people = set(selectors.visible_people(jj).values_list("user__username", flat=True))
    assert {"dispatcher_jinjiang", "handler_jinjiang_hw", "street_staff_jinjiang"} <= people
    assert not {p for p in people if "qingyang" in p}
    assert "city_inspector_1" not in people and "administrator_city" not in people
    areas = codes(scoping.visible_areas(jj))
    assert "510104001001" in areas and "510105" not in areas and "510100" not in areas


def test_city_admin_sees_all_and_department_scope_follows_children(org_city: Any) -> None:
    admin = user("administrator_city")
    assert codes(selectors.visible_departments(admin)) == codes(Department.objects.all())
    head = user("department_head_jinjiang")
    own = codes(scoping.own_departments(head))
    assert {"510104-CGJ", "510104-HW", "510104-SZ", "510104-YL"} <= own
    assert "510104-ZF" not in own and "510105-CGJ" not in own


def test_can_act(org_city: Any) -> None:
    jj = user("dispatcher_jinjiang")
    community_jj = Area.objects.get(code="510104002001")
    community_qy = Area.objects.get(code="510105001001")
    assert scoping.can_act(jj, Role.DISPATCHER, area=community_jj)
    assert not scoping.can_act(jj, Role.DISPATCHER, area=community_qy)
    assert not scoping.can_act(jj, Role.HANDLER, area=community_jj)
    assert scoping.can_act(jj, Role.DISPATCHER, department=Department.objects.get(code="510104-HW"))
    assert not scoping.can_act(jj, Role.DISPATCHER, department=Department.objects.get(code="510105-HW"))
    hw = user("handler_jinjiang_hw")
    assert scoping.can_act(hw, Role.HANDLER, department=Department.objects.get(code="510104-HW"))
    assert not scoping.can_act(hw, Role.HANDLER, department=Department.objects.get(code="510104-SZ"))
    assert scoping.can_act(hw, Role.HANDLER)
    assert not scoping.can_act(hw, Role.DISPATCHER)


def test_api_lists_are_scoped(org_city: Any) -> None:
    client = Client()
    assert client.get("/api/v1/departments").status_code == 401
    client.force_login(user("dispatcher_jinjiang"))
    depts = {d["code"] for d in client.get("/api/v1/departments").json()}
    assert "510104-HW" in depts and not any(c.startswith("510105") for c in depts)
    people = {p["username"] for p in client.get("/api/v1/people").json()}
    assert "handler_jinjiang_hw" in people and "dispatcher_qingyang" not in people
    rules = {r["code"] for r in client.get("/api/v1/rules").json()}
    assert "510104-component-01002" in rules and not any(c.startswith("510105") for c in rules)


def test_admin_querysets_are_scoped(org_city: Any) -> None:
    client = Client()
    client.force_login(user("dispatcher_jinjiang"))
    page = client.get("/admin/org/department/?all=")
    assert page.status_code == 200
    body = page.content.decode()
    assert "510104-HW" in body and "510105-HW" not in body
    other = Department.objects.get(code="510105-HW")
    assert client.get(f"/admin/org/department/{other.pk}/change/").status_code == 302  # "does not exist"
    people = client.get("/admin/org/person/").content.decode()
    assert "dispatcher_qingyang" not in people and "handler_jinjiang_hw" in people
    # A dispatcher may look but not change.
    own = Department.objects.get(code="510104-HW")
    page = client.post(f"/admin/org/department/{own.pk}/change/", {"name": "x"})
    assert page.status_code == 403


def test_grid_rules_are_visible_only_in_their_district(org_city: Any) -> None:
    from citygrid.org import actions
    from citygrid.space.models import UnitGrid

    grid = UnitGrid.objects.filter(community__code__startswith="510105").first()
    rule = ResponsibilityRule(code="QY-GRID", department=Department.objects.get(code="510105-HW"))
    actions.save_rule(None, rule, grids=[grid], copies=[])
    assert not selectors.visible_rules(user("dispatcher_jinjiang")).filter(code="QY-GRID").exists()
    assert selectors.visible_rules(user("dispatcher_qingyang")).filter(code="QY-GRID").exists()
