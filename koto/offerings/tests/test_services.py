"""Catalogue, enrolment with capacity and waiting list (also under concurrency), attendance,
language test results."""

import datetime as dt
import threading

import pytest
from django.db import close_old_connections, connection

from koto.clients.models import Task
from koto.core import clock
from koto.core.errors import PermissionDenied, ValidationFailed
from koto.core.roles import Role
from koto.offerings import services
from koto.offerings.models import Enrolment, EnrolmentStatus
from koto.plans import services as plan_services
from tests.factories import make_client, member

TODAY = dt.date(2026, 11, 2)


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(TODAY):
        yield


@pytest.fixture
def manager(org):
    return member(org, Role.MANAGER, username="service_manager")


def course(manager, capacity=2, **extra):
    data = {
        "kind": "integration_training",
        "name_fi": "Kotoutumiskoulutus A",
        "capacity": capacity,
        "starts_on": TODAY,
    }
    data.update(extra)
    return services.service_create(actor=manager, data=data)


def client_of(counsellor):
    c = make_client(counsellor)
    c.access = "full"
    return c


def test_service_create__civic_orientation_under_70_hours__refused(manager):
    with pytest.raises(ValidationFailed) as e:
        course(manager, kind="civic_orientation", hours=40)
    assert list(e.value.fields) == ["hours"]
    s = course(
        manager, kind="civic_orientation", hours=70, topics=["values_law", "work"], language="ar"
    )
    assert s.theme == "participation"


def test_service_create__counsellor__not_allowed(counsellor):
    with pytest.raises(PermissionDenied):
        course(counsellor)


def test_enrolment__full_course__waiting_list_in_order_then_promoted(manager, counsellor):
    s = course(manager, capacity=2)
    a, b, c, d = (
        services.enrolment_create(actor=counsellor, client=client_of(counsellor), service=s)
        for _ in range(4)
    )
    assert [e.status for e in (a, b, c, d)] == ["offered", "offered", "waiting", "waiting"]
    services.enrolment_transition(actor=counsellor, enrolment=a, operation="decline")
    c.refresh_from_db()
    d.refresh_from_db()
    assert (c.status, d.status) == ("offered", "waiting")
    assert (
        Enrolment.objects.filter(service=s, status__in=["offered", "accepted", "started"]).count()
        == 2
    )


def test_enrolment__same_client_twice__refused(manager, counsellor):
    s = course(manager)
    c = client_of(counsellor)
    services.enrolment_create(actor=counsellor, client=c, service=s)
    with pytest.raises(services.EnrolmentError) as e:
        services.enrolment_create(actor=counsellor, client=c, service=s)
    assert e.value.code == "already_enrolled"


def test_enrolment__lifecycle_and_attendance(manager, counsellor):
    s = course(manager)
    e = services.enrolment_create(actor=counsellor, client=client_of(counsellor), service=s)
    with pytest.raises(ValidationFailed):
        services.attendance_record(actor=counsellor, enrolment=e, on=TODAY, hours=3)
    e = services.enrolment_transition(actor=counsellor, enrolment=e, operation="accept")
    e = services.enrolment_transition(actor=counsellor, enrolment=e, operation="start", on=TODAY)
    services.attendance_record(actor=counsellor, enrolment=e, on=TODAY, hours="3.5")
    services.attendance_record(
        actor=counsellor, enrolment=e, on=TODAY, hours="4"
    )  # corrected, not doubled
    assert e.hours_attended == 4
    with pytest.raises(ValidationFailed) as err:
        services.enrolment_transition(actor=counsellor, enrolment=e, operation="interrupt")
    assert list(err.value.fields) == ["reason"]
    e = services.enrolment_transition(actor=counsellor, enrolment=e, operation="complete")
    assert e.status == EnrolmentStatus.COMPLETED
    with pytest.raises(services.EnrolmentError):
        services.enrolment_transition(actor=counsellor, enrolment=e, operation="start")


def test_enrolment__from_plan_action__start_closes_guidance_task(manager, counsellor):
    c = client_of(counsellor)
    plan = plan_services.plan_create(
        actor=counsellor, client=c, starts_on=TODAY, ends_on=TODAY + dt.timedelta(days=300)
    )
    goal = plan_services.goal_add(actor=counsellor, plan=plan, area="language", description="Suomi")
    action = plan_services.action_add(
        actor=counsellor, goal=goal, what="Kotoutumiskoulutus", responsible="client"
    )
    plan_services.plan_activate(actor=counsellor, plan=plan, agreed_on=TODAY)
    assert Task.objects.get(kind="guidance_to_service").status == "open"
    s = course(manager)
    e = services.enrolment_create(actor=counsellor, client=c, service=s, plan_action=action)
    services.enrolment_transition(actor=counsellor, enrolment=e, operation="start", on=TODAY)
    action.refresh_from_db()
    assert action.done_on == TODAY
    assert action.service_name == "Kotoutumiskoulutus A"
    assert Task.objects.get(kind="guidance_to_service").status == "done"


def test_language_results__stored_on_client(counsellor):
    c = client_of(counsellor)
    services.language_result_record(
        actor=counsellor, client=c, taken_on=TODAY,
        results=[{"language": "fi", "skill": "speaking", "level": "B1.1"}, {"language": "fi", "skill": "writing", "level": "A2.2"}],
    )  # fmt: skip
    assert sorted(c.language_results.values_list("level", flat=True)) == ["A2.2", "B1.1"]
    with pytest.raises(ValidationFailed):
        services.language_result_record(
            actor=counsellor,
            client=c,
            taken_on=TODAY,
            results=[{"language": "de", "skill": "x", "level": "Z"}],
        )


def test_enrolment__outsider_cannot_enrol_other_orgs_client(manager, counsellor, outsider):
    s = course(manager)
    c = client_of(counsellor)
    c.access = None
    with pytest.raises(PermissionDenied):
        services.enrolment_create(actor=outsider, client=c, service=s)


@pytest.mark.django_db(transaction=True)
def test_enrolment__two_counsellors_at_the_same_moment__never_over_capacity(org):
    """Two transactions enrol for the last place at once: one gets it, the other waits."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL (SQLite serialises writers anyway)")
    with clock.frozen(TODAY):
        manager = member(org, Role.MANAGER)
        first, second = (
            member(org, Role.INTEGRATION_COUNSELLOR),
            member(org, Role.INTEGRATION_COUNSELLOR),
        )
        s = course(manager, capacity=1)
        clients = [client_of(first), client_of(second)]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def enrol(user, client):
        try:
            barrier.wait(timeout=10)
            with clock.frozen(TODAY):
                results.append(
                    services.enrolment_create(actor=user, client=client, service=s).status
                )
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            close_old_connections()
            connection.close()

    threads = [
        threading.Thread(target=enrol, args=(u, c))
        for u, c in zip((first, second), clients, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert sorted(results) == ["offered", "waiting"]
    assert Enrolment.objects.filter(service=s, status="offered").count() == 1
