"""The chain head row exists from the start, so concurrent first appends only ever lock it.

On PostgreSQL, TRUNCATE of the audit log stays refused unless the session has set
`zhijian.audit_maintenance = on`: `zhijian flush` run by mistake cannot wipe the log,
while a test database (tests/conftest.py sets it there) can still be emptied between
tests. UPDATE and DELETE of entries stay refused whatever the setting.
"""

from django.db import migrations

POSTGRES = """
CREATE OR REPLACE FUNCTION core_auditentry_refuse() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'TRUNCATE'
     AND coalesce(current_setting('zhijian.audit_maintenance', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'audit entries are append-only';
END; $$ LANGUAGE plpgsql
"""
POSTGRES_BACK = """
CREATE OR REPLACE FUNCTION core_auditentry_refuse() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit entries are append-only'; END; $$ LANGUAGE plpgsql
"""


def create_head(apps, schema_editor):
    AuditHead = apps.get_model("core", "AuditHead")
    AuditEntry = apps.get_model("core", "AuditEntry")
    if AuditHead.objects.filter(pk=1).exists():
        return
    last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, digest = last or (0, "0" * 64)
    AuditHead.objects.create(pk=1, seq=seq, hash=digest)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACK)


class Migration(migrations.Migration):
    dependencies = [("core", "0003_audit_append_only")]
    operations = [
        migrations.RunPython(create_head, migrations.RunPython.noop),
        migrations.RunPython(forwards, backwards),
    ]
