import datetime as dt

import pytest

from koto.core import clock
from koto.core.roles import Role
from koto.organisations.models import OrganisationKind
from tests.factories import OrganisationFactory, member

TODAY = dt.date(2026, 11, 15)


@pytest.fixture(autouse=True)
def frozen_today():
    with clock.frozen(TODAY):
        yield


@pytest.fixture
def region(db):
    return OrganisationFactory(
        code="hva-ph", kind=OrganisationKind.WELFARE_REGION, name_fi="Päijät-Hämeen hva"
    )


@pytest.fixture
def lahti(region):
    return OrganisationFactory(code="398", name_fi="Lahti", welfare_region=region)


@pytest.fixture
def heinola(region):
    return OrganisationFactory(code="111", name_fi="Heinola", welfare_region=region)


@pytest.fixture
def keha(db):
    return OrganisationFactory(code="keha", kind=OrganisationKind.KEHA, name_fi="KEHA-keskus")


@pytest.fixture
def manager(lahti):
    return member(lahti, Role.MANAGER, username="lahti.manager")


@pytest.fixture
def national(keha):
    return member(keha, Role.MANAGER, username="keha.manager")


@pytest.fixture
def lahti_counsellor(lahti):
    return member(lahti, Role.INTEGRATION_COUNSELLOR, username="lahti.counsellor")


@pytest.fixture
def heinola_counsellor(heinola):
    return member(heinola, Role.INTEGRATION_COUNSELLOR, username="heinola.counsellor")
