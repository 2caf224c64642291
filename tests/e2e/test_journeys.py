"""A counsellor logs in, finds, opens and edits a client in Finnish, Swedish and English."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


def test_counsellor_journey__find_open_edit_in_three_languages(page, lahti_counsellor, a11y):
    # log-in page (Finnish by default)
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "fi")
    a11y(page)
    login(page, "laura")
    expect(page.get_by_role("heading", level=1)).to_have_text("Omat asiakkaat")
    a11y(page)

    # search by another recorded form of the name
    page.get_by_role("link", name="Hae asiakkaita").click()
    a11y(page)
    page.get_by_label("Nimi, henkilötunnus tai väliaikainen tunniste").fill("Hadad")
    page.get_by_role("button", name="Hae", exact=True).click()
    expect(page.get_by_role("link", name="Haddad, Fatima")).to_be_visible()
    a11y(page)  # the results the search swapped in
    page.get_by_role("link", name="Haddad, Fatima").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fatima Haddad")
    a11y(page)

    # edit: add a phone number
    page.get_by_role("link", name="Muokkaa").click()
    a11y(page)
    page.get_by_label("Puhelin").fill("+358 40 123 4567")
    page.get_by_role("button", name="Tallenna").click()
    expect(page.get_by_text("+358 40 123 4567")).to_be_visible()

    # Swedish
    page.get_by_label("Kieli", exact=True).select_option("sv")
    page.get_by_role("button", name="Vaihda").click()
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.get_by_role("link", name="Redigera")).to_be_visible()
    a11y(page)
    page.get_by_role("link", name="Redigera").click()
    a11y(page)
    page.get_by_label("E-post").fill("fatima@example.org")
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_text("fatima@example.org")).to_be_visible()

    # English
    page.get_by_label("Språk", exact=True).select_option("en")
    page.get_by_role("button", name="Byt").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Edit").click()
    a11y(page)
    page.get_by_label("Post office").fill("Lahti")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Details updated").first).to_be_visible()
    a11y(page)

    # the counsellor: nobody for a while, then oneself again
    page.get_by_role("link", name="Change the counsellor").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Change the counsellor: Fatima Haddad"
    )
    a11y(page)
    page.get_by_label("Counsellor").select_option(label="Nobody")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Counsellor changed.")).to_be_visible()
    a11y(page)


def test_new_client__bad_input_then_created(page, lahti_counsellor, a11y):
    login(page, "laura")
    page.get_by_role("link", name="Uusi asiakas").click()
    a11y(page)
    page.get_by_label("Etunimet").fill("Yonas")
    page.get_by_label("Sukunimi").fill("Tesfamariam")
    page.get_by_label("Syntymäaika").fill("1995-03-04")
    page.get_by_label("Henkilötunnus").fill("040395-000X")
    page.get_by_role("button", name="Tallenna").click()
    expect(page.locator("#id_hetu_error")).to_be_visible()
    a11y(page)
    page.get_by_label("Henkilötunnus").fill("")
    page.get_by_role("button", name="Tallenna").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Yonas Tesfamariam")
    expect(page.locator(".subtitle")).to_contain_text(re.compile(r"TMP-"))


def test_other_organisation__404_page_accessible(page, lahti_counsellor, a11y):
    from koto.clients.models import Client
    from koto.core.roles import Role
    from koto.organisations.models import Organisation
    from tests.factories import member

    member(Organisation.objects.get(code="837"), Role.INTEGRATION_COUNSELLOR, username="tiina")
    client_id = Client.objects.get(last_name="Haddad").id
    login(page, "tiina")
    response = page.goto(f"/clients/{client_id}/")
    assert response.status == 404
    a11y(page)


def test_bad_filter_in_the_address__400_page_accessible(page, lahti_counsellor, a11y):
    login(page, "laura")
    response = page.goto("/plans/my-work/?group=bogus")
    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("Tarkista osoite")
    expect(page.locator("main code")).to_have_text("group")
    a11y(page)
    page.get_by_role("link", name="Avaa sivu ilman niitä").click()
    expect(page).to_have_url(re.compile(r"/plans/my-work/$"))


def test_new_client__second_press_while_the_first_is_on_its_way__one_post(page, lahti_counsellor):
    # a double click recorded a client (a meeting, a consent, a goal) twice
    from koto.clients.models import Client

    login(page, "laura")
    page.goto("/clients/new/")
    page.get_by_label("Etunimet").fill("Yonas")
    page.get_by_label("Sukunimi").fill("Tesfamariam")
    page.get_by_label("Syntymäaika").fill("1995-03-04")
    held = []  # the posts reaching the server, held there until both presses are made
    page.route(
        "**/clients/new/",
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    # two presses 300 ms apart, the second while the first post is on its way
    page.evaluate("""() => {
        const form = document.querySelector("main form[method=post]");
        form.requestSubmit();
        setTimeout(() => form.requestSubmit(), 300);
    }""")
    page.wait_for_timeout(1000)
    assert len(held) == 1
    held[0].continue_()
    expect(page.get_by_role("heading", level=1)).to_have_text("Yonas Tesfamariam")
    assert Client.objects.filter(last_name="Tesfamariam").count() == 1


def test_api_docs_and_admin__nothing_refused_by_the_content_security_policy(page, lahti_counsellor):
    # the page fixture fails the test on any refusal Chromium reports
    from django.contrib.auth import get_user_model

    login(page, "laura")
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_be_visible()
    get_user_model().objects.create_superuser(
        "root", "root@example.com", "Pitkä-ja-hyvä-salasana-2026"
    )
    page.goto("/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "Pitkä-ja-hyvä-salasana-2026")
    page.click("input[type=submit]")
    for url in ("/admin/", "/admin/audit/auditevent/"):
        page.goto(url)
        expect(page.locator("#content")).to_be_visible()


def test_api_token__administrator_makes_it_a_manager_approves_it(page, lahti_counsellor, a11y):
    """The organisation's pages and the token pages, with axe on each: the administrator
    makes a token (it waits), a manager approves it from their menu."""
    from koto.accounts.models import ApiToken
    from koto.core.roles import Role
    from koto.organisations.models import Organisation
    from tests.factories import member

    lahti = Organisation.objects.get(code="398")
    member(lahti, Role.ORG_ADMIN, username="anna")
    member(lahti, Role.MANAGER, username="maija")
    login(page, "anna")
    page.goto("/accounts/organisation/")
    a11y(page)
    page.get_by_role("link", name="Luo API-avain").click()
    a11y(page)
    page.get_by_label("Nimi").fill("Asiakasrekisteri")
    page.get_by_role("button", name="Luo").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API-avain luotu")
    a11y(page)
    token = ApiToken.objects.get(name="Asiakasrekisteri")
    assert token.approved_at is None
    page.get_by_role("button", name=re.compile("^Kirjaudu ulos")).click()

    login(page, "maija")
    page.get_by_role("navigation").get_by_role("link", name="API-avaimet").click()
    expect(page.get_by_text("Odottaa esihenkilön hyväksyntää")).to_be_visible()
    a11y(page)
    page.get_by_role("button", name="Hyväksy Asiakasrekisteri").click()
    expect(page.get_by_text("Avain hyväksytty")).to_be_visible()
    a11y(page)
    token.refresh_from_db()
    assert token.approved_by.username == "maija"
