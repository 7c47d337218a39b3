"""Assessment pages: overview with charts, tables with drill-down, printable monthly report."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from citygrid.assess import selectors
from citygrid.assess.domain.periods import Period
from citygrid.assess.models import AssessmentRun, CaseFact
from citygrid.assess.services import KINDS
from citygrid.core.errors import DomainError
from citygrid.web.views import api_base, map_config


def _day(request: HttpRequest) -> date:
    try:
        return date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return timezone.localdate()


@login_required
def overview(request: HttpRequest, printable: bool = False) -> HttpResponse:
    kind = request.GET.get("kind", "district")
    try:
        period = selectors.period_from(request.GET.get("period", "month"), _day(request))
        rows, before = selectors.assessment(request.user, kind, period)
        filters = selectors.scoped_filters(request.user, period)
    except DomainError as exc:
        return render(request, "assess/error.html", {"error": exc}, status=exc.status)
    facts = CaseFact.objects.filter(filters.q())
    mix = list(facts.values("category_code").annotate(n=Count("case_id")).order_by("-n")[:10])
    trend = list(facts.values("day").annotate(n=Count("case_id"), closed=Count(
        "case_id", filter=Q(closed=True))).order_by("day"))
    context: dict[str, Any] = {
        "kind": kind, "kinds": KINDS, "period": period, "rows": rows,
        "before": {k: v.score for k, v in before.items()},
        "chart": {"ranking": [[r.name, float(r.score or 0)] for r in rows[:20]],
                  "mix": [[m["category_code"], m["n"]] for m in mix],
                  "trend": [[str(t["day"]), t["n"], t["closed"]] for t in trend]},
        "hotspot": _hotspot_config(request, period),
        "runs": AssessmentRun.objects.all()[:5],
        "query": request.GET.urlencode(),
    }
    return render(request, "assess/report.html" if printable else "assess/overview.html", context)


SLICE_PARAMS = ("district", "category", "source", "department", "hour_from", "hour_to")


def _hotspot_config(request: HttpRequest, period: Period) -> dict[str, Any]:
    """What hotspots.js needs (json_script): the data endpoints, the slice, tiles, words."""
    query = {"period": period.kind.value, "day": period.start.isoformat()}
    if period.kind.value == "custom":
        query["end"] = period.end.isoformat()
    query.update({k: request.GET[k] for k in SLICE_PARAMS if request.GET.get(k)})
    return {
        "api": api_base() + "assessment/hotspots", "query": query,
        "tiles": map_config(get_language() or settings.LANGUAGE_CODE)["tiles"],
        "caseUrl": reverse("cases:detail", args=["NUMBER"]),
        "labels": {"cases": _("cases"), "closed": _("closed"), "overdue": _("overdue"),
                   "more": _("and %(n)s more"), "none": _("No cases in this slice."),
                   "failed": _("Could not load the hotspots."),
                   "community": _("Community"), "grid": _("Unit grid")},
    }


@login_required
def report(request: HttpRequest) -> HttpResponse:
    return overview(request, printable=True)
