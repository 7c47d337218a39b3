"""The case pages (issue 4, item 9): queues, the report form, the detail and its action forms."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse

from citygrid.cases import actions
from citygrid.cases.models import Case, CaseEvent, Photo
from citygrid.org.models import Department
from tests.cases.conftest import png

STANDARD_STREET = "510104002"  # event 06002 → standard process, routed to 510104-HW
QINGYANG = "510105"


def report(people, place, who="city_inspector_1", area=STANDARD_STREET, code="06002", **kw):
    lon, lat = place(area)
    kw.setdefault("source", "city_inspector")
    return actions.report_case(people[who], kind=kw.pop("kind", "event"), category_code=code,
                               lon=lon, lat=lat, **kw)


def to_dispatch(people, place, **kw):
    case = report(people, place, **kw)
    return actions.file_case(people["intake_operator_jinjiang"], case.pk)


def to_handling(people, place):
    case = to_dispatch(people, place)
    case = actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-HW")
    return actions.accept_case(people["handler_jinjiang_hw"], case.pk)


def detail_url(case):
    return reverse("cases:detail", args=[case.number])


def op_url(case, operation):
    return reverse("cases:operate", args=[case.number, operation])


def act(client, case, operation, data=None, version=None, files=None):
    payload = {f"{operation}-expected_version": case.version if version is None else version}
    for key, value in (data or {}).items():
        payload[f"{operation}-{key}"] = value
    for key, value in (files or {}).items():
        payload[f"{operation}-{key}"] = value
    return client.post(op_url(case, operation), payload)


def upload(data: bytes, name="photo.png"):
    f = io.BytesIO(data)
    f.name = name
    return f


def fresh(case):
    return Case.objects.get(pk=case.pk)


def text(response) -> str:
    return response.content.decode()


# --- Login and scope -----------------------------------------------------------------------------


def test_every_page_needs_login(client, people, place, photo):
    case = report(people, place, photos=[photo])
    picture = Photo.objects.get(case=case)
    for url in (reverse("cases:queue"), reverse("cases:report"), detail_url(case),
                reverse("cases:photo", args=[picture.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post(op_url(case, "file"), {"file-expected_version": 1})
    assert response.status_code == 302 and fresh(case).state == "to_file"


def test_another_districts_case_is_not_found(client, people, place, photo):
    case = report(people, place, photos=[photo])
    picture = Photo.objects.get(case=case)
    client.force_login(people["dispatcher_qingyang"])
    assert client.get(detail_url(case)).status_code == 404
    assert client.get(reverse("cases:photo", args=[picture.pk])).status_code == 404
    response = client.post(op_url(case, "reject"), {"reject-expected_version": 1, "reject-reason": "x"})
    assert response.status_code == 404 and fresh(case).state == "to_file"


def test_photo_is_served_to_those_who_see_the_case(client, people, place, photo):
    case = report(people, place, photos=[photo])
    picture = Photo.objects.get(case=case)
    client.force_login(people["intake_operator_jinjiang"])
    response = client.get(reverse("cases:photo", args=[picture.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == photo
    assert client.get(reverse("cases:photo", args=[picture.pk + 1000])).status_code == 404
    page = text(client.get(detail_url(case)))
    assert reverse("cases:photo", args=[picture.pk]) in page
    assert "/media/" not in page


# --- Queues ----------------------------------------------------------------------------------------


def test_queues_show_the_cases_each_role_acts_on(client, people, place):
    waiting = report(people, place)
    filed = to_dispatch(people, place)
    client.force_login(people["intake_operator_jinjiang"])
    page = text(client.get(reverse("cases:queue"), {"role": "intake_operator"}))
    assert waiting.number in page and filed.number not in page
    assert re.search(r'role=intake_operator" aria-current="page">[^<]*<span class="count">1</span>', page)

    client.force_login(people["dispatcher_jinjiang"])
    page = text(client.get(reverse("cases:queue")))
    assert re.search(r'role=dispatcher[^"]*" aria-current="page"', page)  # the first tab
    assert filed.number in page and waiting.number not in page

    client.force_login(people["dispatcher_qingyang"])
    page = text(client.get(reverse("cases:queue"), {"role": "dispatcher"}))
    assert filed.number not in page
    page = text(client.get(reverse("cases:queue"), {"role": "all"}))
    assert filed.number not in page and waiting.number not in page


def test_queue_filters_search_and_htmx_refresh(client, people, place):
    one = to_dispatch(people, place, address="东大街 1 号")
    two = to_dispatch(people, place, address="西大街 9 号")
    client.force_login(people["dispatcher_jinjiang"])
    url = reverse("cases:queue")
    page = text(client.get(url, {"role": "dispatcher", "q": "西大街"}))
    assert two.number in page and one.number not in page
    page = text(client.get(url, {"role": "dispatcher", "q": one.number}))
    assert one.number in page and two.number not in page
    page = text(client.get(url, {"role": "dispatcher", "state": "closed"}))
    assert one.number not in page and two.number not in page
    page = text(client.get(url, {"role": "dispatcher", "district": "510104"}))
    assert one.number in page and two.number in page
    # Qingyang is no choice for a Jinjiang dispatcher: the filter is reported and ignored
    page = text(client.get(url, {"role": "dispatcher", "district": QINGYANG}))
    assert 'class="form-error"' in page and one.number in page

    partial = client.get(url, {"role": "dispatcher", "q": "西大街"}, HTTP_HX_REQUEST="true")
    body = text(partial)
    assert partial.status_code == 200 and "<html" not in body
    assert two.number in body and one.number not in body
    refresh = re.search(r'hx-get="([^"]+)"', body).group(1)
    assert "q=%E8%A5%BF%E5%A4%A7%E8%A1%97" in refresh and "role=dispatcher" in refresh
    assert 'hx-trigger="every 30s"' in body


def test_queue_is_paginated(client, people, place, monkeypatch):
    import citygrid.cases.views as views

    cases = [to_dispatch(people, place) for _ in range(3)]
    client.force_login(people["dispatcher_jinjiang"])
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    first = text(client.get(reverse("cases:queue"), {"role": "dispatcher", "sort": "-created"}))
    second = text(client.get(reverse("cases:queue"), {"role": "dispatcher", "sort": "-created",
                                                      "page": 2}))
    assert cases[2].number in first and cases[0].number not in first
    assert cases[0].number in second and "sort=-created" in second


# --- Reporting -------------------------------------------------------------------------------------


def report_form(client):
    page = text(client.get(reverse("cases:report")))
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    return page, key


def test_report_form_lists_classes_and_creates_once(client, people, place, photo):
    client.force_login(people["city_inspector_1"])
    page, key = report_form(client)
    assert "<optgroup" in page and "06002" in page and 'name="photos"' in page
    _page2, key2 = report_form(client)
    assert key != key2  # a fresh key per render
    lon, lat = place(STANDARD_STREET)
    data = {"source": "city_inspector", "kind": "event", "category_code": "06002",
            "urgency": "ordinary", "lon": lon, "lat": lat, "address": "<b>东大街</b>",
            "description": "店面无证装修", "idempotency_key": key}
    first = client.post(reverse("cases:report"), {**data, "photos": [upload(photo)]})
    assert first.status_code == 302
    second = client.post(reverse("cases:report"), {**data, "photos": [upload(photo)]})
    assert second.status_code == 302 and second["Location"] == first["Location"]
    cases = Case.objects.filter(reporter=people["city_inspector_1"])
    assert cases.count() == 1
    case = cases.get()
    assert first["Location"] == detail_url(case)
    assert Photo.objects.filter(case=case, kind="before").count() == 1
    detail = text(client.get(first["Location"]))
    assert "&lt;b&gt;东大街&lt;/b&gt;" in detail and "<b>东大街</b>" not in detail


def test_report_form_shows_errors_per_field(client, people, place, photo):
    client.force_login(people["city_inspector_1"])
    _page, key = report_form(client)
    lon, lat = place(STANDARD_STREET)
    base = {"source": "city_inspector", "kind": "event", "category_code": "06002",
            "urgency": "ordinary", "lon": lon, "lat": lat, "idempotency_key": key}
    response = client.post(reverse("cases:report"), {**base, "lon": ""})
    assert response.status_code == 422
    assert re.search(r'data-field="lon">.*?field-error', text(response), re.S)
    response = client.post(reverse("cases:report"), {**base, "lon": 10.0, "lat": 10.0})
    assert response.status_code in (404, 422) and "outside_coverage" in text(response)
    response = client.post(reverse("cases:report"), {**base, "photos": [upload(b"not a photo")]})
    assert response.status_code == 422
    page = text(response)
    assert re.search(r'data-field="photos">.*?invalid_photo', page, re.S)
    assert f'value="{key}"' in page  # the same key: a retry of this form is still one case
    assert Case.objects.count() == 0


# --- Detail ----------------------------------------------------------------------------------------


def test_detail_shows_facts_map_timeline_and_verified_history(client, people, place, photo):
    case = to_dispatch(people, place, photos=[photo], description="a\nb")
    client.force_login(people["dispatcher_jinjiang"])
    page = text(client.get(detail_url(case)))
    assert case.number in page and case.grid.code in page and case.street.name in page
    assert 'id="case-map"' in page and 'id="case-map-config"' in page
    assert "chain-ok" in page and "chain-broken" not in page
    assert page.count('<li data-seq="') == 2
    assert 'data-op="dispatch"' in page
    assert 'data-op="file"' not in page  # only what this user may do now
    assert f'name="dispatch-expected_version" value="{case.version}"' in page


def test_detail_reports_a_broken_history(client, people, place):
    case = to_dispatch(people, place)
    CaseEvent.objects.filter(case=case, seq=1).update(role="leader")
    client.force_login(people["dispatcher_jinjiang"])
    page = text(client.get(detail_url(case)))
    assert "chain-broken" in page and "chain-ok" not in page


# --- Operations ------------------------------------------------------------------------------------


def test_dispatch_form_dispatches_with_copies(client, people, place):
    case = to_dispatch(people, place)
    hw = Department.objects.get(code="510104-HW")
    copy = Department.objects.get(code="CITY-CGW")
    client.force_login(people["dispatcher_jinjiang"])
    page = text(client.get(detail_url(case)))
    assert f'<option value="{hw.pk}" selected>' in page  # the rules' suggestion preselected
    response = act(client, case, "dispatch", {"department": hw.pk, "copies": [copy.pk], "note": "快"})
    assert response.status_code == 302 and response["Location"].endswith("#timeline")
    case = fresh(case)
    assert case.state == "dispatched" and case.holder_department == hw
    assert list(case.copies.values_list("department__code", flat=True)) == ["CITY-CGW"]
    page = text(client.get(response["Location"]))
    assert 'data-to="dispatched"' in page


def test_dispatch_offers_only_visible_departments(client, people, place):
    case = to_dispatch(people, place)
    other = Department.objects.filter(area__code__startswith=QINGYANG).first()
    client.force_login(people["dispatcher_jinjiang"])
    page = text(client.get(detail_url(case)))
    assert f'value="{other.pk}"' not in page
    response = act(client, case, "dispatch", {"department": other.pk})
    assert response.status_code == 422 and fresh(case).state == "to_dispatch"


def test_reject_without_reason_shows_the_error_and_keeps_input(client, people, place):
    case = report(people, place)
    client.force_login(people["intake_operator_jinjiang"])
    response = act(client, case, "reject", {"reason": "  "})
    assert response.status_code == 422
    page = text(response)
    assert "missing_input" in page and 'data-op="reject" open' in page
    assert fresh(case).state == "to_file"
    response = act(client, case, "reject", {"reason": "不属于城管范围"})
    assert response.status_code == 302 and fresh(case).state == "rejected"


def test_stale_version_shows_the_conflict_and_the_new_state(client, people, place):
    case = report(people, place)
    seen = case.version
    actions.file_case(people["shift_leader_jinjiang"], case.pk)
    client.force_login(people["intake_operator_jinjiang"])
    response = act(client, case, "file", version=seen)
    assert response.status_code == 409
    page = text(response)
    assert 'id="conflict"' in page and "case_changed" in page
    assert 'data-state="to_dispatch"' in page and 'data-version="2"' in page
    assert 'data-op="file"' not in page  # the panel shows what is open now
    assert fresh(case).version == 2


def test_operation_no_longer_open_is_a_conflict(client, people, place):
    case = report(people, place)
    client.force_login(people["intake_operator_jinjiang"])
    actions.file_case(people["shift_leader_jinjiang"], case.pk)
    response = act(client, case, "file", version=2)
    assert response.status_code == 409 and "operation_not_allowed_in_state" in text(response)


def test_operation_outside_ones_roles_is_refused(client, people, place):
    case = to_dispatch(people, place)
    client.force_login(people["intake_operator_jinjiang"])
    response = act(client, case, "dispatch", {"department": Department.objects.get(code="510104-HW").pk})
    assert response.status_code in (403, 422) and fresh(case).state == "to_dispatch"
    assert 'id="action-error"' in text(response) or "field-error" in text(response)


def test_unknown_operation_is_404(client, people, place):
    case = report(people, place)
    client.force_login(people["intake_operator_jinjiang"])
    assert client.post(op_url(case, "explode"), {}).status_code == 404
    assert client.get(op_url(case, "file")).status_code == 405


def test_standard_process_through_the_forms(client, people, place, photo):
    case = report(people, place)
    hw = Department.objects.get(code="510104-HW")
    steps = [
        ("intake_operator_jinjiang", "file", {}, "to_dispatch"),
        ("dispatcher_jinjiang", "dispatch", {"department": hw.pk}, "dispatched"),
        ("handler_jinjiang_hw", "return", {"reason": "不归我们"}, "to_dispatch"),
        ("dispatcher_jinjiang", "dispatch", {"department": hw.pk}, "dispatched"),
        ("handler_jinjiang_hw", "accept", {}, "handling"),
        ("handler_jinjiang_hw", "request_postponement", {"extension": "2 working days", "reason": "材料"},
         "postponement_requested"),
        ("dispatcher_jinjiang", "approve_postponement", {}, "handling"),
        ("handler_jinjiang_hw", "request_postponement", {"extension": "1 working day", "reason": "再等"},
         "postponement_requested"),
        ("shift_leader_jinjiang", "refuse_postponement", {"reason": "不准"}, "handling"),
        ("shift_leader_jinjiang", "suspend", {"reason": "施工"}, "suspended"),
        ("shift_leader_jinjiang", "resume", {}, "handling"),
        ("leader_jinjiang", "urge", {"message": "尽快"}, "handling"),
        ("leader_jinjiang", "supervise", {"reason": "重点"}, "handling"),
        ("handler_jinjiang_hw", "feedback", {"after_photo": upload(photo)}, "to_check"),
        ("district_inspector_jinjiang", "check_fail", {"reason": "没修好"}, "handling"),
        ("handler_jinjiang_hw", "feedback", {"after_photo": upload(png(120, 90))}, "to_check"),
        ("district_inspector_jinjiang", "check_pass", {}, "to_close"),
        ("shift_leader_jinjiang", "close", {}, "closed"),
        ("shift_leader_jinjiang", "reopen", {"reason": "复发"}, "to_dispatch"),
        ("shift_leader_jinjiang", "void", {"reason": "重复上报"}, "voided"),
    ]
    for who, operation, data, state in steps:
        client.force_login(people[who])
        page = text(client.get(detail_url(case)))
        assert f'data-op="{operation}"' in page, (who, operation)
        response = act(client, case, operation, data)
        assert response.status_code == 302, (operation, text(response)[:3000])
        case = fresh(case)
        assert case.state == state, operation
    assert case.rework_count == 1 and case.postponed
    assert Photo.objects.filter(case=case, kind="after").count() == 2
    page = text(client.get(detail_url(case)))
    assert "chain-ok" in page and page.count('<li data-seq="') == case.version


def test_feedback_without_photo_and_bad_extension_show_errors(client, people, place):
    case = to_handling(people, place)
    client.force_login(people["handler_jinjiang_hw"])
    response = act(client, case, "feedback", {"note": "done"})
    assert response.status_code == 422 and "missing_input" in text(response)
    assert re.search(r'data-field="feedback-after_photo">.*?field-error', text(response), re.S)
    response = act(client, case, "request_postponement", {"extension": "soon", "reason": "x"})
    assert response.status_code == 422 and "invalid_extension" in text(response)
    assert 'value="soon"' in text(response)
    assert fresh(case).state == "handling"


def test_public_report_verify_merge_and_redispatch(client, people, place):
    original = to_dispatch(people, place)
    public = report(people, place, who="intake_operator_jinjiang", source="hotline")
    assert public.process == "public_report"
    client.force_login(people["district_inspector_jinjiang"])
    assert act(client, public, "verify").status_code == 302
    public = fresh(public)
    assert public.state == "to_file"
    client.force_login(people["intake_operator_jinjiang"])
    response = act(client, public, "merge", {"duplicate_of": "nope", "reason": "重复"})
    assert response.status_code in (404, 422) and fresh(public).state == "to_file"
    response = act(client, public, "merge", {"duplicate_of": original.number, "reason": "重复"})
    assert response.status_code == 302 and fresh(public).state == "merged"
    assert fresh(public).duplicate_of == original

    case = actions.dispatch_case(people["dispatcher_jinjiang"], original.pk, department="510104-HW")
    client.force_login(people["dispatcher_jinjiang"])
    other = Department.objects.get(code="510104-SZ")
    response = act(client, case, "redispatch", {"department": other.pk, "reason": "市政的事"})
    assert response.status_code == 302
    assert fresh(case).holder_department == other


@pytest.mark.parametrize("who", ["dispatcher_jinjiang", "handler_jinjiang_hw"])
def test_pages_render_for_each_role(client, people, place, who):
    case = to_handling(people, place)
    client.force_login(people[who])
    assert client.get(reverse("cases:queue")).status_code == 200
    assert client.get(reverse("cases:report")).status_code == 200
    assert client.get(detail_url(case)).status_code == 200


def test_duplicate_suggestions_with_a_merge_button(client, people, place):
    first = report(people, place)
    second = report(people, place)
    elsewhere = report(people, place, area="510104001002")  # another street: not a duplicate
    client.force_login(people["intake_operator_jinjiang"])
    page = text(client.get(detail_url(second)))
    match = re.search(r'<div class="duplicates">(.*?)</div>', page, re.S)
    assert match and first.number in match.group(1) and elsewhere.number not in match.group(1)
    assert f'name="merge-duplicate_of" value="{first.number}"' in page
    response = client.post(op_url(second, "merge"), {
        "merge-expected_version": second.version, "merge-duplicate_of": first.number,
        "merge-reason": "重复", "merge-role": "intake_operator"})
    assert response.status_code == 302
    assert fresh(second).state == "merged" and fresh(second).duplicate_of == first
    # a dispatcher (no merge in to_file) sees no suggestions
    client.force_login(people["dispatcher_jinjiang"])
    assert 'class="duplicates"' not in text(client.get(detail_url(first)))


def test_user_without_roles_sees_own_reports_only(client, people, place, django_user_model):
    case = report(people, place)
    someone = django_user_model.objects.create_user("someone", password="x")
    client.force_login(someone)
    page = text(client.get(reverse("cases:queue")))
    assert "role=all" in page and case.number not in page
    assert client.get(detail_url(case)).status_code == 404
    form = text(client.get(reverse("cases:report")))
    assert re.findall(r'<option value="(\w+)"', form.split('name="source"')[1].split("</select>")[0]) == [
        "public"]


def _dispatched(people, place):
    case = to_dispatch(people, place)
    return actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department="510104-HW")


def _postponement_requested(people, place):
    case = to_handling(people, place)
    return actions.request_postponement(people["handler_jinjiang_hw"], case.pk,
                                        extension="1 working day", reason="材料")


def _to_check(people, place):
    case = to_handling(people, place)
    return actions.feedback_case(people["handler_jinjiang_hw"], case.pk, after_photo=png())


def _rejected(people, place):
    case = report(people, place)
    return actions.reject_case(people["intake_operator_jinjiang"], case.pk, reason="不受理")


@pytest.mark.parametrize(("setup", "who", "operation", "data", "field"), [
    (_dispatched, "handler_jinjiang_hw", "return", {}, "reason"),
    (_dispatched, "dispatcher_jinjiang", "redispatch", {"reason": "换"}, "department"),
    (to_dispatch, "dispatcher_jinjiang", "dispatch", {}, "department"),
    (to_dispatch, "shift_leader_jinjiang", "void", {}, "reason"),
    (to_dispatch, "leader_jinjiang", "supervise", {}, "reason"),
    (to_dispatch, "dispatcher_jinjiang", "merge", {"reason": "重复"}, "duplicate_of"),
    (to_handling, "shift_leader_jinjiang", "suspend", {}, "reason"),
    (to_handling, "handler_jinjiang_hw", "request_postponement", {"reason": "x"}, "extension"),
    (_postponement_requested, "dispatcher_jinjiang", "refuse_postponement", {}, "reason"),
    (_to_check, "district_inspector_jinjiang", "check_fail", {}, "reason"),
    (_rejected, "shift_leader_jinjiang", "reopen", {}, "reason"),
])
def test_missing_inputs_are_shown_at_their_field(client, people, place, setup, who, operation, data,
                                                 field):
    case = setup(people, place)
    state, version = case.state, case.version
    client.force_login(people[who])
    response = act(client, case, operation, data)
    assert response.status_code == 422
    page = text(response)
    block = page.split(f'data-field="{operation}-{field}">', 1)[1].split("</div>", 1)[0]
    assert 'class="field-error"' in block and "missing_input" in block
    assert f'data-op="{operation}" open' in page
    assert (fresh(case).state, fresh(case).version) == (state, version)
