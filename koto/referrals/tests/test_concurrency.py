"""Concurrent referral writes on PostgreSQL: the navigation badge's stored count stays the
count of unopened referrals, and two identical sends make one referral."""

import threading

import pytest
from django.db import close_old_connections, connection

from koto.core import clock
from koto.core.errors import DomainError
from koto.core.roles import Role
from koto.organisations.models import Organisation
from koto.referrals import services
from koto.referrals.models import Referral
from tests.factories import OrganisationFactory, make_client, member

from .conftest import TODAY


def _race(*jobs):
    """Run the jobs at the same moment, each in its own connection; return their errors."""
    barrier = threading.Barrier(len(jobs))
    errors = []

    def run(job):
        try:
            barrier.wait(timeout=10)
            with clock.frozen(TODAY):
                job()
        except DomainError as e:
            errors.append(e.code)
        except Exception as e:  # noqa: BLE001 - reported by the test
            errors.append(repr(e))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return errors


@pytest.fixture
def pg():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL (SQLite serialises writers anyway)")


def _send(actor, client, to):
    client.access = "full"
    return lambda: services.referral_send(
        actor=actor, client=client, kind="guidance", message="x", to_organisation=to
    )


@pytest.mark.django_db(transaction=True)
def test_referral_send__two_organisations_at_once__badge_counts_both(pg):
    # given two municipalities that each refer a client to Tampere at the same moment
    tampere = OrganisationFactory(code="837", name_fi="Tampere")
    senders = []
    for code in ("398", "091"):
        user = member(OrganisationFactory(code=code), Role.INTEGRATION_COUNSELLOR)
        senders.append((user, make_client(user)))
    # when both send
    errors = _race(*(_send(u, c, tampere) for u, c in senders))
    # then Tampere's badge counts both
    assert errors == []
    assert Organisation.objects.get(pk=tampere.pk).referrals_waiting == 2


@pytest.mark.django_db(transaction=True)
def test_referral_send_and_receive_at_once__badge_is_the_unopened_count(pg):
    tampere = OrganisationFactory(code="837", name_fi="Tampere")
    receiver = member(tampere, Role.EMPLOYMENT_COUNSELLOR)
    user = member(OrganisationFactory(code="398"), Role.INTEGRATION_COUNSELLOR)
    with clock.frozen(TODAY):
        first = _send(user, make_client(user), tampere)()
    second = _send(user, make_client(user), tampere)
    errors = _race(second, lambda: services.referral_receive(actor=receiver, referral=first))
    assert errors == []
    assert Organisation.objects.get(pk=tampere.pk).referrals_waiting == 1
    assert Referral.objects.filter(to_organisation=tampere, status="sent").count() == 1


@pytest.mark.django_db(transaction=True)
def test_referral_send__the_same_referral_twice_at_once__one_is_made(pg):
    tampere = OrganisationFactory(code="837", name_fi="Tampere")
    user = member(OrganisationFactory(code="398"), Role.INTEGRATION_COUNSELLOR)
    client = make_client(user)
    errors = _race(_send(user, client, tampere), _send(user, client, tampere))
    assert errors == ["referral_open"]
    assert Referral.objects.filter(client=client).count() == 1
    assert Organisation.objects.get(pk=tampere.pk).referrals_waiting == 1
