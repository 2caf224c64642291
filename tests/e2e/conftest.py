"""Browser tests: Playwright driving Debian's Chromium against Django's live server, with
axe-core run on every page visited (zero violations allowed)."""

import os

import pytest
from axe_playwright_python.sync_playwright import Axe

from koto.core.roles import Role
from tests.factories import PASSWORD, OrganisationFactory, make_client, member

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop
CHROMIUM = os.environ.get("KOTO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium fonts-noto-core")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server, settings):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    context = browser.new_context(base_url=live_server.url, locale="fi-FI")
    pg = context.new_page()
    # Whatever a test does, nothing the page needs may be refused by the Content Security
    # Policy (settings.SECURE_CSP): Chromium reports each refusal on the console.
    refused = []
    pg.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    yield pg
    context.close()
    assert refused == [], refused


_axe = Axe()


def assert_accessible(page) -> None:
    results = _axe.run(page)
    violations = results.response.get("violations", [])
    assert violations == [], results.generate_report()


@pytest.fixture
def a11y():
    return assert_accessible


@pytest.fixture
def lahti_counsellor(transactional_db):
    lahti = OrganisationFactory(code="398", name_fi="Lahti", name_sv="Lahtis", name_en="Lahti")
    OrganisationFactory(code="837", name_fi="Tampere")
    user = member(lahti, Role.INTEGRATION_COUNSELLOR, username="laura")
    make_client(
        user, first_name="Fatima", last_name="Haddad", transliterated_names=["Fatima Hadad"]
    )
    return user


def login(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Käyttäjätunnus").fill(username)
    page.get_by_label("Salasana").fill(password)
    page.get_by_role("button", name="Kirjaudu sisään").click()
