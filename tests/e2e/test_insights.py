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
    # the error at the field, and in the summary above the filters, the focus on it
    expect(page.locator("#id_from_error")).to_contain_text("Anna kuukausi muodossa VVVV-KK")
    expect(page.locator(".error-summary")).to_be_focused()
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


def test_dashboards__welfare_region_and_keha_managers(page, lahti_manager, a11y):
    """The welfare region's manager tells its own scope from the region with its
    municipalities and reads the latter (small counts hidden); KEHA's manager picks Lahti
    from the country's municipalities (small counts hidden), downloads the XLSX and reads
    the national impact page."""
    _manager, region = lahti_manager
    member(region, Role.MANAGER, username="hanna")
    keha = OrganisationFactory(code="keha", kind=OrganisationKind.KEHA, name_fi="KEHA-keskus")
    member(keha, Role.MANAGER, username="kalle")

    login(page, "hanna")
    page.goto("/insights/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tietonäkymät")
    scope = page.get_by_label("Tarkastelualue")
    expect(scope.locator("option")).to_have_text([  # its own clients; with its municipalities'
        "Päijät-Hämeen hyvinvointialue", "Päijät-Hämeen hyvinvointialue ja sen kunnat",
    ])  # fmt: skip
    scope.select_option(f"region:{region.id}")
    page.get_by_role("button", name="Näytä").click()
    expect(page.get_by_role("table", name="Yhteydenotot kanavan mukaan")).to_contain_text("<5")
    a11y(page)
    page.get_by_role("button", name="Kirjaudu ulos").click()

    login(page, "kalle")
    page.goto("/insights/")
    scope = page.get_by_label("Tarkastelualue")
    expect(scope.locator("optgroup")).to_have_count(3)
    scope.select_option(label="Lahti")
    page.get_by_role("button", name="Näytä").click()
    expect(page.get_by_text("Lahti ·", exact=False)).to_be_visible()
    expect(page.get_by_role("table", name="Yhteydenotot kanavan mukaan")).to_contain_text("<5")
    a11y(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.get_by_role("link", name="Vaikuttavuuden arviointi").click()
    page.get_by_label("Tarkastelualue").select_option("national")
    page.get_by_role("button", name="Näytä").click()
    expect(page.locator("p.subtitle")).to_contain_text("Koko maa")
    expect(page.get_by_label("Tarkastelualue")).to_have_value("national")
    expect(page.get_by_text("Havainnoiva, ei syy-seuraussuhde.")).to_be_visible()
    a11y(page)
