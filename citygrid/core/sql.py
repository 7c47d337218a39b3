"""Set-based writes the ORM has no verb for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection, models


def insert_select(model: type[models.Model], grouped: models.QuerySet[Any, Any],
                  columns: Mapping[str, str], constants: Mapping[str, Any] | None = None) -> int:
    """INSERT INTO model's table … SELECT from the rows of `grouped` (a values() query):
    `columns` maps a column of the table to a column alias of `grouped`, `constants` gives
    fixed values. The database writes the rows without a round trip through Python. Returns how
    many rows it wrote."""
    fixed = dict(constants or {})
    sql, params = grouped.query.sql_with_params()
    targets = ", ".join([*fixed, *columns])
    picks = ", ".join(["%s"] * len(fixed) + [f"g.{alias}" for alias in columns.values()])
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {model._meta.db_table} ({targets}) SELECT {picks} FROM ({sql}) g",
                       (*fixed.values(), *params))
        return max(cursor.rowcount, 0)


def lock_for_writing(model: type[models.Model]) -> None:
    """Inside a transaction: makes other writers of the table wait (readers do not) on
    PostgreSQL; SQLite lets one writer at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {model._meta.db_table} IN EXCLUSIVE MODE")
