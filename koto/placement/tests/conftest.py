import datetime as dt

import pytest

from koto.core import clock
from koto.core.roles import Role
from koto.organisations.models import OrganisationKind
from koto.placement import services
from koto.placement.models import Placement, PlacementAgreement
from tests.factories import OrganisationFactory, member

TODAY = dt.date(2026, 11, 2)  # a Monday


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(TODAY):
        yield


@pytest.fixture
def region(db):
    return OrganisationFactory(
        code="hva-paijat-hame", kind=OrganisationKind.WELFARE_REGION, name_fi="Päijät-Häme"
    )


@pytest.fixture
def evk(db):
    return OrganisationFactory(
        code="evk-03",
        kind=OrganisationKind.REGIONAL_STATE_AUTHORITY,
        name_fi="Hämeen elinvoimakeskus",
        valid_from=dt.date(2026, 1, 1),
    )


@pytest.fixture
def lahti(region, evk):
    return OrganisationFactory(
        code="398", name_fi="Lahti", welfare_region=region, regional_state_authority=evk
    )


@pytest.fixture
def ely(evk):
    """Häme's ELY centre, to the end of 2025; the vitality centre took its work over."""
    ely = OrganisationFactory(
        code="ely-04",
        kind=OrganisationKind.REGIONAL_STATE_AUTHORITY,
        name_fi="Hämeen ELY-keskus",
        valid_to=dt.date(2025, 12, 31),
    )
    ely.successors.add(evk)
    return ely


@pytest.fixture
def officer(evk):
    return member(evk, Role.PLACEMENT_OFFICER, username="officer")


@pytest.fixture
def manager(lahti):
    return member(lahti, Role.MANAGER, username="manager")


@pytest.fixture
def social_worker(region):
    return member(region, Role.SOCIAL_WORKER, username="social")


@pytest.fixture
def strangers(db):
    """A user of every placement role in organisations that have nothing to do with Lahti."""
    other_region = OrganisationFactory(
        code="hva-pirkanmaa", kind=OrganisationKind.WELFARE_REGION, name_fi="Pirkanmaa"
    )
    other_evk = OrganisationFactory(
        code="evk-07",
        kind=OrganisationKind.REGIONAL_STATE_AUTHORITY,
        name_fi="Pirkanmaan elinvoimakeskus",
        valid_from=dt.date(2026, 1, 1),
    )
    tampere = OrganisationFactory(
        code="837", name_fi="Tampere", welfare_region=other_region,
        regional_state_authority=other_evk,
    )  # fmt: skip
    return [
        member(tampere, Role.MANAGER, username="stranger_manager"),
        member(tampere, Role.INTEGRATION_COUNSELLOR, username="stranger_counsellor"),
        member(other_region, Role.SOCIAL_WORKER, username="stranger_social"),
        member(other_evk, Role.PLACEMENT_OFFICER, username="stranger_officer"),
    ]


def family(**overrides) -> list[dict]:
    rows = [
        {
            "first_name": "Amina",
            "last_name": "Yusuf",
            "birth_date": dt.date(1990, 4, 2),
            "residence_basis": "quota_refugee",
            "first_permit_on": dt.date(2026, 9, 1),
            "gender": "female",
            "mother_tongue": "so",
        },
        {
            "first_name": "Hodan",
            "last_name": "Yusuf",
            "birth_date": dt.date(2016, 8, 20),
            "residence_basis": "family_of_quota_refugee",
            "first_permit_on": dt.date(2026, 9, 1),
            "relation": "child",
        },
    ]
    return rows


@pytest.fixture
def propose(officer, lahti):
    made = []

    def _propose(**kw):
        persons = family()
        if made:  # another family each time: the same people twice are refused
            for person in persons:
                person["first_name"] += f" {chr(ord('A') + len(made) % 26)}{len(made)}"
        args = {
            "actor": officer,
            "municipality": lahti,
            "category": "quota_refugee",
            "source": "quota",
            "persons": persons,
            "proposed_on": dt.date(2026, 10, 1),
        }
        args.update(kw)
        made.append(1)
        return services.placement_propose(**args)

    return _propose


@pytest.fixture
def agreement(officer, lahti):
    return services.agreement_create(
        actor=officer,
        municipality=lahti,
        year=2026,
        places={
            "places_quota_refugee": 20,
            "places_international_protection": 10,
            "places_unaccompanied_minor": 4,
        },
    )


def add_agreements(officer, region, n: int) -> None:
    """n agreements of n new municipalities, two of each year (so the id breaks the ties)."""
    for i in range(PlacementAgreement.objects.count(), PlacementAgreement.objects.count() + n):
        services.agreement_create(
            actor=officer,
            municipality=OrganisationFactory(
                code=f"{600 + i}",
                welfare_region=region,
                regional_state_authority=officer.active_membership.organisation,
            ),  # fmt: skip
            year=2026 + i // 2 % 3,
            places={},
        )


def add_minors(propose, manager, n: int) -> None:
    """n arrived unaccompanied minors, two born on each day (so the id breaks the ties)."""
    offset = Placement.objects.count()  # other names on each call: not the same people
    for i in range(n):
        placement = propose(
            category="unaccompanied_minor", source="reception_centre",
            persons=[{"first_name": f"Ali{i + offset}", "last_name": f"Rahimi{i + offset}",
                      "birth_date": dt.date(2010, 5, 20 - i // 2), "residence_basis": "asylum", "first_permit_on": dt.date(2025, 9, 1)}],
        )  # fmt: skip
        services.placement_accept(actor=manager, placement=placement)
        services.placement_reserve_housing(
            actor=manager, placement=placement, address="Katu 1", housing_on=TODAY
        )
        services.placement_arrive(actor=manager, placement=placement, arrived_on=TODAY)
