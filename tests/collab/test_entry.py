"""Each way a case reaches the collaboration platform (M-19, M-20)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from citygrid.cases import actions as case_actions
from citygrid.cases.models import CaseEvent, CasePause
from citygrid.collab import actions
from citygrid.collab.models import Dossier
from citygrid.core.errors import Conflict, PermissionDenied, ValidationFailed
from tests.collab.helpers import dispatched, filed, report, without_rules


def test_no_rule_case_is_swept_in_once_filed(people, place):
    without_rules("06002")
    case = report(people, place)
    assert case.routed_department.code == "CITY-COLLAB"
    assert actions.sweep_into_collaboration() == 0  # still to file: the centre files first
    case_actions.file_case(people["intake_operator_jinjiang"], case.pk)
    assert actions.sweep_into_collaboration() == 1
    case.refresh_from_db()
    assert (case.state, case.holder_department.code, case.step) == ("in_collaboration", "CITY-COLLAB", "")
    dossier = Dossier.objects.get(case=case)
    assert (dossier.entry, dossier.status) == ("no_rule", "open")
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert (event.operation, event.role, event.actor_id) == ("send_to_collaboration", "system", None)
    assert actions.sweep_into_collaboration() == 0  # once


def test_dispatcher_sends_for_ownership_confirmation(people, place):
    case = filed(people, place)
    with pytest.raises(ValidationFailed) as err:
        actions.send_case(people["dispatcher_jinjiang"], case.pk, reason=" ")
    assert err.value.code == "missing_input"
    dossier = actions.send_case(people["dispatcher_jinjiang"], case.number, reason="权属不清")
    assert (dossier.entry, dossier.reason, dossier.case.state) == ("sent", "权属不清", "in_collaboration")
    with pytest.raises(Conflict) as err:  # at the platform already
        actions.send_case(people["dispatcher_jinjiang"], case.pk, reason="again")
    assert err.value.code == "operation_not_allowed_in_state"


def test_other_districts_dispatcher_may_not_send(people, place):
    case = filed(people, place)
    with pytest.raises(PermissionDenied) as err:
        actions.send_case(people["dispatcher_qingyang"], case.pk, reason="x")
    assert err.value.code == "out_of_scope"


def test_department_returns_it_as_not_its_own(people, place):
    case = dispatched(people, place)
    case = case_actions.accept_case(people["handler_jinjiang_hw"], case.pk)
    with pytest.raises(PermissionDenied):  # another department's handler
        actions.return_not_ours(people["handler_jinjiang_sz"], case.pk, reason="x")
    dossier = actions.return_not_ours(people["handler_jinjiang_hw"], case.pk, reason="不属于环卫")
    case.refresh_from_db()
    assert (dossier.entry, dossier.from_department.code) == ("not_ours", "510104-HW")
    assert case.return_count == 1 and case.holder_person is None
    # the handling clock stands still while the platform decides
    assert CasePause.objects.filter(case=case, kind="collab", end__isnull=True).count() == 1


def test_returned_too_often_is_swept_in(people, place, settings):
    settings.COLLAB_MAX_TRANSFERS = 1
    case = dispatched(people, place)
    case = case_actions.redispatch_case(people["dispatcher_jinjiang"], case.pk,
                                        department="510104-SZ", reason="市政")
    assert not case.needs_collaboration
    case = case_actions.return_case(people["handler_jinjiang_sz"], case.pk, reason="不是市政")
    assert case.return_count == 1 and not case.needs_collaboration
    assert actions.sweep_into_collaboration() == 1
    assert Dossier.objects.get(case=case).entry == "transfers"


def test_flagged_case_is_swept_in(people, place):
    case = dispatched(people, place)
    case = case_actions.return_case(people["handler_jinjiang_hw"], case.pk, reason="不是我们")
    case = case_actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-HW")
    assert case.needs_collaboration
    assert actions.sweep_into_collaboration() == 1
    dossier = Dossier.objects.get(case=case)
    assert dossier.entry == "flagged" and "returned it before" in dossier.reason


def test_overdue_and_left_alone_is_swept_in(people, place, settings):
    settings.COLLAB_OVERDUE_HOURS = 2
    case = dispatched(people, place)
    deadline = case.step_deadline
    assert actions.sweep_into_collaboration(now=deadline + timedelta(hours=1)) == 0
    assert actions.sweep_into_collaboration(now=deadline + timedelta(hours=3)) == 1
    assert Dossier.objects.get(case=case).entry == "overdue"


def test_a_case_sent_through_the_engine_directly_gets_its_dossier(people, place):
    case = filed(people, place)
    case_actions.send_to_collaboration(people["dispatcher_jinjiang"], case.pk, reason="直接")
    assert not Dossier.objects.filter(case=case).exists()
    actions.sweep_into_collaboration(now=timezone.now())
    assert Dossier.objects.get(case=case).entry == "sent"


def test_a_voided_case_leaves_its_dossier_cancelled(people, place):
    case = filed(people, place)
    dossier = actions.send_case(people["dispatcher_jinjiang"], case.pk, reason="r")
    case_actions.void_case(people["shift_leader_jinjiang"], case.pk, reason="误报")
    actions.sweep_into_collaboration()
    dossier.refresh_from_db()
    assert dossier.status == "cancelled" and dossier.closed_at is not None
