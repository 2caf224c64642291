"""Superseded residences.

Before this, a move recorded with a date on or before the current residence's first day
ended that residence on its own first day (a residence cannot end before it begins), so
the two overlapped on that day, and on the first of a month both municipalities were paid.
Such a residence is now superseded (`superseded_at`), and an older one that ran past the
move ends the day before it, as `clients.services._record_residence` does from now on:
each affected client's residences are replayed in the order they were recorded. The
clients touched get a new `updated_at`, so the next rollup refresh recounts their
municipalities' figures; where the first kotikunta date was the history's first day, it
follows the corrected history.
"""

import datetime as dt

from django.db import migrations, models
from django.db.models import F
from django.utils import timezone


def supersede_overlapping(apps, schema_editor):
    Residence = apps.get_model("clients", "Residence")
    Client = apps.get_model("clients", "Client")
    one_day = set(Residence.objects.filter(to_on=F("from_on")).values_list("client_id", flat=True))
    now = timezone.now()
    for client_id in sorted(one_day):
        rows = list(Residence.objects.filter(client_id=client_id).order_by("id"))
        first_before = min(r.from_on for r in rows)
        changed = set()
        for k, move in enumerate(rows):
            for r in rows[:k]:
                if r.superseded_at is not None:
                    continue
                if r.from_on >= move.from_on:
                    r.superseded_at = now
                    changed.add(r)
                elif r.to_on is None or r.to_on >= move.from_on:
                    r.to_on = move.from_on - dt.timedelta(days=1)
                    changed.add(r)
        if not changed:
            continue
        for r in changed:
            r.save(update_fields=["to_on", "superseded_at"])
        client = Client.objects.get(pk=client_id)
        if client.first_home_municipality_on == first_before:
            client.first_home_municipality_on = min(
                r.from_on for r in rows if r.superseded_at is None
            )
        client.updated_at = now
        client.save(update_fields=["first_home_municipality_on", "updated_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0009_name_keys_collate_c"),
    ]

    operations = [
        migrations.AddField(
            model_name="residence",
            name="superseded_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="superseded"
            ),
        ),
        migrations.RunPython(supersede_overlapping, migrations.RunPython.noop, elidable=True),
    ]
