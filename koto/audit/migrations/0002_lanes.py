"""Audit lanes: the single chain becomes lane 1 (each event's position in it is its id, as
ids were given one by one from the head), the other lanes start empty, and on PostgreSQL
the id sequence moves past the ids given so far (events now take their ids from it)."""

from django.db import migrations, models

LANES = 32  # koto.audit.models.LANES when this migration was written


def forwards(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    AuditEvent.objects.update(lane=1, seq=models.F("id"))
    AuditChainHead.objects.filter(id=1).update(last_seq=models.F("last_event_id"))
    for lane in range(1, LANES + 1):
        AuditChainHead.objects.get_or_create(id=lane)
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('audit_auditevent', 'id'), "
                "COALESCE((SELECT MAX(id) FROM audit_auditevent), 0) + 1, false)"
            )


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="auditchainhead",
            name="last_seq",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="lane",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(),
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                fields=("lane", "seq"), name="audit_lane_seq_unique"
            ),
        ),
    ]
