"""Checking the hash chains of case histories (read only)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from citygrid.cases.actions import event_payload
from citygrid.cases.domain.history import ChainLink, first_broken_link
from citygrid.cases.models import Case, CaseEvent


@dataclass(frozen=True)
class Break:
    case: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"case {self.case}: event {self.seq}: {self.reason}"


def cases_to_check(number: str | None = None, start: datetime | None = None,
                   end: datetime | None = None) -> QuerySet[Case]:
    """The cases with the given number, or with an event in [start, end)."""
    qs = Case.objects.all()
    if number:
        qs = qs.filter(number=number)
    if start is not None or end is not None:
        events = CaseEvent.objects.all()
        if start is not None:
            events = events.filter(at__gte=start)
        if end is not None:
            events = events.filter(at__lt=end)
        qs = qs.filter(pk__in=events.values("case_id"))
    return qs.order_by("pk")


def check_case_chain(case: Case) -> Break | None:
    links = (ChainLink(e.seq, event_payload(e, case.number), e.prev_hash, e.hash)
             for e in CaseEvent.objects.filter(case=case).order_by("seq"))
    broken = first_broken_link(links, head=case.history_head or None)
    return Break(case.number, broken.seq, broken.reason) if broken else None


def verify(cases: QuerySet[Case], chunk: int = 500) -> Iterator[tuple[Case, Break | None]]:
    for case in cases.iterator(chunk_size=chunk):
        yield case, check_case_chain(case)
