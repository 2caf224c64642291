"""The log page (three clicks), a contact page and the report page."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from koto.core.roles import Role
from koto.guidance import services
from koto.guidance.models import Contact
from tests.factories import make_client, member


def _queries(http, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert http.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_log__post_channel_and_reason__saved_and_listed(web, adviser):
    http = web(adviser)
    response = http.post(
        "/guidance/", {"channel": "walk_in", "reasons": ["job_search"], "outcome": "answered"},
        follow=True,
    )  # fmt: skip
    assert response.status_code == 200
    contact = Contact.objects.get()
    assert (contact.channel, contact.client_id, contact.logged_by_id) == (
        "walk_in",
        None,
        adviser.id,
    )
    assert "Contact saved." in response.content.decode()
    assert response.context["contacts"][0].id == contact.id
    # the next contact starts from the same channel
    assert response.context["form"].initial["channel"] == "walk_in"


def test_log__unknown_client__field_error(web, adviser):
    http = web(adviser)
    response = http.post(
        "/guidance/",
        {"channel": "phone", "reasons": ["benefits"], "outcome": "answered",
         "client_identifier": "TMP-NOPE"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.context["form"].errors["client_identifier"] == [
        "No client you may see has this identity code or temporary id."
    ]
    assert Contact.objects.count() == 0


@pytest.mark.parametrize("bad", ["\x01", "\x0b", "\x1b[31m", "\x7f", "\x85"])
def test_log__control_character_in_a_text_field__error_naming_it_nothing_written(web, adviser, bad):
    # Django's form fields refuse U+0000 only: the others were stored
    response = web(adviser).post("/guidance/", {
        "channel": "phone", "reasons": ["benefits"], "outcome": "referred",
        "referred_to": f"TE{bad}-palvelut",
    })  # fmt: skip
    assert response.status_code == 200
    assert response.context["form"].errors["referred_to"] == [
        "Remove the control characters (invisible characters) from the text."
    ]
    assert Contact.objects.count() == 0


def test_log__tab_and_line_breaks_in_text__kept(web, adviser):
    web(adviser).post("/guidance/", {
        "channel": "phone", "reasons": ["benefits"], "outcome": "referred",
        "referred_to": "TE-palvelut\tLahti",
    })  # fmt: skip
    assert Contact.objects.get().referred_to == "TE-palvelut\tLahti"


def test_log__no_reason__form_error(web, adviser):
    response = web(adviser).post("/guidance/", {"channel": "phone", "outcome": "answered"})
    assert response.context["form"].errors["reasons"] == ["Choose at least one reason."]


def test_log__query_count_constant(web, adviser):
    http = web(adviser)
    client = make_client(adviser)
    services.contact_log(actor=adviser, channel="phone", reasons=["other"])
    services.contact_log(  # a known client: the list is audited, once however many
        actor=adviser, channel="phone", reasons=["other"], client_identifier=client.hetu
    )
    few = _queries(http, "/guidance/")
    for _ in range(6):
        services.contact_log(
            actor=adviser, channel="walk_in", reasons=["benefits", "job_search"],
            client_identifier=client.hetu,
        )  # fmt: skip
    assert _queries(http, "/guidance/") == few


def test_report__query_count_constant(web, adviser, manager):
    http = web(manager)
    services.contact_log(actor=adviser, channel="phone", reasons=["other"])
    few = _queries(http, "/guidance/report/")
    for ch in ("walk_in", "chat", "video"):
        services.contact_log(actor=adviser, channel=ch, reasons=["benefits"], language="so")
        services.contact_log(actor=adviser, channel=ch, reasons=[], partner_type="trainer")
    assert _queries(http, "/guidance/report/") == few


def test_report__csv_download__same_numbers(web, adviser, manager):
    services.contact_log(actor=adviser, channel="phone", reasons=["benefits", "other"])
    http = web(manager)
    http.cookies["django_language"] = "fi"
    response = http.get("/guidance/report/?date_from=2026-01-01&date_to=2026-03-31&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "dimension,code,label,contacts,partner_contacts"
    assert "total,all,,1,0" in lines
    assert "reason,benefits,Etuudet,1,0" in lines  # the page's language (Finnish by default)


@pytest.mark.parametrize(
    "query", ["date_from=2026-13-01", "date_from=bogus", "date_to=2026-02-30",
              "date_from=2026-06-01&date_to=2026-01-01", "date_from=0001-01-01",
              # one end given, the other's default (today, 16.3.2026; 1.1.2026) before it:
              # was an empty report with no message
              "date_from=2030-01-01", "date_to=2025-12-31"],
)  # fmt: skip
def test_report__bad_period__400_with_no_figures_nor_csv(web, manager, query):
    # before, the page showed the default period beside the error, and the CSV came without one
    http = web(manager)
    page = http.get(f"/guidance/report/?{query}")
    assert page.status_code == 400 and page.context["report"] is None
    assert page.context["form"].errors
    csv_file = http.get(f"/guidance/report/?{query}&format=csv")
    assert csv_file.status_code == 400
    assert csv_file["Content-Type"].startswith("text/html")


def test_report__unknown_format__400_naming_format(web, manager):
    response = web(manager).get("/guidance/report/?format=xlsx")
    assert response.status_code == 400
    assert "<code>format</code>" in response.content.decode()


def test_report__page_shows_tables(web, adviser, manager):
    services.contact_log(actor=adviser, channel="phone", reasons=["job_search"])
    response = web(manager).get("/guidance/report/")
    assert response.status_code == 200
    assert response.context["report"].contacts == 1


@pytest.mark.parametrize("url", ["/guidance/", "/guidance/report/", "/guidance/contacts/1/"])
def test_pages__anonymous__redirect_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_detail__other_organisation__404(web, adviser, other_adviser):
    contact = services.contact_log(actor=adviser, channel="phone", reasons=["other"])
    assert web(other_adviser).get(f"/guidance/contacts/{contact.id}/").status_code == 404
    assert web(adviser).get(f"/guidance/contacts/{contact.id}/").status_code == 200


def test_log__role_without_log_permission__403(web, org, reasons):
    assert web(member(org, Role.MANAGER)).get("/guidance/").status_code == 403


def test_report__role_without_report_permission__403(web, counsellor):
    assert web(counsellor).get("/guidance/report/").status_code == 403
    # whatever the address holds: the form is not shown to whom the report is not
    assert web(counsellor).get("/guidance/report/?date_from=bogus").status_code == 403
    assert web(counsellor).get("/guidance/report/?format=xlsx").status_code == 403


def test_report__csv__reason_label_like_a_formula_kept_as_text(web, adviser, manager):
    # reasons are shared by every organisation and any administrator may add one: its label
    # must not run as a formula in the spreadsheet of whoever opens the export
    from koto.guidance.models import ReasonCode

    ReasonCode.objects.filter(code="benefits").update(label_fi='=HYPERLINK("https://x.invalid")')
    services.contact_log(actor=adviser, channel="phone", reasons=["benefits"])
    http = web(manager)
    http.cookies["django_language"] = "fi"
    response = http.get("/guidance/report/?date_from=2026-01-01&date_to=2026-03-31&format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["reason", "benefits", '\'=HYPERLINK("https://x.invalid")', "1", "0"] in rows


def test_log__known_clients_of_the_day__list_audited_naming_them(web, adviser):
    from koto.audit.models import AuditEvent, AuditListedClient

    known = make_client(adviser)
    services.contact_log(
        actor=adviser, channel="phone", reasons=["benefits"], client_identifier=known.hetu
    )
    services.contact_log(actor=adviser, channel="phone", reasons=["benefits"])  # anonymous
    assert web(adviser).get("/guidance/").status_code == 200
    event = AuditEvent.objects.filter(object_type="guidance_contact_list").latest("id")
    assert event.changes["clients"] == 1
    listed = AuditListedClient.objects.filter(event_id=event.id).values_list("client_id", flat=True)
    assert list(listed) == [known.id]


def test_detail__reason_retired_since__label_not_code(web, adviser):
    from koto.guidance.models import ReasonCode

    contact = services.contact_log(actor=adviser, channel="phone", reasons=["benefits"])
    ReasonCode.objects.filter(code="benefits").update(active=False)
    http = web(adviser)
    http.cookies["django_language"] = "en"
    page = http.get(f"/guidance/contacts/{contact.id}/").content.decode()
    label = ReasonCode.objects.get(code="benefits").label("en")
    assert label != "benefits" and label in page


def test_log__more_contacts_today_than_listed__heading_counts_them_all(web, adviser):
    # the heading counted the rows shown: "(20)" for a day of 23 contacts
    for _ in range(23):
        services.contact_log(actor=adviser, channel="walk_in", reasons=["job_search"])
    page = web(adviser).get("/guidance/")
    assert page.context["today_count"] == 23 and len(page.context["contacts"]) == 20
    assert (
        "(23)</h2>" in page.content.decode() and "The latest 20 are shown." in page.content.decode()
    )
