"""The keyboard and screen-reader behaviour the test client cannot see: where the focus goes
after a failed post and from the error summary's links, and what an htmx search announces."""

import re

from playwright.sync_api import expect

from koto.clients.models import Client
from tests.e2e.conftest import login


def test_failed_post__focus_on_the_summary_then_its_link_on_the_field(page, lahti_counsellor, a11y):
    login(page, "laura")
    page.goto("/clients/new/")
    page.get_by_label("Etunimet").fill("Yonas")
    page.get_by_role("button", name="Tallenna").click()
    # the page given again: the focus is on the summary, which a screen reader reads out
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    a11y(page)
    # Enter on the summary's link for the last name: the focus is on that field, to type
    summary.get_by_role("link", name="Sukunimi").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#id_last_name")).to_be_focused()
    page.keyboard.type("Tesfamariam")
    expect(page.locator("#id_last_name")).to_have_value("Tesfamariam")


def test_search__htmx__the_count_in_the_status_region(page, lahti_counsellor, a11y):
    login(page, "laura")
    page.goto("/clients/search/")
    page.get_by_label("Nimi").fill("haddad")
    page.get_by_role("button", name="Hae", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^1 \w"))  # "1 … found."
    expect(page.locator("#results-region table")).to_be_visible()
    a11y(page)
    # a name's results have an address (back, bookmark); an identity code is in none
    expect(page).to_have_url(re.compile(r"/clients/search/\?q=haddad$"))
    hetu = Client.objects.get(last_name="Haddad").hetu
    page.get_by_label("Nimi").fill(hetu)
    page.get_by_role("button", name="Hae", exact=True).click()
    expect(page.locator("#results-region")).to_contain_text(hetu)
    expect(page).to_have_url(re.compile(r"/clients/search/\?q=haddad$"))
    # a name searched after it: the code's results were kept in the browser's storage under
    # the first name's address, and Back showed them
    page.get_by_label("Nimi").fill("hadad")
    page.get_by_role("button", name="Hae", exact=True).click()
    expect(page).to_have_url(re.compile(r"/clients/search/\?q=hadad$"))
    assert hetu not in page.evaluate("JSON.stringify(window.sessionStorage)")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/clients/search/\?q=haddad$"))
    # restored from the server (the form holds the name searched), not from storage
    expect(page.get_by_label("Nimi")).to_have_value("haddad")
    expect(page.locator("#results-region")).to_contain_text("Haddad")
    expect(page.get_by_role("banner")).to_be_visible()  # the whole page, not a part alone
    # a search the server refuses (the form's security token no longer valid) says so
    page.locator("form[role=search] input[name=csrfmiddlewaretoken]").evaluate(
        "input => { input.value = 'x'.repeat(64); }"
    )
    page.get_by_label("Nimi").fill(hetu)
    page.get_by_role("button", name="Hae", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Hakua ei voitu tehdä")
