"""The welfare region's read grants of placed adults end 30 days after the health check
(`services.READ_AFTER_HEALTH_CHECK_DAYS`); until 2026-12-07 they had no end. Grants of
placements whose health check is already done get the end they would have had."""

import datetime as dt

from django.db import migrations

DAYS = 30  # services.READ_AFTER_HEALTH_CHECK_DAYS when this was written


def forwards(apps, schema_editor):
    HealthCheckReferral = apps.get_model("placement", "HealthCheckReferral")
    AccessGrant = apps.get_model("clients", "AccessGrant")
    done = HealthCheckReferral.objects.filter(status="done", done_on__isnull=False)
    for placement_id, done_on in done.values_list("placement_id", "done_on").iterator():
        AccessGrant.objects.filter(
            source="placement", source_id=str(placement_id), scope="read", valid_to__isnull=True
        ).update(valid_to=done_on + dt.timedelta(days=DAYS))


class Migration(migrations.Migration):
    dependencies = [
        ("placement", "0001_initial"),
        ("clients", "0017_task_kind_plan_draft_label"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
