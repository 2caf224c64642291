"""Probes for whoever runs Koto: liveness (`/healthz`) and the pieces of the operational
status (`GET /api/v1/status`) that belong to no domain app: the database and the task queue."""

import datetime as dt

from django.db import DatabaseError, connection
from django.db.models import Exists, OuterRef
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from django_tasks_db.models import DBTaskResult, get_date_max

from koto.core.models import JobRun

# A task ready this long and not started: the worker (`manage.py db_worker`) is not running,
# or is stuck behind something (it takes a task within seconds otherwise).
TASK_WAIT_LIMIT = dt.timedelta(minutes=15)
# A task that failed in this window makes the status not ok, until the window passes or
# the same task with the same arguments runs successfully after it (the fault was passing,
# or has been mended): a failed nightly full refresh is not mended by a regular one.
TASK_FAILURE_WINDOW = dt.timedelta(hours=24)


@require_GET
def healthz(request):
    """Liveness probe; also the benchmarks' floor (a trivial Django view)."""
    return HttpResponse("ok", content_type="text/plain")


def database_health() -> dict:
    """One round trip to the database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return {"ok": False, "problem": "unreachable", "error": type(exc).__name__}
    return {"ok": True}


def _minutes(delta: dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def task_queue_health(now: dt.datetime) -> dict:
    """The task worker's backlog and failures: tasks waiting past their time, and a task that
    failed recently and has not succeeded since (the worker logs the tracebacks; the admin
    shows them). `failed_last_24h` counts every failure in the window."""
    never = get_date_max()  # how the queue stores "no run_after"
    ready = DBTaskResult.objects.filter(status="READY")
    waiting = ready.filter(run_after__lte=now) | ready.filter(run_after=never)
    due = [  # the oldest task with no time set, and the oldest whose time has come
        ready.filter(run_after=never).order_by("enqueued_at").values_list("enqueued_at").first(),
        ready.filter(run_after__lte=now)
        .order_by("run_after")
        .values_list("run_after", "enqueued_at")
        .first(),
    ]
    due_since = min((max(d) for d in due if d is not None), default=None)
    failed = DBTaskResult.objects.filter(
        status="FAILED", finished_at__gte=now - TASK_FAILURE_WINDOW
    )
    since_succeeded = DBTaskResult.objects.filter(
        task_path=OuterRef("task_path"),
        args_kwargs=OuterRef("args_kwargs"),  # the same work: a full refresh, one plan's PDF
        status="SUCCESSFUL",
        finished_at__gt=OuterRef("finished_at"),
    )
    last_failed = (
        failed.filter(~Exists(since_succeeded))
        .order_by("-finished_at")
        .values_list("task_path", "finished_at")
        .first()
    )
    problems = []
    if due_since is not None and now - due_since > TASK_WAIT_LIMIT:
        problems.append("worker_not_taking_tasks")
    if last_failed is not None:
        problems.append("tasks_failed")
    return {
        "ok": not problems,
        "problems": problems,
        "waiting": waiting.count(),
        "oldest_waiting_minutes": None if due_since is None else _minutes(now - due_since),
        "wait_limit_minutes": _minutes(TASK_WAIT_LIMIT),
        "failed_last_24h": failed.count(),
        "last_failure": None
        if last_failed is None
        else {"task": last_failed[0], "finished_at": last_failed[1]},
    }


# Nightly jobs: one whose last run ended longer ago than this has stopped (cron, the worker).
NIGHTLY_LIMIT = dt.timedelta(hours=26)


def job_health(now: dt.datetime, job: str, limit: dt.timedelta = NIGHTLY_LIMIT) -> dict:
    """Whether a scheduled job that records its runs (`core.services.job_finished`) ran to
    its end within `limit`: a run that fails records nothing, so it shows as late too."""
    run = JobRun.objects.filter(job=job).first()
    problems = []
    if run is None:
        problems.append("never_ran")
    elif now - run.finished_at > limit:
        problems.append("late")
    # it ran, but some of its items did not (logged): a warning for monitoring, not a
    # failure of the probe (one bad record must not take the service out of rotation)
    warnings = ["items_failed"] if run is not None and (run.result or {}).get("failed") else []
    return {
        "ok": not problems,
        "problems": problems,
        "warnings": warnings,
        "finished_at": None if run is None else run.finished_at,
        "limit_hours": int(limit.total_seconds() // 3600),
        "last_seconds": None if run is None else run.seconds,
        "result": None if run is None else run.result,
    }
