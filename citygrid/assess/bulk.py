"""Bulk path of the simulator, for benchmarks: the same records (cases + events) the actions
write, generated in memory and loaded with COPY (PostgreSQL) or bulk_create (SQLite).

Not for real data: events carry the placeholder hash "bulk" (verify_history reports them),
deadlines are clock-time approximations (handling limit 3 days), photos are omitted.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from citygrid.cases.models import Case, CaseEvent
from citygrid.catalog.models import Category
from citygrid.org.models import Department, RoleAssignment
from citygrid.space.models import UnitGrid

CASE_COLUMNS = ["number", "process", "state", "source", "kind", "category_id", "urgency", "lon",
                "lat", "address", "grid_id", "community_id", "street_id", "district_id",
                "component_id", "description", "reporter_id", "reporter_role",
                "holder_department_id", "version", "step", "step_limit", "step_extensions",
                "overall_limit", "overall_extensions", "overall_deadline", "deadline_provisional",
                "overdue_level", "postponed", "pending_extension", "suspended", "rework_count",
                "return_count", "urge_count", "supervision_level", "needs_collaboration",
                "collaboration_reason", "idempotency_key", "history_head", "created_at",
                "updated_at", "closed_at"]
EVENT_COLUMNS = ["case_id", "seq", "operation", "actor_id", "actor_name", "role", "at",
                 "from_state", "to_state", "inputs", "prev_hash", "hash"]
FLOW = [("file", "to_file", "to_dispatch", "intake_operator"),
        ("dispatch", "to_dispatch", "dispatched", "dispatcher"),
        ("accept", "dispatched", "handling", "handler"),
        ("feedback", "handling", "to_check", "handler"),
        ("check_pass", "to_check", "to_close", "city_inspector"),
        ("close", "to_close", "closed", "shift_leader")]


def _people() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for role, user_id in RoleAssignment.objects.values_list("role", "person__user_id"):
        found.setdefault(role, []).append(user_id)
    if not found:
        found = {"x": list(User.objects.values_list("id", flat=True)[:1])}
    return found


def _rows(cases: int, days: int, seed: int, first_id: int) -> Iterator[tuple[list[Any], list[list[Any]]]]:
    rng = random.Random(seed)
    grids = list(UnitGrid.objects.filter(valid_to__isnull=True, community__isnull=False)
                 .values_list("id", "community_id", "community__parent_id",
                              "community__parent__parent_id", "community__code"))
    categories = list(Category.objects.filter(level="minor").values_list("id", "kind")[:200])
    departments = list(Department.objects.filter(kind="government").values_list("id", flat=True))
    people = _people()
    pick = {role: people.get(role) or next(iter(people.values())) for role in
            ("intake_operator", "dispatcher", "handler", "city_inspector", "shift_leader",
             "district_inspector")}
    tz = timezone.get_current_timezone()
    end = timezone.localdate()
    start = end - timedelta(days=days)
    for i in range(cases):
        case_id = first_id + i
        grid, community, street, district, code = rng.choice(grids)
        category, kind = rng.choice(categories)
        day = start + timedelta(days=int(i * days / cases))
        at = datetime.combine(day, time(8 + int(rng.triangular(0, 13, 2)) % 13, rng.randint(0, 59)), tz)
        deadline = at + timedelta(days=3)
        steps = rng.choices([0, 1, 2, 3, 4, 5, 6], weights=[2, 2, 3, 3, 3, 2, 85])[0]
        events: list[list[Any]] = []
        source = rng.choice(("city_inspector", "district_inspector"))
        reporter = rng.choice(pick[source])
        events.append([case_id, 1, "report", reporter, "", source, at, "", "to_file", "{}", "0" * 64, "bulk"])
        state, t = "to_file", at
        reworks = 1 if rng.random() < 0.05 else 0
        returns = 1 if rng.random() < 0.04 else 0
        for seq, (op, before, after, role) in enumerate(FLOW[:steps], start=2):
            late = rng.random() < 0.1
            t = t + (timedelta(days=rng.randint(4, 8)) if op == "feedback" and late else
                     timedelta(minutes=rng.randint(40, 120) if late else rng.randint(1, 29)))
            events.append([case_id, seq, op, rng.choice(pick[role]), "", role, t, before, after,
                           "{}", "bulk", "bulk"])
            state = after
        closed_at = t if state == "closed" else None
        number = f"{code[:6]}{day:%Y%m%d}{case_id % 100000:05d}{case_id // 100000:03d}"
        case = [number, "standard", state, source, kind, category, "ordinary", 104.0, 30.6, "",
                grid, community, street, district, "", "", reporter, source,
                rng.choice(departments) if steps >= 2 else None, len(events), "", "", "[]",
                "3 days" if steps >= 2 else "", "[]", deadline if steps >= 2 else None, False,
                "none", False, "", False, reworks, returns, 0, 0, False, "", "", "bulk", at, t,
                closed_at]
        yield case, events


def bulk_generate(*, cases: int, days: int = 365, seed: int = 1, batch: int = 50_000) -> int:
    """Writes `cases` cases (with their events) spread over the last `days` days."""
    first_id = (Case.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    rows = _rows(cases, days, seed, first_id)
    written = 0
    while written < cases:
        chunk = [next(rows) for _ in range(min(batch, cases - written))]
        with transaction.atomic():
            _write(chunk, first_id + written)
        written += len(chunk)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{Case._meta.db_table}', 'id'), "
                           f"(SELECT MAX(id) FROM {Case._meta.db_table}))")
            cursor.execute("ANALYZE")
    return written


def _write(chunk: list[tuple[list[Any], list[list[Any]]]], first_id: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            cols = ", ".join(["id", *CASE_COLUMNS])
            with raw.copy(f"COPY {Case._meta.db_table} ({cols}) FROM STDIN") as copy:
                for i, (case, _) in enumerate(chunk):
                    copy.write_row([first_id + i, *case])
            with raw.copy(f"COPY {CaseEvent._meta.db_table} ({', '.join(EVENT_COLUMNS)}) "
                          "FROM STDIN") as copy:
                for _, events in chunk:
                    for event in events:
                        copy.write_row(event)
        return
    Case.objects.bulk_create([Case(id=first_id + i, **dict(zip(CASE_COLUMNS, case, strict=True)))
                              for i, (case, _) in enumerate(chunk)])
    CaseEvent.objects.bulk_create([CaseEvent(**dict(zip(EVENT_COLUMNS, e, strict=True)))
                                   for _, events in chunk for e in events])
