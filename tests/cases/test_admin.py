"""The admin shows cases and their history read-only, scoped like the selectors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from citygrid.cases import actions
from citygrid.cases.models import CaseEvent

from .test_flows import report


@pytest.fixture
def case(people, place, photo):
    c = report(people, place, photos=[photo])
    return actions.file_case(people["shift_leader_jinjiang"], c.pk)


def test_superuser_reads_cases_and_events(client, case, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(root)
    page = client.get(reverse("admin:cases_case_change", args=[case.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert case.number in body and CaseEvent.objects.filter(case=case).first().hash[:12] in body
    assert client.get(reverse("admin:cases_case_changelist")).status_code == 200
    assert client.get(reverse("admin:cases_caseevent_changelist")).status_code == 200


def test_nothing_can_be_changed(client, case, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="pw")
    client.force_login(root)
    event = CaseEvent.objects.filter(case=case).first()
    assert client.get(reverse("admin:cases_case_add")).status_code == 403
    assert client.post(reverse("admin:cases_case_delete", args=[case.pk]), {"post": "yes"}).status_code == 403
    url = reverse("admin:cases_caseevent_change", args=[event.pk])
    client.post(url, {"role": "x", "operation": "close"})
    assert CaseEvent.objects.get(pk=event.pk).role == event.role
    assert client.post(reverse("admin:cases_caseevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403


def test_staff_see_only_their_districts_cases(client, case, people):
    leader = people["shift_leader_qingyang"]
    leader.is_staff = True
    leader.save()
    client.force_login(leader)
    assert client.get(reverse("admin:cases_case_change", args=[case.pk])).status_code == 302  # not found → redirect
    mine = people["shift_leader_jinjiang"]
    mine.is_staff = True
    mine.save()
    client.force_login(mine)
    assert client.get(reverse("admin:cases_case_change", args=[case.pk])).status_code == 200
