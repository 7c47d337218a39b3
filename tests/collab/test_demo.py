"""The demo puts disputed cases in every stage of the platform."""

from __future__ import annotations

import io

from citygrid.collab.demo import load_demo
from citygrid.collab.models import Dossier, Invitation, Meeting, Record


def test_demo_has_every_stage(demo_small):
    out = io.StringIO()
    load_demo(out, size="small")
    assert "0 stages failed" in out.getvalue(), out.getvalue()
    entries = set(Dossier.objects.values_list("entry", flat=True))
    assert {"sent", "not_ours", "flagged"} <= entries
    assert Dossier.objects.filter(status="open", invitations__isnull=True).exists()
    assert Invitation.objects.filter(answer="").exists()
    assert Invitation.objects.filter(answer="decline").exists()
    assert Dossier.objects.filter(status="decided", decision__via="desk",
                                  decision__rule__isnull=False).exists()
    assert Dossier.objects.filter(status="decided", decision__via="meeting").count() == 2
    assert set(Meeting.objects.values_list("status", flat=True)) == {"planned", "held"}
    assert set(Record.objects.values_list("kind", flat=True)) == {"network", "onsite"}
    load_demo(out, size="small")
    assert "skipped" in out.getvalue()
