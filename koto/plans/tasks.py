"""Background work of the plans app (Django's tasks API; worker: `manage.py db_worker`)."""

from django.tasks import task

from koto.plans.services import deadlines_sweep


@task
def sweep_deadlines() -> dict:
    """Nightly: recompute every deadline task (enqueued by `manage.py sweep_deadlines --enqueue`
    from cron, or run in-process without --enqueue)."""
    return deadlines_sweep()
