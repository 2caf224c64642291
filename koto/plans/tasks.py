"""Background work of the plans app (Django's tasks API; worker: `manage.py db_worker`)."""

from django.tasks import task

from koto.plans.deadlines_sweep import sweep_all


@task
def sweep_deadlines() -> dict:
    """Nightly: recompute every deadline task (enqueued by `manage.py sweep_deadlines --enqueue`
    from cron, or run in-process without --enqueue)."""
    return sweep_all()
