"""PostgreSQL statistics on the kotikunta date the compensation report filters by.

The report's candidates are clients whose `COALESCE(first_home_municipality_on,
home_municipality_on)` falls in a range. Without statistics on that expression PostgreSQL
guesses a fraction of a per cent of the clients (1 228 rows estimated, 583 464 real at
1 M clients) and joins each of them to their residences one by one: 1.5 s for Helsinki.
With them it hash-joins: 0.69 s (docs/performance.md, "Compensation report stream")."""

from django.db import migrations

CREATE = (
    "CREATE STATISTICS IF NOT EXISTS clients_client_kotikunta_stx "
    "ON (COALESCE(first_home_municipality_on, home_municipality_on)) FROM clients_client"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        schema_editor.execute("ANALYZE clients_client")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP STATISTICS IF EXISTS clients_client_kotikunta_stx")


class Migration(migrations.Migration):
    dependencies = [("clients", "0007_name_keys_with_client")]

    operations = [migrations.RunPython(create, drop)]
