"""Builds the per-case fact table and the per-subject daily figures, set-based.

`refresh_facts`: one INSERT … SELECT per refresh. The inner SELECT folds each case's events
into columns (conditional aggregates); the outer one adds the report day and hour (in the
city's time zone), the inspectors' contractors, and every flag. On-time step flags compare an
event with the step deadline it recorded (`CaseEvent.step_due_at`, counted on the working
calendar by the case engine); an event with none had no limit running and is on time.
Portable SQL (SQLite and PostgreSQL); no Python loop per case.

`refresh_subject_days`: for every subject kind and the column naming its subjects, one
INSERT … SELECT compiled by the ORM from the figures' own predicates (`services.SUBJECTS`),
so a sum over `SubjectDay` equals the count over the facts by construction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, F, IntegerField, Value
from django.utils import timezone

from citygrid.assess.models import FIGURE_SLOTS, CaseFact, DeductionDay, SubjectDay
from citygrid.cases.models import Case, CaseEvent
from citygrid.catalog.models import Category
from citygrid.org.models import Person

FACT_COLUMNS = [
    "case_id", "built_at", "reported_at", "day", "hour", "district_id", "street_id",
    "community_id", "grid_id", "category_id", "category_code", "source", "process", "state",
    "department_id", "overall_deadline", "reporter_id", "reporter_role", "reporter_contractor_id",
    "verifier_id", "verifier_contractor_id", "verified_at", "filer_id", "filer_role", "filed_at",
    "voided_at", "dispatcher_id", "dispatched_at", "accepted_at", "feedback_at", "checker_id",
    "checker_contractor_id", "checked_at", "closer_id", "close_event_at", "closed_at", "reworks",
    "returns", "postponed", "suspended", "filed", "valid", "verified_on_time", "filed_on_time",
    "dispatched_on_time", "due_to_close", "closed", "closed_on_time", "due_to_handle",
    "handled_on_time", "checked_on_time", "close_step_on_time", "responded_on_time",
]
CHECKS = "'check_pass', 'check_fail'"


def _events_sql(where: str) -> str:
    """One row per case: its columns and its events folded into columns."""
    case, event, cat = Case._meta.db_table, CaseEvent._meta.db_table, Category._meta.db_table

    def pick(agg: str, ops: str, column: str) -> str:
        return f"{agg}(CASE WHEN e.operation IN ({ops}) THEN e.{column} END)"

    folded = {
        "verifier_id": pick("MAX", "'verify'", "actor_id"),
        "verified_at": pick("MAX", "'verify'", "at"),
        "verify_due": pick("MAX", "'verify'", "step_due_at"),
        "filer_id": pick("MAX", "'file'", "actor_id"),
        "filer_role": "COALESCE(" + pick("MAX", "'file'", "role") + ", '')",
        "filed_at": pick("MIN", "'file'", "at"),
        "file_due": pick("MIN", "'file'", "step_due_at"),
        "voided_at": pick("MAX", "'void'", "at"),
        "dispatcher_id": pick("MAX", "'dispatch'", "actor_id"),
        "dispatched_at": pick("MIN", "'dispatch'", "at"),
        "dispatch_due": pick("MIN", "'dispatch'", "step_due_at"),
        "accepted_at": pick("MIN", "'accept'", "at"),
        "accept_due": pick("MIN", "'accept'", "step_due_at"),
        "feedback_at": pick("MAX", "'feedback'", "at"),
        "checker_id": pick("MAX", CHECKS, "actor_id"),
        "checked_at": pick("MAX", CHECKS, "at"),
        "check_due": pick("MAX", CHECKS, "step_due_at"),
        "closer_id": pick("MAX", "'close'", "actor_id"),
        "close_event_at": pick("MAX", "'close'", "at"),
        "close_due": pick("MAX", "'close'", "step_due_at"),
        "suspended": "MAX(CASE WHEN e.operation = 'suspend' THEN 1 ELSE 0 END)",
    }
    return f"""
SELECT c.id AS case_id, c.created_at AS reported_at, c.district_id, c.street_id, c.community_id,
  c.grid_id, c.category_id, cat.code AS category_code, c.source, c.process, c.state,
  c.holder_department_id AS department_id, c.overall_deadline, c.reporter_id,
  COALESCE(c.reporter_role, '') AS reporter_role, c.closed_at, c.rework_count AS reworks,
  c.return_count AS returns, c.postponed,
  {', '.join(f'{sql} AS {name}' for name, sql in folded.items())}
FROM {case} c
JOIN {cat} cat ON cat.id = c.category_id
LEFT JOIN {event} e ON e.case_id = c.id
{where}
GROUP BY c.id, cat.code"""


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 = 1 ELSE 1 = 0 END"


def _on_time(at: str, due: str) -> str:
    return _flag(f"a.{at} IS NOT NULL AND (a.{due} IS NULL OR a.{at} <= a.{due})")


def _insert_sql(where: str, as_of: str) -> tuple[str, list[object]]:
    tz = timezone.get_current_timezone_name()
    day, day_params = connection.ops.datetime_cast_date_sql("a.reported_at", (), tz)
    hour, hour_params = connection.ops.datetime_extract_sql("hour", "a.reported_at", (), tz)
    valid = "a.filed_at IS NOT NULL AND a.state NOT IN ('voided', 'merged')"
    due_to_handle = (f"{valid} AND a.dispatched_at IS NOT NULL AND (a.feedback_at IS NOT NULL "
                     f"OR a.overall_deadline <= {as_of})")
    computed = {
        "day": day, "hour": hour,
        "reporter_contractor_id": "pr.contractor_id", "verifier_contractor_id": "pv.contractor_id",
        "checker_contractor_id": "pc.contractor_id",
        "suspended": _flag("a.suspended = 1"),
        "filed": _flag("a.filed_at IS NOT NULL"),
        "valid": _flag(valid),
        "verified_on_time": _on_time("verified_at", "verify_due"),
        "filed_on_time": _on_time("filed_at", "file_due"),
        "dispatched_on_time": _on_time("dispatched_at", "dispatch_due"),
        "due_to_close": _flag(f"{valid} AND (a.state = 'closed' OR a.overall_deadline <= {as_of})"),
        "closed": _flag("a.state = 'closed'"),
        "closed_on_time": _flag("a.state = 'closed' AND (a.overall_deadline IS NULL "
                                "OR a.closed_at <= a.overall_deadline)"),
        "due_to_handle": _flag(due_to_handle),
        "handled_on_time": _flag(f"{due_to_handle} AND a.feedback_at IS NOT NULL AND "
                                 "(a.overall_deadline IS NULL OR a.feedback_at <= a.overall_deadline)"),
        "checked_on_time": _on_time("checked_at", "check_due"),
        "close_step_on_time": _on_time("close_event_at", "close_due"),
        "responded_on_time": _on_time("accepted_at", "accept_due"),
    }
    select = ", ".join(computed.get(c, "%s" if c == "built_at" else f"a.{c}") for c in FACT_COLUMNS)
    person = Person._meta.db_table
    sql = (f"INSERT INTO {CaseFact._meta.db_table} ({', '.join(FACT_COLUMNS)}) SELECT {select} "
           f"FROM ({_events_sql(where)}) a "
           f"LEFT JOIN {person} pr ON pr.user_id = a.reporter_id "
           f"LEFT JOIN {person} pv ON pv.user_id = a.verifier_id "
           f"LEFT JOIN {person} pc ON pc.user_id = a.checker_id")
    return sql, [*day_params, *hour_params]


def refresh_facts(*, as_of: datetime | None = None, since: datetime | None = None) -> int:
    """Rebuilds the facts (all cases, or those updated since `since`) as of `as_of`, then
    every subject's daily figures. Returns the number of facts written."""
    as_of = as_of or timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    with transaction.atomic():
        if since is None:
            CaseFact.objects.all().delete()
            where, where_params = "", []
        else:
            CaseFact.objects.filter(
                case_id__in=Case.objects.filter(updated_at__gte=since).values("id")).delete()
            where, where_params = "WHERE c.updated_at >= %s", [adapt(since)]
        sql, tz_params = _insert_sql(where, "%s")
        # Parameters in the order they appear: built_at, day, hour, as_of × 3 (flags), where.
        params = [adapt(as_of), *tz_params, adapt(as_of), adapt(as_of), adapt(as_of), *where_params]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            count = cursor.rowcount
        refresh_subject_days()
    return count


def refresh_subject_days() -> None:
    """Every subject kind's figures per day and district (and street, for the regions), and
    the point deductions' counts per day, district, subject and class, from the facts."""
    from citygrid.assess.services import DEDUCTION_SUMS, STREET_KEYED, SUBJECTS, deduction_facts

    slots = [f"f{i}" for i in range(FIGURE_SLOTS)]
    columns = ["day", "district_id", "street_id", "subject_id", *slots, "kind"]
    with transaction.atomic():
        SubjectDay.objects.all().delete()
        with connection.cursor() as cursor:
            for kind, subject in SUBJECTS.items():
                by_column: dict[str, list[int]] = defaultdict(list)
                for i, fig in enumerate(subject.figures):
                    by_column[fig.column].append(i)
                for column, positions in by_column.items():
                    counts = {slots[i]: (Count("case_id", filter=subject.figures[i].q)
                                         if i in positions else Value(0, IntegerField()))
                              for i in range(FIGURE_SLOTS)}
                    # Per street only for the regions: people and departments per district
                    # keep the table small (a street slice of them counts the facts).
                    street = F("street_id") if kind in STREET_KEYED else Value(None, BigIntegerField())
                    qs = (CaseFact.objects.filter(subject.base, **{f"{column}__isnull": False})
                          .annotate(subject_id=F(column), street=street)
                          .values("day", "district_id", "street", "subject_id")
                          .annotate(**counts, kind=Value(kind)))
                    select, params = qs.query.sql_with_params()
                    cursor.execute(f"INSERT INTO {SubjectDay._meta.db_table} "
                                   f"({', '.join(columns)}) {select}", params)
        DeductionDay.objects.all().delete()
        with connection.cursor() as cursor:
            for kind in SUBJECTS:
                source = deduction_facts(kind)
                if source is None:
                    continue
                column, facts = source
                qs = (facts.annotate(subject_id=F(column))
                      .values("day", "district_id", "subject_id", "category_code")
                      .annotate(**DEDUCTION_SUMS, kind=Value(kind)))
                select, params = qs.query.sql_with_params()
                cursor.execute(f"INSERT INTO {DeductionDay._meta.db_table} (day, district_id, "
                               "subject_id, category_code, cases, overdue, reworks, returns, kind) "
                               f"{select}", params)
