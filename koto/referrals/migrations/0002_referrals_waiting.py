"""Count the referrals waiting unopened at each organisation into the new
`Organisation.referrals_waiting` (kept current by koto.referrals.services from now on)."""

from django.db import migrations
from django.db.models import Count


def forwards(apps, schema_editor):
    Organisation = apps.get_model("organisations", "Organisation")
    Referral = apps.get_model("referrals", "Referral")
    waiting = (
        Referral.objects.filter(status="sent", to_organisation__isnull=False)
        .values("to_organisation_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in waiting:
        Organisation.objects.filter(pk=row["to_organisation_id"]).update(
            referrals_waiting=row["n"]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_initial"),
        ("organisations", "0002_referrals_waiting"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
