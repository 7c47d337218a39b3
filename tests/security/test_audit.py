import json

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.test import Client

from citygrid.security.models import AppendOnly, AuditAction, AuditEvent

from .conftest import PASSWORD


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    assert client.login(username="root", password=PASSWORD)
    return client


def test_admin_add_change_and_delete_are_audited(admin_client):
    admin_client.post("/admin/auth/group/add/", {"name": "巡查员"})
    group = Group.objects.get(name="巡查员")
    admin_client.post(f"/admin/auth/group/{group.pk}/change/", {"name": "巡查员甲"})
    admin_client.post(f"/admin/auth/group/{group.pk}/delete/", {"post": "yes"})
    events = list(AuditEvent.objects.filter(object_type="auth.group").order_by("id"))
    assert [e.action for e in events] == [AuditAction.ADMIN_ADD, AuditAction.ADMIN_CHANGE,
                                          AuditAction.ADMIN_DELETE]
    assert {e.actor_name for e in events} == {"root"}
    assert all(e.object_id == str(group.pk) for e in events)
    assert events[1].changes["raw"] == [{"changed": {"fields": ["Name"]}}]
    assert events[0].ip == "127.0.0.1"


def test_bulk_deletions_in_the_admin_are_audited(admin_client):
    groups = [Group.objects.create(name=f"g{i}") for i in range(3)]
    answer = admin_client.post("/admin/auth/group/", {
        "action": "delete_selected", "_selected_action": [g.pk for g in groups], "post": "yes"})
    assert answer.status_code == 302
    assert not Group.objects.exists()
    admin_client.get("/admin/security/auditevent/")  # the audit list catches up first
    deleted = AuditEvent.objects.filter(action=AuditAction.ADMIN_DELETE)
    assert sorted(deleted.values_list("object_id", flat=True)) == sorted(str(g.pk) for g in groups)


def test_the_record_outlives_the_user(admin_client, admin_user):
    victim = User.objects.create_user("temp", password=PASSWORD)
    Client().login(username="temp", password=PASSWORD)
    victim_id = victim.pk
    admin_client.post(f"/admin/auth/user/{victim_id}/delete/", {"post": "yes"})
    assert not User.objects.filter(pk=victim_id).exists()
    login = AuditEvent.objects.get(action=AuditAction.LOGIN, actor_name="temp")
    assert login.actor_id == victim_id
    assert AuditEvent.objects.filter(action=AuditAction.ADMIN_DELETE, object_id=str(victim_id)).exists()


def test_api_tokens_issued_and_revoked_are_audited(user):
    client = Client()
    issued = client.post("/api/v1/auth/token", json.dumps(
        {"username": "zhang", "password": PASSWORD, "device": "手机"}), content_type="application/json")
    assert issued.status_code == 201
    body = issued.json()
    revoked = client.delete(f"/api/v1/auth/tokens/{body['id']}",
                            HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert revoked.status_code == 200
    events = AuditEvent.objects.filter(object_type="accounts.apitoken").order_by("id")
    assert [(e.action, e.actor_name) for e in events] == [
        (AuditAction.TOKEN_ISSUED, "zhang"), (AuditAction.TOKEN_REVOKED, "zhang")]
    assert body["token"] not in json.dumps([e.changes for e in events]) + "".join(e.summary for e in events)


def test_audit_events_are_append_only(user):
    Client().login(username="zhang", password=PASSWORD)
    event = AuditEvent.objects.get()
    event.summary = "tampered"
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.update(summary="x")
    with pytest.raises(AppendOnly):
        AuditEvent.objects.all().delete()


@pytest.mark.postgres
def test_postgres_refuses_changes_to_audit_rows(user):
    Client().login(username="zhang", password=PASSWORD)
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE security_auditevent SET summary = 'x'")
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM security_auditevent")


def test_the_audit_admin_is_read_only_and_exports_csv(admin_client, user):
    Client().login(username="zhang", password="wrong")
    Client().login(username="zhang", password=PASSWORD)
    listing = admin_client.get("/admin/security/auditevent/?action=login_failed")
    assert listing.status_code == 200
    assert admin_client.get("/admin/security/auditevent/add/").status_code == 403
    event = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).first()
    page = admin_client.get(f"/admin/security/auditevent/{event.pk}/change/")
    assert page.status_code == 200 and b'name="summary"' not in page.content
    export = admin_client.get("/admin/security/auditevent/export.csv?action=login_failed")
    assert export.status_code == 200
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("id,at,actor_name")
    assert len(lines) == 2 and ",login_failed," in lines[1] and "zhang" in lines[1]
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, actor_name="root").exists()


def test_people_without_permission_cannot_read_or_export_the_audit_log(user):
    user.is_staff = True
    user.save()
    client = Client()
    client.login(username="zhang", password=PASSWORD)
    assert client.get("/admin/security/auditevent/").status_code == 403
    assert client.get("/admin/security/auditevent/export.csv").status_code == 403
