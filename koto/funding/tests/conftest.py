import datetime as dt

import pytest

from koto.core import clock
from koto.core.roles import Role
from koto.organisations.models import OrganisationKind
from tests.factories import OrganisationFactory, make_client, member, move_residence


@pytest.fixture(autouse=True)
def funding_today():
    with clock.frozen(dt.date(2026, 11, 29)):
        yield


@pytest.fixture
def region(db):
    return OrganisationFactory(
        code="hva-07", kind=OrganisationKind.WELFARE_REGION, name_fi="Päijät-Hämeen hva"
    )


@pytest.fixture
def authority(db):
    return OrganisationFactory(
        code="ek-03", kind=OrganisationKind.REGIONAL_STATE_AUTHORITY, name_fi="Elinvoimakeskus"
    )


@pytest.fixture
def lahti(org, region, authority):
    org.welfare_region = region
    org.regional_state_authority = authority
    org.save()
    return org


@pytest.fixture
def hollola(region, authority):
    return OrganisationFactory(
        code="098", name_fi="Hollola", welfare_region=region, regional_state_authority=authority
    )


@pytest.fixture
def finance(lahti):
    return member(lahti, Role.FINANCE_OFFICER, username="finance")


@pytest.fixture
def decider(authority):
    return member(authority, Role.PLACEMENT_OFFICER, username="decider")


@pytest.fixture
def person(counsellor):
    """make a client living in `municipality` from `kotikunta_on`, moving as `moves` says."""

    def build(*, basis="asylum", birth=dt.date(1990, 1, 1), kotikunta_on=None,
              municipality="398", moves=(), permit=dt.date(2023, 1, 1)):  # fmt: skip
        data = {"residence_basis": basis, "birth_date": birth, "first_permit_on": permit}
        if kotikunta_on is not None:
            data |= {"home_municipality_code": municipality, "home_municipality_on": kotikunta_on}
        client = make_client(counsellor, **data)
        for to_code, on in moves:
            move_residence(client, to_code, on)
        return client

    return build
