"""A city standard derived from a national one: edits, mappings, activation, read-only."""

import pytest
from django.db import IntegrityError, transaction

from citygrid.calendars.domain.durations import parse_duration
from citygrid.catalog import actions, selectors
from citygrid.catalog.models import CategoryMapping, Standard
from citygrid.core.errors import Conflict, PermissionDenied, ValidationFailed
from citygrid.space.models import Area
from tests.catalog.conftest import cat

pytestmark = pytest.mark.django_db


def make_city(code: str = "510100") -> Area:
    return Area.objects.create(code=code, name="成都市", level="city", geometry=b"", min_lon=0,
                               min_lat=0, max_lon=0, max_lat=0, area_m2=0)


def relations(standard: Standard) -> dict[str, set[tuple[str | None, str]]]:
    found: dict[str, set[tuple[str | None, str]]] = {}
    for m in CategoryMapping.objects.filter(to_category__standard=standard).select_related(
            "from_category", "to_category"):
        origin = m.from_category.code if m.from_category else None
        found.setdefault(m.relation, set()).add((origin, m.to_category.code))
    return found


def test_derive_copies_classes_limits_and_maps_them_as_same(base: Standard) -> None:
    base.status = "draft"
    base.save()
    actions.set_handling_limit(cat(base, "0101"), "ordinary", parse_duration("4 working hours"))
    actions.set_step_limit(base, "file", "urgent", "any", parse_duration("10 minutes"))
    base.status = "active"
    base.save()
    city = actions.derive_standard(base, "CITY-1", "城市标准")
    assert city.status == "draft" and city.based_on == base and not city.is_national
    assert city.categories.count() == base.categories.count() == 8
    assert cat(city, "0101").parent.code == "01"
    assert str(selectors.handling_limit(cat(city, "0101"))) == "4 working hours"
    assert str(selectors.step_limit(city, "file", "urgent")) == "10 minutes"
    assert relations(city) == {"same": {(c.code, c.code) for c in base.categories.filter(kind="event")}
                               | {("01", "01"), ("0101", "0101")}}
    with pytest.raises(Conflict):
        actions.derive_standard(base, "CITY-1", "again")


def test_class_edits_record_mappings(base: Standard) -> None:
    city = actions.derive_standard(base, "CITY-1", "城市标准")
    actions.rename_category(cat(city, "0201"), "乱堆物料杂物")
    actions.merge_categories([cat(city, "0102")], cat(city, "0103"), name="占道经营（含店外）")
    actions.split_category(cat(city, "0101"), [("0101", "暴露垃圾"), ("0104", "积存垃圾")])
    fines = actions.refine_category(cat(city, "0103"), [("010301", "摆摊"), ("010302", "店外")])
    added = actions.add_category(city, kind="event", code="0202", name="共享单车乱停",
                                 parent=cat(city, "02"))
    assert [f.level for f in fines] == ["fine", "fine"] and added.level == "minor"
    assert not city.categories.filter(code="0102").exists()
    found = relations(city)
    assert found["renamed"] == {("0201", "0201")}
    assert found["merged"] == {("0102", "0103"), ("0103", "0103")}
    assert found["split"] == {("0101", "0101"), ("0101", "0104")}
    # 0103 now stands for the old 0102 and 0103: its fine classes refine both
    assert found["refined"] == {(o, f) for o in ("0102", "0103") for f in ("010301", "010302")}
    assert found["new"] == {(None, "0202")}


def test_map_category_keeps_history_comparable(base: Standard) -> None:
    city = actions.derive_standard(base, "CITY-1", "城市标准")
    actions.merge_categories([cat(city, "0102")], cat(city, "0103"))
    actions.split_category(cat(city, "0101"), [("0101", "暴露垃圾"), ("0104", "积存垃圾")])
    actions.refine_category(cat(city, "0103"), [("010301", "摆摊")])
    actions.activate_standard(city)
    later = actions.derive_standard(city, "CITY-2", "城市标准二版")
    forward = [c.code for c in selectors.map_category(cat(base, "0102"), later)]
    assert forward == ["0103", "010301"]
    split = [c.code for c in selectors.map_category(cat(base, "0101"), later)]
    assert split == ["0101", "0104"]
    back = [c.code for c in selectors.map_category(cat(later, "0103"), base)]
    assert back == ["0102", "0103"]
    assert [c.code for c in selectors.map_category(cat(later, "0104"), base)] == ["0101"]
    sibling = actions.derive_standard(base, "OTHER", "另一城市")
    across = [c.code for c in selectors.map_category(cat(later, "0104"), sibling)]
    assert across == ["0101"]
    assert selectors.map_category(cat(base, "0101"), base) == [cat(base, "0101")]
    unrelated = Standard.objects.create(code="X", name="x")
    assert selectors.map_category(cat(base, "0101"), unrelated) == []


def test_edit_rules(base: Standard) -> None:
    city = actions.derive_standard(base, "CITY-1", "城市标准")
    with pytest.raises(ValidationFailed):
        actions.add_category(city, kind="event", code="9901", name="x", parent=cat(city, "01"))
    with pytest.raises(Conflict):
        actions.add_category(city, kind="event", code="0101", name="x", parent=cat(city, "01"))
    # kind + code is the key: an event 0101 does not block a component 0101 elsewhere
    actions.add_category(city, kind="component", code="0102", name="污水井盖",
                         parent=cat(city, "01", "component"))
    with pytest.raises(ValidationFailed):
        actions.merge_categories([cat(city, "0201")], cat(city, "0101"))  # not siblings
    with pytest.raises(ValidationFailed):
        actions.refine_category(cat(city, "01"), [("0199", "x")])  # fine classes go under minors
    with pytest.raises(ValidationFailed):
        actions.split_category(cat(city, "0101"), [("0105", "only one")])


def test_active_standard_is_read_only(base: Standard) -> None:
    city = actions.derive_standard(base, "CITY-1", "城市标准")
    actions.activate_standard(city)
    edits = [
        lambda: actions.rename_category(cat(city, "0101"), "x"),
        lambda: actions.add_category(city, kind="event", code="0105", name="x",
                                     parent=cat(city, "01")),
        lambda: actions.merge_categories([cat(city, "0102")], cat(city, "0103")),
        lambda: actions.split_category(cat(city, "0101"), [("0101", "a"), ("0105", "b")]),
        lambda: actions.refine_category(cat(city, "0101"), [("010101", "a")]),
        lambda: actions.set_handling_limit(cat(city, "0101"), "urgent", parse_duration("1 hour")),
        lambda: actions.set_step_limit(city, "file", "urgent", "any", parse_duration("1 hour")),
        lambda: actions.update_category(cat(city, "0101"), is_emergency=True),
        lambda: actions.activate_standard(city),
    ]
    for edit in edits:
        with pytest.raises(Conflict) as info:
            edit()
        assert info.value.code == "standard_not_editable"
    assert cat(city, "0101").name == "暴露垃圾"


def test_permissions(base: Standard, outsider, editor) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        actions.derive_standard(base, "CITY-1", "城市标准", user=outsider)
    city = actions.derive_standard(base, "CITY-1", "城市标准", user=editor)
    with pytest.raises(PermissionDenied):
        actions.rename_category(cat(city, "0101"), "x", user=outsider)
    actions.rename_category(cat(city, "0101"), "垃圾暴露", user=editor)
    assert cat(city, "0101").name == "垃圾暴露"


def test_one_active_standard_per_city(base: Standard) -> None:
    chengdu = make_city()
    first = actions.derive_standard(base, "CD-2016", "成都2016", city=chengdu)
    actions.activate_standard(first)
    assert selectors.active_standard(chengdu) == first
    second = actions.derive_standard(first, "CD-2026", "成都2026", city=chengdu)
    actions.activate_standard(second)
    first.refresh_from_db()
    assert first.status == "retired" and selectors.active_standard(chengdu) == second
    with pytest.raises(IntegrityError), transaction.atomic():
        Standard.objects.filter(pk=first.pk).update(status="active")
    # a city without its own standard uses the default: the national one here
    assert selectors.active_standard(make_city("440300")) == base
    with pytest.raises(ValidationFailed):
        actions.derive_standard(base, "D", "d", city=Area.objects.create(
            code="510104", name="锦江区", level="district", parent=chengdu, geometry=b"",
            min_lon=0, min_lat=0, max_lon=0, max_lat=0, area_m2=0))
    district = Area.objects.get(code="510104")
    assert selectors.active_standard(district) == second
