"""On PostgreSQL, the database itself refuses UPDATE and DELETE of audit events (TRUNCATE, a
superuser's tool, is not affected; neither is SQLite, where the model refuses)."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION security_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER security_auditevent_append_only
    BEFORE UPDATE OR DELETE ON security_auditevent
    FOR EACH ROW EXECUTE FUNCTION security_auditevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS security_auditevent_append_only ON security_auditevent;
DROP FUNCTION IF EXISTS security_auditevent_append_only();
"""


def _run(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)
    return run


class Migration(migrations.Migration):
    dependencies = [("security", "0001_initial")]
    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]
