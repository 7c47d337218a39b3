"""Triggers that give CalendarRevision a new token on every write to the calendar tables, in
the writing transaction (see CalendarRevision). Hand-written: keep this migration when the
app's migrations are regenerated. Without the triggers (another database, or this migration
missing) services.work_calendar falls back to re-reading the calendar rows on every call."""

from django.db import migrations

TABLES = ("calendars_workingcalendar", "calendars_weeklyperiod", "calendars_dateoverride",
          "calendars_overrideperiod", "calendars_confirmedyear")

PG_CREATE = """
CREATE SEQUENCE IF NOT EXISTS calendars_revision_token_seq;
CREATE OR REPLACE FUNCTION calendars_bump_revision() RETURNS trigger AS $$
BEGIN
    INSERT INTO calendars_calendarrevision (id, token)
    VALUES (1, nextval('calendars_revision_token_seq'))
    ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
""" + "".join(f"""
CREATE TRIGGER calendars_revision_{t[10:]}
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {t}
    FOR EACH STATEMENT EXECUTE FUNCTION calendars_bump_revision();
""" for t in TABLES) + """
INSERT INTO calendars_calendarrevision (id, token)
VALUES (1, nextval('calendars_revision_token_seq')) ON CONFLICT (id) DO NOTHING;
"""
PG_DROP = "".join(f"DROP TRIGGER IF EXISTS calendars_revision_{t[10:]} ON {t};\n" for t in TABLES) + """
DROP FUNCTION IF EXISTS calendars_bump_revision();
DROP SEQUENCE IF EXISTS calendars_revision_token_seq;
"""

SQLITE_BUMP = ("INSERT INTO calendars_calendarrevision (id, token) "
               "VALUES (1, random() & 9223372036854775807) "
               "ON CONFLICT(id) DO UPDATE SET token = excluded.token;")
SQLITE_CREATE = [
    f"CREATE TRIGGER calendars_revision_{t[10:]}_{op.lower()} AFTER {op} ON {t} "
    f"BEGIN {SQLITE_BUMP} END;"
    for t in TABLES for op in ("INSERT", "UPDATE", "DELETE")
] + ["INSERT OR IGNORE INTO calendars_calendarrevision (id, token) "
     "VALUES (1, random() & 9223372036854775807);"]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS calendars_revision_{t[10:]}_{op.lower()};"
               for t in TABLES for op in ("INSERT", "UPDATE", "DELETE")]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_CREATE, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_CREATE:
            schema_editor.execute(sql, params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_DROP:
            schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [("calendars", "0002_calendar_revision")]
    operations = [migrations.RunPython(forwards, backwards)]
