"""A guidance adviser logs a contact in three clicks and sees it in today's list; the report
page shows it (English UI, axe on every page)."""

import pytest
from playwright.sync_api import expect

from koto.core.roles import Role
from koto.guidance.services import reasons_seed
from tests.factories import PASSWORD, OrganisationFactory, member

pytestmark = pytest.mark.e2e


@pytest.fixture
def lahti_adviser(transactional_db):
    lahti = OrganisationFactory(code="398", name_fi="Lahti", name_sv="Lahtis", name_en="Lahti")
    reasons_seed()
    return member(lahti, Role.GUIDANCE_ADVISER, username="aino")


def test_guidance_log__three_clicks__listed_and_reported(page, live_server, lahti_adviser, a11y):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("aino")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/guidance/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a guidance contact")
    a11y(page)

    # three clicks and nothing else: the contact is saved (the message below), so the form
    # asks for nothing more
    page.get_by_label("Walk-in visit").check()
    page.get_by_label("Job search").check()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Contact saved.")).to_be_visible()
    today = page.get_by_role("table", name="My contacts today")
    expect(today.get_by_role("row")).to_have_count(2)  # header and the new contact
    expect(today).to_contain_text("Walk-in visit")
    expect(today).to_contain_text("Job search")
    expect(today).to_contain_text("Anonymous")
    # the next contact starts from the channel just used: two clicks
    expect(page.get_by_label("Walk-in visit")).to_be_checked()
    a11y(page)

    # an error is shown on the form and is accessible too
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_reasons_error")).to_have_text("Choose at least one reason.")
    a11y(page)

    page.get_by_role("main").get_by_role("link", name="Guidance report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Guidance report")
    reasons = page.get_by_role("table", name="By reason")
    expect(reasons.get_by_role("row", name="Job search")).to_contain_text("1")
    a11y(page)
