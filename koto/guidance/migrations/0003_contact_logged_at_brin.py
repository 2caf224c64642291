"""A block-range (BRIN) index on when contacts were logged, on PostgreSQL: the dashboard
refresh asks every few minutes for the contacts logged since its last run, and without an
index that read every contact (1.9 s over 20 000 000; docs/performance.md, "Indexes and
EXPLAIN"). Contacts are appended as they are logged, so the table's blocks follow
`logged_at` and a BRIN index of a few pages answers it; unlike a B-tree it costs a contact
write next to nothing. SQLite gets no index (its data sets are small)."""

from django.db import migrations

NAME = "guidance_contact_logged_brin"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {NAME} ON guidance_contact USING brin (logged_at) "
            "WITH (autosummarize = on)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("guidance", "0002_day_counts")]

    operations = [migrations.RunPython(create, drop)]
