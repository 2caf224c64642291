"""The history of the client's responsible organisation (`ResponsibilityChange`), filled
from the transfers accepted before it (`referrals.Referral.transferred_from`, kept since
`referrals.0006`): one change each, at its acceptance, recorded by who handled it; and the
records handed over with the client (`HandedOverRecord`), from the hand-over's audit events
(the client's lists `assessments_moved`, the plans' events with the transfer as reason)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    ResponsibilityChange = apps.get_model("clients", "ResponsibilityChange")
    HandedOverRecord = apps.get_model("clients", "HandedOverRecord")
    transfers = Referral.objects.filter(
        kind="transfer", accepted_at__isnull=False, transferred_from__isnull=False
    ).order_by("id")
    for r in transfers.iterator(chunk_size=2000):
        change = ResponsibilityChange.objects.create(
            client_id=r.client_id, from_organisation_id=r.transferred_from_id,
            to_organisation_id=r.to_organisation_id, at=r.accepted_at, source_type="referral",
            source_id=r.id, recorded_by_id=r.handled_by_id,
        )  # fmt: skip
        events = AuditEvent.objects.filter(client_id=r.client_id, reason=f"transfer:{r.id}")
        moved = set()
        for object_type, object_id, changes in events.values_list(
            "object_type", "object_id", "changes"
        ):
            if object_type == "client":
                moved |= {("assessment", int(i)) for i in (changes or {}).get("assessments_moved", ())}
            elif object_type == "plan" and str(object_id).isdigit():
                moved.add(("plan", int(object_id)))
        HandedOverRecord.objects.bulk_create(
            HandedOverRecord(change=change, record_type=t, record_id=i) for t, i in sorted(moved)
        )


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0017_task_kind_plan_draft_label'),
        ('referrals', '0006_transfer_history'),
        ('audit', '0003_listed_clients'),
        ('organisations', '0003_municipality_code_three_digits'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ResponsibilityChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(verbose_name='changed at')),
                ('source_type', models.CharField(max_length=30)),
                ('source_id', models.BigIntegerField()),
                ('client', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='responsibility_changes', to='clients.client')),
                ('from_organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organisations.organisation', verbose_name='responsible before')),
                ('recorded_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('to_organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organisations.organisation', verbose_name='responsible after')),
            ],
            options={
                'verbose_name': 'change of responsible organisation',
                'verbose_name_plural': 'changes of responsible organisation',
                'ordering': ['at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='HandedOverRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('record_type', models.CharField(max_length=30)),
                ('record_id', models.BigIntegerField()),
                ('change', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='handed_over', to='clients.responsibilitychange')),
            ],
        ),
        migrations.AddIndex(
            model_name='responsibilitychange',
            index=models.Index(fields=['client', 'at'], name='responsibility_client_idx'),
        ),
        migrations.AddIndex(
            model_name='responsibilitychange',
            index=models.Index(fields=['from_organisation'], name='responsibility_from_idx'),
        ),
        migrations.AddIndex(
            model_name='responsibilitychange',
            index=models.Index(fields=['to_organisation'], name='responsibility_to_idx'),
        ),
        migrations.AddConstraint(
            model_name='responsibilitychange',
            constraint=models.UniqueConstraint(fields=('source_type', 'source_id'), name='responsibility_unique_source'),
        ),
        migrations.AddIndex(
            model_name='handedoverrecord',
            index=models.Index(fields=['record_type', 'record_id'], name='handed_over_record_idx'),
        ),
        migrations.AddConstraint(
            model_name='handedoverrecord',
            constraint=models.UniqueConstraint(fields=('change', 'record_type', 'record_id'), name='handed_over_unique'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
