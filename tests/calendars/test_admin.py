"""The calendars admin: banner for unknown years, confirm action, period validation."""

from __future__ import annotations

import pytest
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.urls import reverse

from citygrid.calendars.models import ConfirmedYear, WeeklyPeriod
from citygrid.calendars.services import default_calendar, years_needing_attention

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("cal-admin", "a@example.org", "pw-123456-x")
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", ["workingcalendar", "dateoverride", "confirmedyear"])
def test_banner_on_calendars_pages_while_a_year_is_unknown(admin_client, model: str) -> None:
    pending = years_needing_attention()
    response = admin_client.get(reverse(f"admin:calendars_{model}_changelist"))
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == len(pending)
    for year in pending:
        assert any(str(year) in m for m in shown)
    response = admin_client.get(reverse(f"admin:calendars_{model}_add"))
    assert response.status_code == 200


def test_confirm_year_action(admin_client) -> None:
    row = ConfirmedYear.objects.create(year=2027, note="overrides entered")
    url = reverse("admin:calendars_confirmedyear_changelist")
    response = admin_client.post(url, {"action": "confirm_year", "_selected_action": [row.pk]})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.is_confirmed and row.confirmed_by.username == "cal-admin"
    assert 2027 not in years_needing_attention()
    response = admin_client.get(url)
    assert not [m for m in response.context["messages"] if m.level == messages.WARNING and "2027" in str(m)]


def test_overlapping_periods_refused_in_the_inline(admin_client) -> None:
    cal = default_calendar()
    url = reverse("admin:calendars_workingcalendar_change", args=[cal.pk])
    periods = list(cal.periods.all())
    data = {
        "name": cal.name, "title": cal.title, "description": cal.description, "timezone": cal.timezone,
        "is_default": "on",
        "periods-TOTAL_FORMS": str(len(periods) + 1), "periods-INITIAL_FORMS": str(len(periods)),
        "periods-MIN_NUM_FORMS": "0", "periods-MAX_NUM_FORMS": "1000",
        "overrides-TOTAL_FORMS": "0", "overrides-INITIAL_FORMS": "0",
        "overrides-MIN_NUM_FORMS": "0", "overrides-MAX_NUM_FORMS": "1000",
    }
    for i, p in enumerate(periods):
        data |= {f"periods-{i}-id": p.pk, f"periods-{i}-calendar": cal.pk, f"periods-{i}-weekday": p.weekday,
                 f"periods-{i}-start": p.start.strftime("%H:%M"), f"periods-{i}-end": p.end.strftime("%H:%M")}
    n = len(periods)
    data |= {f"periods-{n}-calendar": cal.pk, f"periods-{n}-weekday": "0",
             f"periods-{n}-start": "11:00", f"periods-{n}-end": "14:00"}
    response = admin_client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    assert WeeklyPeriod.objects.filter(calendar=cal).count() == n
    # the same row on Saturday is fine
    data[f"periods-{n}-weekday"] = "5"
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert WeeklyPeriod.objects.filter(calendar=cal, weekday=5).count() == 1
