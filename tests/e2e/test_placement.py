"""A placement officer of a vitality centre proposes a family to Lahti; a Lahti manager
accepts, reserves housing and records the arrival; the officer sees the places used
(English UI, axe on every page)."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from koto.core import clock
from koto.core.roles import Role
from koto.organisations.models import OrganisationKind
from koto.placement import services
from tests.factories import PASSWORD, OrganisationFactory, member

pytestmark = pytest.mark.e2e


@pytest.fixture
def placement_people(transactional_db):
    region = OrganisationFactory(
        code="hva-paijat-hame", kind=OrganisationKind.WELFARE_REGION, name_fi="Päijät-Häme",
        name_en="Päijät-Häme welfare region",
    )  # fmt: skip
    evk = OrganisationFactory(
        code="evk-03", kind=OrganisationKind.REGIONAL_STATE_AUTHORITY,
        name_fi="Hämeen elinvoimakeskus", name_en="Häme Vitality Centre",
        valid_from=dt.date(2026, 1, 1),
    )  # fmt: skip
    lahti = OrganisationFactory(
        code="398", name_fi="Lahti", name_sv="Lahtis", name_en="Lahti", welfare_region=region,
        regional_state_authority=evk,
    )  # fmt: skip
    officer = member(evk, Role.PLACEMENT_OFFICER, username="olli")
    social = member(region, Role.SOCIAL_WORKER, username="sanna")
    member(lahti, Role.MANAGER, username="maria")
    year = clock.today().year
    agreement = services.agreement_create(
        actor=officer, municipality=lahti, year=year,
        places={"places_quota_refugee": 20, "places_international_protection": 10,
                "places_unaccompanied_minor": 4},
    )  # fmt: skip
    services.agreement_consult(
        actor=social, agreement=agreement, consulted_on=clock.today(), statement="Agreed."
    )
    services.agreement_sign(actor=officer, agreement=agreement, signed_on=clock.today())
    return agreement


def login_en(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_placement_journey__proposal_to_arrival(page, live_server, placement_people, a11y):
    today = clock.today()
    # the placement officer proposes a family
    login_en(page, live_server, "olli")
    page.goto("/placement/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Placements")
    a11y(page)
    page.get_by_role("link", name="Propose a placement").click()
    a11y(page)
    page.get_by_label("Municipality").select_option(label="Lahti")
    page.get_by_label("Category").select_option("quota_refugee")
    page.get_by_label("Coming from").select_option("quota")
    page.get_by_label("Reception centre or quota selection").fill("UNHCR quota 2026, Kenya")
    for i, (first, birth, basis, relation) in enumerate(
        [
            ("Amina", "1990-04-02", "quota_refugee", "main"),
            ("Hodan", "2016-08-20", "family_of_quota_refugee", "child"),
        ]
    ):
        page.locator(f"#id_persons-{i}-first_name").fill(first)
        page.locator(f"#id_persons-{i}-last_name").fill("Yusuf")
        page.locator(f"#id_persons-{i}-birth_date").fill(birth)
        page.locator(f"#id_persons-{i}-residence_basis").select_option(basis)
        page.locator(f"#id_persons-{i}-relation").select_option(relation)
    page.get_by_role("button", name="Propose").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Placement to Lahti")
    expect(page.locator(".subtitle")).to_contain_text("Proposed")
    a11y(page)

    # the Lahti manager accepts and reserves housing
    login_en(page, live_server, "maria")
    page.goto("/placement/?status=proposed")
    a11y(page)
    page.get_by_role("link", name="Yusuf, Amina and 1 other").click()
    page.get_by_role("link", name="Accept the placement").click()
    a11y(page)
    page.get_by_role("button", name="Accept the placement").click()
    expect(page.locator(".subtitle")).to_contain_text("Accepted")
    page.get_by_role("link", name="Reserve housing").click()
    a11y(page)
    page.get_by_label("Housing address").fill("Kauppakatu 1 A 3, 15140 Lahti")
    page.get_by_label("Housing available from").fill(today.isoformat())
    page.get_by_role("button", name="Reserve housing").click()
    expect(page.locator(".subtitle")).to_contain_text("Housing reserved")
    a11y(page)

    # arrival: the people become clients of Lahti
    page.get_by_role("link", name="Record arrival").click()
    a11y(page)
    page.get_by_label("Arrived on").fill("2099-01-01")
    page.get_by_role("button", name="Record arrival").click()
    expect(page.locator("#id_arrived_on_error")).to_contain_text("future")
    a11y(page)
    page.get_by_label("Arrived on").fill(today.isoformat())
    page.get_by_role("button", name="Record arrival").click()
    expect(page.locator(".subtitle")).to_contain_text("Arrived")
    expect(page.get_by_text("Client since arrival")).to_have_count(2)
    a11y(page)

    # the officer sees the places used against the agreement
    login_en(page, live_server, "olli")
    page.goto("/placement/agreements/")
    a11y(page)
    page.get_by_role("link", name=f"Lahti {today.year}").click()
    usage = page.get_by_role("table", name="Places agreed and used")
    row = usage.get_by_role("row", name="Quota refugees")
    expect(row.get_by_role("cell")).to_have_text(["20", "2", "0", "18"])
    a11y(page)
