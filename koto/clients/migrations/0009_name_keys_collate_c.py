"""The name search keys in code-point order on PostgreSQL, whatever the database's default
collation: the search reads them in the database's order and merges, cuts and pages them in
Python's (`koto/clients/selectors.py: _name_rows`), and the two must agree. A database made
with a linguistic collation (fi_FI.UTF-8, say) orders "koski a" and "koskia" the other way
round from Python and could leave a client out of every page or list one twice. "C" is
byte order, which for UTF-8 is code-point order, as Python compares strings (SQLite's
default BINARY is too). Changing a column's collation rebuilds its indexes under an
exclusive lock on the table: 8.4 s at national scale (1.6 M names), name searches and
client writes waiting meanwhile. Not in the model's state:
SQLite has no collation named "C"; see the comment on the fields."""

from django.db import migrations

COLUMNS = ("key_last_first", "key_first_last")


def collate(name):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for column in COLUMNS:
            schema_editor.execute(
                f"ALTER TABLE clients_clientname ALTER COLUMN {column} TYPE varchar(310) "
                f'COLLATE "{name}"'
            )

    return run


class Migration(migrations.Migration):
    dependencies = [("clients", "0008_kotikunta_statistics")]

    operations = [migrations.RunPython(collate("C"), collate("default"))]
