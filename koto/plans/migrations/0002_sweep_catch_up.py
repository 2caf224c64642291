"""The nightly deadline sweep now also takes the clients created or changed since its last
run began (a new client owed an assessment was never given its task). The clients created
before this upgrade were never taken: the last run is marked as begun on 1.1.2000, so the
next run takes every client once (`finished_at` is kept, so the status endpoint does not
report the sweep as never run)."""

import datetime as dt

from django.db import migrations

BEGINNING = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def catch_up(apps, schema_editor):
    JobRun = apps.get_model("core", "JobRun")
    JobRun.objects.filter(job="deadline_sweep").update(started_at=BEGINNING)


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial"), ("core", "0001_job_run")]

    operations = [migrations.RunPython(catch_up, migrations.RunPython.noop, elidable=True)]
