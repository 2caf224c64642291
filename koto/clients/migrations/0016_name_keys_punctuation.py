"""Name keys with hyphens as spaces and apostrophes dropped (`koto.core.text.search_key`):
the keys of names holding either are computed again, and the clients' sort keys with them.
Only those rows are read and written (a sequential scan over the names, once)."""

import functools
import operator

from django.db import migrations
from django.db.models import Q

from koto.core.text import NAME_APOSTROPHES, NAME_HYPHENS, search_key

BATCH = 2000


def _holding_punctuation(fields):
    return functools.reduce(
        operator.or_,
        (Q(**{f"{f}__contains": c}) for f in fields for c in NAME_HYPHENS + NAME_APOSTROPHES),
    )


def rekey(apps, schema_editor):
    ClientName = apps.get_model("clients", "ClientName")
    Client = apps.get_model("clients", "Client")
    names = ClientName.objects.filter(_holding_punctuation(("first_name", "last_name")))
    batch = []
    for row in names.only("id", "first_name", "last_name").iterator(chunk_size=BATCH):
        row.key_last_first = search_key(f"{row.last_name} {row.first_name}")[:310]
        row.key_first_last = search_key(f"{row.first_name} {row.last_name}")[:310]
        batch.append(row)
        if len(batch) >= BATCH:
            ClientName.objects.bulk_update(batch, ["key_last_first", "key_first_last"])
            batch = []
    ClientName.objects.bulk_update(batch, ["key_last_first", "key_first_last"])
    clients = Client.objects.filter(_holding_punctuation(("first_name", "last_name")))
    batch = []
    for row in clients.only("id", "first_name", "last_name").iterator(chunk_size=BATCH):
        row.sort_key = search_key(f"{row.last_name} {row.first_name}")[:310]
        batch.append(row)
        if len(batch) >= BATCH:
            Client.objects.bulk_update(batch, ["sort_key"])
            batch = []
    Client.objects.bulk_update(batch, ["sort_key"])


class Migration(migrations.Migration):
    dependencies = [("clients", "0015_timeline_events")]

    operations = [migrations.RunPython(rekey, migrations.RunPython.noop, elidable=True)]
