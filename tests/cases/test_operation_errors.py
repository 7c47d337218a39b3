"""Every operation refuses the wrong role, the wrong scope, the wrong state and bad input with
a precise code, and writes nothing when it refuses."""

from __future__ import annotations

import pytest

from citygrid.cases import actions
from citygrid.cases.models import Case, CaseEvent, Photo
from citygrid.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

from .conftest import png
from .test_flows import report


def at_state(people, place, state, photo=None):
    """A standard-process case in Jinjiang brought to `state` through the actions."""
    photo = photo or png()
    case = report(people, place)
    steps = {
        "to_dispatch": lambda c: actions.file_case(people["shift_leader_jinjiang"], c.pk),
        "dispatched": lambda c: actions.dispatch_case(people["dispatcher_jinjiang"], c.pk,
                                                      department="510104-HW"),
        "handling": lambda c: actions.accept_case(people["handler_jinjiang_hw"], c.pk),
        "to_check": lambda c: actions.feedback_case(people["handler_jinjiang_hw"], c.pk,
                                                    after_photo=photo),
        "to_close": lambda c: actions.check_case(people["city_inspector_1"], c.pk, passed=True),
        "closed": lambda c: actions.close_case(people["shift_leader_jinjiang"], c.pk),
    }
    for name, step in steps.items():
        if case.state == state:
            break
        case = step(case)
        assert case.state == name
    assert case.state == state
    return case


def unchanged(case):
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.version == case.version and fresh.state == case.state
    assert CaseEvent.objects.filter(case=case).count() == case.version


# (action, state, kwargs) with a wrong-role actor: a handler may not do centre work, etc.
WRONG_ROLE = [
    (actions.file_case, "to_file", "handler_jinjiang_hw", {}),
    (actions.reject_case, "to_file", "dispatcher_jinjiang", {"reason": "x"}),
    (actions.merge_case, "to_file", "handler_jinjiang_hw", {"duplicate_of": 1}),
    (actions.dispatch_case, "to_dispatch", "shift_leader_jinjiang", {"department": "510104-HW"}),
    (actions.accept_case, "dispatched", "dispatcher_jinjiang", {}),
    (actions.return_case, "dispatched", "dispatcher_jinjiang", {"reason": "x"}),
    (actions.redispatch_case, "dispatched", "handler_jinjiang_hw", {"department": "510104-SZ", "reason": "x"}),
    (actions.feedback_case, "handling", "city_inspector_1", {"after_photo": png()}),
    (actions.request_postponement, "handling", "dispatcher_jinjiang", {"reason": "x", "extension": "1 hour"}),
    (actions.suspend_case, "handling", "dispatcher_jinjiang", {"reason": "x"}),
    (actions.check_case, "to_check", "handler_jinjiang_hw", {"passed": True}),
    (actions.close_case, "to_close", "dispatcher_jinjiang", {}),
    (actions.void_case, "handling", "dispatcher_jinjiang", {"reason": "x"}),
    (actions.urge_case, "handling", "handler_jinjiang_hw", {}),
    (actions.supervise_case, "handling", "dispatcher_jinjiang", {"reason": "x"}),
    (actions.reopen_case, "closed", "dispatcher_jinjiang", {"reason": "x"}),
]


@pytest.mark.parametrize("action,state,who,kwargs", WRONG_ROLE,
                         ids=[f"{a.__name__}-{w}" for a, _, w, _ in WRONG_ROLE])
def test_wrong_role(people, place, action, state, who, kwargs):
    case = at_state(people, place, state)
    with pytest.raises(PermissionDenied) as err:
        action(people[who], case.pk, **kwargs)
    assert err.value.code == "role_not_allowed"
    assert err.value.details["state"] == state
    unchanged(case)


OTHER_DISTRICT = [
    (actions.file_case, "to_file", "shift_leader_qingyang", {}),
    (actions.dispatch_case, "to_dispatch", "dispatcher_qingyang", {"department": "510104-HW"}),
    (actions.accept_case, "dispatched", "handler_qingyang_hw", {}),
    (actions.feedback_case, "handling", "handler_qingyang_hw", {"after_photo": png()}),
    (actions.check_case, "to_check", "district_inspector_qingyang", {"passed": True}),
    (actions.close_case, "to_close", "shift_leader_qingyang", {}),
    (actions.urge_case, "handling", "leader_qingyang", {}),
]


@pytest.mark.parametrize("action,state,who,kwargs", OTHER_DISTRICT,
                         ids=[f"{a.__name__}-{w}" for a, _, w, _ in OTHER_DISTRICT])
def test_out_of_scope(people, place, action, state, who, kwargs):
    case = at_state(people, place, state)
    with pytest.raises(PermissionDenied) as err:
        action(people[who], case.pk, **kwargs)
    assert err.value.code == "out_of_scope"
    assert "510104" in err.value.message or "锦江" in err.value.message
    unchanged(case)


def test_a_handler_of_another_department_may_not_accept(people, place):
    case = at_state(people, place, "dispatched")  # with 510104-HW
    with pytest.raises(PermissionDenied) as err:
        actions.accept_case(people["handler_jinjiang_sz"], case.pk)
    assert err.value.code == "out_of_scope"
    assert "环境卫生" in err.value.message


def test_role_not_held(people, place):
    case = at_state(people, place, "to_file")
    with pytest.raises(PermissionDenied) as err:
        actions.file_case(people["dispatcher_jinjiang"], case.pk, role="shift_leader")
    assert err.value.code == "role_not_held"
    with pytest.raises(PermissionDenied) as err:
        actions.file_case(people["dispatcher_jinjiang"], case.pk, role="system")
    assert err.value.code == "role_not_held"


def test_anonymous(people, place):
    from django.contrib.auth.models import AnonymousUser

    case = at_state(people, place, "to_file")
    with pytest.raises(PermissionDenied) as err:
        actions.file_case(AnonymousUser(), case.pk)
    assert err.value.code == "not_authenticated"


WRONG_STATE = [
    (actions.verify_case, "to_file", "city_inspector_1", {}),
    (actions.file_case, "to_dispatch", "shift_leader_jinjiang", {}),
    (actions.dispatch_case, "dispatched", "dispatcher_jinjiang", {"department": "510104-HW"}),
    (actions.accept_case, "handling", "handler_jinjiang_hw", {}),
    (actions.feedback_case, "dispatched", "handler_jinjiang_hw", {"after_photo": png()}),
    (actions.approve_postponement, "handling", "dispatcher_jinjiang", {}),
    (actions.resume_case, "handling", "shift_leader_jinjiang", {}),
    (actions.check_case, "handling", "city_inspector_1", {"passed": True}),
    (actions.close_case, "to_check", "shift_leader_jinjiang", {}),
    (actions.void_case, "closed", "shift_leader_jinjiang", {"reason": "x"}),
    (actions.urge_case, "closed", "shift_leader_jinjiang", {}),
    (actions.reopen_case, "handling", "shift_leader_jinjiang", {"reason": "x"}),
]


@pytest.mark.parametrize("action,state,who,kwargs", WRONG_STATE,
                         ids=[f"{a.__name__}-{s}" for a, s, _, _ in WRONG_STATE])
def test_wrong_state_is_a_conflict_naming_the_state(people, place, action, state, who, kwargs):
    case = at_state(people, place, state)
    with pytest.raises(Conflict) as err:
        action(people[who], case.pk, **kwargs)
    assert err.value.code == "operation_not_allowed_in_state"
    assert err.value.details["state"] == state
    assert err.value.details["version"] == case.version
    assert state in err.value.message
    unchanged(case)


MISSING = [
    (actions.reject_case, "to_file", "shift_leader_jinjiang", {}, "reason"),
    (actions.merge_case, "to_file", "intake_operator_jinjiang", {}, "duplicate_of"),
    (actions.dispatch_case, "to_dispatch", "dispatcher_jinjiang", {}, "department"),
    (actions.return_case, "dispatched", "handler_jinjiang_hw", {"reason": "  "}, "reason"),
    (actions.redispatch_case, "dispatched", "dispatcher_jinjiang", {"department": "510104-SZ"}, "reason"),
    (actions.feedback_case, "handling", "handler_jinjiang_hw", {}, "after_photo"),
    (actions.request_postponement, "handling", "handler_jinjiang_hw", {"reason": "x"}, "extension"),
    (actions.suspend_case, "handling", "shift_leader_jinjiang", {}, "reason"),
    (actions.check_case, "to_check", "city_inspector_1", {"passed": False}, "reason"),
    (actions.void_case, "to_file", "shift_leader_jinjiang", {}, "reason"),
    (actions.supervise_case, "to_file", "shift_leader_jinjiang", {}, "reason"),
    (actions.reopen_case, "closed", "shift_leader_jinjiang", {}, "reason"),
]


@pytest.mark.parametrize("action,state,who,kwargs,field", MISSING,
                         ids=[f"{a.__name__}-{f}" for a, _, _, _, f in MISSING])
def test_missing_input(people, place, action, state, who, kwargs, field):
    case = at_state(people, place, state)
    with pytest.raises(ValidationFailed) as err:
        action(people[who], case.pk, **kwargs)
    assert err.value.code == "missing_input"
    assert field in err.value.details["fields"]
    unchanged(case)


def test_check_needs_passed(people, place):
    case = at_state(people, place, "to_check")
    with pytest.raises(ValidationFailed) as err:
        actions.check_case(people["city_inspector_1"], case.pk)
    assert (err.value.code, err.value.details["field"]) == ("missing_input", "passed")


@pytest.mark.parametrize("department,code", [
    ("NOPE", "department_not_found"),
    ("510104-ZH", "department_not_dispatchable"),
    ("IC-TIANFU", "department_not_dispatchable"),
])
def test_bad_dispatch_target(people, place, department, code):
    case = at_state(people, place, "to_dispatch")
    with pytest.raises(ValidationFailed) as err:
        actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department=department)
    assert err.value.code == code and err.value.details["field"] == "department"
    unchanged(case)


def test_redispatch_to_the_same_department(people, place):
    case = at_state(people, place, "dispatched")
    with pytest.raises(ValidationFailed) as err:
        actions.redispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-HW", reason="x")
    assert err.value.code == "same_department"
    unchanged(case)


@pytest.mark.parametrize("extension", ["soon", "0 hours", "-1 day"])
def test_bad_extension(people, place, extension):
    case = at_state(people, place, "handling")
    with pytest.raises(ValidationFailed) as err:
        actions.request_postponement(people["handler_jinjiang_hw"], case.pk, reason="x",
                                     extension=extension)
    assert err.value.code == "invalid_extension"


def test_bad_merge_targets(people, place):
    case = at_state(people, place, "to_file")
    other_district = report(people, place, area="510105001")
    for target, code in [(case.pk, "merge_into_itself"), ("nope", "case_not_found"),
                         (other_district.pk, "merge_target_elsewhere")]:
        with pytest.raises(ValidationFailed) as err:
            actions.merge_case(people["intake_operator_jinjiang"], case.pk, duplicate_of=target)
        assert err.value.code == code
    unchanged(case)


def test_unknown_case(people):
    with pytest.raises(NotFound) as err:
        actions.file_case(people["shift_leader_jinjiang"], 999999)
    assert err.value.code == "case_not_found"
    with pytest.raises(NotFound):
        actions.file_case(people["shift_leader_jinjiang"], "nope")


def test_stale_version_is_a_conflict(people, place):
    case = at_state(people, place, "to_dispatch")
    with pytest.raises(Conflict) as err:
        actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-HW",
                              expected_version=1)
    assert err.value.code == "case_changed"
    assert err.value.details == {"case": case.number, "state": "to_dispatch", "version": 2,
                                 "expected_version": 1}
    unchanged(case)


# --- Reports -------------------------------------------------------------------------------------


def test_report_needs_a_reporting_role(people, place):
    with pytest.raises(PermissionDenied) as err:
        report(people, place, who="handler_jinjiang_hw")
    assert err.value.code == "role_not_allowed"
    with pytest.raises(PermissionDenied) as err:
        report(people, place, who="district_inspector_qingyang", source="district_inspector")
    assert err.value.code == "out_of_scope"
    assert not Case.objects.exists()


@pytest.mark.parametrize("kwargs,code,field", [
    ({"source": "rumour"}, "invalid_report", "source"),
    ({"kind": "thing"}, "invalid_report", "kind"),
    ({"urgency": "whenever"}, "invalid_report", "urgency"),
    ({"code": "06"}, "category_too_coarse", "category_code"),
    ({"urgency": "emergency"}, "urgency_not_allowed", "urgency"),
    ({"description": "x" * 4001}, "too_long", "description"),
])
def test_bad_reports(people, place, kwargs, code, field):
    with pytest.raises(ValidationFailed) as err:
        report(people, place, **kwargs)
    assert err.value.code == code
    details = err.value.details
    fields = [d["field"] for d in details] if isinstance(details, list) else [details["field"]]
    assert field in fields
    assert not Case.objects.exists()


def test_unknown_class_and_outside_points(people, place):
    with pytest.raises(NotFound) as err:
        report(people, place, code="99999")
    assert err.value.code == "category_not_found"
    with pytest.raises(DomainErrorTypes) as err:
        actions.report_case(people["city_inspector_1"], source="city_inspector", kind="event",
                            category_code="06002", lon=120.0, lat=30.0)
    assert err.value.code == "outside_coverage"
    with pytest.raises(ValidationFailed) as err:
        actions.report_case(people["city_inspector_1"], source="city_inspector", kind="event",
                            category_code="06002", lon="east", lat=30.0)
    assert err.value.code == "invalid_report"
    assert not Case.objects.exists()


DomainErrorTypes = (NotFound, ValidationFailed)


@pytest.mark.parametrize("data,code", [
    (b"not an image at all", "invalid_photo"),
    (b"", "invalid_photo"),
    (png(20, 20), "photo_dimensions"),
    (png(12000, 70), "photo_dimensions"),
])
def test_bad_photos(people, place, data, code):
    with pytest.raises(ValidationFailed) as err:
        report(people, place, photos=[png(), data])
    assert err.value.code == code and err.value.details["field"] == "photos[1]"
    assert not Case.objects.exists() and not Photo.objects.exists()


def test_photo_formats_and_size(people, place, settings):
    import io

    from PIL import Image

    gif = io.BytesIO()
    Image.new("RGB", (100, 100)).save(gif, format="GIF")
    with pytest.raises(ValidationFailed) as err:
        report(people, place, photos=[gif.getvalue()])
    assert err.value.code == "invalid_photo" and "GIF" in err.value.message
    settings.CASES_PHOTO_MAX_BYTES = 100
    with pytest.raises(ValidationFailed) as err:
        report(people, place, photos=[png()])
    assert err.value.code == "photo_too_large"


def test_a_bad_after_photo_changes_nothing(people, place):
    case = at_state(people, place, "handling")
    with pytest.raises(ValidationFailed) as err:
        actions.feedback_case(people["handler_jinjiang_hw"], case.pk, after_photo=b"GIF89a....")
    assert (err.value.code, err.value.details["field"]) == ("invalid_photo", "after_photo")
    unchanged(case)
    assert not Photo.objects.filter(case=case, kind="after").exists()


def test_photos_are_stored_with_their_facts(people, place):
    import io

    from PIL import Image

    jpeg = io.BytesIO()
    Image.new("RGB", (320, 240), "blue").save(jpeg, format="JPEG")
    case = report(people, place, photos=[jpeg.getvalue()])
    photo = Photo.objects.get(case=case)
    assert (photo.content_type, photo.width, photo.height, photo.kind) == ("image/jpeg", 320, 240, "before")
    assert photo.size == len(jpeg.getvalue()) and photo.file.name.endswith(".jpg")
    assert photo.file.read() == jpeg.getvalue()


@pytest.mark.parametrize("operation", ["dispatch", "redispatch"])
def test_a_case_goes_only_to_departments_in_the_senders_reach(people, place, operation):
    case = at_state(people, place, "to_dispatch" if operation == "dispatch" else "dispatched")
    if operation == "dispatch":
        send = actions.dispatch_case
    else:
        def send(*args, **kw):
            return actions.redispatch_case(*args, reason="不属本部门", **kw)
    with pytest.raises(PermissionDenied) as err:
        send(people["dispatcher_jinjiang"], case.pk, department="510105-HW")
    assert err.value.code == "department_out_of_scope" and err.value.field == "department"
    with pytest.raises(PermissionDenied) as err:
        send(people["dispatcher_jinjiang"], case.pk, department="510104-CGJ", copies=["510105-HW"])
    assert err.value.field == "copies"
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.version, CaseEvent.objects.filter(case=case).count()) == (case.version, case.version)
    # the city's departments are in a district dispatcher's reach
    moved = send(people["dispatcher_jinjiang"], case.pk, department="CITY-CGW")
    assert moved.holder_department.code == "CITY-CGW"
