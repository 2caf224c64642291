"""The operational status, for whoever runs Koto (a monitoring probe, cron's check): is the
database there, do the scheduled jobs run. No sign-in: it tells times and counts of Koto's
own jobs, nothing about a client, a user or an organisation."""

from ninja import Router, Status

from koto.core import clock
from koto.core.health import database_health, job_health, task_queue_health
from koto.insights.selectors import refresh_health
from koto.plans.services import SWEEP_JOB

router = Router(tags=["status"])


@router.get(
    "",
    auth=None,
    summary="Operational status: database, task queue, dashboard refreshes, deadline sweep",
    response={200: dict, 503: dict},
)
def status(request):
    """200 when every check is ok, 503 (with the same body) when one is not, so that a probe
    alerts on the status code. Each check gives `ok` and, when not, its `problems`:
    `database` (`unreachable`); `task_queue` (`worker_not_taking_tasks`: a task ready for
    more than `wait_limit_minutes`; `tasks_failed`: one failed in the last 24 hours and has
    not succeeded since); `insights_refresh` (`never_refreshed`, `refresh_late`: none for `refresh_limit_minutes`,
    `full_refresh_late`: no nightly full refresh for `full_refresh_limit_hours`,
    `refresh_died`: one has been running for 3 hours); `deadline_sweep` (`never_ran`,
    `late`: the nightly recount of deadline tasks has not finished for `limit_hours`; and
    as a warning, not a problem, `items_failed`: it finished, but some clients could not be
    swept (logged))."""
    now = clock.now()
    database = database_health()
    checks = {"database": database}
    if database["ok"]:  # the others read the database
        checks["task_queue"] = task_queue_health(now)
        checks["insights_refresh"] = refresh_health(now)
        checks["deadline_sweep"] = job_health(now, SWEEP_JOB)
    ok = all(c["ok"] for c in checks.values())
    return Status(200 if ok else 503, {"ok": ok, "checked_at": now, "checks": checks})
