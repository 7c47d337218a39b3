"""Scoped reads: who sees which cases; queues per role."""

from __future__ import annotations

import pytest

from citygrid.cases import actions, selectors
from citygrid.core.errors import NotFound

from .test_flows import report


@pytest.fixture
def two_districts(people, place):
    jj = report(people, place)
    jj = actions.file_case(people["shift_leader_jinjiang"], jj.pk)
    jj = actions.dispatch_case(people["dispatcher_jinjiang"], jj.pk, department="510104-HW",
                               copies=["CITY-CGW"])
    qy = report(people, place, area="510105002")
    return jj, qy


def numbers(qs):
    return {c.number for c in qs}


def test_visibility(people, two_districts, django_user_model):
    jj, qy = two_districts
    assert numbers(selectors.visible_cases(people["dispatcher_jinjiang"])) == {jj.number}
    assert numbers(selectors.visible_cases(people["dispatcher_qingyang"])) == {qy.number}
    assert numbers(selectors.visible_cases(people["shift_leader_city"])) == {jj.number, qy.number}
    assert numbers(selectors.visible_cases(people["city_inspector_1"])) == {jj.number, qy.number}
    assert numbers(selectors.visible_cases(people["handler_jinjiang_hw"])) == {jj.number}
    assert numbers(selectors.visible_cases(people["handler_jinjiang_sz"])) == set()
    assert numbers(selectors.visible_cases(people["handler_qingyang_hw"])) == set()
    stranger = django_user_model.objects.create_user("stranger")
    assert numbers(selectors.visible_cases(stranger)) == set()
    admin = django_user_model.objects.create_superuser("root")
    assert numbers(selectors.visible_cases(admin)) == {jj.number, qy.number}


def test_reporters_see_their_own_reports(people, place, django_user_model):
    citizen = django_user_model.objects.create_user("citizen")
    case = report({"citizen": citizen}, place, who="citizen", source="public")
    assert numbers(selectors.visible_cases(citizen)) == {case.number}


def test_case_detail(people, two_districts):
    jj, qy = two_districts
    assert selectors.case_detail(people["dispatcher_jinjiang"], jj.number).pk == jj.pk
    assert selectors.case_detail(people["dispatcher_jinjiang"], jj.pk).pk == jj.pk
    with pytest.raises(NotFound) as err:
        selectors.case_detail(people["dispatcher_jinjiang"], qy.number)
    assert err.value.code == "case_not_found"
    events = selectors.case_events(people["dispatcher_jinjiang"], jj.pk)
    assert [e.operation for e in events] == ["report", "file", "dispatch"]


def test_queues(people, place, two_districts):
    jj, qy = two_districts
    waiting = report(people, place)
    assert numbers(selectors.queue_for(people["shift_leader_jinjiang"], "shift_leader")) == {waiting.number}
    assert numbers(selectors.queue_for(people["intake_operator_jinjiang"], "intake_operator")) == {waiting.number}
    assert numbers(selectors.queue_for(people["shift_leader_qingyang"], "shift_leader")) == {qy.number}
    assert numbers(selectors.queue_for(people["handler_jinjiang_hw"], "handler")) == {jj.number}
    assert numbers(selectors.queue_for(people["handler_jinjiang_sz"], "handler")) == set()
    assert numbers(selectors.queue_for(people["dispatcher_jinjiang"], "dispatcher")) == set()
    # a role the user does not hold: nothing
    assert numbers(selectors.queue_for(people["handler_jinjiang_hw"], "dispatcher")) == set()
    actions.file_case(people["shift_leader_jinjiang"], waiting.pk)
    assert numbers(selectors.queue_for(people["dispatcher_jinjiang"], "dispatcher")) == {waiting.number}


def test_allowed_operations(people, two_districts):
    jj, _ = two_districts
    assert ("accept", "handler") in selectors.allowed_operations(people["handler_jinjiang_hw"], jj)
    assert ("return", "handler") in selectors.allowed_operations(people["handler_jinjiang_hw"], jj)
    assert selectors.allowed_operations(people["handler_jinjiang_sz"], jj) == []
    ops = selectors.allowed_operations(people["dispatcher_jinjiang"], jj)
    assert ("redispatch", "dispatcher") in ops and ("urge", "dispatcher") in ops
    assert ("accept", "dispatcher") not in ops
