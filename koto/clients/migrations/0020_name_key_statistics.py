"""PostgreSQL: a larger sample of the name keys' statistics for the client search.

The search reads a name prefix by the index `(organisation, key, client)` when the prefix
is common and by the key alone when it is rare. With the default statistics (100 most
common values and histogram buckets) a common surname outside the most common values is
guessed rare: "wel" at 1 M clients was estimated at 8 names and had 9 577, so the key
index was read and 9 233 names of other organisations filtered out, 12–42 ms of Lahti's
search page (p95 35.9 ms, max 71.6 over 300 realistic searches). With 1 000 the common
keys are known: p95 28.9–29.9 ms, max 32–34 (docs/performance.md, Notes item 32)."""

from django.db import migrations

COLUMNS = ("key_last_first", "key_first_last")


def _set(schema_editor, target: int) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    alter = ", ".join(f"ALTER COLUMN {c} SET STATISTICS {target}" for c in COLUMNS)
    schema_editor.execute(f"ALTER TABLE clients_clientname {alter}")
    schema_editor.execute("ANALYZE clients_clientname")


def larger(apps, schema_editor):
    _set(schema_editor, 1000)


def default(apps, schema_editor):
    _set(schema_editor, -1)


class Migration(migrations.Migration):
    dependencies = [("clients", "0019_handed_over_tasks")]

    operations = [migrations.RunPython(larger, default)]
