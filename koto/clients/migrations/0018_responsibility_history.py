"""The history of the client's responsible organisation (`ResponsibilityChange`), filled
from the transfers accepted before it (`referrals.Referral.transferred_from`, kept since
`referrals.0006`): one change each, at its acceptance, recorded by who handled it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    ResponsibilityChange = apps.get_model("clients", "ResponsibilityChange")
    transfers = Referral.objects.filter(
        kind="transfer", accepted_at__isnull=False, transferred_from__isnull=False
    ).order_by("id")
    batch = []
    for r in transfers.iterator(chunk_size=2000):
        batch.append(ResponsibilityChange(
            client_id=r.client_id, from_organisation_id=r.transferred_from_id,
            to_organisation_id=r.to_organisation_id, at=r.accepted_at, source_type="referral",
            source_id=r.id, recorded_by_id=r.handled_by_id,
        ))  # fmt: skip
        if len(batch) == 2000:
            ResponsibilityChange.objects.bulk_create(batch)
            batch = []
    ResponsibilityChange.objects.bulk_create(batch)


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0017_task_kind_plan_draft_label'),
        ('referrals', '0006_transfer_history'),
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
                'indexes': [models.Index(fields=['client', 'at'], name='responsibility_client_idx'), models.Index(fields=['from_organisation'], name='responsibility_from_idx'), models.Index(fields=['to_organisation'], name='responsibility_to_idx')],
                'constraints': [models.UniqueConstraint(fields=('source_type', 'source_id'), name='responsibility_unique_source')],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
