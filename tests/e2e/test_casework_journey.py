"""A counsellor carries a client from the assessment to a plan in force and hands them the
plan as a PDF in Arabic with a Finnish copy (English UI)."""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

pytestmark = pytest.mark.e2e


def test_casework_journey__assessment_plan_pdf(page, live_server, lahti_counsellor, a11y):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    login_en(page)
    page.get_by_role("link", name="Search clients").click()
    page.get_by_label("Name, identity code or temporary id").fill("Haddad")
    page.get_by_role("button", name="Search", exact=True).click()
    page.get_by_role("link", name="Haddad, Fatima").click()
    client_url = page.url

    # assessment
    page.get_by_role("link", name="Start an assessment").click()
    a11y(page)
    page.get_by_label("Started on").fill("2026-11-02")  # the interview is not before it
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Competence and integration service-needs assessment"
    )
    a11y(page)
    page.get_by_role("link", name="Record the initial interview").click()
    a11y(page)
    page.get_by_label("Initial interview on").fill("2026-11-02")
    page.get_by_label("Interview language").select_option("ar")
    page.get_by_label("Interpreter used").check()
    page.get_by_label("Literacy").select_option("latin")
    page.get_by_label("Finnish: Speaking").select_option("A1.2")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Complete the assessment").click()
    a11y(page)
    page.get_by_label("Yes").check()
    page.get_by_label("Completed on").fill("2026-11-02")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("an integration plan is needed.")).to_be_visible()

    # plan with two goals
    page.get_by_role("link", name="Fatima Haddad").click()
    page.get_by_role("link", name="New integration plan").click()
    a11y(page)
    page.get_by_label("Starts on").fill("2026-11-02")
    page.get_by_label("Ends on").fill("2027-11-30")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_ends_on_error")).to_contain_text("1.11.2027")
    page.get_by_label("Ends on").fill("2027-10-31")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Integration plan")
    a11y(page)
    for area, text in (
        ("language", "Oppia suomea arjen tilanteisiin"),
        ("work", "Löytää työpaikka logistiikasta"),
    ):
        page.get_by_role("link", name="Add a goal").click()
        a11y(page)
        page.get_by_label("Area").select_option(area)
        page.get_by_label("Goal").fill(text)
        page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Add an action").first.click()
    a11y(page)
    page.get_by_label("What will be done").fill("Kotoutumiskoulutus")
    page.get_by_label("Who is responsible").select_option("client")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Put the plan in force").click()
    a11y(page)
    page.get_by_role("button", name="Put the plan in force").click()
    expect(page.locator(".subtitle")).to_contain_text("In force")
    a11y(page)

    # the plan for the client, as a page and as a PDF
    page.get_by_role("link", name="Open the plan for the client").click()
    expect(page.locator("section[lang=ar]")).to_have_attribute("dir", "rtl")
    a11y(page)
    page.go_back()
    page.get_by_role("button", name="Generate a PDF").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the PDF").first.click()
    pdf = PdfReader(io.BytesIO(open(download.value.path(), "rb").read()))
    text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "Fatima Haddad" in text
    assert "Oppia suomea arjen tilanteisiin" in text
    assert "Löytää työpaikka logistiikasta" in text
    assert "Kotoutumissuunnitelma" in text
    fonts = {
        str(f.get_object().get("/BaseFont"))
        for p in pdf.pages
        for f in p["/Resources"]["/Font"].values()
    }
    assert any("Arabic" in f for f in fonts), fonts  # the Arabic section is set in an Arabic font

    # my work: the plan's deadlines, and a group of them a page at a time
    page.get_by_role("link", name="My work").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    expect(page.get_by_role("link", name="Haddad, Fatima").first).to_be_visible()
    a11y(page)
    page.goto("/plans/my-work/?group=later")
    expect(page.get_by_role("heading", level=2)).to_contain_text("Later")
    expect(page.get_by_role("link", name="Back to all tasks")).to_be_visible()
    a11y(page)

    # the client's whole timeline and meetings, each a page at a time
    page.goto(client_url + "timeline/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Timeline of Fatima Haddad")
    expect(page.get_by_text("Integration plan agreed")).to_be_visible()
    a11y(page)
    page.goto(client_url + "meetings/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Meetings with Fatima Haddad")
    a11y(page)


def login_en(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("laura")
    page.get_by_label("Password").fill("Test-password-2026")
    page.get_by_role("button", name="Log in").click()
