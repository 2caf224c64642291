"""The organisation responsible for a transferred client before the move, kept on the
transfer (`Referral.transferred_from`) for the dashboards. Transfers accepted before this
read it from the audit record of the hand-over (`changes.responsible_organisation.from`,
an organisation code), else the receiver of the client's transfer before, else the sender."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    Organisation = apps.get_model("organisations", "Organisation")
    transfers = Referral.objects.filter(
        kind="transfer", accepted_at__isnull=False, transferred_from__isnull=True
    )
    for referral in transfers.order_by("accepted_at", "id").iterator():
        event = (
            AuditEvent.objects.filter(
                client_id=referral.client_id, object_type="client", reason=f"transfer:{referral.id}"
            )
            .order_by("id")
            .first()
        )
        code = ((event.changes if event else {}).get("responsible_organisation") or {}).get("from")
        before = Organisation.objects.filter(code=code).first() if code else None
        if before is None:
            # no record found: the organisation an earlier transfer gave the client to, else
            # the sender
            earlier = (
                Referral.objects.filter(
                    client_id=referral.client_id, kind="transfer", accepted_at__isnull=False,
                    accepted_at__lt=referral.accepted_at,
                )
                .order_by("-accepted_at", "-id")
                .first()
            )  # fmt: skip
            before_id = earlier.to_organisation_id if earlier else referral.from_organisation_id
        else:
            before_id = before.id
        referral.transferred_from_id = before_id
        referral.save(update_fields=["transferred_from"])


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0017_task_kind_plan_draft_label'),
        ('organisations', '0003_municipality_code_three_digits'),
        ('referrals', '0005_transfer_kind'),
        ('audit', '0003_listed_clients'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='referral',
            name='transferred_from',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='organisations.organisation', verbose_name='responsible organisation before the transfer'),
        ),
        migrations.AddIndex(
            model_name='referral',
            index=models.Index(condition=models.Q(('accepted_at__isnull', False), ('kind', 'transfer')), fields=['client', 'accepted_at'], name='referral_transfer_idx'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
