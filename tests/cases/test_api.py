"""The case API end to end: every process, authentication, CSRF, idempotency, conflicts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from citygrid.accounts.actions import issue_token
from citygrid.cases import actions
from citygrid.cases.models import Case

STANDARD_STREET = "510104002"  # event 06 → standard process, 510104-HW
FLAT_COMMUNITY = "510104001002"  # event 06 → flat process, the street office 510104001-JD
SANITATION_COMMUNITY = "510104001001"


def token_client(user: Any) -> Client:
    _, key = issue_token(user, "test phone")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def api(people: dict[str, Any]) -> Any:
    clients: dict[str, Client] = {}

    def client(username: str) -> Client:
        if username not in clients:
            clients[username] = token_client(people[username])
        return clients[username]

    return client


def post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/v1{path}", json.dumps(body or {}), content_type="application/json")


def upload(data: bytes, name: str = "p.png", content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def report_body(place: Any, area: str = STANDARD_STREET, code: str = "06002", **kw: Any) -> dict[str, Any]:
    lon, lat = place(area)
    body = {"source": "city_inspector", "kind": "event", "category_code": code, "lon": lon, "lat": lat}
    body.update(kw)
    return body


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.content
    return response.json()


def act(client: Client, number: str, operation: str, status: int = 200, **body: Any) -> dict[str, Any]:
    return ok(post(client, f"/cases/{number}/{operation}", body), status)


def feedback(client: Client, number: str, photo: bytes, **fields: Any) -> Any:
    return client.post(f"/api/v1/cases/{number}/feedback", {"after_photo": upload(photo), **fields})


def check(client: Client, number: str, **fields: Any) -> Any:
    return client.post(f"/api/v1/cases/{number}/check", fields)


# --- Processes end to end -------------------------------------------------------------------------


def test_standard_process_with_a_token_from_the_login_endpoint(people, place, photo):
    inspector = people["city_inspector_1"]
    inspector.set_password("s3cret-pw")
    inspector.save()
    issued = ok(Client().post("/api/v1/auth/token", json.dumps(
        {"username": "city_inspector_1", "password": "s3cret-pw", "device": "巡查通 P30"}),
        content_type="application/json"), 201)
    phone = Client(HTTP_AUTHORIZATION=f"Bearer {issued['token']}")
    lon, lat = place(STANDARD_STREET)
    response = phone.post("/api/v1/cases/with-photos", {
        "source": "city_inspector", "kind": "event", "category_code": "06002", "lon": lon,
        "lat": lat, "address": "东大街 1 号", "description": "店面无证装修", "photos": [upload(photo)],
    })
    case = ok(response, 201)
    number = case["number"]
    assert (case["process"], case["state"], case["step"], case["version"]) == (
        "standard", "to_file", "file", 1)
    assert case["street"]["code"] == STANDARD_STREET and case["district"]["code"] == "510104"
    assert case["routed_department"]["code"] == "510104-HW"
    assert case["deadlines"]["step"] == "file" and case["deadlines"]["traffic_light"] in {"green", "yellow", "red"}
    assert [p["kind"] for p in case["photos"]] == ["before"]
    photo_url = case["photos"][0]["url"]
    served = phone.get(photo_url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == photo

    operator = token_client(people["intake_operator_jinjiang"])
    detail = ok(operator.get(f"/api/v1/cases/{number}"))
    assert {"operation": "file", "role": "intake_operator", "path": "file"} in detail["allowed_operations"]
    case = act(operator, number, "file", expected_version=1, note="符合立案条件")
    assert (case["state"], case["version"]) == ("to_dispatch", 2)
    dispatcher = token_client(people["dispatcher_jinjiang"])
    case = act(dispatcher, number, "dispatch", expected_version=2, department="510104-HW",
               copies=["CITY-CGW"])
    assert (case["state"], case["holder_department"]["code"]) == ("dispatched", "510104-HW")
    assert [c["department"]["code"] for c in case["copies"]] == ["CITY-CGW"]
    handler = token_client(people["handler_jinjiang_hw"])
    case = act(handler, number, "accept", expected_version=3)
    assert case["state"] == "handling" and case["holder_person"]
    case = ok(feedback(handler, number, photo, note="已处理", expected_version=4))
    assert case["state"] == "to_check"
    assert sorted(p["kind"] for p in case["photos"]) == ["after", "before"]
    inspector_api = token_client(people["district_inspector_jinjiang"])
    case = ok(check(inspector_api, number, passed="true", expected_version=5))
    assert case["state"] == "to_close"
    case = act(token_client(people["shift_leader_jinjiang"]), number, "close", expected_version=6)
    assert (case["state"], case["version"], case["allowed_operations"]) == (
        "closed", 7, [{"operation": "reopen", "role": "shift_leader", "path": "reopen"}])
    events = ok(phone.get(f"/api/v1/cases/{number}/events"))
    assert [(e["operation"], e["role"], e["to_state"]) for e in events] == [
        ("report", "city_inspector", "to_file"), ("file", "intake_operator", "to_dispatch"),
        ("dispatch", "dispatcher", "dispatched"), ("accept", "handler", "handling"),
        ("feedback", "handler", "to_check"), ("check_pass", "district_inspector", "to_close"),
        ("close", "shift_leader", "closed"),
    ]
    assert events[0]["actor"] == "city_inspector_1" and len(events[-1]["hash"]) == 64


def test_flat_process(api, place, photo):
    case = ok(post(api("city_inspector_1"), "/cases", report_body(place, FLAT_COMMUNITY, "06007")), 201)
    assert (case["process"], case["state"], case["holder_department"]["code"]) == (
        "flat", "handling", "510104001-JD")
    number = case["number"]
    staff = api("street_staff_jinjiang")
    case = ok(feedback(staff, number, photo, role="handler"))
    assert case["state"] == "to_close"
    case = ok(check(api("shift_leader_jinjiang"), number, passed="false", reason="未清理干净"))
    assert (case["state"], case["rework_count"]) == ("handling", 1)
    ok(feedback(staff, number, photo, role="handler"))
    case = act(api("shift_leader_jinjiang"), number, "close")
    assert case["state"] == "closed"


def test_manhole_cover_emergency(api, place, photo):
    case = ok(post(api("city_inspector_1"), "/cases",
                   report_body(place, code="0100201", kind="event", description="井盖缺失")), 201)
    assert (case["process"], case["urgency"], case["state"]) == (
        "manhole_cover_emergency", "emergency", "dispatched")
    assert ("510104-ZH", "alert") in {(c["department"]["code"], c["kind"]) for c in case["copies"]}
    number = case["number"]
    handler = api("handler_jinjiang_sz")
    act(handler, number, "accept")
    ok(feedback(handler, number, photo))
    ok(check(api("city_inspector_2"), number, passed=True))
    assert act(api("shift_leader_jinjiang"), number, "close")["state"] == "closed"


def test_public_report_verified_on_site(api, place):
    case = ok(post(api("intake_operator_jinjiang"), "/cases", report_body(place, source="hotline")), 201)
    assert (case["process"], case["state"]) == ("public_report", "to_verify")
    case = act(api("district_inspector_jinjiang"), case["number"], "verify", note="现场属实")
    assert case["state"] == "to_file"
    assert act(api("shift_leader_jinjiang"), case["number"], "file")["state"] == "to_dispatch"


def test_street_self_report_self_handle(api, place, photo):
    staff = api("street_staff_jinjiang")
    case = ok(post(staff, "/cases", report_body(place, FLAT_COMMUNITY, "06007", source="street_staff")), 201)
    assert (case["process"], case["state"]) == ("street_self_handle", "handling")
    case = ok(feedback(staff, case["number"], photo, role="street_staff"))
    assert case["state"] == "to_close"
    assert act(api("shift_leader_jinjiang"), case["number"], "close")["state"] == "closed"


def test_postponement_suspension_urge_supervise_void_reopen(api, place):
    number = ok(post(api("city_inspector_1"), "/cases", report_body(place)), 201)["number"]
    leader, dispatcher, handler = api("shift_leader_jinjiang"), api("dispatcher_jinjiang"), api("handler_jinjiang_hw")
    act(leader, number, "file")
    act(dispatcher, number, "urge", message="请尽快派遣")
    case = act(api("leader_jinjiang"), number, "supervise", reason="领导督办")
    assert (case["urge_count"], case["supervision_level"]) == (1, 1)
    act(dispatcher, number, "dispatch", department="510104-SZ")
    case = act(api("handler_jinjiang_sz"), number, "return", reason="不属市政")
    assert (case["state"], case["return_count"]) == ("to_dispatch", 1)
    act(dispatcher, number, "dispatch", department="510104-SZ")
    case = act(dispatcher, number, "redispatch", department="510104-HW", reason="改派环卫")
    assert case["holder_department"]["code"] == "510104-HW" and case["needs_collaboration"]
    act(handler, number, "accept")
    case = act(handler, number, "request-postponement", reason="需采购材料", extension="3 working days")
    assert (case["state"], case["pending_extension"]) == ("postponement_requested", "3 working days")
    act(dispatcher, number, "refuse-postponement", reason="时限内可完成")
    act(handler, number, "request-postponement", reason="需采购材料", extension="3 working days")
    case = act(leader, number, "approve-postponement")
    assert case["postponed"] and case["state"] == "handling"
    assert act(leader, number, "suspend", reason="等待法院裁定")["state"] == "suspended"
    assert act(leader, number, "resume")["state"] == "handling"
    assert act(leader, number, "void", reason="误报")["state"] == "voided"
    other = ok(post(api("city_inspector_1"), "/cases", report_body(place)), 201)["number"]
    assert act(leader, other, "reject", reason="不属受理范围")["state"] == "rejected"
    assert act(leader, other, "reopen", reason="重新受理")["state"] == "to_file"
    dup = ok(post(api("city_inspector_2"), "/cases", report_body(place)), 201)["number"]
    case = act(api("intake_operator_jinjiang"), dup, "merge", duplicate_of=other, reason="同一问题")
    assert (case["state"], case["duplicate_of"]) == ("merged", other)


# --- Authentication and CSRF ------------------------------------------------------------------------


@pytest.mark.parametrize("method,path", [
    ("get", "/api/v1/cases"), ("post", "/api/v1/cases"), ("get", "/api/v1/cases/X"),
    ("get", "/api/v1/cases/X/events"), ("post", "/api/v1/cases/X/file"),
    ("post", "/api/v1/cases/X/feedback"), ("get", "/api/v1/queues/dispatcher"),
    ("get", "/api/v1/cases/X/photos/1"), ("get", "/api/v1/auth/tokens"),
])
def test_no_credentials_is_401(db, method, path):
    response = getattr(Client(), method)(path)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    bad_token = Client(HTTP_AUTHORIZATION="Bearer cg_not-a-token")
    assert getattr(bad_token, method)(path).status_code == 401


def test_session_posts_need_the_csrf_token(people, place):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(people["city_inspector_1"])
    listed = browser.get("/api/v1/cases")  # safe methods need no CSRF token
    assert listed.status_code == 200
    body = json.dumps(report_body(place))
    refused = browser.post("/api/v1/cases", body, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    assert not Case.objects.exists()
    browser.get("/accounts/login/")  # sets the csrftoken cookie
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post("/api/v1/cases", body, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert accepted.status_code == 201, accepted.content


def test_a_token_needs_no_csrf_token(people, place):
    _, key = issue_token(people["city_inspector_1"], "phone")
    phone = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")
    response = phone.post("/api/v1/cases", json.dumps(report_body(place)), content_type="application/json")
    assert response.status_code == 201


# --- Idempotency and conflicts --------------------------------------------------------------------


def test_a_retried_report_returns_the_same_case(api, place):
    phone = api("city_inspector_1")
    body = report_body(place, idempotency_key="phone-7f3a-0001")
    first = ok(post(phone, "/cases", body), 201)
    again = ok(post(phone, "/cases", {**body, "description": "changed"}), 200)
    assert again["number"] == first["number"] and Case.objects.count() == 1
    headers = {"HTTP_IDEMPOTENCY_KEY": "phone-7f3a-0002"}
    second = phone.post("/api/v1/cases", json.dumps(report_body(place)), content_type="application/json", **headers)
    retried = phone.post("/api/v1/cases", json.dumps(report_body(place)), content_type="application/json", **headers)
    assert (second.status_code, retried.status_code) == (201, 200)
    assert second.json()["number"] == retried.json()["number"] != first["number"]
    mismatch = phone.post("/api/v1/cases", json.dumps({**body, "idempotency_key": "other"}),
                          content_type="application/json", **headers)
    assert mismatch.status_code == 422 and mismatch.json()["field"] == "idempotency_key"


def test_stale_version_is_a_conflict_naming_the_new_state(api, place):
    number = ok(post(api("city_inspector_1"), "/cases", report_body(place)), 201)["number"]
    act(api("intake_operator_jinjiang"), number, "file", expected_version=1)
    lost = post(api("shift_leader_jinjiang"), f"/cases/{number}/reject", {"expected_version": 1, "reason": "x"})
    assert lost.status_code == 409
    error = lost.json()
    assert error["code"] == "case_changed"
    assert (error["details"]["state"], error["details"]["version"]) == ("to_dispatch", 2)
    again = post(api("shift_leader_jinjiang"), f"/cases/{number}/file", {})
    assert again.status_code == 409 and again.json()["code"] == "operation_not_allowed_in_state"
    assert again.json()["details"]["state"] == "to_dispatch"


# --- Permissions and bad input for every operation ------------------------------------------------


def _case_in(state: str, people: dict[str, Any], place: Any, photo: bytes) -> Case:
    """A standard (or public-report) case of Jinjiang brought to `state` through the actions."""
    inspector, leader = people["city_inspector_1"], people["shift_leader_jinjiang"]
    dispatcher, handler = people["dispatcher_jinjiang"], people["handler_jinjiang_hw"]
    lon, lat = place(STANDARD_STREET)
    if state == "to_verify":
        return actions.report_case(people["intake_operator_jinjiang"], source="hotline", kind="event",
                                   category_code="06002", lon=lon, lat=lat)
    case = actions.report_case(inspector, source="city_inspector", kind="event", category_code="06002",
                               lon=lon, lat=lat)
    steps = [
        ("to_dispatch", lambda c: actions.file_case(leader, c.pk)),
        ("dispatched", lambda c: actions.dispatch_case(dispatcher, c.pk, department="510104-HW")),
        ("handling", lambda c: actions.accept_case(handler, c.pk)),
        ("postponement_requested", lambda c: actions.request_postponement(
            handler, c.pk, reason="r", extension="1 working days")),
    ]
    if state in ("suspended", "to_check", "to_close", "closed"):
        steps = steps[:3]
        if state == "suspended":
            steps.append(("suspended", lambda c: actions.suspend_case(leader, c.pk, reason="r")))
        else:
            steps += [
                ("to_check", lambda c: actions.feedback_case(handler, c.pk, after_photo=photo)),
                ("to_close", lambda c: actions.check_case(inspector, c.pk, passed=True)),
                ("closed", lambda c: actions.close_case(leader, c.pk)),
            ]
    for reached, step in steps:
        if case.state == state:
            break
        case = step(case)
        assert case.state == reached
    assert case.state == state
    return case


# operation, state it is allowed in, a user without any allowed role, a valid-looking body
FORBIDDEN = [
    ("verify", "to_verify", "dispatcher_jinjiang", {}),
    ("file", "to_file", "dispatcher_jinjiang", {}),
    ("reject", "to_file", "dispatcher_jinjiang", {"reason": "r"}),
    ("merge", "to_file", "leader_jinjiang", {"duplicate_of": "5101042026010100001"}),
    ("dispatch", "to_dispatch", "intake_operator_jinjiang", {"department": "510104-HW"}),
    ("return", "dispatched", "dispatcher_jinjiang", {"reason": "r"}),
    ("redispatch", "dispatched", "handler_jinjiang_hw", {"department": "510104-SZ", "reason": "r"}),
    ("accept", "dispatched", "dispatcher_jinjiang", {}),
    ("request-postponement", "handling", "dispatcher_jinjiang", {"reason": "r", "extension": "1 day"}),
    ("approve-postponement", "postponement_requested", "handler_jinjiang_hw", {}),
    ("refuse-postponement", "postponement_requested", "handler_jinjiang_hw", {"reason": "r"}),
    ("suspend", "handling", "handler_jinjiang_hw", {"reason": "r"}),
    ("resume", "suspended", "handler_jinjiang_hw", {}),
    ("close", "to_close", "dispatcher_jinjiang", {}),
    ("void", "to_dispatch", "dispatcher_jinjiang", {"reason": "r"}),
    ("urge", "to_dispatch", "intake_operator_jinjiang", {}),
    ("supervise", "to_dispatch", "dispatcher_jinjiang", {"reason": "r"}),
    ("reopen", "closed", "dispatcher_jinjiang", {"reason": "r"}),
    ("feedback", "handling", "dispatcher_jinjiang", None),
    ("check", "to_check", "dispatcher_jinjiang", None),
]


@pytest.mark.parametrize("operation,state,who,body", FORBIDDEN, ids=[f[0] for f in FORBIDDEN])
def test_every_operation_refuses_a_role_that_may_not_take_it(people, place, photo, operation, state, who, body):
    case = _case_in(state, people, place, photo)
    client = token_client(people[who])
    if operation == "feedback":
        response = feedback(client, case.number, photo)
    elif operation == "check":
        response = check(client, case.number, passed="true")
    else:
        response = post(client, f"/cases/{case.number}/{operation}", body)
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "role_not_allowed"
    assert Case.objects.get(pk=case.pk).version == case.version


# operation, state, acting user, body, expected error code, field
BAD_INPUT = [
    ("reject", "to_file", "shift_leader_jinjiang", {}, "missing_input", "reason"),
    ("merge", "to_file", "shift_leader_jinjiang", {}, "missing_input", "duplicate_of"),
    ("merge", "to_file", "shift_leader_jinjiang", {"duplicate_of": "SELF"}, "merge_into_itself", "duplicate_of"),
    ("dispatch", "to_dispatch", "dispatcher_jinjiang", {}, "missing_input", "department"),
    ("dispatch", "to_dispatch", "dispatcher_jinjiang", {"department": "NOPE"}, "department_not_found", "department"),
    ("return", "dispatched", "handler_jinjiang_hw", {}, "missing_input", "reason"),
    ("redispatch", "dispatched", "dispatcher_jinjiang", {"reason": "r"}, "missing_input", "department"),
    ("request-postponement", "handling", "handler_jinjiang_hw", {"reason": "r", "extension": "soon"},
     "invalid_extension", "extension"),
    ("refuse-postponement", "postponement_requested", "dispatcher_jinjiang", {}, "missing_input", "reason"),
    ("suspend", "handling", "shift_leader_jinjiang", {}, "missing_input", "reason"),
    ("void", "to_dispatch", "shift_leader_jinjiang", {}, "missing_input", "reason"),
    ("supervise", "to_dispatch", "leader_jinjiang", {}, "missing_input", "reason"),
    ("reopen", "closed", "shift_leader_jinjiang", {}, "missing_input", "reason"),
    ("urge", "to_dispatch", "dispatcher_jinjiang", {"message": "x" * 2001}, "invalid_request", "message"),
    ("file", "to_file", "shift_leader_jinjiang", {"expected_version": 0}, "invalid_request", "expected_version"),
    ("file", "to_file", "shift_leader_jinjiang", {"role": "dispatcher"}, "role_not_held", None),
]


def _field(error: dict[str, Any]) -> str | None:
    """The offending field: `field` for domain errors, the last `loc` part for schema errors."""
    if error.get("field"):
        return str(error["field"])
    details = error.get("details")
    if isinstance(details, list) and details and "loc" in details[0]:
        return str(details[0]["loc"][-1])
    return None


@pytest.mark.parametrize("operation,state,who,body,code,field", BAD_INPUT,
                         ids=[f"{b[0]}-{b[4]}" for b in BAD_INPUT])
def test_bad_input_names_the_field(people, place, photo, operation, state, who, body, code, field):
    case = _case_in(state, people, place, photo)
    body = {k: (case.number if v == "SELF" else v) for k, v in body.items()}
    response = post(token_client(people[who]), f"/cases/{case.number}/{operation}", body)
    error = response.json()
    assert (response.status_code, error["code"]) == (403 if code == "role_not_held" else 422, code), error
    if field:
        assert _field(error) == field
    assert Case.objects.get(pk=case.pk).version == case.version


def test_bad_photos_and_check_inputs(people, place, photo):
    case = _case_in("handling", people, place, photo)
    handler = token_client(people["handler_jinjiang_hw"])
    missing = handler.post(f"/api/v1/cases/{case.number}/feedback", {"note": "x"})
    assert (missing.status_code, missing.json()["code"], missing.json()["field"]) == (
        422, "missing_input", "after_photo")
    garbage = handler.post(f"/api/v1/cases/{case.number}/feedback",
                           {"after_photo": upload(b"not an image", "a.png")})
    assert (garbage.status_code, garbage.json()["code"], garbage.json()["field"]) == (
        422, "invalid_photo", "after_photo")
    ok(feedback(handler, case.number, photo))
    inspector = token_client(people["city_inspector_1"])
    no_passed = check(inspector, case.number)
    assert (no_passed.status_code, no_passed.json()["field"]) == (422, "passed")
    no_reason = check(inspector, case.number, passed="false")
    assert (no_reason.status_code, no_reason.json()["field"]) == (422, "reason")
    assert Case.objects.get(pk=case.pk).state == "to_check"


@pytest.mark.parametrize("change,code,field", [
    ({"source": "pigeon"}, "invalid_report", "source"),
    ({"kind": "thing"}, "invalid_report", "kind"),
    ({"urgency": "whenever"}, "invalid_report", "urgency"),
    ({"lon": 200}, "invalid_request", "lon"),
    ({"lat": "north"}, "invalid_request", "lat"),
    ({"category_code": ""}, "invalid_request", "category_code"),
    ({"category_code": "06"}, "category_too_coarse", "category_code"),
    ({"address": "x" * 301}, "invalid_request", "address"),
])
def test_bad_reports_name_the_field(api, place, change, code, field):
    response = post(api("city_inspector_1"), "/cases", {**report_body(place), **change})
    error = response.json()
    assert (response.status_code, error["code"]) == (422, code), error
    assert _field(error) == field
    assert not Case.objects.exists()


def test_a_report_without_the_reporting_role_is_forbidden(api, place):
    response = post(api("dispatcher_jinjiang"), "/cases", report_body(place))
    assert response.status_code == 403 and response.json()["code"] == "role_not_allowed"


# --- Scoping, queues, photos ------------------------------------------------------------------------


def test_a_qingyang_dispatcher_never_sees_a_jinjiang_case(api, people, place, photo):
    lon, lat = place(STANDARD_STREET)
    case = actions.report_case(people["city_inspector_1"], source="city_inspector", kind="event",
                               category_code="06002", lon=lon, lat=lat, photos=[photo])
    case = actions.file_case(people["shift_leader_jinjiang"], case.pk)
    photo_id = case.photos.get().pk
    qingyang = api("dispatcher_qingyang")
    for path in (f"/api/v1/cases/{case.number}", f"/api/v1/cases/{case.number}/events",
                 f"/api/v1/cases/{case.number}/photos/{photo_id}"):
        response = qingyang.get(path)
        assert (response.status_code, response.json()["code"]) == (404, "case_not_found"), path
    listed = ok(qingyang.get("/api/v1/cases"))
    assert case.number not in [c["number"] for c in listed["items"]]
    assert ok(qingyang.get("/api/v1/queues/dispatcher"))["count"] == 0
    tried = post(qingyang, f"/cases/{case.number}/dispatch", {"department": "510105-HW"})
    assert (tried.status_code, tried.json()["code"]) == (404, "case_not_found")
    assert ok(api("dispatcher_jinjiang").get(f"/api/v1/cases/{case.number}"))["number"] == case.number


def test_photos_are_served_only_through_the_api(api, people, place, photo):
    phone = api("city_inspector_1")
    lon, lat = place(STANDARD_STREET)
    case = ok(phone.post("/api/v1/cases/with-photos", {
        "source": "city_inspector", "kind": "event", "category_code": "06002", "lon": lon, "lat": lat,
        "photos": [upload(photo), upload(photo, "b.png")]}), 201)
    assert len(case["photos"]) == 2
    url = case["photos"][0]["url"]
    assert url.startswith(f"/api/v1/cases/{case['number']}/photos/")
    served = api("dispatcher_jinjiang").get(url)
    assert served.status_code == 200 and "private" in served["Cache-Control"]
    assert Client().get(url).status_code == 401
    other = phone.get(f"/api/v1/cases/{case['number']}/photos/999999")
    assert (other.status_code, other.json()["code"]) == (404, "photo_not_found")
    bad = phone.post("/api/v1/cases/with-photos", {
        "source": "city_inspector", "kind": "event", "category_code": "06002", "lon": lon, "lat": lat,
        "photos": [upload(b"GIF89a....", "x.gif", "image/gif")]})
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (422, "invalid_photo", "photos[0]")


def test_queues(api, people, place, photo):
    waiting = _case_in("to_dispatch", people, place, photo)
    queue = ok(api("dispatcher_jinjiang").get("/api/v1/queues/dispatcher"))
    assert [c["number"] for c in queue["items"]] == [waiting.number] and queue["count"] == 1
    assert ok(api("handler_jinjiang_hw").get("/api/v1/queues/handler"))["count"] == 0
    actions.dispatch_case(people["dispatcher_jinjiang"], waiting.pk, department="510104-HW")
    assert ok(api("handler_jinjiang_hw").get("/api/v1/queues/handler"))["items"][0]["number"] == waiting.number
    not_held = api("handler_jinjiang_hw").get("/api/v1/queues/dispatcher")
    assert (not_held.status_code, not_held.json()["code"]) == (403, "role_not_held")
    unknown = api("handler_jinjiang_hw").get("/api/v1/queues/wizard")
    assert (unknown.status_code, unknown.json()["field"]) == (422, "role")


def test_unknown_case_is_404(api):
    response = api("dispatcher_jinjiang").get("/api/v1/cases/5101042026010199999")
    assert (response.status_code, response.json()["code"]) == (404, "case_not_found")


@pytest.mark.parametrize("path,data,content_type", [
    ("/cases", "{not json", "application/json"),
    ("/cases", "[1, 2]", "application/json"),
    ("/cases/X/dispatch", '{"copies": "510104-HW"}', "application/json"),
    ("/cases/X/dispatch", '{"expected_version": "two"}', "application/json"),
    ("/cases/X/file", '{"expected_version": 99999999999999999999999}', "application/json"),
    ("/cases/X/check", "passed=maybe", "application/x-www-form-urlencoded"),
    ("/cases/X/feedback", "expected_version=abc", "application/x-www-form-urlencoded"),
    ("/cases/X/void", '{"reason": "nul \\u0000 byte"}', "application/json"),
    ("/cases", '{"source": "city_inspector", "kind": "event", "category_code": "06\\u0000", '
               '"lon": 104.0, "lat": 30.6}', "application/json"),
    ("/cases/%00/file", "{}", "application/json"),
])
def test_malformed_requests_are_4xx_never_500(api, people, place, photo, path, data, content_type):
    case = _case_in("to_dispatch", people, place, photo)
    response = api("shift_leader_jinjiang").post(f"/api/v1{path.replace('X', case.number)}", data,
                                                 content_type=content_type)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"]


@pytest.mark.parametrize("path", [
    "/api/v1/cases/%E4%B8%AD%E6%96%87", "/api/v1/cases/1/photos/99999999999999999999999",
    "/api/v1/cases?limit=abc", "/api/v1/cases?created_from=2026-13-45", "/api/v1/cases?area=%00",
    "/api/v1/queues/%00", "/api/v1/cases/%00", "/api/v1/cases/%00/events",
    "/api/v1/cases?holder=%00", "/api/v1/cases?category=a%00",
])
def test_odd_reads_are_4xx_never_500(api, path):
    response = api("dispatcher_jinjiang").get(path)
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"]


def test_at_most_nine_photos_at_once(api, place, photo):
    lon, lat = place(STANDARD_STREET)
    response = api("city_inspector_1").post("/api/v1/cases/with-photos", {
        "source": "city_inspector", "kind": "event", "category_code": "06002", "lon": lon, "lat": lat,
        "photos": [upload(photo, f"{i}.png") for i in range(10)]})
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        422, "too_many_photos", "photos")
    assert not Case.objects.exists()
