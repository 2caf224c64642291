"""A Lahti counsellor refers a client to Tampere; a Tampere counsellor finds it in the
referral inbox, accepts it and then sees the client. A referral to a recipient not on Koto
is printed. axe runs on every page (English UI)."""

import pytest
from playwright.sync_api import expect

from koto.clients.models import Client
from koto.core.roles import Role
from koto.organisations.models import Organisation
from tests.factories import PASSWORD, member

pytestmark = pytest.mark.e2e


def _login(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _english(page, live_server) -> None:
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])


def test_referral_journey__refer_receive_accept_see_client(
    page, live_server, lahti_counsellor, a11y
):
    tampere = Organisation.objects.get(code="837")
    member(tampere, Role.EMPLOYMENT_COUNSELLOR, username="tero")
    fatima = Client.objects.get(last_name="Haddad")
    _english(page, live_server)

    # Lahti refers the client to Tampere
    _login(page, "laura")
    page.goto(f"/referrals/new/{fatima.id}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Refer Fatima Haddad")
    a11y(page)
    page.get_by_label("Type of referral").select_option("employment_services")
    page.get_by_label("Receiving organisation").select_option(str(tampere.id))
    page.get_by_label("Access to the client's records once accepted").select_option("read")
    page.get_by_label("Message to the recipient").fill("Asiakas on työtön työnhakija.")
    page.get_by_role("button", name="Send the referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral: Fatima Haddad")
    expect(page.locator(".subtitle")).to_contain_text("Sent")
    a11y(page)
    page.get_by_role("link", name="Referrals").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals")
    a11y(page)
    page.get_by_role("button", name="Log out laura").click()

    # Tampere opens the inbox and accepts
    _login(page, "tero")
    page.goto(f"/clients/{fatima.id}/")
    expect(page.get_by_role("heading", level=1)).not_to_contain_text("Fatima")  # not yet
    page.goto("/referrals/")
    expect(page.get_by_text("1 new referral to your organisation.")).to_be_visible()
    expect(page.locator("tr.referral-new")).to_have_count(1)
    a11y(page)
    page.get_by_role("link", name="Haddad, Fatima").click()
    expect(page.locator(".subtitle")).to_contain_text("Received")
    expect(page.get_by_text("Asiakas on työtön työnhakija.")).to_be_visible()
    a11y(page)
    page.get_by_role("link", name="Accept the referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Accept the referral")
    a11y(page)
    page.get_by_role("button", name="Accept the referral").click()
    expect(page.locator(".subtitle")).to_contain_text("Accepted")
    expect(page.get_by_text("The referral was accepted.")).to_be_visible()
    a11y(page)
    page.get_by_role("link", name="Open the client's records").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Haddad")
    a11y(page)


def test_referral_journey__external_recipient_printed(page, live_server, lahti_counsellor, a11y):
    fatima = Client.objects.get(last_name="Haddad")
    _english(page, live_server)
    _login(page, "laura")
    page.goto(f"/referrals/new/{fatima.id}/")
    page.get_by_label("Type of referral").select_option("guidance")
    page.get_by_label("Recipient not on Koto", exact=True).fill("Monikulttuurinen yhdistys ry")
    page.get_by_label("Recipient's address and contact details").fill("Katu 1, 15100 Lahti")
    page.get_by_label("Message to the recipient").fill("Vertaistukiryhmä.")
    page.get_by_role("button", name="Send the referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral: Fatima Haddad")
    a11y(page)
    page.get_by_role("link", name="Printable referral").click()
    expect(page.get_by_text("Monikulttuurinen yhdistys ry")).to_be_visible()
    expect(page.get_by_text("Fatima Haddad")).to_be_visible()
    a11y(page)
    page.emulate_media(media="print")
    expect(page.get_by_text("Use your browser's print command")).to_be_hidden()
    a11y(page)


def test_transfer_journey__the_new_municipality_takes_over_the_old_one_answers_for_its_records(
    page, live_server, lahti_counsellor, a11y
):
    """Lahti transfers a client who moved to Tampere; Tampere's counsellor accepts, and the
    client page says where the client came from; Lahti, reading the record by the grant of
    the transfer, makes the data-subject export of what it kept."""
    tampere = Organisation.objects.get(code="837")
    member(tampere, Role.INTEGRATION_COUNSELLOR, username="tiina")
    fatima = Client.objects.get(last_name="Haddad")
    _english(page, live_server)

    _login(page, "laura")
    page.goto(f"/clients/{fatima.id}/")
    page.get_by_role("link", name="Transfer to another municipality").click()
    page.get_by_label("Receiving organisation").select_option(str(tampere.id))
    page.get_by_label("Message to the recipient").fill("Muutti Tampereelle.")
    page.get_by_role("button", name="Send the referral").click()
    expect(page.locator(".subtitle")).to_contain_text("Sent")
    page.get_by_role("button", name="Log out laura").click()

    _login(page, "tiina")
    page.goto("/referrals/")
    page.get_by_role("link", name="Haddad, Fatima").click()
    page.get_by_role("link", name="Accept the referral").click()
    page.get_by_role("button", name="Accept the referral").click()
    expect(page.locator(".subtitle")).to_contain_text("Completed")
    page.get_by_role("link", name="Open the client's records").click()
    expect(page.locator("ul.history")).to_contain_text(
        f"transferred from Lahti to {tampere.name_en}"
    )
    a11y(page)
    page.get_by_role("button", name="Log out tiina").click()

    _login(page, "laura")
    page.goto(f"/clients/{fatima.id}/")
    expect(page.locator(".subtitle")).to_contain_text("Read-only access")
    page.get_by_role("link", name="Data-subject export").click()
    expect(page.get_by_text("Held by")).to_be_visible()
    expect(page.locator("main dl").first).to_contain_text("Lahti")
    a11y(page)
