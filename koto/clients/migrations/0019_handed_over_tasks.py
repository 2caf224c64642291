"""The open deadline tasks a transfer handed over (`HandedOverRecord`, record type "task"),
which the hand-over writes since 2026-12-08, filled for the transfers before from the
client's audit event of the hand-over (its list `tasks_moved`). Scale data generated before
it has none (it writes no audit events): generate it again."""

from django.db import migrations


def backfill(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ResponsibilityChange = apps.get_model("clients", "ResponsibilityChange")
    HandedOverRecord = apps.get_model("clients", "HandedOverRecord")
    changes = ResponsibilityChange.objects.filter(source_type="referral").order_by("id")
    for change in changes.iterator(chunk_size=2000):
        events = AuditEvent.objects.filter(
            client_id=change.client_id, object_type="client",
            reason=f"transfer:{change.source_id}",
        )  # fmt: skip
        tasks = {int(i) for c in events.values_list("changes", flat=True)
                 for i in (c or {}).get("tasks_moved", ())}  # fmt: skip
        HandedOverRecord.objects.bulk_create(
            [HandedOverRecord(change=change, record_type="task", record_id=i) for i in sorted(tasks)],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0018_responsibility_history"),
        ("audit", "0003_listed_clients"),
    ]

    # backwards nothing is removed: `clients.0018` holds any record type, and the rows the
    # scale-data generator wrote have no audit events to be filled again from
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
