"""The nightly deadline sweep now also takes the clients created or changed since its last
run began (a new client owed an assessment was never given its task). The clients created
before this upgrade were never taken: the last run is marked as begun 180 days before the
upgrade, so the next run takes the clients created or changed since then once (`finished_at`
is kept, so the status endpoint does not report the sweep as never run). Older records (a
register imported long ago, assessed outside Koto) are left as they were: every one still
owed would get a task long overdue and count as "missed" in the dashboards."""

import datetime as dt

from django.db import migrations

CATCH_UP = dt.timedelta(days=180)


def catch_up(apps, schema_editor):
    from koto.core import clock

    JobRun = apps.get_model("core", "JobRun")
    JobRun.objects.filter(job="deadline_sweep").update(started_at=clock.now() - CATCH_UP)


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial"), ("core", "0001_job_run")]

    operations = [migrations.RunPython(catch_up, migrations.RunPython.noop, elidable=True)]
