"""Writes of the core app: the record of a scheduled job's last run."""

import datetime as dt

from koto.core import clock
from koto.core.models import JobRun


def job_finished(*, job: str, started_at: dt.datetime, result: dict) -> JobRun:
    """A scheduled job ran to its end: its row now says when, how long and what it did (the
    caller audits the job itself)."""
    finished = clock.now()
    run, _created = JobRun.objects.update_or_create(
        job=job,
        defaults={
            "started_at": started_at,
            "finished_at": finished,
            "seconds": round((finished - started_at).total_seconds(), 2),
            "result": result,
        },
    )
    return run
