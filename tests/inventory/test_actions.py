"""Owner lookup through routing, state changes with history, survey flags, permissions."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from citygrid.core.errors import NotFound, PermissionDenied, ValidationFailed
from citygrid.inventory import actions, selectors
from citygrid.inventory.models import ComponentChange, InventoryRevision, SurveyFlag
from tests.inventory.conftest import csv_bytes, grid_points

HEADER = ["code", "class", "lon", "lat", "owner", "maintainer", "state"]


@pytest.fixture
def inventory(city: Any) -> list[tuple[float, float]]:
    pts = grid_points(city, "510104", 3)
    rows = [
        ["51010401037000001", "01037", *pts[0], "SU-POWER", "510104-SZ", "intact"],
        ["51010401037000002", "01037", *pts[1], "", "510104-SZ", "missing"],
        ["51010401005000001", "01005", *pts[2], "SU-POWER", "", "intact"],
    ]
    actions.import_components(None, csv_bytes(HEADER, rows), "inv.csv")
    return pts


def test_owner_lookup_and_routing(inventory: list[tuple[float, float]]) -> None:
    from citygrid.org.services import route

    owner = selectors.component_owner("51010401037000001")
    assert owner is not None and owner.code == "SU-POWER"
    maintainer = selectors.component_owner("51010401037000002")
    assert maintainer is not None and maintainer.code == "510104-SZ"
    assert selectors.component_owner("nonexistent") is None
    lon, lat = inventory[0]
    # The demo's major-class rule for components defers to the owner (use_component_owner).
    answer = route("01037", "component", lon, lat, component_id="51010401037000001")
    assert answer.department.code == "SU-POWER"
    without = route("01037", "component", lon, lat)
    assert without.department.code == "510104-SZ"


def test_state_change_recorded(inventory: Any) -> None:
    before = InventoryRevision.objects.get(pk=1).revision
    c = actions.set_component_state(None, "51010401037000002", "intact", case_number="C-1",
                                    note="closed")
    assert c.state == "intact"
    change = ComponentChange.objects.get(component=c)
    assert (change.source, change.case_number) == ("case", "C-1")
    assert change.before["state"] == "missing" and change.after["state"] == "intact"
    assert InventoryRevision.objects.get(pk=1).revision == before + 1
    hist = selectors.history(c)
    assert [h["source"] for h in hist] == ["import", "case"]
    with pytest.raises(ValidationFailed):
        actions.set_component_state(None, c.code, "shiny")
    with pytest.raises(NotFound):
        actions.set_component_state(None, "510104010370000099", "intact")


def test_edit_needs_administrator(inventory: Any) -> None:
    from citygrid.org.demo import load_demo  # noqa: F401 - people come with the org demo

    nobody = User.objects.create_user("nobody", password="x")
    with pytest.raises(PermissionDenied):
        actions.set_component_state(nobody, "51010401037000001", "damaged")
    admin = User.objects.get(username="administrator_jinjiang")
    c = actions.update_component(admin, "51010401037000001", {"name": "路灯一", "state": "damaged"})
    change = ComponentChange.objects.get(component=c)
    assert change.after == {"name": "路灯一", "state": "damaged"} and change.source == "edit"
    other = User.objects.get(username="administrator_qingyang")
    with pytest.raises(PermissionDenied):
        actions.update_component(other, c.code, {"name": "x"})


def test_removed_components_leave_the_nearby_index(inventory: list[tuple[float, float]]) -> None:
    lon, lat = inventory[0]
    found = selectors.components_near(lon, lat, 2000, limit=10)
    assert found[0].component.code == "51010401037000001" and found[0].distance_m < 0.01
    assert [n.component.code for n in selectors.components_near(lon, lat, 2000, "01005")] == [
        "51010401005000001"]
    assert len(selectors.components_near(lon, lat, 2000, "01")) == 3  # major: its minors
    actions.set_component_state(None, "51010401037000001", "removed")
    codes = [n.component.code for n in selectors.components_near(lon, lat, 2000, limit=10)]
    assert "51010401037000001" not in codes


def test_survey_flag_work_list(city: Any) -> None:
    (lon, lat), = grid_points(city, "510105", 1)
    flag = actions.flag_for_survey(None, category="01005", lon=lon, lat=lat, case_number="C-9",
                                   note="未普查的电力井盖")
    assert flag.status == "open" and flag.district is not None
    assert flag.district.code == "510105" and flag.grid is not None
    assert list(selectors.survey_flags("open")) == [flag]
    with pytest.raises(ValidationFailed):
        actions.flag_for_survey(None, category=selectors.component_class("01").children.first()
                                .standard.categories.get(kind="event", code="06"),
                                lon=lon, lat=lat, case_number="C-9")
    done = actions.resolve_survey_flag(None, flag.pk, "dismissed")
    assert done.status == "dismissed" and done.resolved_at is not None
    assert SurveyFlag.objects.filter(status="open").count() == 0
