"""Actual-cost claims: services, pages and API, and who sees what."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from koto.audit.models import AuditEvent, AuditListedClient
from koto.clients.models import Meeting
from koto.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from koto.core.roles import Role
from koto.funding import selectors, services
from koto.funding.models import Claim, ClaimStatus
from tests.factories import make_client, member

D = dt.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(finance):
    return services.claim_create(
        actor=finance, section="65", period_start=D(2026, 1, 1), period_end=D(2026, 6, 30)
    )


def test_gather_interpreting__meeting_on_another_claim__not_claimed_twice(
    claim, finance, counsellor, person
):
    client = person(kotikunta_on=D(2026, 1, 1))
    Meeting.objects.create(client=client, organisation=claim.organisation, counsellor=counsellor,
                           held_on=D(2026, 2, 3), purpose="Plan", interpreter_language="ar",
                           interpreter_mode="on_site", interpreter_cost=Decimal("84.50"))  # fmt: skip
    assert services.claim_gather_interpreting(actor=finance, claim=claim) == 1
    whole_year = services.claim_create(
        actor=finance, section="65", period_start=D(2026, 1, 1), period_end=D(2026, 12, 31)
    )
    assert services.claim_gather_interpreting(actor=finance, claim=whole_year) == 0


def test_claim_flow__draft_submitted_decided_paid(claim, finance, decider, counsellor, person):
    client = person(kotikunta_on=D(2026, 1, 1))
    Meeting.objects.create(client=client, organisation=claim.organisation, counsellor=counsellor,
                           held_on=D(2026, 2, 3), purpose="Plan", interpreter_language="ar",
                           interpreter_mode="on_site", interpreter_cost=Decimal("84.50"))  # fmt: skip
    Meeting.objects.create(client=client, organisation=claim.organisation, counsellor=counsellor,
                           held_on=D(2026, 8, 3), purpose="Later", interpreter_cost=Decimal("9"))  # fmt: skip
    services.claim_line_add(
        actor=finance,
        claim=claim,
        description="Therapy",
        amount="1200.00",
        occurred_on=D(2026, 3, 1),
    )
    assert services.claim_gather_interpreting(actor=finance, claim=claim) == 1
    assert services.claim_gather_interpreting(actor=finance, claim=claim) == 0
    assert services.claim_total(claim) == Decimal("1284.50")
    services.claim_submit(actor=finance, claim=claim, submitted_on=D(2026, 7, 1))
    with pytest.raises(DomainError) as e:
        services.claim_line_add(
            actor=finance, claim=claim, description="x", amount="1", occurred_on=D(2026, 3, 1)
        )
    assert e.value.code == "claim_not_draft"
    with pytest.raises(PermissionDenied):
        services.claim_decide(actor=finance, claim=claim, approved_amount="1")
    with pytest.raises(DomainError) as e:
        services.claim_decide(actor=decider, claim=claim, approved_amount="2000")
    assert e.value.fields == {
        "approved_amount": ["The approved amount cannot exceed the amount claimed."]
    }
    services.claim_decide(
        actor=decider, claim=claim, approved_amount="1000", decided_on=D(2026, 8, 1)
    )
    services.claim_mark_paid(actor=finance, claim=claim, paid_on=D(2026, 9, 1))
    claim.refresh_from_db()
    assert (claim.status, claim.approved_amount, claim.decided_by) == (
        ClaimStatus.PAID, Decimal("1000.00"), decider
    )  # fmt: skip
    csv_text = selectors.claim_export_csv(user=finance, claim=claim)
    assert csv_text.splitlines()[0].startswith("claim_id;section;claimant_code")
    assert csv_text.count("\n") == 3
    # the interpreting line names the client: its gathering onto the claim, the export and
    # the claim's page are in the client's audit trail
    selectors.claim_lines_for(user=decider, claim=claim)
    named = AuditEvent.objects.filter(
        id__in=AuditListedClient.objects.filter(client_id=client.id).values("event_id")
    )
    assert sorted((e.action, e.actor_id) for e in named) == sorted(
        [("update", finance.id), ("export", finance.id), ("read", decider.id)]
    )


def test_claim_submit__empty_refused(claim, finance):
    with pytest.raises(DomainError) as e:
        services.claim_submit(actor=finance, claim=claim)
    assert e.value.code == "claim_empty"


def test_claim_get_for__other_organisation_and_other_authority_404(claim, outsider, other_org):
    other_decider = member(other_org, Role.PLACEMENT_OFFICER, username="otherdecider")
    for user in (outsider, other_decider, member(claim.organisation, Role.INTEGRATION_COUNSELLOR)):
        with pytest.raises(NotFound):
            selectors.claim_get_for(user=user, claim_id=claim.id)
        assert list(selectors.claim_list_for(user=user)) == []


def test_claim_pages__journey_in_views(web, claim, finance, decider):
    c = web(finance)
    assert c.get("/funding/claims/").status_code == 200
    r = c.post(
        f"/funding/claims/{claim.id}/add-line/",
        {"description": "Rent", "amount": "500", "occurred_on": "2026-03-01"},
    )
    assert r.status_code == 302
    f = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4", content_type="application/pdf")
    assert c.post(f"/funding/claims/{claim.id}/attach/", {"file": f}).status_code == 302
    assert c.post(f"/funding/claims/{claim.id}/submit/").status_code == 302
    page = c.get(f"/funding/claims/{claim.id}/")
    assert b"receipt.pdf" in page.content
    c = web(decider)
    r = c.post(f"/funding/claims/{claim.id}/decide/",
               {"approved_amount": "900", "decided_on": "2026-11-20", "note": ""})  # fmt: skip
    assert r.status_code == 422
    # the title says first that a form was refused (the decision form, not one named "form")
    assert b"<title>Error: " in r.content
    # the page given again keeps the section's links the decider may open
    assert r.context["nav"] == {
        "overview": True, "report": False, "reconcile": False, "claims": True,
    }  # fmt: skip
    assert b'href="/funding/claims/"' in r.content
    r = c.post(f"/funding/claims/{claim.id}/decide/",
               {"approved_amount": "400", "decided_on": "2026-11-29", "note": "ok"})  # fmt: skip
    assert r.status_code == 302
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DECIDED
    assert c.get(f"/funding/claims/{claim.id}/export.csv").status_code == 200


def test_attachment_download__name_with_quote_and_semicolon__header_quoted(web, claim, finance):
    from koto.funding.models import ClaimAttachment

    c = web(finance)
    f = SimpleUploadedFile('kuitti "1"; x.pdf', b"%PDF-1.4", content_type="application/pdf")
    assert c.post(f"/funding/claims/{claim.id}/attach/", {"file": f}).status_code == 302
    att = ClaimAttachment.objects.get(claim=claim)
    r = c.get(f"/funding/claims/{claim.id}/attachments/{att.id}/")
    assert r.status_code == 200
    assert r["Content-Disposition"] == 'attachment; filename="kuitti \\"1\\"; x.pdf"'


def test_claim_pages__outsider_404_anonymous_redirect(client, web, claim, outsider):
    assert client.get(f"/funding/claims/{claim.id}/").status_code == 302
    c = web(outsider)
    assert c.get(f"/funding/claims/{claim.id}/").status_code == 404
    assert c.post(f"/funding/claims/{claim.id}/submit/").status_code == 404
    assert c.get(f"/funding/claims/{claim.id}/export.csv").status_code == 404
    assert c.get("/funding/").status_code == 404


def test_overview__finance_officer_sees_months(web, finance, person):
    person(kotikunta_on=D(2026, 10, 1))
    r = web(finance).get("/funding/")
    assert r.status_code == 200
    assert r.context["months"][9].amount == Decimal("162.92")
    assert b"Unconfirmed amounts." in r.content or b"unconfirmed" in r.content.lower()
    assert web(finance).get("/funding/report/?year=2026").status_code == 200


def test_overview__live_other_than_1__400_naming_live(web, finance):
    assert web(finance).get("/funding/?live=1").status_code == 200
    response = web(finance).get("/funding/?live=yes")
    assert response.status_code == 400
    assert "<code>live</code>" in response.content.decode()


def test_api__claims_and_compensation(web, finance, decider, outsider):
    c = web(finance)
    r = c.post("/api/v1/funding/claims", json.dumps({"section": "69", "period_start": "2026-01-01",
               "period_end": "2026-03-31"}), content_type="application/json")  # fmt: skip
    assert r.status_code == 201
    cid = r.json()["id"]
    r = c.post(f"/api/v1/funding/claims/{cid}/lines",
               json.dumps({"description": "Family group home", "amount": "3000.00",
                           "occurred_on": "2026-02-01"}),
               content_type="application/json")  # fmt: skip
    assert r.json()["claimed"] == "3000.00"
    assert c.post(f"/api/v1/funding/claims/{cid}/submit").json()["status"] == "submitted"
    r = web(decider).post(f"/api/v1/funding/claims/{cid}/decide",
                          json.dumps({"approved_amount": "2500", "decided_on": "2026-11-29"}),
                          content_type="application/json")  # fmt: skip
    assert r.json()["approved_amount"] == "2500.00"
    assert web(outsider).get(f"/api/v1/funding/claims/{cid}").status_code == 404
    r = web(finance).get("/api/v1/funding/compensation?year=2026")
    assert r.status_code == 200
    assert len(r.json()["months"]) == 12
    assert r.json()["unconfirmed"] is True
    assert web(outsider).get("/api/v1/funding/compensation?year=2026").status_code == 404


def test_claims_page__next_page_link__every_claim_once(web, finance):
    # given more claims than a page holds
    for i in range(53):
        start = dt.date(2026, 1 + i // 5 % 12, 1)
        services.claim_create(
            actor=finance, section="65", period_start=start, period_end=start + dt.timedelta(27)
        )
    http = web(finance)
    # when the claims page is read and its "Next page" followed
    first = http.get("/funding/claims/")
    page = first.context["page"]
    assert "?cursor=" in first.content.decode()
    rest = http.get("/funding/claims/", {"cursor": page.next_cursor}).context["page"]
    # then every claim comes once, latest period first
    expected = list(Claim.objects.order_by("-period_start", "-id").values_list("id", flat=True))
    assert [c.id for c in page.items + rest.items] == expected
    assert (len(page.items), rest.next_cursor) == (50, None)
    assert http.get("/funding/claims/", {"cursor": "bad"}).status_code == 200


def test_claims_page__queries_constant(web, finance):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert http.get("/funding/claims/").status_code == 200
        return len(ctx.captured_queries)

    http = web(finance)
    services.claim_create(actor=finance, section="65", period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 1, 28))  # fmt: skip
    few = count()
    for month in range(2, 7):
        start = dt.date(2026, month, 1)
        services.claim_create(actor=finance, section="65", period_start=start, period_end=start + dt.timedelta(27))  # fmt: skip
    assert count() == few


@pytest.mark.parametrize("line_id", ["abc", "%C2%B2", "", "0"])
def test_claim_remove_line__an_id_that_is_not_one__said_and_nothing_removed(
    web, claim, finance, line_id
):
    services.claim_line_add(
        actor=finance,
        claim=claim,
        description="Rent",
        amount=Decimal("500"),
        occurred_on=D(2026, 3, 1),
    )
    http = web(finance)
    response = http.post(f"/funding/claims/{claim.id}/remove-line/", {"line_id": line_id})
    assert response.status_code == 302  # back to the claim, which says so (as for a line gone)
    assert claim.lines.count() == 1
    assert "Not found" in http.get(response.url).content.decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [("year=2022", "year"), ("year=2101", "year"), ("year=99999999999999999999", "year"),
     ("year=2026&quarter=5", "quarter"), ("year=2026&month=13", "month"),
     ("year=2026&quarter=1&month=7", "month")],
)  # fmt: skip
def test_api_compensation__out_of_range_422_naming_the_field(web, finance, query, field):
    response = web(finance).get(f"/api/v1/funding/compensation?{query}")
    assert response.status_code == 422
    assert list(response.json()["fields"]) == [field]


@pytest.mark.parametrize("amount", ["10000000000.00", "99999999999999.99", 10**20])
def test_claim_line__amount_beyond_the_column__refused_naming_it(claim, finance, amount):
    # PostgreSQL's numeric(12, 2) overflowed into a 500
    with pytest.raises(ValidationFailed) as e:
        services.claim_line_add(
            actor=finance, claim=claim, description="Rent", amount=amount, occurred_on=D(2026, 3, 1)
        )
    assert list(e.value.fields) == ["amount"]
    services.claim_line_add(
        actor=finance, claim=claim, description="Rent", amount="9999999999.99",
        occurred_on=D(2026, 3, 1),
    )  # fmt: skip


def test_claim__a_request_holding_an_older_copy__checks_the_state_stored(claim, finance, decider):
    """Two requests on one claim: each locks the row and reads its state again, so the
    second does not add a line to a submitted claim or decide a decided one."""
    services.claim_line_add(
        actor=finance, claim=claim, description="Rent", amount="500", occurred_on=D(2026, 3, 1)
    )
    adding = Claim.objects.get(pk=claim.pk)
    services.claim_submit(actor=finance, claim=claim, submitted_on=D(2026, 7, 1))
    with pytest.raises(DomainError) as e:
        services.claim_line_add(
            actor=finance, claim=adding, description="Late", amount="1", occurred_on=D(2026, 3, 1)
        )
    assert e.value.code == "claim_not_draft"
    deciding = Claim.objects.get(pk=claim.pk)
    deciding_again = Claim.objects.get(pk=claim.pk)
    services.claim_decide(
        actor=decider, claim=deciding, approved_amount="400", decided_on=D(2026, 8, 1)
    )
    with pytest.raises(DomainError) as e:
        services.claim_decide(actor=decider, claim=deciding_again, approved_amount="500")
    assert e.value.code == "claim_not_submitted"
    claim.refresh_from_db()
    assert (claim.approved_amount, claim.lines.count()) == (Decimal("400.00"), 1)


@pytest.mark.parametrize("amount", ["84.505", "0.125", "1.001"])
def test_claim_line__third_decimal__refused_not_rounded(claim, finance, amount):
    with pytest.raises(ValidationFailed) as e:
        services.claim_line_add(
            actor=finance, claim=claim, description="x", amount=amount, occurred_on=D(2026, 3, 1)
        )
    assert list(e.value.fields) == ["amount"]


@pytest.mark.parametrize("occurred_on", [D(2025, 11, 3), D(2026, 7, 1)])
def test_claim_line__outside_the_period__refused_naming_occurred_on(claim, finance, occurred_on):
    with pytest.raises(ValidationFailed) as e:
        services.claim_line_add(
            actor=finance, claim=claim, description="x", amount="1", occurred_on=occurred_on
        )
    assert list(e.value.fields) == ["occurred_on"]


def test_api_claim_line__description_too_long__422_naming_it(web, claim, finance):
    r = web(finance).post(
        f"/api/v1/funding/claims/{claim.id}/lines",
        json.dumps({"description": "x" * 301, "amount": "1.00", "occurred_on": "2026-03-01"}),
        content_type="application/json",
    )  # fmt: skip
    assert r.status_code == 422
    assert "description" in r.content.decode()  # the field the error names
    assert claim.lines.count() == 0


def test_claim_decide_and_pay__future_date__refused_naming_it(claim, finance, decider):
    from koto.core import clock

    with clock.frozen(D(2026, 8, 3)):
        services.claim_line_add(
            actor=finance, claim=claim, description="x", amount="1", occurred_on=D(2026, 3, 1)
        )
        services.claim_submit(actor=finance, claim=claim, submitted_on=D(2026, 7, 1))
        with pytest.raises(ValidationFailed) as e:
            services.claim_decide(
                actor=decider, claim=claim, approved_amount="1", decided_on=D(2062, 8, 1)
            )
        assert list(e.value.fields) == ["decided_on"]
        services.claim_decide(actor=decider, claim=claim, approved_amount="1")
        with pytest.raises(ValidationFailed) as e:
            services.claim_mark_paid(actor=finance, claim=claim, paid_on=D(2026, 8, 4))
        assert list(e.value.fields) == ["paid_on"]


def test_compensation_rate_admin__change_audited__placeholder_source_not_confirmed(client):
    from django.urls import reverse

    from koto.funding.models import UNCONFIRMED_SOURCE, CompensationRate
    from tests.factories import UserFactory

    rate = CompensationRate.objects.get(year=2025, recipient="municipality", age_band="under_7")
    before = rate.annual_amount
    assert rate.source == UNCONFIRMED_SOURCE and not rate.confirmed  # as the migration seeds it
    staff = UserFactory(is_staff=True, is_superuser=True, username="yllapito")
    staff.set_password("Test-password-2026")
    staff.save()
    client.post("/admin/login/", {"username": "yllapito", "password": "Test-password-2026"})
    url = reverse("admin:funding_compensationrate_change", args=[rate.pk])
    data = {"year": 2025, "recipient": "municipality", "age_band": "under_7",
            "annual_amount": "6600.00", "source": UNCONFIRMED_SOURCE, "confirmed": "on"}  # fmt: skip
    assert client.post(url, data).status_code == 200  # the form again, naming the source
    rate.refresh_from_db()
    assert (rate.annual_amount, rate.confirmed) == (before, False)
    assert client.post(url, {**data, "source": "VNA 1234/2024"}).status_code == 302
    event = AuditEvent.objects.get(object_type="compensation_rate")
    assert (event.actor_id, event.action, event.reason) == (staff.id, "update", "admin")
    assert event.changes["annual_amount"] == [str(before), "6600.00"]
    assert event.changes["confirmed"] == [False, True]


def test_report_page__codes_shown_by_name_in_the_page_language(web, finance, person):
    person(kotikunta_on=D(2026, 10, 1))
    http = web(finance)
    http.cookies["django_language"] = "en"
    page = http.get("/funding/report/?year=2026").content.decode()
    assert "under 7 years" in page or "7 years or over" in page
    assert "7_or_over" not in page and "under_7" not in page
    assert "not confirmed — set by government decree" not in page  # the stored placeholder


def _meeting(claim, counsellor, client, held_on, cost="84.50"):
    return Meeting.objects.create(
        client=client, organisation=claim.organisation, counsellor=counsellor, held_on=held_on,
        purpose="Plan", interpreter_language="ar", interpreter_mode="on_site",
        interpreter_cost=Decimal(cost),
    )  # fmt: skip


def test_gather_interpreting__meeting_after_today__not_claimed(finance, counsellor, person):
    # given a 65 § claim for the whole year, on 29.11.2026, with a meeting held today and
    # one booked for December
    claim = services.claim_create(
        actor=finance, section="65", period_start=D(2026, 1, 1), period_end=D(2026, 12, 31)
    )
    client = person(kotikunta_on=D(2026, 1, 1))
    today = _meeting(claim, counsellor, client, D(2026, 11, 29))
    _meeting(claim, counsellor, client, D(2026, 12, 10))
    # when interpreting costs are gathered
    added = services.claim_gather_interpreting(actor=finance, claim=claim)
    # then only the meeting held is claimed
    assert added == 1
    assert list(claim.lines.values_list("meeting_id", flat=True)) == [today.id]


@pytest.mark.parametrize("section", ["64", "68", "69"])
def test_gather_interpreting__claim_of_another_section__refused_naming_section(
    finance, counsellor, person, section
):
    claim = services.claim_create(
        actor=finance, section=section, period_start=D(2026, 1, 1), period_end=D(2026, 6, 30)
    )
    _meeting(claim, counsellor, person(kotikunta_on=D(2026, 1, 1)), D(2026, 2, 3))
    with pytest.raises(DomainError) as e:
        services.claim_gather_interpreting(actor=finance, claim=claim)
    assert e.value.code == "claim_section_not_65"
    assert e.value.fields == {
        "section": ["Interpreting costs are claimed on a 65 § (special costs) claim."]
    }
    assert claim.lines.count() == 0


def test_gather_interpreting__other_section__page_and_api_say_why(web, finance):
    claim = services.claim_create(
        actor=finance, section="69", period_start=D(2026, 1, 1), period_end=D(2026, 6, 30)
    )
    http = web(finance)
    assert (
        "Gather interpreting costs" not in http.get(f"/funding/claims/{claim.id}/").content.decode()
    )
    r = http.post(f"/funding/claims/{claim.id}/gather-interpreting/", follow=True)
    assert "Interpreting costs are claimed on a 65 § (special costs) claim." in r.content.decode()
    r = http.post(f"/api/v1/funding/claims/{claim.id}/gather-interpreting")
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["section"]


def test_gather_interpreting__period_from_2025__warned_not_refused(
    web, claim, finance, counsellor, person
):
    # given a 65 § claim of 2026 with a meeting with interpreting
    _meeting(claim, counsellor, person(kotikunta_on=D(2026, 1, 1)), D(2026, 2, 3))
    http = web(finance)
    page = http.get(f"/funding/claims/{claim.id}/").content.decode()
    assert "From 2025 interpreting is among the costs the calculated compensation" in page
    # when the costs are gathered on the page
    r = http.post(f"/funding/claims/{claim.id}/gather-interpreting/", follow=True)
    # then they are added, and the warning is said
    text = r.content.decode()
    assert "Interpreting costs added: 1 lines." in text
    assert text.count("From 2025 interpreting is among the costs") == 2  # message and note
    assert claim.lines.count() == 1
    r = http.post(f"/api/v1/funding/claims/{claim.id}/gather-interpreting")
    assert r.json()["added"] == 0
    assert r.json()["warning"].startswith("From 2025 interpreting is among the costs")


def test_interpreting_warning__period_before_2025__none(finance):
    old = services.claim_create(
        actor=finance, section="65", period_start=D(2024, 1, 1), period_end=D(2024, 12, 31)
    )
    reaching = services.claim_create(
        actor=finance, section="65", period_start=D(2024, 7, 1), period_end=D(2025, 6, 30)
    )
    assert services.interpreting_warning(old) is None
    assert services.interpreting_warning(reaching) is not None


def test_gather_and_remove_line__clients_on_their_audit_pages(claim, finance, counsellor, person):
    # given a meeting with interpreting gathered onto a claim
    client = person(kotikunta_on=D(2026, 1, 1))
    _meeting(claim, counsellor, client, D(2026, 2, 3))
    services.claim_gather_interpreting(actor=finance, claim=claim)
    line = claim.lines.get()
    # when the line is removed again
    services.claim_line_remove(actor=finance, claim=claim, line_id=line.id)
    # then both writes name the client: on the client's audit page
    named = AuditEvent.objects.filter(
        id__in=AuditListedClient.objects.filter(client_id=client.id).values("event_id")
    ).order_by("id")
    assert [(e.object_type, e.action) for e in named] == [
        ("funding_claim", "update"), ("funding_claim", "update")
    ]  # fmt: skip
    assert named[0].changes["interpreting_lines_added"] == 1
    assert named[1].changes["line_removed"] == line.id
    # a line naming nobody lists nobody
    services.claim_line_add(
        actor=finance, claim=claim, description="Rent", amount="5", occurred_on=D(2026, 3, 1)
    )
    event = AuditEvent.objects.filter(object_type="funding_claim").latest("id")
    assert "listed_clients" not in event.changes


def test_claim_export__client_with_a_temporary_id_only__named_by_it(claim, finance, counsellor):
    # given an interpreting line for a client with no identity code
    client = make_client(counsellor, hetu=None)
    assert client.hetu is None and client.temporary_id
    _meeting(claim, counsellor, client, D(2026, 2, 3))
    services.claim_gather_interpreting(actor=finance, claim=claim)
    # when the claim is exported
    rows = selectors.claim_export_csv(user=finance, claim=claim).splitlines()
    # then the line names the client by the temporary id
    assert rows[1].split(";")[-1] == client.temporary_id


def test_claim_line__no_date__refused_naming_occurred_on(claim, finance, web):
    with pytest.raises(ValidationFailed) as e:
        services.claim_line_add(
            actor=finance, claim=claim, description="Rent", amount="5", occurred_on=None
        )
    assert e.value.fields == {"occurred_on": ["Give the date of the cost."]}
    http = web(finance)
    r = http.post(f"/funding/claims/{claim.id}/add-line/", {"description": "Rent", "amount": "5"})
    assert r.status_code == 422
    assert list(r.context["line_form"].errors) == ["occurred_on"]
    assert "Check the highlighted fields." in r.content.decode()  # the form's error summary
    r = http.post(
        f"/api/v1/funding/claims/{claim.id}/lines",
        json.dumps({"description": "Rent", "amount": "5.00"}), content_type="application/json",
    )  # fmt: skip
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["occurred_on"]
    assert claim.lines.count() == 0


def test_claim_add_line__claim_submitted_in_another_tab__message_shown(claim, finance, web):
    # given the claim's page open in two tabs, and the claim submitted in one
    services.claim_line_add(
        actor=finance, claim=claim, description="Rent", amount="5", occurred_on=D(2026, 3, 1)
    )
    services.claim_submit(actor=finance, claim=claim)
    http = web(finance)
    # when a cost is added in the other
    r = http.post(
        f"/funding/claims/{claim.id}/add-line/",
        {"description": "Late", "amount": "1", "occurred_on": "2026-03-02"},
    )
    # then the page says why nothing was added
    assert r.status_code == 422
    assert "Only a draft claim can be changed." in r.content.decode()
    # and an empty form sent there says the claim changed, not a field no longer shown
    r = http.post(f"/funding/claims/{claim.id}/add-line/", {"description": "", "amount": ""})
    assert r.status_code == 422
    assert "The claim is now “Submitted”: nothing was saved." in r.content.decode()
    assert claim.lines.count() == 1


def test_claim_decide__decided_in_another_tab__message_shown(claim, finance, decider, web):
    services.claim_line_add(
        actor=finance, claim=claim, description="Rent", amount="5", occurred_on=D(2026, 3, 1)
    )
    services.claim_submit(actor=finance, claim=claim)
    services.claim_decide(actor=decider, claim=claim, approved_amount="5")
    r = web(decider).post(
        f"/funding/claims/{claim.id}/decide/",
        {"approved_amount": "4", "decided_on": "2026-11-29", "note": ""},
    )
    assert r.status_code == 422
    assert "Only a submitted claim can be decided." in r.content.decode()


@pytest.mark.parametrize("live", [True, False])
def test_report_page__organisation_names_in_the_page_language(web, finance, person, lahti, live):
    from koto.core import clock
    from koto.funding.compensation import Span, compensation_report

    # given Lahti's names in three languages, the figures computed now or stored
    lahti.name_fi, lahti.name_sv, lahti.name_en = "Lahti", "Lahtis", "Lahti city"
    lahti.save()
    person(kotikunta_on=D(2026, 10, 1))
    if not live:
        report = compensation_report(span=Span.of(2026), per_month=True)
        services.expected_months_store(
            report=report, year=2026, organisation_ids=None, computed_at=clock.now()
        )
    http = web(finance)
    query = "/funding/report/?year=2026" + ("&live=1" if live else "")
    for language, name in (("sv", "Lahtis"), ("en", "Lahti city"), ("fi", "Lahti")):
        # when the report is read in that language
        http.cookies["django_language"] = language
        r = http.get(query)
        # then the organisation is named in it
        assert [row.name for row in r.context["report"].rows] == [name]
        assert (r.context["report"].computed_at is None) is live
