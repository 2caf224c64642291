"""A transfer accepted moves the client's open plans to the receiving organisation (the plans
app answers `client_transferred`); ended ones stay the sender's. Here, not under either app:
the two apps do not import each other."""

import datetime as dt

import pytest

from koto.clients.models import AccessGrant
from koto.core import clock
from koto.plans import services as plan_services
from koto.plans.models import IntegrationPlan
from koto.plans.tests.test_plan_basis import assessed
from koto.referrals import services
from tests.factories import make_client

TODAY = dt.date(2026, 11, 2)


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(TODAY):
        yield


def _planned(counsellor, *, status: str) -> tuple:
    client = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    client.access = "full"
    assessed(counsellor, client, plan_needed=True, on=TODAY)
    plan = plan_services.plan_create(
        actor=counsellor, client=client, starts_on=TODAY, ends_on=TODAY + dt.timedelta(days=300)
    )
    IntegrationPlan.objects.filter(pk=plan.pk).update(status=status)
    return client, plan


def _transferred(counsellor, receiver, client, to) -> None:
    referral = services.referral_send(
        actor=counsellor, client=client, kind="transfer", message="Muutti.", to_organisation=to
    )
    services.referral_receive(actor=receiver, referral=referral)
    services.referral_accept(actor=receiver, referral=referral)


@pytest.mark.parametrize("status", ["draft", "active"])
def test_transfer_accepted__an_open_plan_moves_with_the_client(
    counsellor, outsider, other_org, status
):
    client, plan = _planned(counsellor, status=status)
    _transferred(counsellor, outsider, client, other_org)
    plan.refresh_from_db()
    assert (plan.organisation_id, plan.counsellor_id) == (other_org.id, outsider.id)
    assert AccessGrant.objects.filter(client=client, source="transfer").count() == 1


def test_transfer_accepted__an_ended_plan_stays_the_sender_s(counsellor, outsider, other_org):
    client, plan = _planned(counsellor, status="ended")
    _transferred(counsellor, outsider, client, other_org)
    plan.refresh_from_db()
    assert (plan.organisation_id, plan.counsellor_id) == (
        counsellor.active_membership.organisation_id,
        counsellor.id,
    )


def test_transfer_accepted__start_drawing_up_the_plan_goes_to_the_receiver(
    counsellor, outsider, other_org
):
    from koto.clients.models import Task

    client = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    client.access = "full"
    assessed(counsellor, client, plan_needed=True, on=TODAY)
    task = Task.objects.get(client=client, kind="plan_draft", status="open")
    assert task.assignee_id == counsellor.id
    _transferred(counsellor, outsider, client, other_org)
    task.refresh_from_db()
    assert (task.organisation_id, task.assignee_id, task.status) == (
        other_org.id,
        outsider.id,
        "open",
    )


def test_plan_draft_task__assessed_by_an_organisation_with_a_full_grant__stays_its_own(
    counsellor, outsider, other_org
):
    # an employment authority (here Tampere) editing under a full grant assesses: no transfer
    from koto.clients.models import Task
    from koto.clients.selectors import client_get_for

    client = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    AccessGrant.objects.create(
        client=client, organisation=other_org, scope="full", source="referral",
        valid_from=dt.date(2020, 1, 1),
    )  # fmt: skip
    assessed(
        outsider, client_get_for(user=outsider, client_id=client.id), plan_needed=True, on=TODAY
    )
    task = Task.objects.get(client=client, kind="plan_draft", status="open")
    assert (task.organisation_id, task.assignee_id) == (other_org.id, outsider.id)


def test_plan_draft_task__after_a_transfer_and_no_counsellor__the_receiver_s_team(
    counsellor, outsider, other_org
):
    from koto.clients.models import Client, Task
    from koto.plans.deadlines_sweep import sweep_client_tasks

    client = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    client.access = "full"
    assessed(counsellor, client, plan_needed=True, on=TODAY)
    _transferred(counsellor, outsider, client, other_org)
    Client.objects.filter(pk=client.pk).update(counsellor=None)
    sweep_client_tasks(Client.objects.get(pk=client.pk))
    task = Task.objects.get(client=client, kind="plan_draft", status="open")
    assert (task.organisation_id, task.assignee_id) == (other_org.id, None)
