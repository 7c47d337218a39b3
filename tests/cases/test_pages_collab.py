"""The case pages and the collaboration platform: the dispatcher sends a case for ownership
confirmation, the holding department returns it as not its own (both through the collab app's
wrappers, which open the dossier), and a case at the platform links to its dossier instead of
offering the generic dispatch form."""

from __future__ import annotations

import re

from django.urls import reverse

from citygrid.cases.models import Case, CaseEvent
from citygrid.cases.selectors import allowed_operations
from citygrid.collab.actions import send_case
from citygrid.collab.models import Dossier
from tests.cases.test_pages import act, detail_url, fresh, text, to_dispatch, to_handling


def panel_ops(response) -> set[str]:
    return set(re.findall(r'data-op="([a-z_]+)"', text(response)))


def test_dispatcher_sends_case_to_platform_from_detail_page(client, people, place):
    case = to_dispatch(people, place)
    client.force_login(people["dispatcher_jinjiang"])
    page = client.get(detail_url(case))
    assert "send_to_collaboration" in panel_ops(page)
    assert "return_not_ours" not in panel_ops(page)

    response = act(client, case, "send_to_collaboration", {"reason": "权属不清，请协同平台确认"})
    assert response.status_code == 302, text(response)
    case = fresh(case)
    assert case.state == "in_collaboration"
    assert case.holder_department.kind == "collaboration_platform"
    dossier = Dossier.objects.get(case=case, status="open")
    assert dossier.entry == "sent" and dossier.reason == "权属不清，请协同平台确认"
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert event.operation == "send_to_collaboration" and event.role == "dispatcher"


def test_send_without_reason_is_refused_on_the_page(client, people, place):
    case = to_dispatch(people, place)
    client.force_login(people["dispatcher_jinjiang"])
    response = act(client, case, "send_to_collaboration", {"reason": ""})
    assert response.status_code == 422
    assert "missing_input" in text(response)
    assert fresh(case).state == "to_dispatch"
    assert not Dossier.objects.filter(case=case).exists()


def test_handler_returns_case_as_not_ours(client, people, place):
    case = to_handling(people, place)
    returns = case.return_count
    client.force_login(people["handler_jinjiang_hw"])
    page = client.get(detail_url(case))
    assert "return_not_ours" in panel_ops(page)
    assert "send_to_collaboration" not in panel_ops(page)

    response = act(client, case, "return_not_ours", {"reason": "非本单位职责"})
    assert response.status_code == 302, text(response)
    case = fresh(case)
    assert case.state == "in_collaboration"
    assert case.return_count == returns + 1
    dossier = Dossier.objects.get(case=case, status="open")
    assert dossier.entry == "not_ours"
    assert dossier.from_department.code == "510104-HW"


def test_other_department_may_not_return_as_not_ours(client, people, place):
    case = to_handling(people, place)
    client.force_login(people["handler_jinjiang_sz"])
    response = act(client, case, "return_not_ours", {"reason": "非本单位职责"})
    assert response.status_code in (403, 404)
    assert fresh(case).state == "handling"
    assert not Dossier.objects.filter(case=case).exists()


def test_case_at_platform_links_to_dossier_and_offers_no_dispatch(client, people, place):
    case = to_dispatch(people, place)
    dossier = send_case(people["dispatcher_jinjiang"], case.pk, reason="权属不清")
    case = fresh(case)
    client.force_login(people["coordinator_city"])
    page = client.get(detail_url(case))
    assert page.status_code == 200
    link = reverse("collab:dossier", args=[dossier.pk])
    assert f'href="{link}"' in text(page)
    ops = panel_ops(page)
    assert "dispatch" not in ops
    assert 'name="dispatch-department"' not in text(page)
    # The coordinator may dispatch out of the platform in the engine, but not from here.
    assert ("dispatch", "collaboration_coordinator") in allowed_operations(people["coordinator_city"], case)
    response = act(client, case, "dispatch", {"department": case.routed_department_id or ""})
    assert response.status_code == 409 and "decide_on_dossier" in text(response)
    assert fresh(case).state == "in_collaboration"
    # The page still offers what stays open there (e.g. urge for the dispatcher).
    client.force_login(people["dispatcher_jinjiang"])
    page = client.get(detail_url(case))
    assert "dispatch" not in panel_ops(page)
    assert 'id="collab-dossier"' in text(page)


def test_dossier_page_behind_the_link_opens_for_the_coordinator(client, people, place):
    case = to_dispatch(people, place)
    dossier = send_case(people["dispatcher_jinjiang"], case.pk, reason="权属不清")
    client.force_login(people["coordinator_city"])
    response = client.get(reverse("collab:dossier", args=[dossier.pk]))
    assert response.status_code == 200
    assert Case.objects.get(pk=case.pk).number in text(response)
