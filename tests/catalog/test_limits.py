"""Handling limits fall back from fine to minor to major; step limits from area type to any."""

import pytest

from citygrid.calendars.domain.durations import parse_duration
from citygrid.catalog import actions, selectors
from citygrid.catalog.models import Standard
from citygrid.core.errors import ValidationFailed
from tests.catalog.conftest import cat

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(base: Standard) -> Standard:
    return actions.derive_standard(base, "CITY-1", "城市标准")


def test_handling_limit_falls_back_up_the_levels(city: Standard) -> None:
    major, minor = cat(city, "01"), cat(city, "0101")
    (fine,) = actions.refine_category(minor, [("010101", "井盖缺失")])
    assert selectors.handling_limit(fine) is None
    actions.set_handling_limit(major, "ordinary", parse_duration("5 working days"))
    assert str(selectors.handling_limit(fine)) == "5 working days"
    actions.set_handling_limit(minor, "ordinary", parse_duration("4 working hours"))
    assert str(selectors.handling_limit(fine)) == "4 working hours"
    actions.set_handling_limit(fine, "ordinary", parse_duration("2 hours"))
    assert str(selectors.handling_limit(fine)) == "2 hours"
    assert str(selectors.handling_limit(minor)) == "4 working hours"
    assert selectors.handling_limit(fine, "urgent") is None  # no fallback across urgencies
    actions.set_handling_limit(fine, "ordinary", None)
    assert str(selectors.handling_limit(fine)) == "4 working hours"
    assert str(selectors.handling_limit(cat(city, "0102"))) == "5 working days"
    assert selectors.handling_limit(cat(city, "0201")) is None


def test_one_limit_per_class_and_urgency(city: Standard) -> None:
    minor = cat(city, "0101")
    actions.set_handling_limit(minor, "urgent", parse_duration("2 hours"))
    actions.set_handling_limit(minor, "urgent", parse_duration("1 hour"))
    assert minor.handling_limits.count() == 1
    with pytest.raises(ValidationFailed):
        actions.set_handling_limit(minor, "someday", parse_duration("1 hour"))


def test_step_limit_area_type_then_any(city: Standard) -> None:
    actions.set_step_limit(city, "check", "ordinary", "any", parse_duration("3 hours"))
    actions.set_step_limit(city, "check", "ordinary", "rural", parse_duration("2 hours"))
    actions.set_step_limit(city, "check", "ordinary", "urban", parse_duration("1 hour"))
    assert str(selectors.step_limit(city, "check")) == "1 hours"
    assert str(selectors.step_limit(city, "check", area_type="rural")) == "2 hours"
    actions.set_step_limit(city, "check", "ordinary", "urban", None)
    assert str(selectors.step_limit(city, "check")) == "3 hours"
    assert selectors.step_limit(city, "check", "urgent") is None
    assert selectors.step_limit(city, "close") is None
    with pytest.raises(ValidationFailed):
        actions.set_step_limit(city, "lunch", "ordinary", "any", parse_duration("1 hour"))
