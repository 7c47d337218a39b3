"""A phone that retries a report creates one case and gets the same answer again."""

from __future__ import annotations

import pytest

from citygrid.cases.models import Case, CaseEvent, Photo
from citygrid.core.errors import ValidationFailed

from .test_flows import report


def test_same_key_same_reporter_returns_the_first_case(people, place, photo):
    first = report(people, place, idempotency_key="phone-1:42", photos=[photo])
    again = report(people, place, idempotency_key="phone-1:42", photos=[photo])
    assert again.pk == first.pk and again.number == first.number and again.version == first.version
    assert Case.objects.count() == 1
    assert CaseEvent.objects.count() == 1 and Photo.objects.count() == 1


def test_the_retry_wins_even_with_different_content(people, place):
    first = report(people, place, idempotency_key="k", description="first")
    again = report(people, place, idempotency_key="k", description="second", code="06007")
    assert again.pk == first.pk and again.description == "first"


def test_keys_are_per_reporter(people, place):
    a = report(people, place, idempotency_key="k")
    b = report(people, place, who="city_inspector_2", idempotency_key="k")
    assert a.pk != b.pk


def test_no_key_no_deduplication(people, place):
    report(people, place)
    report(people, place)
    assert Case.objects.count() == 2


def test_a_failed_report_can_be_retried_with_its_key(people, place):
    with pytest.raises(ValidationFailed):
        report(people, place, idempotency_key="k", urgency="emergency")
    case = report(people, place, idempotency_key="k")
    assert Case.objects.get() == case


def test_a_retry_after_the_case_moved_on_returns_it_as_it_is(people, place):
    from citygrid.cases import actions

    first = report(people, place, idempotency_key="k")
    actions.file_case(people["shift_leader_jinjiang"], first.pk)
    again = report(people, place, idempotency_key="k")
    assert (again.pk, again.state, again.version) == (first.pk, "to_dispatch", 2)


def test_key_length(people, place):
    with pytest.raises(ValidationFailed) as err:
        report(people, place, idempotency_key="k" * 101)
    assert err.value.code == "too_long"
