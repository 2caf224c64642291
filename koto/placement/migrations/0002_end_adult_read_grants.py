"""The welfare region's read grants of placed adults end 30 days after the health check
(`services.READ_AFTER_HEALTH_CHECK_DAYS`); until 2026-12-07 they had no end. Grants of
placements whose health check is already done get the end they would have had, each
placement's change one audit event naming its clients (as the service audits it)."""

import datetime as dt

from django.db import migrations

DAYS = 30  # services.READ_AFTER_HEALTH_CHECK_DAYS when this was written


def forwards(apps, schema_editor):
    from koto.audit.services import audit_record

    HealthCheckReferral = apps.get_model("placement", "HealthCheckReferral")
    AccessGrant = apps.get_model("clients", "AccessGrant")
    done = HealthCheckReferral.objects.filter(status="done", done_on__isnull=False)
    for placement_id, done_on in done.values_list("placement_id", "done_on").iterator():
        grants = AccessGrant.objects.filter(
            source="placement", source_id=str(placement_id), scope="read", valid_to__isnull=True
        )
        rows = list(grants.values_list("id", "client_id"))
        if not rows:
            continue
        last_day = done_on + dt.timedelta(days=DAYS)
        grants.update(valid_to=last_day)
        audit_record(
            actor=None,
            action="update",
            object_type="access_grant",
            object_id=f"placement:{placement_id}",
            reason="migration placement.0002",
            changes={"valid_to": last_day.isoformat(), "grants": [g for g, _ in rows]},
            listed=[c for _, c in rows],
        )


class Migration(migrations.Migration):
    dependencies = [
        ("placement", "0001_initial"),
        ("clients", "0017_task_kind_plan_draft_label"),
        ("audit", "0003_listed_clients"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
