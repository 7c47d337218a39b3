"""Every process end to end through the actions, on the small demo city."""

from __future__ import annotations

from citygrid.cases import actions
from citygrid.cases.history import check_case_chain
from citygrid.cases.models import CaseCopy, CaseEvent, Photo

STANDARD_STREET = "510104002"  # event 06 → standard process, 510104-HW
FLAT_COMMUNITY = "510104001002"  # event 06 → flat process, the street office 510104001-JD
SANITATION_COMMUNITY = "510104001001"  # event 06 → sanitation special patrol, 510104-HW


def report(people, place, who="city_inspector_1", area=STANDARD_STREET, code="06002", **kw):
    lon, lat = place(area)
    kw.setdefault("source", "city_inspector")
    return actions.report_case(people[who], kind=kw.pop("kind", "event"), category_code=code,
                               lon=lon, lat=lat, **kw)


def trail(case):
    return [(e.operation, e.role, e.from_state, e.to_state)
            for e in CaseEvent.objects.filter(case=case).order_by("seq")]


def test_standard_six_steps(people, place, photo):
    case = report(people, place, photos=[photo], address="东大街 1 号", description="店面无证装修")
    assert (case.process, case.state, case.step) == ("standard", "to_file", "file")
    assert case.number.startswith("510104") and len(case.number) == 19
    assert case.holder_department.code == "510104-ZH"
    assert case.routed_department.code == "510104-HW"
    assert case.district.code == "510104" and case.street.code == STANDARD_STREET
    assert case.grid.community_id == case.community_id
    case = actions.file_case(people["intake_operator_jinjiang"], case.pk, expected_version=1)
    assert (case.state, case.step, case.version) == ("to_dispatch", "dispatch", 2)
    case = actions.dispatch_case(people["dispatcher_jinjiang"], case.number, department="510104-HW",
                                 copies=["CITY-CGW"], expected_version=2)
    assert (case.state, case.step, case.holder_department.code) == ("dispatched", "accept", "510104-HW")
    assert case.overall_deadline is not None and case.overall_limit == "2 working days"
    assert list(CaseCopy.objects.filter(case=case).values_list("department__code", flat=True)) == ["CITY-CGW"]
    case = actions.accept_case(people["handler_jinjiang_hw"], case.pk)
    assert case.holder_person.user.username == "handler_jinjiang_hw"
    assert case.step == "handle" and case.step_limit == "2 working days"
    case = actions.feedback_case(people["handler_jinjiang_hw"], case.pk, after_photo=photo, note="已处理")
    assert (case.state, case.step) == ("to_check", "check")
    case = actions.check_case(people["district_inspector_jinjiang"], case.pk, passed=True)
    assert (case.state, case.step) == ("to_close", "close")
    case = actions.close_case(people["shift_leader_jinjiang"], case.pk)
    assert case.state == "closed" and case.closed_at is not None
    assert (case.step, case.step_deadline, case.overdue_level) == ("", None, "none")
    assert trail(case) == [
        ("report", "city_inspector", "", "to_file"),
        ("file", "intake_operator", "to_file", "to_dispatch"),
        ("dispatch", "dispatcher", "to_dispatch", "dispatched"),
        ("accept", "handler", "dispatched", "handling"),
        ("feedback", "handler", "handling", "to_check"),
        ("check_pass", "district_inspector", "to_check", "to_close"),
        ("close", "shift_leader", "to_close", "closed"),
    ]
    assert case.version == 7
    kinds = sorted(Photo.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == ["after", "before"]
    assert all(p.event_id for p in Photo.objects.filter(case=case))
    assert check_case_chain(case) is None


def test_public_report_is_verified_before_filing(people, place):
    case = report(people, place, who="intake_operator_jinjiang", source="hotline")
    assert (case.process, case.state, case.step) == ("public_report", "to_verify", "verify")
    case = actions.verify_case(people["district_inspector_jinjiang"], case.pk, note="现场属实")
    assert (case.state, case.step) == ("to_file", "file")
    case = actions.file_case(people["shift_leader_jinjiang"], case.pk)
    assert case.state == "to_dispatch"


def test_public_report_not_confirmed_on_site_is_rejected(people, place):
    case = report(people, place, who="intake_operator_jinjiang", source="public")
    case = actions.reject_case(people["city_inspector_1"], case.pk, reason="现场未发现")
    assert case.state == "rejected"
    case = actions.reopen_case(people["shift_leader_jinjiang"], case.pk, reason="市民再次反映")
    assert (case.state, case.step) == ("to_file", "file")


def test_a_signed_in_citizen_reports_as_public(people, place, django_user_model):
    citizen = django_user_model.objects.create_user("citizen", password="pw")
    case = report({"citizen": citizen}, place, who="citizen", source="public")
    assert (case.process, case.reporter_role) == ("public_report", "public")


def test_flat_process_files_and_dispatches_itself(people, place, photo):
    case = report(people, place, area=FLAT_COMMUNITY, code="06007")
    assert (case.process, case.state, case.step) == ("flat", "handling", "handle")
    assert case.holder_department.code == "510104001-JD"
    assert [t[:2] for t in trail(case)] == [("report", "city_inspector"), ("file", "system"),
                                            ("dispatch", "system")]
    handler = people["street_staff_jinjiang"]  # also a handler of the street office
    case = actions.feedback_case(handler, case.pk, after_photo=photo, role="handler")
    assert (case.state, case.step) == ("to_close", "close")
    case = actions.check_case(people["shift_leader_jinjiang"], case.pk, passed=False, reason="未清理干净")
    assert (case.state, case.rework_count) == ("handling", 1)
    case = actions.feedback_case(handler, case.pk, after_photo=photo, role="handler")
    case = actions.close_case(people["shift_leader_jinjiang"], case.pk)
    assert case.state == "closed"
    assert check_case_chain(case) is None


def test_street_self_report_self_handle(people, place, photo):
    staff = people["street_staff_jinjiang"]
    case = report(people, place, who="street_staff_jinjiang", area=FLAT_COMMUNITY, code="06007",
                  source="street_staff")
    assert (case.process, case.state) == ("street_self_handle", "handling")
    assert case.holder_department.code == "510104001-JD"
    case = actions.feedback_case(staff, case.pk, after_photo=photo, role="street_staff")
    case = actions.close_case(people["shift_leader_jinjiang"], case.pk)
    assert case.state == "closed"


def test_street_staff_report_the_rest_upwards(people, place):
    staff = people["street_staff_jinjiang"]
    case = report(people, place, who="street_staff_jinjiang", area=FLAT_COMMUNITY, code="06001",
                  source="street_staff")
    assert case.process == "street_self_handle"
    case = actions.return_case(staff, case.pk, reason="违法建设不属本街道处置", role="street_staff")
    assert (case.state, case.holder_department.code) == ("to_dispatch", "510104-ZH")
    case = actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-ZF")
    assert case.state == "handling"  # flat shape: dispatched straight into handling
    assert case.holder_department.code == "510104-ZF"


def test_street_staff_report_outside_their_remit_goes_up_at_once(people, place):
    """A class the rules give to another department is not the street's to handle (M-11)."""
    case = report(people, place, who="street_staff_jinjiang", area=FLAT_COMMUNITY, code="0100201",
                  source="street_staff")
    assert case.process == "manhole_cover_emergency"
    assert case.holder_department.code == "510104-SZ"


def test_sanitation_patrol(people, place, photo):
    case = report(people, place, who="district_inspector_jinjiang", source="district_inspector",
                  area=SANITATION_COMMUNITY, code="06007")
    assert (case.process, case.state, case.holder_department.code) == (
        "sanitation_patrol", "handling", "510104-HW")
    case = actions.feedback_case(people["handler_jinjiang_hw"], case.pk, after_photo=photo)
    assert case.state == "to_check"
    case = actions.check_case(people["district_inspector_jinjiang"], case.pk, passed=True)
    assert case.state == "closed" and case.closed_at is not None


def test_manhole_cover_emergency(people, place, photo):
    case = report(people, place, code="0100201", description="井盖缺失")
    assert (case.process, case.urgency, case.state, case.step) == (
        "manhole_cover_emergency", "emergency", "dispatched", "accept")
    assert case.holder_department.code == "510104-SZ"
    assert case.overall_limit == "2 hours"  # the emergency handling limit of 井盖缺失
    copies = set(CaseCopy.objects.filter(case=case).values_list("department__code", "kind"))
    assert ("510104-ZH", "alert") in copies and ("CITY-SW", "copy") in copies
    assert (case.step_deadline - case.step_started_at).total_seconds() <= 10 * 60  # minutes scale
    case = actions.accept_case(people["handler_jinjiang_sz"], case.pk)
    case = actions.feedback_case(people["handler_jinjiang_sz"], case.pk, after_photo=photo)
    case = actions.check_case(people["city_inspector_2"], case.pk, passed=True)
    case = actions.close_case(people["shift_leader_jinjiang"], case.pk)
    assert case.state == "closed"


def test_emergency_process_from_a_rule(people, place, photo):
    from citygrid.catalog.models import Category
    from citygrid.org import actions as org_actions
    from citygrid.org.models import Department, ResponsibilityRule
    from citygrid.space.models import Area

    category = Category.objects.get(standard__code="CD-2026-DEMO", kind="event", code="10003")
    rule = ResponsibilityRule(code="test-collapse", kind="event", category=category,
                              area=Area.objects.get(code=STANDARD_STREET),
                              department=Department.objects.get(code="510104-SZ"),
                              process="emergency")
    org_actions.save_rule(None, rule, grids=[], copies=[])
    case = report(people, place, code="10003", description="路面塌陷")
    assert (case.process, case.urgency, case.state) == ("emergency", "emergency", "dispatched")
    assert CaseCopy.objects.filter(case=case, kind="alert", department__code="510104-ZH").exists()
    case = actions.accept_case(people["handler_jinjiang_sz"], case.pk)
    case = actions.feedback_case(people["handler_jinjiang_sz"], case.pk, after_photo=photo)
    case = actions.check_case(people["city_inspector_1"], case.pk, passed=True)
    case = actions.close_case(people["shift_leader_jinjiang"], case.pk)
    assert case.state == "closed"


def test_return_redispatch_and_collaboration_flag(people, place):
    case = report(people, place)
    case = actions.file_case(people["shift_leader_jinjiang"], case.pk)
    case = actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-SZ")
    case = actions.return_case(people["handler_jinjiang_sz"], case.pk, reason="不属市政")
    assert (case.state, case.return_count, case.needs_collaboration) == ("to_dispatch", 1, False)
    case = actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-SZ")
    assert case.needs_collaboration  # dispatched again to the department that returned it
    assert "510104-SZ" in case.collaboration_reason
    case = actions.redispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-HW",
                                   reason="改派环卫")
    assert (case.state, case.holder_department.code) == ("dispatched", "510104-HW")
    case = actions.return_case(people["handler_jinjiang_hw"], case.pk, reason="也不属环卫")
    assert case.return_count == 2


def test_returned_twice_is_flagged(people, place):
    case = report(people, place)
    case = actions.file_case(people["shift_leader_jinjiang"], case.pk)
    case = actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-SZ")
    case = actions.return_case(people["handler_jinjiang_sz"], case.pk, reason="a")
    case = actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-HW")
    assert not case.needs_collaboration
    case = actions.return_case(people["handler_jinjiang_hw"], case.pk, reason="b")
    assert case.needs_collaboration and case.collaboration_reason == "returned 2 times"
    case = actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="CITY-COLLAB")
    assert case.holder_department.code == "CITY-COLLAB"


def test_merge_links_the_duplicate(people, place):
    first = report(people, place)
    second = report(people, place, who="city_inspector_2")
    merged = actions.merge_case(people["intake_operator_jinjiang"], second.pk, duplicate_of=first.number,
                                reason="同一问题")
    assert (merged.state, merged.duplicate_of_id) == ("merged", first.pk)
    third = report(people, place)
    third = actions.merge_case(people["shift_leader_jinjiang"], third.pk, duplicate_of=second.pk)
    assert third.duplicate_of_id == first.pk  # merged into the original, not a chain


def test_postponement_extends_the_limits(people, place):
    case = report(people, place)
    case = actions.file_case(people["shift_leader_jinjiang"], case.pk)
    case = actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-HW")
    case = actions.accept_case(people["handler_jinjiang_hw"], case.pk)
    step_before, overall_before = case.step_deadline, case.overall_deadline
    case = actions.request_postponement(people["handler_jinjiang_hw"], case.pk, reason="需采购材料",
                                        extension="3 working days")
    assert (case.state, case.pending_extension) == ("postponement_requested", "3 working days")
    case = actions.refuse_postponement(people["dispatcher_jinjiang"], case.pk, reason="时限内可完成")
    assert (case.state, case.step_deadline, case.postponed) == ("handling", step_before, False)
    case = actions.request_postponement(people["handler_jinjiang_hw"], case.pk, reason="需采购材料",
                                        extension="3 working days")
    case = actions.approve_postponement(people["shift_leader_jinjiang"], case.pk)
    assert case.state == "handling" and case.postponed
    assert case.step_extensions == ["3 working days"]
    assert case.step_deadline > step_before and case.overall_deadline > overall_before


def test_urge_supervise_void(people, place):
    case = report(people, place)
    case = actions.file_case(people["shift_leader_jinjiang"], case.pk)
    case = actions.urge_case(people["leader_jinjiang"], case.pk, message="请尽快派遣")
    case = actions.supervise_case(people["shift_leader_jinjiang"], case.pk, reason="群众反映强烈")
    case = actions.supervise_case(people["leader_jinjiang"], case.pk, reason="领导督办")
    assert (case.state, case.urge_count, case.supervision_level) == ("to_dispatch", 1, 2)
    case = actions.void_case(people["shift_leader_jinjiang"], case.pk, reason="误报")
    assert case.state == "voided" and case.step == ""
    assert [t[0] for t in trail(case)] == ["report", "file", "urge", "supervise", "supervise", "void"]


def test_reopen_a_closed_case(people, place, photo):
    case = report(people, place, area=FLAT_COMMUNITY, code="06007")
    case = actions.feedback_case(people["street_staff_jinjiang"], case.pk, after_photo=photo, role="handler")
    case = actions.close_case(people["shift_leader_jinjiang"], case.pk)
    case = actions.reopen_case(people["shift_leader_jinjiang"], case.pk, reason="问题反复")
    assert (case.state, case.closed_at, case.holder_department.code) == ("to_dispatch", None, "510104-ZH")


def test_case_numbers_count_per_district_and_day(people, place):
    a = report(people, place)
    b = report(people, place)
    c = report(people, place, area="510105001")
    assert int(b.number[-5:]) == int(a.number[-5:]) + 1
    assert c.number.startswith("510105") and c.number.endswith("00001")
