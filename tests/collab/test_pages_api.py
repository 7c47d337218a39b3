"""The REST API and the pages of the platform, signed in through the session."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from citygrid.collab import actions
from citygrid.collab.models import Dossier, PresenceSpan
from tests.collab.helpers import dispatched, filed


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def post(c, url, body):
    return c.post(url, json.dumps(body), content_type="application/json")


def test_api_flow(people, place):
    case = dispatched(people, place)
    hw = client_for(people["handler_jinjiang_hw"])
    coordinator = client_for(people["coordinator_city"])
    r = post(hw, f"/api/v1/collab/cases/{case.number}/not-ours", {"reason": "不属于环卫"})
    assert r.status_code == 201, r.content
    dossier_id = r.json()["id"]
    assert r.json()["entry"] == "not_ours"
    r = post(hw, f"/api/v1/collab/dossiers/{dossier_id}/invitations", {"departments": ["510104-SZ"]})
    assert (r.status_code, r.json()["code"]) == (403, "not_coordinator")
    r = post(coordinator, f"/api/v1/collab/dossiers/{dossier_id}/invitations",
             {"departments": ["510104-SZ", "510104-HW"]})
    assert r.status_code == 201 and len(r.json()) == 2
    sz = client_for(people["handler_jinjiang_sz"])
    [inv] = sz.get("/api/v1/collab/inbox?open=true").json()
    assert inv["department"]["code"] == "510104-SZ"
    r = post(sz, f"/api/v1/collab/invitations/{inv['id']}/answer", {"answer": "maybe"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_answer")
    r = post(sz, f"/api/v1/collab/invitations/{inv['id']}/answer", {"answer": "accept"})
    assert r.status_code == 200 and r.json()["answer"] == "accept"
    r = post(sz, f"/api/v1/collab/dossiers/{dossier_id}/comments", {"text": "我们处理"})
    assert r.status_code == 201
    assert len(coordinator.get("/api/v1/collab/dossiers").json()) >= 1
    r = post(coordinator, f"/api/v1/collab/dossiers/{dossier_id}/decision",
             {"owner": "510104-SZ", "reasoning": "市政设施"})
    assert r.status_code == 201 and r.json()["owner"]["code"] == "510104-SZ"
    detail = coordinator.get(f"/api/v1/collab/dossiers/{dossier_id}").json()
    assert detail["status"] == "decided" and detail["case_state"] == "dispatched"
    assert [x["kind"] for x in detail["records"]] == ["network"]
    assert client_for(people["handler_qingyang_hw"]).get(
        f"/api/v1/collab/dossiers/{dossier_id}").status_code == 404
    assert Client().get("/api/v1/collab/inbox").status_code == 401


def test_api_meeting_and_visit(people, place, photo):
    coordinator = client_for(people["coordinator_city"])
    dossiers = [actions.send_case(people["dispatcher_jinjiang"], filed(people, place).pk, reason="r")
                for _ in range(2)]
    r = post(coordinator, "/api/v1/collab/meetings",
             {"title": "协调会", "scheduled_at": "2026-11-27T09:00:00+08:00",
              "attendees": ["510104-HW"], "dossiers": [d.pk for d in dossiers]})
    assert r.status_code == 201, r.content
    meeting_id = r.json()["id"]
    r = coordinator.post(f"/api/v1/collab/dossiers/{dossiers[0].pk}/visits",
                         {"text": "联合踏勘", "participants": ["510104-HW"],
                          "photos": [_file(photo)]})
    assert r.status_code == 201, r.content
    assert len(r.json()["photos"]) == 1
    r = post(coordinator, f"/api/v1/collab/meetings/{meeting_id}/held",
             {"minutes": "纪要", "decisions": [
                 {"dossier": d.pk, "owner": "510104-HW", "reasoning": "环卫"} for d in dossiers]})
    assert r.status_code == 200, r.content
    assert len(r.json()["decisions"]) == 2
    assert all(d.status == "decided" for d in Dossier.objects.filter(pk__in=[x.pk for x in dossiers]))


def _file(content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("p.png", content, content_type="image/png")


def test_presence_and_duty_api(people):
    hw = client_for(people["handler_jinjiang_hw"])
    r = hw.post("/api/v1/collab/presence")
    assert r.status_code == 200 and r.json()["recorded"] is True
    assert PresenceSpan.objects.filter(person__user=people["handler_jinjiang_hw"]).exists()
    assert hw.get("/api/v1/collab/duty?start=2026-11-01&end=2026-11-02").status_code == 403
    r = client_for(people["coordinator_city"]).get("/api/v1/collab/duty?start=2026-11-02&end=2026-11-01")
    assert (r.status_code, r.json()["code"]) == (422, "invalid_period")


@pytest.mark.urls("tests.collab.urls")
def test_pages(people, place):
    case = dispatched(people, place)
    dossier = actions.return_not_ours(people["handler_jinjiang_hw"], case.pk, reason="不是我们")
    coordinator = client_for(people["coordinator_city"])
    assert Client().get("/collab/").status_code == 302  # login required
    page = coordinator.get("/collab/")
    assert page.status_code == 200 and case.number in page.content.decode()
    r = coordinator.post(f"/collab/dossiers/{dossier.pk}/invite/", {"departments": ["510104-SZ"]})
    assert r.status_code == 302
    sz = client_for(people["handler_jinjiang_sz"])
    assert sz.get("/collab/").status_code == 302  # not a coordinator: to the inbox
    inbox = sz.get("/collab/inbox/").content.decode()
    assert case.number in inbox
    inv = dossier.invitations.get()
    r = sz.post(f"/collab/invitations/{inv.pk}/answer/", {"answer": "accept"})
    assert r.status_code == 302
    inv.refresh_from_db()
    assert inv.answer == "accept"
    assert client_for(people["handler_jinjiang_hw"]).get(f"/collab/dossiers/{dossier.pk}/").status_code == 404
    page = coordinator.get(f"/collab/dossiers/{dossier.pk}/").content.decode()
    assert "510104-SZ" in page
    r = coordinator.post(f"/collab/dossiers/{dossier.pk}/decide/",
                         {"owner": "510104-SZ", "reasoning": "市政", "make_rule": "on"})
    assert r.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == "decided" and dossier.decision.rule is not None
    r = coordinator.post("/collab/meetings/", {"title": "会", "scheduled_at": "2026-11-27T09:00"})
    assert r.status_code == 302
    assert coordinator.get(r["Location"]).status_code == 200
    assert sz.post("/collab/presence/").status_code == 204
