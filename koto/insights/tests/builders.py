"""Casework rows with chosen dates for the rollup tests: clients through the registry's
service, assessments, plans and contacts with the dates a test needs."""

import contextlib
import datetime as dt
import time

from django.db import connection

from koto.assessments.models import Assessment
from koto.clients.models import ClientFactChange, Task
from koto.core import clock
from koto.guidance import summary
from koto.guidance.models import Contact, ContactReason, ReasonCode
from koto.guidance.services import reasons_seed
from koto.insights.models import REFRESH_LOCK, refresh_session_alive
from koto.plans.models import IntegrationPlan, PlanStatus
from tests.factories import make_client


def client(actor, *, created_on: dt.date, **overrides):
    """A client registered on `created_on`, the law facts given (`other_need_identified`…)
    recorded as true from then. Without the assessment task the registry's service gave it
    at once (dated from today, not `created_on`): a test that needs a task makes it, as the
    assessments and plans here are rows, not services that would close it."""
    c = make_client(actor, **overrides)
    at = dt.datetime.combine(created_on, dt.time(10), tzinfo=clock.HELSINKI)
    type(c).objects.filter(id=c.id).update(created_at=at)
    c.created_at = at
    ClientFactChange.objects.filter(client=c).update(valid_from=created_on)
    Task.objects.filter(client=c).delete()
    return c


def assessment(actor, c, *, started_on: dt.date, completed_on: dt.date | None = None):
    return Assessment.objects.create(
        client=c, organisation=actor.active_membership.organisation, counsellor=actor,
        trigger=Assessment.Trigger.INTAKE, started_on=started_on, completed_on=completed_on,
        status=Assessment.Status.COMPLETED if completed_on else Assessment.Status.STARTED,
    )  # fmt: skip


def plan(actor, c, *, starts_on: dt.date, ended_on=None, outcome="", kind="basic"):
    return IntegrationPlan.objects.create(
        client=c, organisation=actor.active_membership.organisation, counsellor=actor, kind=kind,
        status=PlanStatus.ENDED if ended_on else PlanStatus.ACTIVE, starts_on=starts_on,
        agreed_on=starts_on, ends_on=starts_on.replace(year=starts_on.year + 1),
        ended_on=ended_on, outcome=outcome,
    )  # fmt: skip


def contact(actor, *, on: dt.date, reasons=("job_search",), language="ar", channel="walk_in",
            client=None):  # fmt: skip
    reasons_seed()
    org = actor.active_membership.organisation
    c = Contact.objects.create(
        organisation=org, logged_by=actor, contacted_on=on,
        contacted_at=dt.datetime.combine(on, dt.time(12), tzinfo=clock.HELSINKI),
        kind="client", channel=channel, language=language, client=client, outcome="answered",
    )  # fmt: skip
    rows = [
        ContactReason.objects.create(
            contact=c,
            reason=ReasonCode.objects.get(code=code),
            organisation_id=org.id,
            contacted_on=on,
            kind="client",
        )  # fmt: skip
        for code in reasons
    ]
    summary.add([c], rows)
    return c


def enrolment(actor, c, *, requested_on: dt.date, status="accepted"):
    """An enrolment requested on `requested_on` in a service of the actor's organisation."""
    from koto.offerings.models import Enrolment, Service

    org = actor.active_membership.organisation
    service = Service.objects.create(
        producer=org, kind="integration_training", theme="language", name_fi="Kurssi", capacity=20
    )
    return Enrolment.objects.create(
        service=service, client=c, organisation=org, status=status, enrolled_by=actor,
        requested_at=dt.datetime.combine(requested_on, dt.time(10), tzinfo=clock.HELSINKI),
    )  # fmt: skip


@contextlib.contextmanager
def refresh_running_elsewhere():
    """A refresh running in another process: on PostgreSQL its own session holds the
    refresh's lock (SQLite has none, the mark alone tells)."""
    if connection.vendor != "postgresql":
        yield
        return
    other = connection.copy()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [REFRESH_LOCK])
        yield
    finally:
        other.close()  # the lock goes with the session, as when a process dies
        # (the server ends the session a moment after the client hangs up)
        deadline = time.monotonic() + 10
        while refresh_session_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
