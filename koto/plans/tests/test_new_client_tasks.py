"""A new client owed an assessment is given its task: at once when made on a page or the
API (the registry's signal), and by the nightly sweep when imported in bulk. Until
2026-12-07 the sweep took only clients with casework or open tasks, so nobody's task was
ever made until an assessment or a plan began."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from koto.clients.models import Client, Task
from koto.clients.services import client_create, client_update
from koto.core import clock
from koto.core.models import JobRun
from koto.plans import deadlines_sweep
from koto.plans.services import deadlines_sweep as nightly
from tests.factories import client_data, make_client

TODAY = dt.date(2026, 11, 2)


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(TODAY):
        yield


def test_client_created__entitled__assessment_task_at_once(counsellor):
    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 9, 1))
    task = Task.objects.get(client=c, kind=Task.Kind.ASSESSMENT_START)
    assert (task.status, task.due_on, task.assignee) == ("open", dt.date(2027, 1, 2), counsellor)


def test_client_changed__no_longer_owed__task_lapses_at_once(counsellor):
    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 9, 1))
    c.access = "full"
    client_update(actor=counsellor, client=c, data={"residence_basis": "work"})
    assert Task.objects.get(client=c, kind=Task.Kind.ASSESSMENT_START).status == "lapsed"


def test_client_not_owed__no_task(counsellor):
    c = make_client(counsellor, residence_basis="work", first_permit_on=dt.date(2026, 9, 1))
    assert not Task.objects.filter(client=c).exists()


def test_nightly__a_client_written_in_bulk_since_the_last_run__swept(counsellor):
    """An import writes clients in bulk (no signal): the night takes the clients created or
    changed since its last run began, and no others beyond those with casework."""
    nightly()  # a first run: every client
    imported = make_client(counsellor)
    Task.objects.filter(client=imported).delete()  # as written by the import: no task
    old = make_client(counsellor)
    Client.objects.filter(id=old.id).update(updated_at=clock.now() - dt.timedelta(days=30))
    Task.objects.filter(client=old).delete()
    JobRun.objects.filter(job="deadline_sweep").update(
        started_at=clock.now() - dt.timedelta(hours=2)
    )

    swept = set(
        deadlines_sweep.clients_with_casework(changed_since=JobRun.objects.get().started_at)
    )
    nightly()

    assert imported.id in swept and old.id not in swept
    assert Task.objects.filter(client=imported, kind=Task.Kind.ASSESSMENT_START).exists()


@pytest.mark.django_db(transaction=True)
def test_upgrade__the_next_run_takes_every_client_once(counsellor):
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    executor.migrate([("plans", "0001_initial")])
    try:
        JobRun.objects.create(job="deadline_sweep", started_at=clock.now(), finished_at=clock.now())
        MigrationExecutor(connection).migrate([("plans", "0002_sweep_catch_up")])
        run = JobRun.objects.get()
        assert run.started_at < clock.now() - dt.timedelta(days=170)
        assert run.finished_at == clock.now()
    finally:
        MigrationExecutor(connection).migrate(leaves)


def test_client_becomes_the_municipalitys_later__deadline_from_that_day(counsellor):
    """A jobseeker (the employment authority's client) who is no longer one from 1.9.2026
    becomes the municipality's that day: the task was due two months from the record's
    creation, overdue on its first day."""
    with clock.frozen(dt.date(2026, 1, 5)):
        c = client_create(
            actor=counsellor, facts_valid_from=dt.date(2026, 1, 5),
            data=client_data(residence_basis="asylum", first_permit_on=dt.date(2025, 12, 1),
                             unemployed_jobseeker=True),
        )  # fmt: skip
    assert not Task.objects.filter(client=c, kind=Task.Kind.ASSESSMENT_START).exists()
    c.access = "full"
    client_update(
        actor=counsellor, client=c, data={"unemployed_jobseeker": False},
        facts_valid_from=dt.date(2026, 9, 1),
    )  # fmt: skip
    task = Task.objects.get(client=c, kind=Task.Kind.ASSESSMENT_START)
    assert (task.status, task.due_on) == ("open", dt.date(2026, 11, 1))


def test_asylum_seeker_granted_protection__deadline_from_the_permit(counsellor):
    with clock.frozen(dt.date(2026, 1, 5)):
        c = make_client(counsellor, residence_basis="asylum_seeker", first_permit_on=None)
    assert not Task.objects.filter(client=c).exists()
    c.access = "full"
    client_update(
        actor=counsellor, client=c,
        data={"residence_basis": "asylum", "first_permit_on": dt.date(2026, 10, 1)},
    )  # fmt: skip
    task = Task.objects.get(client=c, kind=Task.Kind.ASSESSMENT_START)
    assert task.due_on == dt.date(2026, 12, 1)


def test_nightly__a_permit_recorded_ahead__swept_when_its_day_comes(counsellor):
    """A permit from the 20th recorded on the 2nd: the client is owed the assessment from
    the 20th, with no write on that day; the nights after the record dropped it."""
    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 11, 20))
    assert not Task.objects.filter(client=c).exists()
    for day in (dt.date(2026, 11, 3), dt.date(2026, 11, 4), dt.date(2026, 11, 21)):
        with clock.frozen(day):
            nightly()
    task = Task.objects.get(client=c, kind=Task.Kind.ASSESSMENT_START)
    assert task.due_on == dt.date(2027, 1, 20)
