"""Builds the per-case fact table and the daily rollup from cases and events, set-based.

One INSERT … SELECT (conditional aggregates over the events, portable SQL for SQLite and
PostgreSQL), then a few UPDATEs through the ORM (dates, contractors, on-time flags), then the
rollup as one INSERT … SELECT. No Python loop per case.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import BooleanField, F, OuterRef, Q, Subquery, Value, When
from django.db.models import Case as CaseWhen
from django.db.models.functions import Coalesce, ExtractHour, TruncDate
from django.utils import timezone

from citygrid.assess.domain.indicators import MethodConfig, default_config
from citygrid.assess.models import CaseFact, DailyRollup
from citygrid.cases.models import Case, CaseEvent
from citygrid.catalog.models import Category
from citygrid.org.models import Person

INSPECTOR_ROLES = ("city_inspector", "district_inspector")


def _insert_sql(where: str) -> str:
    fact, case, event, cat = (CaseFact._meta.db_table, Case._meta.db_table,
                              CaseEvent._meta.db_table, Category._meta.db_table)

    def last(op: str, column: str = "e.at") -> str:
        return f"MAX(CASE WHEN e.operation = '{op}' THEN {column} END)"

    return f"""
INSERT INTO {fact} (case_id, built_at, reported_at, district_id, street_id, community_id,
  category_id, category_code, source, process, state, department_id, overall_deadline,
  reporter_id, reporter_role, closed_at, reworks, returns, postponed,
  verifier_id, verified_at, filer_id, filer_role, filed_at, voided_at, dispatcher_id,
  dispatched_at, accepted_at, feedback_at, checker_id, checked_at, closer_id, close_event_at,
  suspended, filed, valid, verified_on_time, filed_on_time, dispatched_on_time, due_to_close,
  closed, closed_on_time, due_to_handle, handled_on_time, checked_on_time, close_step_on_time,
  responded_on_time)
SELECT c.id, %s, c.created_at, c.district_id, c.street_id, c.community_id,
  c.category_id, cat.code, c.source, c.process, c.state, c.holder_department_id,
  c.overall_deadline, c.reporter_id, COALESCE(c.reporter_role, ''), c.closed_at, c.rework_count,
  c.return_count, c.postponed,
  {last('verify', 'e.actor_id')}, {last('verify')},
  {last('file', 'e.actor_id')}, COALESCE({last('file', 'e.role')}, ''), MIN(CASE WHEN e.operation = 'file' THEN e.at END),
  {last('void')},
  {last('dispatch', 'e.actor_id')}, MIN(CASE WHEN e.operation = 'dispatch' THEN e.at END),
  MIN(CASE WHEN e.operation = 'accept' THEN e.at END), {last('feedback')},
  MAX(CASE WHEN e.operation IN ('check_pass', 'check_fail') THEN e.actor_id END),
  MAX(CASE WHEN e.operation IN ('check_pass', 'check_fail') THEN e.at END),
  {last('close', 'e.actor_id')}, {last('close')},
  MAX(CASE WHEN e.operation = 'suspend' THEN 1 ELSE 0 END) = 1,
  1 = 0, 1 = 0, 1 = 0, 1 = 0, 1 = 0, 1 = 0, 1 = 0, 1 = 0, 1 = 0, 1 = 0, 1 = 0, 1 = 0, 1 = 0
FROM {case} c
JOIN {cat} cat ON cat.id = c.category_id
LEFT JOIN {event} e ON e.case_id = c.id
{where}
GROUP BY c.id, cat.code
"""


def _flag(q: Q) -> CaseWhen:
    return CaseWhen(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


def _minutes(config: MethodConfig, step: str, default: int) -> timedelta:
    return timedelta(minutes=config.step_limits_minutes.get(step, default))


def flag_updates(config: MethodConfig, as_of: datetime) -> list[dict[str, CaseWhen]]:
    """The on-time and due flags, in dependency order (later ones read earlier ones)."""
    final_not_valid = Q(state__in=("voided", "merged"))
    return [
        {
            "filed": _flag(Q(filed_at__isnull=False)),
            "closed": _flag(Q(state="closed")),
            "verified_on_time": _flag(Q(verified_at__lte=F("reported_at")
                                        + _minutes(config, "verify", 60))),
            "filed_on_time": _flag(Q(filed_at__lte=Coalesce("verified_at", "reported_at")
                                     + _minutes(config, "file", 30))),
            "dispatched_on_time": _flag(Q(dispatched_at__lte=F("filed_at")
                                          + _minutes(config, "dispatch", 30))),
            "checked_on_time": _flag(Q(checked_at__lte=F("feedback_at")
                                       + _minutes(config, "check", 60))),
            "close_step_on_time": _flag(Q(close_event_at__lte=Coalesce("checked_at", "feedback_at")
                                          + _minutes(config, "close", 30))),
            "responded_on_time": _flag(Q(accepted_at__lte=F("dispatched_at")
                                         + _minutes(config, "respond", 120))),
        },
        {"valid": _flag(Q(filed=True) & ~final_not_valid)},
        {
            "due_to_close": _flag(Q(valid=True) & (Q(closed=True) | Q(overall_deadline__lte=as_of))),
            "closed_on_time": _flag(Q(closed=True) & (Q(overall_deadline__isnull=True)
                                                      | Q(closed_at__lte=F("overall_deadline")))),
            "due_to_handle": _flag(Q(valid=True) & Q(dispatched_at__isnull=False)
                                   & (Q(feedback_at__isnull=False) | Q(overall_deadline__lte=as_of))),
        },
        {"handled_on_time": _flag(Q(due_to_handle=True) & Q(feedback_at__isnull=False)
                                  & (Q(overall_deadline__isnull=True)
                                     | Q(feedback_at__lte=F("overall_deadline"))))},
    ]


def refresh_facts(*, as_of: datetime | None = None, config: MethodConfig | None = None,
                  since: datetime | None = None) -> int:
    """Rebuilds the facts (all cases, or those updated since `since`) and the whole rollup.
    Returns the number of facts written."""
    as_of = as_of or timezone.now()
    config = config or default_config()
    with transaction.atomic():
        if since is None:
            CaseFact.objects.all().delete()
            where, params = "", [connection.ops.adapt_datetimefield_value(as_of)]
        else:
            CaseFact.objects.filter(
                case_id__in=Case.objects.filter(updated_at__gte=since).values("id")).delete()
            where = "WHERE c.updated_at >= %s"
            params = [connection.ops.adapt_datetimefield_value(t) for t in (as_of, since)]
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(where), params)
        facts = CaseFact.objects.filter(built_at=as_of)
        count = facts.update(day=TruncDate("reported_at"), hour=ExtractHour("reported_at"))
        for who in ("reporter", "verifier", "checker"):
            facts.filter(**{f"{who}_id__isnull": False}).update(**{
                f"{who}_contractor_id": Subquery(
                    Person.objects.filter(user_id=OuterRef(f"{who}_id")).values("contractor_id")[:1])})
        for step in flag_updates(config, as_of):
            facts.update(**step)
        refresh_rollup()
    return count


def refresh_rollup() -> None:
    table, fact = DailyRollup._meta.db_table, CaseFact._meta.db_table

    def count(flag: str) -> str:
        return f"SUM(CASE WHEN {flag} THEN 1 ELSE 0 END)"

    sql = f"""
INSERT INTO {table} (day, district_id, street_id, department_id, cases, filed, due_to_close,
  closed, closed_on_time, due_to_handle, handled_on_time, handled_closed, reworked, returned,
  postponed, suspended)
SELECT day, district_id, street_id, department_id, COUNT(*), {count('filed')},
  {count('due_to_close')}, {count('closed AND valid')}, {count('closed_on_time AND valid')},
  {count('due_to_handle')}, {count('handled_on_time')}, {count('due_to_handle AND closed')},
  {count('due_to_handle AND reworks > 0')},
  {count('due_to_handle AND returns > 0')}, {count('due_to_handle AND postponed')},
  {count('due_to_handle AND suspended')}
FROM {fact} GROUP BY day, district_id, street_id, department_id
"""
    with transaction.atomic():
        DailyRollup.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(sql)
