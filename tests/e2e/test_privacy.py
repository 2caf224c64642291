import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


def test_data_subject_export__from_the_client_page_printable_in_swedish(
    page, lahti_counsellor, a11y
):
    login(page, "laura")
    page.get_by_role("link", name="Haddad, Fatima").click()
    page.get_by_role("link", name="Rekisteriote").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tallennetut tiedot: Fatima Haddad")
    expect(page.get_by_role("heading", name="Henkilötiedot")).to_be_visible()
    a11y(page)
    # the client reads Swedish: the same export in Swedish
    page.get_by_label("Otteen kieli").select_option("sv")
    page.get_by_role("button", name="Näytä").click()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("heading", level=1)).to_have_text("Uppgifter om Fatima Haddad")
    a11y(page)
    link = page.get_by_role("link", name="Ladda ner samma som fil (JSON)")
    expect(link).to_have_attribute(
        "href", f"/clients/{page.url.split('/')[-3]}/export.json?lang=sv"
    )
