"""A manager opens the dashboards from the menu (Finnish UI), narrows the period and the
target group, looks at the welfare region with small counts hidden, downloads the CSV and
reads the impact evaluation; axe on every page."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from koto.core import clock
from koto.core.roles import Role
from koto.insights import rollups
from koto.insights.tests import builders as b
from koto.organisations.models import OrganisationKind
from tests.e2e.conftest import login
from tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.e2e


@pytest.fixture
def lahti_manager(transactional_db):
    region = OrganisationFactory(code="hva-ph", kind=OrganisationKind.WELFARE_REGION,
                                 name_fi="Päijät-Hämeen hyvinvointialue")  # fmt: skip
    lahti = OrganisationFactory(code="398", name_fi="Lahti", welfare_region=region)
    counsellor = member(lahti, Role.INTEGRATION_COUNSELLOR, username="laura")
    today = clock.today()
    for i in range(8):
        c = b.client(counsellor, created_on=today.replace(day=1) - dt.timedelta(days=40 * i),
                     residence_basis="asylum" if i % 2 else "work")  # fmt: skip
        start = today - dt.timedelta(days=400 + 20 * i)
        b.plan(counsellor, c, starts_on=start,
               ended_on=start + dt.timedelta(days=200) if i < 4 else None,
               outcome="employed" if i < 3 else ("other" if i == 3 else ""))  # fmt: skip
    for i in range(3):
        b.contact(counsellor, on=today - dt.timedelta(days=i))
    rollups.refresh(full=True)
    return member(lahti, Role.MANAGER, username="maija"), region


def test_dashboards__filters_region_export_impact(page, lahti_manager, a11y):
    _manager, region = lahti_manager
    login(page, "maija")
    page.get_by_role("navigation", name="Päävalikko").get_by_role(
        "link", name="Tietonäkymät"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tietonäkymät")
    expect(page.get_by_role("heading", name="Virrat kuukausittain")).to_be_visible()
    expect(page.get_by_role("img", name="Virrat kuukausittain")).to_be_visible()
    a11y(page)

    page.get_by_label("Alkukuukausi").fill("2023-13")
    page.get_by_role("button", name="Näytä").click()
    expect(page.get_by_text("Anna kuukausi muodossa VVVV-KK")).to_be_visible()
    a11y(page)

    first = (clock.today().replace(day=1) - dt.timedelta(days=400)).strftime("%Y-%m")
    page.get_by_label("Alkukuukausi").fill(first)
    page.get_by_label("Kohderyhmä").select_option("work")
    page.get_by_role("button", name="Näytä").click()
    expect(page.get_by_role("heading", name="Määräajoissa pysyminen")).to_be_visible()
    a11y(page)

    page.get_by_label("Kohderyhmä").select_option("")
    page.get_by_label("Tarkastelualue").select_option(f"region:{region.id}")
    page.get_by_role("button", name="Näytä").click()
    expect(page.get_by_text("näytetään muodossa ”<5”")).to_be_visible()
    expect(page.get_by_role("table", name="Yhteydenotot kanavan mukaan")).to_contain_text("<5")
    a11y(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename.endswith(".csv")

    page.get_by_role("link", name="Vaikuttavuuden arviointi").click()
    expect(page.get_by_text("Havainnoiva, ei syy-seuraussuhde.")).to_be_visible()
    expect(
        page.get_by_role("heading", name="Aika työllistymiseen tai opintoihin (Kaplan–Meier)")
    ).to_be_visible()
    a11y(page)
