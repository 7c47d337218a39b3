"""Duplicate suggestions: open cases of the same class, near and recent, nearest first."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.utils import timezone

from citygrid.cases import actions
from citygrid.cases.duplicates import duplicates_of, suggest_duplicates
from citygrid.cases.models import Case
from citygrid.core.errors import ValidationFailed

STREET = "510104002"  # event 06xxx → standard process (stays open in to_file)
M_PER_DEG_LAT = 110_950.0  # near 30.6° N, for placing test points only


@pytest.fixture
def origin(place):
    return place(STREET)


@pytest.fixture
def report(people, origin):
    def make(north_m: float = 0.0, east_m: float = 0.0, code: str = "06002") -> Case:
        lon0, lat0 = origin
        lat = lat0 + north_m / M_PER_DEG_LAT
        lon = lon0 + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat0)))
        return actions.report_case(people["city_inspector_1"], source="city_inspector",
                                   kind="event", category_code=code, lon=lon, lat=lat)
    return make


def test_nearest_first_within_the_radius(report, origin):
    far, near, same = report(north_m=40), report(east_m=20), report()
    report(north_m=120)  # outside 50 m
    found = suggest_duplicates(category=same.category, lon=origin[0], lat=origin[1])
    assert [s.case.pk for s in found] == [same.pk, near.pk, far.pk]
    assert found[0].distance_m < 1
    assert 18 < found[1].distance_m < 22 and 38 < found[2].distance_m < 42
    assert all(timedelta(0) <= s.age < timedelta(minutes=5) for s in found)


def test_radius_window_and_limit_are_parameters(report, origin):
    base = report()
    farther = report(north_m=120)
    lon, lat = origin
    wide = suggest_duplicates(category=base.category_id, lon=lon, lat=lat, radius_m=150)
    assert [s.case.pk for s in wide] == [base.pk, farther.pk]
    assert [s.case.pk for s in suggest_duplicates(category=base.category_id, lon=lon, lat=lat,
                                                  radius_m=150, limit=1)] == [base.pk]
    later = timezone.now() + timedelta(hours=80)
    assert suggest_duplicates(category=base.category_id, lon=lon, lat=lat, at=later) == []
    assert suggest_duplicates(category=base.category_id, lon=lon, lat=lat, at=later,
                              window=timedelta(hours=100))


def test_radius_and_window_come_from_settings(report, origin, settings):
    base = report(north_m=80)
    lon, lat = origin
    assert suggest_duplicates(category=base.category, lon=lon, lat=lat) == []
    settings.CASES_DUPLICATE_RADIUS_M = 100
    assert [s.case.pk for s in suggest_duplicates(category=base.category, lon=lon, lat=lat)] == [base.pk]
    settings.CASES_DUPLICATE_WINDOW_HOURS = 1
    at = timezone.now() + timedelta(hours=2)
    assert suggest_duplicates(category=base.category, lon=lon, lat=lat, at=at) == []


def test_other_classes_closed_and_excluded_cases_are_left_out(report, origin, people):
    case = report()
    other_class = report(code="06001")
    rejected = report()
    actions.reject_case(people["intake_operator_jinjiang"], rejected.pk, reason="重复上报")
    lon, lat = origin
    found = suggest_duplicates(category=case.category, lon=lon, lat=lat)
    assert [s.case.pk for s in found] == [case.pk]
    assert other_class.category_id != case.category_id
    assert suggest_duplicates(category=case.category, lon=lon, lat=lat, exclude=case) == []
    assert suggest_duplicates(category=case.category, lon=lon, lat=lat, exclude=[case.pk]) == []


def test_duplicates_of_a_case_then_merge(report, people):
    first = report()
    second = report(east_m=10)
    found = duplicates_of(second)
    assert [s.case.pk for s in found] == [first.pk]
    assert found[0].age > timedelta(0)  # the first came before the second
    assert [s.case.pk for s in duplicates_of(first)] == [second.pk]
    actions.merge_case(people["intake_operator_jinjiang"], second.pk, duplicate_of=first.pk,
                       reason="重复")
    assert duplicates_of(first) == []  # merged cases are final


def test_distance_is_geodesic():
    # No cases needed: a known geodesic (1° of longitude on the equator is 111,319.49 m).
    from citygrid.cases.duplicates import _geod

    _, _, d = _geod().inv(0.0, 0.0, 1.0, 0.0)
    assert abs(d - 111_319.49) < 0.1


@pytest.mark.parametrize("kwargs, field", [
    ({"lon": "east", "lat": 30.6}, "lon"), ({"lon": 200, "lat": 30.6}, "lon"),
    ({"lon": 104.0, "lat": math.nan}, "lat"), ({"radius_m": 0}, "radius_m"),
    ({"radius_m": 1e6}, "radius_m"), ({"window": timedelta(0)}, "window"),
    ({"limit": 0}, "limit"),
])
def test_bad_queries_are_refused(db, kwargs, field):
    args = {"category": 1, "lon": 104.06, "lat": 30.66, **kwargs}
    with pytest.raises(ValidationFailed) as info:
        suggest_duplicates(**args)
    assert info.value.code == "invalid_duplicate_query"
    assert info.value.details[0]["field"] == field
