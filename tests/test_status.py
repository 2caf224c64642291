"""GET /api/v1/status: what a monitoring probe reads. Every check's both sides."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django_tasks_db.models import DBTaskResult

from koto.audit.models import AuditEvent
from koto.core import clock, health
from koto.core.models import JobRun
from koto.insights.models import FULL_OVERDUE, REGULAR_OVERDUE, STALE_RUN, RefreshState
from koto.insights.tasks import refresh_insights
from koto.insights.tests.builders import refresh_running_elsewhere
from koto.plans.tasks import sweep_deadlines as sweep_deadlines_task

URL = "/api/v1/status"
NOW = dt.datetime(2026, 12, 6, 8, 0, tzinfo=dt.UTC)


def _state(**fields):
    state = RefreshState.get()
    for k, v in fields.items():
        setattr(state, k, v)
    state.save()


def _fresh(at):
    _state(refreshed_at=at - dt.timedelta(minutes=5), full_refreshed_at=at - dt.timedelta(hours=8),
           seconds=1.5)  # fmt: skip
    _swept(at - dt.timedelta(hours=6))


def _swept(at):
    JobRun.objects.update_or_create(job="deadline_sweep", defaults={
        "started_at": at - dt.timedelta(seconds=30), "finished_at": at, "seconds": 30.0})  # fmt: skip


@pytest.fixture
def refreshed(db):
    _fresh(NOW)


@pytest.fixture
def queued(settings):
    """Tasks wait in the database for the worker, as in production (not run at once)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _get(client, at=NOW):
    with clock.frozen(at):
        response = client.get(URL)
    return response.status_code, response.json()


def test_status__all_ok__200_without_signing_in(client, refreshed):
    code, body = _get(client)
    assert code == 200
    assert body["ok"] is True
    assert set(body["checks"]) == {"database", "task_queue", "insights_refresh", "deadline_sweep"}
    assert all(c["ok"] for c in body["checks"].values())
    refresh = body["checks"]["insights_refresh"]
    assert refresh["problems"] == []
    assert refresh["refreshed_at"].startswith("2026-12-06T07:55")
    assert refresh["refresh_limit_minutes"] == 30 and refresh["full_refresh_limit_hours"] == 26
    assert body["checks"]["task_queue"]["waiting"] == 0
    assert "sessionid" not in response_cookies(client)


def response_cookies(client):
    return {k for k, v in client.cookies.items() if v.value}


def test_status__never_refreshed__503(client, db):
    code, body = _get(client)
    assert code == 503 and body["ok"] is False
    assert body["checks"]["insights_refresh"]["problems"] == ["never_refreshed"]
    assert body["checks"]["database"]["ok"] and body["checks"]["task_queue"]["ok"]


@pytest.mark.parametrize(
    ("field", "limit", "problem"),
    [
        ("refreshed_at", REGULAR_OVERDUE, "refresh_late"),  # every few minutes: 30 at most
        ("full_refreshed_at", FULL_OVERDUE, "full_refresh_late"),  # nightly: 26 hours at most
    ],
)
def test_status__refresh_late_just_past_its_limit(client, refreshed, field, limit, problem):
    _state(**{field: NOW - limit})
    assert _get(client)[0] == 200
    _state(**{field: NOW - limit - dt.timedelta(seconds=1)})
    code, body = _get(client)
    assert code == 503
    assert body["checks"]["insights_refresh"]["problems"] == [problem]


def test_status__full_refresh_never_ran__late(client, refreshed):
    _state(full_refreshed_at=None)
    code, body = _get(client)
    assert code == 503
    assert body["checks"]["insights_refresh"]["problems"] == ["full_refresh_late"]


def test_status__refresh_running_3_hours_has_died(client, refreshed):
    _state(running_since=NOW - STALE_RUN + dt.timedelta(seconds=1))
    with refresh_running_elsewhere():
        code, body = _get(client)
    assert code == 200 and body["checks"]["insights_refresh"]["running_since"]
    _state(running_since=NOW - STALE_RUN)
    code, body = _get(client)
    assert code == 503
    assert body["checks"]["insights_refresh"]["problems"] == ["refresh_died"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no session locks")
def test_status__refresh_whose_session_is_gone_has_died_at_once(client, refreshed):
    _state(running_since=NOW - dt.timedelta(minutes=1))
    code, body = _get(client)
    assert code == 503
    assert body["checks"]["insights_refresh"]["problems"] == ["refresh_died"]


def test_status__task_waiting_past_15_minutes__worker_not_taking_tasks(client, refreshed, queued):
    result = refresh_insights.enqueue()  # stamped with the real time: the clock follows it
    enqueued = DBTaskResult.objects.get(id=result.id).enqueued_at
    _fresh(enqueued + health.TASK_WAIT_LIMIT)
    code, body = _get(client, enqueued + health.TASK_WAIT_LIMIT)
    assert code == 200
    assert body["checks"]["task_queue"]["waiting"] == 1
    assert body["checks"]["task_queue"]["oldest_waiting_minutes"] == 15
    code, body = _get(client, enqueued + health.TASK_WAIT_LIMIT + dt.timedelta(seconds=1))
    assert code == 503
    assert body["checks"]["task_queue"]["problems"] == ["worker_not_taking_tasks"]


def test_status__task_due_later__not_waiting_until_its_time(client, refreshed, queued):
    at = NOW + dt.timedelta(hours=2)
    refresh_insights.using(run_after=at).enqueue()
    DBTaskResult.objects.update(enqueued_at=NOW)  # queued at NOW, not at the real time
    _fresh(at)
    code, body = _get(client, at - dt.timedelta(minutes=1))
    assert code == 200 and body["checks"]["task_queue"]["waiting"] == 0
    code, body = _get(client, at + health.TASK_WAIT_LIMIT + dt.timedelta(seconds=1))
    assert code == 503
    assert body["checks"]["task_queue"]["problems"] == ["worker_not_taking_tasks"]


def test_status__task_failed_in_the_last_24_hours(client, refreshed, queued):
    result = refresh_insights.enqueue()
    DBTaskResult.objects.filter(id=result.id).update(
        status="FAILED", finished_at=NOW - health.TASK_FAILURE_WINDOW + dt.timedelta(minutes=1)
    )
    code, body = _get(client)
    assert code == 503
    queue = body["checks"]["task_queue"]
    assert queue["problems"] == ["tasks_failed"] and queue["failed_last_24h"] == 1
    assert queue["last_failure"]["task"] == "koto.insights.tasks.refresh_insights"
    assert queue["waiting"] == 0
    assert _get(client, NOW + dt.timedelta(minutes=2))[0] == 200  # a day later


def test_status__failed_task_that_has_run_successfully_since__ok_again(client, refreshed, queued):
    # before, a failure kept the status at 503 for 24 hours after it had been mended
    failed_at = NOW - dt.timedelta(hours=1)
    failed = refresh_insights.enqueue()
    DBTaskResult.objects.filter(id=failed.id).update(status="FAILED", finished_at=failed_at)
    other = sweep_deadlines_task.enqueue()  # another task succeeding mends nothing
    DBTaskResult.objects.filter(id=other.id).update(
        status="SUCCESSFUL", finished_at=failed_at + dt.timedelta(minutes=5)
    )
    code, body = _get(client)
    assert code == 503 and body["checks"]["task_queue"]["problems"] == ["tasks_failed"]
    again = refresh_insights.enqueue()
    DBTaskResult.objects.filter(id=again.id).update(
        status="SUCCESSFUL", finished_at=failed_at + dt.timedelta(minutes=10)
    )
    code, body = _get(client)
    assert code == 200
    queue = body["checks"]["task_queue"]
    assert queue["failed_last_24h"] == 1 and queue["last_failure"] is None


def test_status__failed_full_refresh__not_mended_by_a_regular_one(client, refreshed, queued):
    failed_at = NOW - dt.timedelta(hours=1)
    full = refresh_insights.enqueue(full=True)
    DBTaskResult.objects.filter(id=full.id).update(status="FAILED", finished_at=failed_at)
    regular = refresh_insights.enqueue(full=False)  # as `refresh_insights --enqueue` queues it
    DBTaskResult.objects.filter(id=regular.id).update(
        status="SUCCESSFUL", finished_at=failed_at + dt.timedelta(minutes=5)
    )
    code, body = _get(client)
    assert code == 503 and body["checks"]["task_queue"]["problems"] == ["tasks_failed"]
    again = refresh_insights.enqueue(full=True)
    DBTaskResult.objects.filter(id=again.id).update(
        status="SUCCESSFUL", finished_at=failed_at + dt.timedelta(minutes=10)
    )
    assert _get(client)[0] == 200


def test_status__database_unreachable__503_and_nothing_else_read(client, refreshed, monkeypatch):
    class Down:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connection", Down())
    code, body = _get(client)
    assert code == 503
    assert body["checks"] == {
        "database": {"ok": False, "problem": "unreachable", "error": "OperationalError"}
    }


def test_status__deadline_sweep_late_past_26_hours_or_never(client, refreshed):
    _swept(NOW - health.NIGHTLY_LIMIT)
    assert _get(client)[0] == 200
    _swept(NOW - health.NIGHTLY_LIMIT - dt.timedelta(seconds=1))
    code, body = _get(client)
    assert code == 503 and body["checks"]["deadline_sweep"]["problems"] == ["late"]
    JobRun.objects.all().delete()
    code, body = _get(client)
    assert code == 503 and body["checks"]["deadline_sweep"]["problems"] == ["never_ran"]


def test_status__deadline_sweep_ran_but_some_clients_failed__200_with_a_warning(client, refreshed):
    _swept(NOW - dt.timedelta(hours=1))
    JobRun.objects.update(result={"clients": 10, "open_tasks": 4, "failed": 1})
    code, body = _get(client)
    sweep = body["checks"]["deadline_sweep"]
    assert (code, sweep["problems"], sweep["warnings"]) == (200, [], ["items_failed"])


def test_status__the_sweep_command_records_its_run(client, refreshed):
    JobRun.objects.all().delete()
    with clock.frozen(NOW):
        call_command("sweep_deadlines", stdout=io.StringIO())
    code, body = _get(client)
    assert code == 200
    sweep = body["checks"]["deadline_sweep"]
    assert sweep["finished_at"].startswith("2026-12-06T08:00")
    assert sweep["result"] == {"clients": 0, "open_tasks": 0, "failed": 0}
    event = AuditEvent.objects.filter(object_type="deadline_sweep").get()
    assert event.action == "update" and event.changes == {
        "clients": 0,
        "open_tasks": 0,
        "failed": 0,
    }
