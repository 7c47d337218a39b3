"""Assessment pages: overview with charts, tables with drill-down, printable monthly report."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from citygrid.assess import selectors
from citygrid.assess.models import AssessmentRun, CaseFact
from citygrid.assess.services import KINDS
from citygrid.core.errors import DomainError


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
    hot = list(facts.values("street_id").annotate(n=Count("case_id")).order_by("-n")[:20])
    context: dict[str, Any] = {
        "kind": kind, "kinds": KINDS, "period": period, "rows": rows,
        "before": {k: v.score for k, v in before.items()},
        "chart": {"ranking": [[r.name, float(r.score or 0)] for r in rows[:20]],
                  "mix": [[m["category_code"], m["n"]] for m in mix],
                  "trend": [[str(t["day"]), t["n"], t["closed"]] for t in trend],
                  "hot": [[h["street_id"], h["n"]] for h in hot]},
        "runs": AssessmentRun.objects.all()[:5],
        "query": request.GET.urlencode(),
    }
    return render(request, "assess/report.html" if printable else "assess/overview.html", context)


@login_required
def report(request: HttpRequest) -> HttpResponse:
    return overview(request, printable=True)
