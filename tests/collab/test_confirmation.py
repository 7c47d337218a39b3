"""Ownership confirmation end to end: invitations, a decline, a decision, the dispatch, the new
rule routing the next case; meetings deciding several cases; scoping."""

from __future__ import annotations

import pytest

from citygrid.cases import actions as case_actions
from citygrid.cases.models import CaseEvent, CasePause
from citygrid.collab import actions, selectors
from citygrid.collab.models import Invitation, Record
from citygrid.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from citygrid.org.models import ResponsibilityRule
from tests.collab.helpers import STREET, dispatched, filed, report, without_rules


def _at_platform(people, place, **kw):
    case = filed(people, place, **kw)
    return actions.send_case(people["dispatcher_jinjiang"], case.pk, reason="权属不清")


def test_full_confirmation_with_a_decline_a_decision_and_a_new_rule(people, place, photo):
    without_rules("06002")
    case = report(people, place)
    case_actions.file_case(people["intake_operator_jinjiang"], case.pk)
    assert actions.sweep_into_collaboration() == 1
    dossier = selectors.desk_queue(people["coordinator_city"]).get(case=case)
    coordinator = people["coordinator_city"]

    with pytest.raises(PermissionDenied):
        actions.invite_units(people["dispatcher_jinjiang"], dossier.pk, departments=["510104-HW"])
    with pytest.raises(ValidationFailed) as err:
        actions.invite_units(coordinator, dossier.pk, departments=["510104-ZH"])
    assert err.value.code == "not_a_collaborating_unit"
    hw, sz = actions.invite_units(coordinator, dossier.pk, departments=["510104-HW", "510104-SZ"],
                                  note="请确认权属")
    assert hw.due_at > hw.invited_at
    with pytest.raises(Conflict):
        actions.invite_units(coordinator, dossier.pk, departments=["510104-HW"])

    # each unit answers its own invitation only
    with pytest.raises(NotFound):
        actions.answer_invitation(people["handler_jinjiang_sz"], hw.pk, answer="accept")
    with pytest.raises(ValidationFailed) as err:
        actions.answer_invitation(people["handler_jinjiang_hw"], hw.pk, answer="decline")
    assert err.value.code == "missing_input"  # a decline says why
    actions.answer_invitation(people["handler_jinjiang_hw"], hw.pk, answer="decline",
                              reason="属于市政设施")
    actions.answer_invitation(people["handler_jinjiang_sz"], sz.pk, answer="accept")
    with pytest.raises(Conflict):
        actions.answer_invitation(people["handler_jinjiang_sz"], sz.pk, answer="decline", reason="x")

    actions.add_comment(people["handler_jinjiang_hw"], dossier.pk, text="现场为市政井盖")
    visit = actions.record_visit(coordinator, dossier.pk, text="联合踏勘", photos=[photo],
                                 participants=["510104-HW", "510104-SZ"])
    assert visit.photos.count() == 1 and visit.participants.count() == 2
    with pytest.raises(ValidationFailed) as err:
        actions.record_visit(coordinator, dossier.pk, text="x", photos=[b"not a photo"])
    assert err.value.code == "invalid_photo"

    decision = actions.decide(coordinator, dossier.pk, owner="510104-SZ",
                              reasoning="市政设施归市政所", make_rule=True)
    case.refresh_from_db()
    assert (case.state, case.holder_department.code, case.step) == ("dispatched", "510104-SZ", "accept")
    assert not case.needs_collaboration
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert (event.operation, event.role, event.from_state) == ("dispatch", "collaboration_coordinator",
                                                               "in_collaboration")
    assert event.inputs["decision"]["owner"] == "510104-SZ"
    assert event.inputs["decision"]["rule"] == decision.rule.code
    dossier.refresh_from_db()
    assert dossier.status == "decided" and dossier.coordinator == coordinator
    with pytest.raises(Conflict):
        actions.decide(coordinator, dossier.pk, owner="510104-HW", reasoning="again")

    rule = ResponsibilityRule.objects.get(pk=decision.rule_id)
    assert (rule.department.code, rule.area.code, rule.active) == ("510104-SZ", "510104", True)
    nxt = report(people, place)  # the next such case routes itself
    assert nxt.routed_department.code == "510104-SZ"
    case = case_actions.accept_case(people["handler_jinjiang_sz"], case.pk)
    assert case.state == "handling"


def test_handling_clock_pauses_at_the_platform(people, place):
    case = dispatched(people, place)
    dossier = actions.return_not_ours(people["handler_jinjiang_hw"], case.pk, reason="不是我们")
    actions.decide(people["coordinator_city"], dossier.pk, owner="510104-SZ", reasoning="市政")
    pause = CasePause.objects.get(case=case, kind="collab")
    assert pause.end is not None


def test_a_decision_needs_reasoning_and_a_unit(people, place):
    dossier = _at_platform(people, place)
    coordinator = people["coordinator_city"]
    with pytest.raises(ValidationFailed) as err:
        actions.decide(coordinator, dossier.pk, owner="510104-SZ", reasoning="")
    assert err.value.code == "missing_input"
    with pytest.raises(ValidationFailed) as err:
        actions.decide(coordinator, dossier.pk, owner="NOPE", reasoning="r")
    assert err.value.code == "department_not_found"
    with pytest.raises(ValidationFailed) as err:
        actions.decide(coordinator, dossier.pk, owner="CITY-COLLAB", reasoning="r")
    assert err.value.code == "not_a_collaborating_unit"
    with pytest.raises(PermissionDenied):
        actions.decide(people["dispatcher_jinjiang"], dossier.pk, owner="510104-SZ", reasoning="r")
    dossier.case.refresh_from_db()
    assert dossier.case.state == "in_collaboration"


def test_meeting_decides_several_cases(people, place):
    coordinator = people["coordinator_city"]
    first = _at_platform(people, place)
    second = _at_platform(people, place, code="06001")
    third = _at_platform(people, place)
    meeting = actions.create_meeting(coordinator, title="协调会", scheduled_at=first.opened_at,
                                     attendees=["510104-HW", "510104-SZ"],
                                     dossiers=[first.pk, second.pk])
    actions.add_to_agenda(coordinator, meeting.pk, third.pk)
    with pytest.raises(Conflict):
        actions.add_to_agenda(coordinator, meeting.pk, third.pk)
    bad = [actions.MeetingDecision(first.pk, "510104-SZ", "市政"),
           actions.MeetingDecision(second.pk, "NOPE", "x")]
    with pytest.raises(ValidationFailed) as err:
        actions.hold_meeting(coordinator, meeting.pk, minutes="纪要", decisions=bad)
    assert err.value.details["field"] == "decisions[1]"
    first.case.refresh_from_db()
    assert first.case.state == "in_collaboration"  # all or nothing
    decisions = [actions.MeetingDecision(first.pk, "510104-SZ", "市政"),
                 actions.MeetingDecision(second.pk, "510104-HW", "环卫", make_rule=True,
                                         rule_area="street")]
    meeting = actions.hold_meeting(coordinator, meeting.pk, minutes="会议纪要：两案定责", decisions=decisions)
    assert meeting.status == "held" and meeting.decisions.count() == 2
    for dossier, owner in ((first, "510104-SZ"), (second, "510104-HW")):
        dossier.refresh_from_db()
        dossier.case.refresh_from_db()
        assert dossier.status == "decided" and dossier.decision.via == "meeting"
        assert (dossier.case.state, dossier.case.holder_department.code) == ("dispatched", owner)
    assert second.decision.rule.area.code == STREET
    third.refresh_from_db()
    assert third.status == "open"  # on the agenda, not decided
    with pytest.raises(Conflict):
        actions.hold_meeting(coordinator, meeting.pk, minutes="again")


def test_a_unit_sees_only_what_it_was_invited_to(people, place):
    coordinator = people["coordinator_city"]
    invited = _at_platform(people, place)
    other = _at_platform(people, place)
    actions.invite_units(coordinator, invited.pk, departments=["510104-HW"])
    actions.invite_units(coordinator, other.pk, departments=["510104-SZ"])
    hw = people["handler_jinjiang_hw"]
    assert list(selectors.inbox(hw).values_list("dossier_id", flat=True)) == [invited.pk]
    assert set(selectors.visible_dossiers(hw)) == {invited}
    assert selectors.dossier_detail(hw, invited.pk) == invited
    with pytest.raises(NotFound):
        selectors.dossier_detail(hw, other.pk)
    with pytest.raises(NotFound):
        actions.add_comment(hw, other.pk, text="x")
    assert not selectors.inbox(people["handler_qingyang_hw"]).exists()
    assert not selectors.desk_queue(hw).exists()
    assert {d.pk for d in selectors.desk_queue(coordinator)} >= {invited.pk, other.pk}
    assert not selectors.visible_dossiers(people["dispatcher_qingyang"]).exists()
    # a comment by the unit is recorded for the unit
    record = actions.add_comment(hw, invited.pk, text="不是我们的")
    reply = actions.add_comment(coordinator, invited.pk, text="请说明", reply_to=record.pk)
    assert record.department.code == "510104-HW" and reply.reply_to == record
    assert Record.objects.filter(dossier=invited).count() == 2
    assert Invitation.objects.filter(dossier=invited).count() == 1
