import datetime as dt

import pytest

from koto.core import clock
from koto.core.roles import Role
from koto.referrals import services
from tests.factories import OrganisationFactory, make_client, member

TODAY = dt.date(2026, 11, 2)  # a Monday


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(TODAY):
        yield


@pytest.fixture
def receiver(outsider):
    """A Tampere counsellor: the receiving side."""
    return outsider


@pytest.fixture
def third_org(db):
    return OrganisationFactory(code="091", name_fi="Helsinki")


@pytest.fixture
def stranger(third_org):
    return member(third_org, Role.INTEGRATION_COUNSELLOR, username="stranger")


@pytest.fixture
def client_(counsellor):
    c = make_client(counsellor, phone="+358401234567")
    c.access = "full"
    return c


@pytest.fixture
def send(counsellor, client_, other_org):
    def _send(**kw):
        args = {
            "actor": counsellor,
            "client": client_,
            "kind": "employment_services",
            "message": "Please register the client as a jobseeker.",
            "to_organisation": other_org,
            "scope": "read",
        }
        args.update(kw)
        return services.referral_send(**args)

    return _send
