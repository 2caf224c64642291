"""Superseded residences, for the rows the earlier writer left.

Before `clients.0010`, a move recorded with a date on or before the current residence's
first day ended that residence on its own first day (a residence cannot end before it
begins), so the two overlapped on that day, and on the first of a month both
municipalities were paid. Here each affected client's residences are replayed in the order
they were recorded, as `clients.services._record_residence` records a move now: a residence
that began on or after the move's day is superseded, one that ran past it ends the day
before, and where the first kotikunta date was the history's first day before a move it
follows the history after it. The clients touched get a new `updated_at`, so the next
rollup refresh recounts their municipalities' figures.

A migration of its own, apart from the column's: on PostgreSQL this runs in its own
transaction, with the table's ordinary row locks, not the column's exclusive lock. Taken
back, a superseded residence becomes what the earlier writer made of it (one day).
"""

import datetime as dt
from collections import defaultdict

from django.db import migrations
from django.db.models import F
from django.utils import timezone

CHUNK = 1000


def replay(rows, first, now):
    """The rows (in the order recorded) and the first kotikunta date after replaying each
    as a move; the rows changed."""
    changed = set()
    for k, move in enumerate(rows):
        before = [r for r in rows[:k] if r.superseded_at is None]
        in_step = bool(before) and first == min(r.from_on for r in before)
        for r in before:
            if r.from_on >= move.from_on:
                r.superseded_at = now
                changed.add(r)
            elif r.to_on is None or r.to_on >= move.from_on:
                r.to_on = move.from_on - dt.timedelta(days=1)
                changed.add(r)
        if in_step:
            first = min(r.from_on for r in rows[: k + 1] if r.superseded_at is None)
    return changed, first


def supersede_overlapping(apps, schema_editor):
    Residence = apps.get_model("clients", "Residence")
    Client = apps.get_model("clients", "Client")
    affected = sorted(
        set(Residence.objects.filter(to_on=F("from_on")).values_list("client_id", flat=True))
    )
    now = timezone.now()
    for start in range(0, len(affected), CHUNK):
        chunk = affected[start : start + CHUNK]
        rows = defaultdict(list)
        for r in Residence.objects.filter(client_id__in=chunk).order_by("client_id", "id"):
            rows[r.client_id].append(r)
        for client in Client.objects.filter(pk__in=chunk).only("id", "first_home_municipality_on"):
            changed, first = replay(rows[client.id], client.first_home_municipality_on, now)
            if not changed:
                continue
            for r in changed:
                r.save(update_fields=["to_on", "superseded_at"])
            Client.objects.filter(pk=client.id).update(
                first_home_municipality_on=first, updated_at=now
            )


def restore_one_day(apps, schema_editor):
    Residence = apps.get_model("clients", "Residence")
    Residence.objects.exclude(superseded_at=None).update(to_on=F("from_on"), superseded_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0010_residence_superseded"),
    ]

    operations = [
        migrations.RunPython(supersede_overlapping, restore_one_day, elidable=True),
    ]
