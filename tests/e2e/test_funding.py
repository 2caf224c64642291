"""A finance officer of Lahti sees this year's expected compensation, writes an actual-cost
claim with a cost line, gathered interpreting costs and an attachment, and submits it; the
vitality centre's officer decides it; the finance officer records the payment (English UI,
axe on every page)."""

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from koto.clients.models import Meeting
from koto.core import clock
from koto.core.roles import Role
from koto.organisations.models import OrganisationKind
from tests.factories import PASSWORD, OrganisationFactory, make_client, member

pytestmark = pytest.mark.e2e


@pytest.fixture
def people(transactional_db):
    centre = OrganisationFactory(
        code="ek-07", kind=OrganisationKind.REGIONAL_STATE_AUTHORITY, name_fi="Elinvoimakeskus",
        name_en="Vitality centre",
    )  # fmt: skip
    region = OrganisationFactory(code="hva-07", kind=OrganisationKind.WELFARE_REGION)
    lahti = OrganisationFactory(
        code="398", name_fi="Lahti", name_en="Lahti", welfare_region=region,
        regional_state_authority=centre,
    )  # fmt: skip
    counsellor = member(lahti, Role.INTEGRATION_COUNSELLOR, username="laura")
    member(lahti, Role.FINANCE_OFFICER, username="fiona")
    member(centre, Role.PLACEMENT_OFFICER, username="eli")
    client = make_client(
        counsellor, residence_basis="quota_refugee", home_municipality_code="398",
        home_municipality_on=dt.date(2026, 1, 1), first_permit_on=dt.date(2025, 12, 1),
    )  # fmt: skip
    Meeting.objects.create(
        client=client, organisation=lahti, counsellor=counsellor, held_on=dt.date(2026, 3, 2),
        purpose="Plan", interpreter_language="ar", interpreter_mode="on_site",
        interpreter_cost=Decimal("84.50"),
    )  # fmt: skip


def login(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def logout(page):
    page.get_by_role("button", name="Log out").click()


def test_funding_journey__claim_submitted_decided_paid(page, live_server, people, a11y, tmp_path):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    login(page, "fiona")
    page.goto("/funding/")
    expect(page.get_by_role("heading", level=1)).to_have_text("State compensation")
    expect(page.get_by_text("Unconfirmed amounts.")).to_be_visible()
    a11y(page)

    page.get_by_role("link", name="Compensation report").click()
    a11y(page)
    page.get_by_role("link", name="Reconcile KEHA payments").click()
    a11y(page)
    page.get_by_role("link", name="Actual-cost claims").click()
    a11y(page)
    page.get_by_role("link", name="New claim").click()
    a11y(page)
    page.get_by_label("Section").select_option("65")
    page.get_by_label("Period starts").fill("2026-01-01")
    page.get_by_label("Period ends").fill("2026-06-30")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Actual-cost claim")
    a11y(page)

    page.get_by_label("Cost").fill("Psychotherapy, 10 sessions")
    page.get_by_label("Amount (€)").fill("1200.00")
    page.get_by_label("Date").fill("2026-03-16")  # required: within the period
    page.get_by_role("button", name="Add the cost").click()
    page.get_by_role("button", name="Gather interpreting costs from meetings").click()
    expect(page.locator("#claim-total")).to_have_text("1284.50")
    receipt = tmp_path / "invoice.pdf"
    receipt.write_bytes(b"%PDF-1.4\n%%EOF\n")
    page.get_by_label("Attachment").set_input_files(str(receipt))
    page.get_by_role("button", name="Attach", exact=True).click()
    expect(page.get_by_role("link", name="invoice.pdf")).to_be_visible()
    a11y(page)
    page.get_by_role("button", name="Submit the claim").click()
    expect(page.locator("#claim-status")).to_have_text("Submitted")
    claim_url = page.url
    logout(page)

    login(page, "eli")
    page.goto(claim_url)
    a11y(page)
    page.get_by_label("Approved amount (€)").fill("1000.00")
    page.get_by_label("Decided on").fill(clock.today().isoformat())  # submitted today
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator("#claim-status")).to_have_text("Decided")
    expect(page.locator("#approved-amount")).to_have_text("1000.00")
    a11y(page)
    logout(page)

    login(page, "fiona")
    page.goto(claim_url)
    page.get_by_label("Paid on").fill(clock.today().isoformat())  # not ahead: it has been paid
    page.get_by_role("button", name="Mark paid").click()
    expect(page.locator("#claim-status")).to_have_text("Paid")
    a11y(page)
