"""The demo loader builds a derived, active city standard and is safe to re-run."""

import io

import pytest

from citygrid.catalog import demo, selectors
from citygrid.catalog.models import Category, CategoryMapping, HandlingTimeLimit, Standard

pytestmark = pytest.mark.django_db


def test_demo_builds_active_city_standard_and_is_idempotent() -> None:
    out = io.StringIO()
    demo.load_demo(out, size="small")
    demo.load_demo(out, size="small")
    standard = Standard.objects.get(code=demo.DEMO_CODE)
    assert standard.status == "active" and standard.name == demo.DEMO_NAME
    assert standard.based_on.code == demo.NATIONAL
    assert Standard.objects.filter(code=demo.DEMO_CODE).count() == 1
    minors = standard.categories.filter(level="minor")
    assert minors.count() == 153 + 250 - 1 + 1 + 1  # merge, split, one added class
    without = [c.code for c in minors if not c.handling_limits.filter(urgency="ordinary").exists()]
    assert without == []
    fines = standard.categories.filter(level="fine")
    assert fines.count() == len(demo.MANHOLE_EVENTS) * 3
    missing = selectors.category_by_code(standard, "event", "0100101")
    assert missing.name == "井盖缺失" and missing.is_emergency
    assert str(selectors.handling_limit(missing, "urgent")) == "2 hours"
    assert str(selectors.step_limit(standard, "file", "urgent")) == "10 minutes"
    assert str(selectors.step_limit(standard, "check", "ordinary", "rural")) == "2 hours"
    assert selectors.active_standard() == standard
    national_shop = selectors.category_by_code(standard.based_on, "event", "09005")
    assert [c.code for c in selectors.map_category(national_shop, standard)] == ["09006"]
    assert "成都" in out.getvalue()
    assert CategoryMapping.objects.filter(to_category__standard=standard).exists()
    assert HandlingTimeLimit.objects.filter(category__standard__code__startswith="SAMPLE").exists()
    assert Category.objects.filter(standard__code="SAMPLE 太原市").exists()
