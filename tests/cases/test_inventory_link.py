"""The case engine and the component inventory (docs/inventory.md "For the case engine"): a
reported component is checked against the inventory and routed to its owner; an uninventoried
one is flagged for the survey team; closing a case sets its component's state."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from citygrid.cases import actions
from citygrid.cases.models import Case, CaseEvent
from citygrid.core.errors import ValidationFailed
from citygrid.inventory import actions as inventory_actions
from citygrid.inventory import selectors as inventory_selectors
from citygrid.inventory.models import ComponentChange, SurveyFlag

STREET = "510104002"
POWER_COVER = "51010401005000001"  # 电力井盖, owned by the power company (SU-POWER)
SEWER_COVER = "51010401002000001"  # 污水井盖, the district's municipal works (510104-SZ)


@pytest.fixture
def inventory(demo_small, place):
    lon, lat = place(STREET)
    rows = [
        ["code", "class", "lon", "lat", "owner", "maintainer", "state"],
        [POWER_COVER, "01005", lon, lat, "SU-POWER", "", "missing"],
        [SEWER_COVER, "01002", lon, lat, "", "510104-SZ", "damaged"],
    ]
    data = "".join(",".join(str(c) for c in row) + "\n" for row in rows).encode()
    inventory_actions.import_components(None, data, "covers.csv")
    return lon, lat


def report(people, lon, lat, **kw):
    kw.setdefault("source", "city_inspector")
    kw.setdefault("kind", "component")
    kw.setdefault("category_code", "01005")
    return actions.report_case(people[kw.pop("who", "city_inspector_1")], lon=lon, lat=lat, **kw)


def test_power_company_cover_goes_to_the_power_company(people, inventory):
    case = report(people, *inventory, component_id=POWER_COVER)
    assert case.component_id == POWER_COVER
    assert case.routed_department.code == "SU-POWER"
    sewer = report(people, *inventory, category_code="01002", component_id=SEWER_COVER)
    assert sewer.routed_department.code == "510104-SZ"
    event = CaseEvent.objects.get(case=case, seq=1)
    assert event.inputs["component_id"] == POWER_COVER


def test_unknown_component_is_refused_and_nothing_written(people, inventory):
    before = Case.objects.count()
    with pytest.raises(ValidationFailed) as info:
        report(people, *inventory, component_id="51010401005999999")
    assert info.value.code == "component_not_found" and info.value.status == 422
    assert info.value.field == "component_id"
    assert Case.objects.count() == before


def test_component_of_another_class_is_refused(people, inventory):
    with pytest.raises(ValidationFailed) as info:
        report(people, *inventory, category_code="01002", component_id=POWER_COVER)
    assert info.value.code == "component_class_mismatch"
    assert info.value.details["component_class"] == "01005"
    with pytest.raises(ValidationFailed) as info:  # an event class never matches a component
        report(people, *inventory, kind="event", category_code="06002", component_id=POWER_COVER)
    assert info.value.code == "component_class_mismatch"


def test_api_unknown_component_is_422(client, people, inventory):
    client.force_login(people["city_inspector_1"])
    lon, lat = inventory
    response = client.post("/api/v1/cases", {
        "source": "city_inspector", "kind": "component", "category_code": "01005",
        "lon": lon, "lat": lat, "component_id": "51010401005999999"}, content_type="application/json")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "component_not_found" and body["details"]["field"] == "component_id"


def test_uninventoried_component_is_flagged_for_survey(people, inventory):
    lon, lat = inventory
    case = report(people, lon, lat, uninventoried=True, description="新装的电力井盖，没有编码",
                  idempotency_key="survey-1")
    assert (case.kind, case.category.code, case.component_id) == ("component", "01005", "")
    flag = SurveyFlag.objects.get(case_number=case.number)
    assert flag.category.code == "01005" and flag.district.code == "510104"
    assert CaseEvent.objects.get(case=case, seq=1).inputs["uninventoried"] is True
    # A retry creates neither a second case nor a second flag.
    again = report(people, lon, lat, uninventoried=True, idempotency_key="survey-1")
    assert again.pk == case.pk
    assert SurveyFlag.objects.filter(case_number=case.number).count() == 1
    assert any(f.case_number == case.number for f in inventory_selectors.survey_flags("open"))


def test_uninventoried_with_an_id_or_an_event_is_refused(people, inventory):
    flags = SurveyFlag.objects.count()
    with pytest.raises(ValidationFailed) as info:
        report(people, *inventory, uninventoried=True, component_id=POWER_COVER)
    assert info.value.code == "invalid_report"
    with pytest.raises(ValidationFailed):
        report(people, *inventory, uninventoried=True, kind="event", category_code="06002")
    assert SurveyFlag.objects.count() == flags


def test_api_report_uninventoried(client, people, inventory):
    client.force_login(people["city_inspector_1"])
    lon, lat = inventory
    response = client.post("/api/v1/cases", {
        "source": "city_inspector", "kind": "component", "category_code": "01002",
        "lon": lon, "lat": lat, "uninventoried": True}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert SurveyFlag.objects.filter(case_number=response.json()["number"]).exists()


def to_close(people, lon, lat, component_id=POWER_COVER, category_code="01005"):
    case = report(people, lon, lat, component_id=component_id, category_code=category_code)
    case = actions.file_case(people["intake_operator_jinjiang"], case.pk)
    case = actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-HW")
    case = actions.accept_case(people["handler_jinjiang_hw"], case.pk)
    from tests.cases.conftest import png

    case = actions.feedback_case(people["handler_jinjiang_hw"], case.pk, after_photo=png())
    if case.state == "to_check":
        case = actions.check_case(people["district_inspector_jinjiang"], case.pk, passed=True)
    assert case.state == "to_close"
    return case


def test_closing_sets_the_component_state_and_its_history(people, inventory):
    case = to_close(people, *inventory)
    case = actions.close_case(people["shift_leader_jinjiang"], case.pk, component_state="intact")
    assert case.state == "closed"
    component = inventory_selectors.component_by_code(POWER_COVER)
    assert component.state == "intact"
    change = ComponentChange.objects.get(component=component)
    assert (change.source, change.case_number) == ("case", case.number)
    assert change.before["state"] == "missing" and change.after["state"] == "intact"
    assert [h["source"] for h in inventory_selectors.history(component)] == ["import", "case"]
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert event.operation == "close" and event.inputs["component_state"] == "intact"


def test_closing_with_a_bad_state_changes_nothing(people, inventory):
    case = to_close(people, *inventory)
    with pytest.raises(ValidationFailed) as info:
        actions.close_case(people["shift_leader_jinjiang"], case.pk, component_state="shiny")
    assert info.value.code == "invalid_state"
    assert Case.objects.get(pk=case.pk).state == "to_close"
    assert inventory_selectors.component_by_code(POWER_COVER).state == "missing"


def test_closing_without_component_state_leaves_the_component(people, inventory):
    case = to_close(people, *inventory)
    case = actions.close_case(people["shift_leader_jinjiang"], case.pk)
    assert case.state == "closed"
    assert inventory_selectors.component_by_code(POWER_COVER).state == "missing"
    assert not ComponentChange.objects.exists()


def test_component_state_on_a_case_without_component_is_refused(people, place, photo):
    lon, lat = place(STREET)
    case = actions.report_case(people["city_inspector_1"], source="city_inspector", kind="event",
                               category_code="06002", lon=lon, lat=lat)
    case = actions.file_case(people["intake_operator_jinjiang"], case.pk)
    case = actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-HW")
    case = actions.accept_case(people["handler_jinjiang_hw"], case.pk)
    case = actions.feedback_case(people["handler_jinjiang_hw"], case.pk, after_photo=photo)
    case = actions.check_case(people["district_inspector_jinjiang"], case.pk, passed=True)
    with pytest.raises(ValidationFailed) as info:
        actions.close_case(people["shift_leader_jinjiang"], case.pk, component_state="intact")
    assert info.value.code == "no_component"
    assert Case.objects.get(pk=case.pk).state == "to_close"


def test_api_close_with_component_state(client, people, inventory):
    case = to_close(people, *inventory)
    client.force_login(people["shift_leader_jinjiang"])
    response = client.post(f"/api/v1/cases/{case.number}/close",
                           {"component_state": "intact", "expected_version": case.version},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    assert inventory_selectors.component_by_code(POWER_COVER).state == "intact"


def test_page_close_form_offers_and_sets_component_state(client, people, inventory):
    case = to_close(people, *inventory)
    client.force_login(people["shift_leader_jinjiang"])
    page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert re.search(r'name="close-component_state"', page)
    response = client.post(reverse("cases:operate", args=[case.number, "close"]), {
        "close-expected_version": case.version, "close-component_state": "intact"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Case.objects.get(pk=case.pk).state == "closed"
    assert inventory_selectors.component_by_code(POWER_COVER).state == "intact"


def test_page_close_form_has_no_component_state_without_component(client, people, place, photo):
    lon, lat = place(STREET)
    case = actions.report_case(people["city_inspector_1"], source="city_inspector", kind="event",
                               category_code="06002", lon=lon, lat=lat)
    for step in (lambda c: actions.file_case(people["intake_operator_jinjiang"], c.pk),
                 lambda c: actions.dispatch_case(people["dispatcher_jinjiang"], c.pk, department="510104-HW"),
                 lambda c: actions.accept_case(people["handler_jinjiang_hw"], c.pk),
                 lambda c: actions.feedback_case(people["handler_jinjiang_hw"], c.pk, after_photo=photo),
                 lambda c: actions.check_case(people["district_inspector_jinjiang"], c.pk, passed=True)):
        case = step(case)
    client.force_login(people["shift_leader_jinjiang"])
    page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert 'data-op="close"' in page and "close-component_state" not in page



def test_component_page_lists_its_cases_scoped_to_the_viewer(client, people, inventory):
    from django.contrib.auth.models import User

    from citygrid.inventory.models import Component

    case = report(people, *inventory, component_id=POWER_COVER)
    other = report(people, *inventory, category_code="01002", component_id=SEWER_COVER)
    component = Component.objects.get(code=POWER_COVER)
    admin_user = User.objects.create_superuser("inventory_admin", "a@example.org", "x-Pass-2026!")
    client.force_login(admin_user)
    page = client.get(reverse("admin:inventory_component_change", args=[component.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert case.number in html and other.number not in html
    from citygrid.cases.selectors import cases_of_component

    assert list(cases_of_component(people["dispatcher_qingyang"], POWER_COVER)) == []
    assert [c.number for c in cases_of_component(people["dispatcher_jinjiang"], POWER_COVER)] == [
        case.number]
