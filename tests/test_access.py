"""Who sees a client: responsible organisation, agreement, access grant, break-glass;
everyone else gets 404 on every client URL and API path."""

import datetime as dt
import json

import pytest
from django.urls import get_resolver, reverse
from django.utils.http import urlencode

from koto.api.urls import api
from koto.audit.models import AuditEvent
from koto.clients import selectors, services
from koto.clients.models import AccessGrant
from koto.core.errors import NotFound
from koto.core.roles import Role
from koto.organisations.models import AgreementScope, ServiceAgreement
from tests.factories import OrganisationFactory, make_client, member

OWNED = ("client_id", "plan_id", "assessment_id", "enrolment_id")


def client_urls() -> dict[str, list[str]]:
    """Every page about a client's records: URL name -> its path parameter names."""
    found = {}
    for pattern in get_resolver().url_patterns:
        ns = getattr(pattern, "namespace", None)
        if ns in ("clients", "plans", "assessments", "offerings"):
            for p in pattern.url_patterns:
                params = list(p.pattern.converters)
                if any(k in params for k in OWNED):
                    found[f"{ns}:{p.name}"] = params
    return found


def client_url_names() -> list[str]:
    return sorted(client_urls())


@pytest.fixture
def records(counsellor):
    """A Lahti client with an assessment and a draft plan."""
    from koto.assessments.services import assessment_start, measure_add
    from koto.offerings.services import enrolment_create, service_create
    from koto.plans.services import plan_create

    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2025, 1, 1))
    c.access = "full"
    a = assessment_start(actor=counsellor, client=c, trigger="intake")
    m = measure_add(actor=counsellor, assessment=a, kind="other", description="Työkokeilu")
    p = plan_create(actor=counsellor, client=c)
    org = counsellor.active_membership.organisation
    service = service_create(
        actor=member(org, Role.MANAGER),
        data={"kind": "other", "theme": "participation", "name_fi": "Työpaja", "capacity": 5},
    )
    e = enrolment_create(actor=counsellor, client=c, service=service)
    return {
        "client_id": c.id,
        "assessment_id": a.id,
        "measure_id": m.id,
        "plan_id": p.id,
        "enrolment_id": e.id,
        "service_id": service.id,
        "operation": "accept",
    }


def url_for(name: str, ids: dict) -> str:
    return reverse(name, kwargs={k: ids.get(k, 1) for k in client_urls()[name]})


def api_client_paths() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    out = []
    for path, ops in schema["paths"].items():
        if any(f"{{{k}}}" in path for k in OWNED):
            for method in ops:
                out.append((method, path))
    return out


# A valid body for each write, so the answer is about access, not about the body's shape.
EXAMPLE_BODIES = {
    "/api/v1/clients/{client_id}": {"version": 1},
    "/api/v1/clients/{client_id}/counsellor": {"counsellor": None, "version": 1},
    "/api/v1/clients/{client_id}/assessments": {"trigger": "intake"},
    "/api/v1/clients/{client_id}/meetings": {"held_on": "2025-01-01", "purpose": "x"},
    "/api/v1/assessments/{assessment_id}/complete": {"plan_needed": True},
    "/api/v1/assessments/{assessment_id}/measures": {"kind": "other", "description": "x"},
    "/api/v1/assessments/{assessment_id}/measures/{measure_id}/result": {
        "done_on": "2025-01-01",
        "result": "x",
    },
    "/api/v1/plans/{plan_id}/goals": {"area": "work", "description": "x"},
    "/api/v1/plans/{plan_id}/goals/{goal_id}/actions": {"what": "x", "responsible": "client"},
    "/api/v1/plans/{plan_id}/actions/{action_id}/done": {"done_on": "2025-01-01"},
    "/api/v1/plans/{plan_id}/acknowledge": {"acknowledged_on": "2025-01-01", "method": "oral"},
    "/api/v1/plans/{plan_id}/extend": {"months": 1, "reason": "illness", "reason_note": "x"},
    "/api/v1/plans/{plan_id}/reviews": {"reviewed_on": "2025-01-01", "notes": "x"},
    "/api/v1/plans/{plan_id}/end": {"ended_on": "2025-01-01", "outcome": "other"},
    "/api/v1/services/enrolments/{enrolment_id}/attendance": {"on": "2025-01-01", "hours": 1},
    "/api/v1/services/clients/{client_id}/language-results": {
        "taken_on": "2025-01-01",
        "results": [{"language": "fi", "skill": "speaking", "level": "A1.1"}],
    },
}


def api_url(path: str, ids: dict) -> str:
    for k in (
        "client_id",
        "plan_id",
        "assessment_id",
        "goal_id",
        "action_id",
        "measure_id",
        "pdf_id",
        "enrolment_id",
        "operation",
    ):
        path = path.replace(f"{{{k}}}", str(ids.get(k, 1)))
    return path


def test_client_urls_are_enumerated():
    assert {
        "clients:detail",
        "clients:edit",
        "clients:audit",
        "plans:detail",
        "assessments:detail",
    } <= set(client_url_names())
    assert ("get", "/api/v1/clients/{client_id}") in api_client_paths()


@pytest.mark.parametrize("name", client_url_names())
def test_client_page__other_organisation__404(web, records, outsider, name):
    # given a client of Lahti with an assessment and a plan
    # when a Tampere counsellor opens any page about them
    response = web(outsider).get(url_for(name, records))
    # then
    if name == "clients:break_glass":
        assert response.status_code == 200  # the emergency form itself reveals nothing
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(("method", "path"), api_client_paths())
def test_client_api__other_organisation__404(web, records, outsider, method, path):
    http = web(outsider)
    url = api_url(path, records)
    body = json.dumps(EXAMPLE_BODIES.get(path, {}))
    response = (
        getattr(http, method)(url, data=body, content_type="application/json")
        if method != "get"
        else http.get(url)
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("name", client_url_names())
def test_client_page__anonymous__redirects_to_login(client, records, name):
    response = client.get(url_for(name, records))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize(("method", "path"), api_client_paths())
def test_client_api__anonymous__401(client, records, method, path):
    url = api_url(path, records)
    response = getattr(client, method)(url, content_type="application/json")
    assert response.status_code == 401


def test_search__other_organisation__finds_nothing(counsellor, outsider):
    c = make_client(counsellor, last_name="Haddad")
    page = selectors.client_search_for(user=outsider, query="Haddad")
    assert page.items == []
    page = selectors.client_search_for(user=outsider, query=c.hetu)
    assert page.items == []
    # the code searched is kept masked in the (uneditable) audit trail, found or not
    event = AuditEvent.objects.filter(object_type="client_search", actor=outsider).latest("id")
    assert event.changes["query"] == c.hetu[:7] + "****"
    assert c.hetu not in str(event.changes)


@pytest.mark.parametrize(
    "typed",
    ["{d}\u2013{i}", "{d} - {i}", "{d}\u2010{i}", " {d}\u2212{i} ", "{d} {i}", "{d}{i}"],
)
def test_search__identity_code_typed_with_another_dash_or_spaces__found_and_masked(
    counsellor, typed
):
    """A code pasted with an en dash or typed with spaces found nothing (the counsellor then
    made a second record) and was kept in clear in the audit trail."""
    c = make_client(counsellor, birth_date=dt.date(1985, 3, 3))  # born in the 1900s: "-"
    query = typed.format(d=c.hetu[:6], i=c.hetu[7:])
    assert c.hetu[6] == "-"
    page = selectors.client_search_for(user=counsellor, query=query)
    assert [x.id for x in page.items] == [c.id]
    event = AuditEvent.objects.filter(object_type="client_search").latest("id")
    # the individual number is not kept beside the birth date (compared without the date,
    # whose digits may hold the same three by chance)
    assert c.hetu[:6] in event.changes["query"]
    assert c.hetu[7:10] not in event.changes["query"].replace(c.hetu[:6], "", 1)


def test_search_audit__identity_code_within_other_words__masked(counsellor):
    c = make_client(counsellor)
    selectors.client_search_for(user=counsellor, query=f"hetu {c.hetu[:6]} {c.hetu[7:]}")
    event = AuditEvent.objects.filter(object_type="client_search").latest("id")
    assert event.changes["query"] == f"hetu {c.hetu[:6]}****"


def test_visibility__service_agreement__producer_sees_purchaser_clients(org, counsellor):
    # given Hollola's client and an agreement: Lahti produces integration services for Hollola
    hollola = OrganisationFactory(code="098", name_fi="Hollola")
    hollola_worker = member(hollola, Role.INTEGRATION_COUNSELLOR)
    c = make_client(hollola_worker)
    ServiceAgreement.objects.create(
        producer=org,
        purchaser=hollola,
        scope=AgreementScope.INTEGRATION_SERVICES,
        valid_from=dt.date(2025, 1, 1),
    )
    # then Lahti's counsellor sees and may edit; Hollola does not see Lahti's clients
    seen = selectors.client_get_for(user=counsellor, client_id=c.id)
    assert seen.access == "full"
    lahti_client = make_client(counsellor)
    with pytest.raises(NotFound):
        selectors.client_get_for(user=hollola_worker, client_id=lahti_client.id)


def test_visibility__guidance_only_agreement__no_reach_over_the_purchasers_records(org):
    # an advice desk producing guidance for Hollola read and edited every Hollola client
    ngo = OrganisationFactory(code="ngo-neuvonta", name_fi="Neuvontayhdistys", kind="ngo")
    adviser = member(ngo, Role.GUIDANCE_ADVISER, username="desk")
    hollola = OrganisationFactory(code="098", name_fi="Hollola")
    c = make_client(member(hollola, Role.INTEGRATION_COUNSELLOR))
    ServiceAgreement.objects.create(
        producer=ngo,
        purchaser=hollola,
        scope=AgreementScope.GUIDANCE,
        valid_from=dt.date(2025, 1, 1),
    )
    from koto.accounts.selectors import active_membership_for

    adviser.active_membership = active_membership_for(user=adviser, membership_id=None)
    with pytest.raises(NotFound):
        selectors.client_get_for(user=adviser, client_id=c.id)


def test_visibility__expired_agreement__404(org, counsellor):
    hollola = OrganisationFactory(code="098")
    c = make_client(member(hollola))
    ServiceAgreement.objects.create(
        producer=org,
        purchaser=hollola,
        scope=AgreementScope.INTEGRATION_SERVICES,
        valid_from=dt.date(2020, 1, 1),
        valid_to=dt.date(2020, 12, 31),
    )
    with pytest.raises(NotFound):
        selectors.client_get_for(user=counsellor, client_id=c.id)


def test_visibility__read_grant__read_only(counsellor, outsider, other_org):
    c = make_client(counsellor)
    AccessGrant.objects.create(
        client=c,
        organisation=other_org,
        scope="read",
        source="referral",
        valid_from=dt.date(2020, 1, 1),
    )
    seen = selectors.client_get_for(user=outsider, client_id=c.id)
    assert seen.access == "read"
    with pytest.raises(services.PermissionDenied):
        services.client_update(actor=outsider, client=seen, data={"phone": "123"})


def test_break_glass__needs_reason_and_is_audited(counsellor, outsider):
    c = make_client(counsellor)
    with pytest.raises(services.ValidationFailed) as e:
        services.break_glass_open(actor=outsider, client_id=c.id, reason="short")
    assert "reason" in e.value.fields
    services.break_glass_open(
        actor=outsider, client_id=c.id, reason="Client at our office in acute crisis"
    )
    seen = selectors.client_get_for(user=outsider, client_id=c.id)
    assert seen.access == "read"
    opened = AuditEvent.objects.get(action="break_glass", client_id=c.id, actor=outsider)
    # the read through it says so: it was a read like any other
    read = AuditEvent.objects.filter(action="read", client_id=c.id, actor=outsider).latest("id")
    assert read.reason == f"view (break_glass:{seen.break_glass_id})"
    assert opened.id < read.id


def test_break_glass__held_by_the_membership_that_opened_it_not_by_the_user(
    counsellor, outsider, other_org
):
    """Opened as Tampere's counsellor: not usable as the same person's NGO guidance
    adviser, nor once the Tampere membership ended."""
    from koto.accounts.models import Membership

    c = make_client(counsellor)
    services.break_glass_open(
        actor=outsider, client_id=c.id, reason="Client at our office in acute crisis"
    )
    casework = outsider.active_membership
    ngo = OrganisationFactory(code="ngo-x", kind="ngo")
    outsider.active_membership = Membership.objects.create(
        user=outsider, organisation=ngo, role=Role.GUIDANCE_ADVISER
    )
    with pytest.raises(NotFound):
        selectors.client_get_for(user=outsider, client_id=c.id)
    # same organisation, a role without emergency access (read-only auditor)
    outsider.active_membership = Membership.objects.create(
        user=outsider, organisation=other_org, role=Role.AUDITOR
    )
    with pytest.raises(NotFound):
        selectors.client_get_for(user=outsider, client_id=c.id)
    outsider.active_membership = casework
    assert selectors.client_get_for(user=outsider, client_id=c.id).access == "read"


def test_break_glass__plan_and_assessment_reads_say_so(counsellor, outsider):
    from koto.assessments import selectors as assessment_selectors
    from koto.assessments.models import Assessment
    from koto.plans import selectors as plan_selectors
    from koto.plans.models import IntegrationPlan

    c = make_client(counsellor)
    plan = IntegrationPlan.objects.create(
        client=c, organisation=c.responsible_organisation, counsellor=counsellor,
        starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 12, 31),
    )  # fmt: skip
    assessment = Assessment.objects.create(
        client=c, organisation=c.responsible_organisation, counsellor=counsellor,
        started_on=dt.date(2026, 1, 1),
    )  # fmt: skip
    glass = services.break_glass_open(
        actor=outsider, client_id=c.id, reason="Client at our office in acute crisis"
    )
    plan_selectors.plan_get_for(user=outsider, plan_id=plan.id, purpose="document")
    assessment_selectors.assessment_get_for(user=outsider, assessment_id=assessment.id)
    reads = AuditEvent.objects.filter(action="read", actor=outsider).order_by("id")
    assert [(e.object_type, e.reason) for e in reads] == [
        ("plan", f"document (break_glass:{glass.id})"),
        ("assessment", f"view (break_glass:{glass.id})"),
    ]


def test_break_glass__view_flow(web, counsellor, outsider):
    c = make_client(counsellor)
    http = web(outsider)
    assert http.get(reverse("clients:detail", args=[c.id])).status_code == 404
    response = http.post(
        reverse("clients:break_glass", args=[c.id]),
        {"reason": "Acute situation at the service point"},
    )
    assert response.status_code == 302
    assert http.get(reverse("clients:detail", args=[c.id])).status_code == 200


def test_role_without_client_view__404(org, counsellor):
    admin = member(org, Role.ORG_ADMIN)
    c = make_client(counsellor)
    with pytest.raises(NotFound):
        selectors.client_get_for(user=admin, client_id=c.id)


def test_plan_and_assessment__welfare_region_with_full_grant__refused(counsellor):
    """The welfare region edits the record of a client it holds in full (a minor in its care)
    but takes part in the assessment and the plan: it does not make them."""
    from koto.assessments.services import assessment_start
    from koto.core.errors import PermissionDenied
    from koto.plans.services import plan_create

    region = OrganisationFactory(code="hva-test", kind="welfare_region")
    social = member(region, Role.SOCIAL_WORKER, username="region_social")
    c = make_client(counsellor)
    AccessGrant.objects.create(
        client=c, organisation=region, scope="full", source="placement",
        valid_from=dt.date(2026, 1, 1),
    )  # fmt: skip
    held = selectors.client_get_for(user=social, client_id=c.id)
    assert held.access == "full"
    with pytest.raises(PermissionDenied):
        plan_create(actor=social, client=held)
    with pytest.raises(PermissionDenied):
        assessment_start(actor=social, client=held, trigger="client_request")


def test_search_page__identity_code__kept_out_of_the_browser_history(web, counsellor):
    """The search form pushes its address into the history (a name search comes back with
    the Back button); an identity code stayed there in clear."""
    c = make_client(counsellor, birth_date=dt.date(1985, 3, 3), last_name="Haddad")
    http = web(counsellor)
    by_code = http.get("/clients/search/", {"q": c.hetu}, HTTP_HX_REQUEST="true")
    assert by_code.status_code == 200 and by_code["HX-Push-Url"] == "false"
    by_name = http.get("/clients/search/", {"q": c.last_name}, HTTP_HX_REQUEST="true")
    assert by_name["HX-Push-Url"] == f"/clients/search/?{urlencode({'q': c.last_name})}"


def test_search_page__posted__an_identity_code_is_in_no_address(web, counsellor):
    """The form is posted: a code searched was in the request's address (the proxy's log, a
    page without JavaScript kept it in the history); a name goes on to its results' address,
    which pages and bookmarks."""
    c = make_client(counsellor, birth_date=dt.date(1985, 3, 3), last_name="Tesfamariam")
    http = web(counsellor)
    page = http.get("/clients/search/").content.decode()
    assert 'method="post"' in page and 'hx-post="/clients/search/"' in page

    for headers in ({"HTTP_HX_REQUEST": "true"}, {}):
        by_code = http.post("/clients/search/", {"q": f" {c.hetu.lower()} "}, **headers)
        assert by_code.status_code == 200
        assert [x.id for x in by_code.context["page"].items] == [c.id]
        assert f"/clients/{c.id}/" in by_code.content.decode()
        assert c.hetu not in by_code.get("HX-Push-Url", "")
    assert by_code.context["page"] is not None  # the full page shows the results too

    by_name = http.post("/clients/search/", {"q": "Tesfamariam"}, HTTP_HX_REQUEST="true")
    assert by_name.status_code == 303
    assert by_name["Location"] == "/clients/search/?q=Tesfamariam"
    followed = http.get(by_name["Location"], HTTP_HX_REQUEST="true")
    assert [x.id for x in followed.context["page"].items] == [c.id]
    assert followed["HX-Push-Url"] == "/clients/search/?q=Tesfamariam"

    # the search of a code is audited as a search, the code masked
    event = AuditEvent.objects.filter(object_type="client_search").order_by("id").first()
    assert event.changes["listed_clients"] == [c.id]
    assert c.hetu not in str(event.changes) + event.reason


@pytest.mark.parametrize(
    "around", ["Tesfamariam {}", "{},", "hetu: {}", "{}\u200b", "{short}", "tmp-abc"]
)
def test_search_page__posted__a_code_among_other_words__in_no_address_either(
    web, counsellor, around
):
    """Only a query with no digit goes on to an address: a code among other words, with
    punctuation round it or its check character missing was sent on to `?q=` in clear."""
    c = make_client(counsellor, birth_date=dt.date(1985, 3, 3), last_name="Tesfamariam")
    query = around.format(c.hetu, short=c.hetu[:-1])
    http = web(counsellor)
    posted = http.post("/clients/search/", {"q": query}, HTTP_HX_REQUEST="true")
    assert posted.status_code == 200
    assert posted["HX-Push-Url"] == "false"
    got = http.get("/clients/search/", {"q": query}, HTTP_HX_REQUEST="true")
    assert got["HX-Push-Url"] == "false"


def test_search_page__posted__not_paged_by_an_address(web, counsellor):
    # a posted search has no address to page by: a next page's link would have lost the query
    for i in range(26):
        make_client(counsellor, last_name=f"Nimi1{chr(97 + i)}")
    http = web(counsellor)
    posted = http.post("/clients/search/", {"q": "nimi1"}, HTTP_HX_REQUEST="true")
    assert posted.context["page"].next_cursor
    assert "cursor=" not in posted.content.decode()
    got = http.get("/clients/search/", {"q": "nimi1"}, HTTP_HX_REQUEST="true")
    assert "q=nimi1&amp;cursor=" in got.content.decode()


def test_search_page__htmx_history_restore_and_ended_session(web, counsellor, client):
    http = web(counsellor)
    page = http.get("/clients/search/").content.decode()
    assert 'hx-history="false"' in page  # no copy of the results in the browser's storage
    assert "data-repeatable" in page and "data-failed=" in page
    restored = http.get("/clients/search/", {"q": "x"}, HTTP_HX_REQUEST="true",
                        HTTP_HX_HISTORY_RESTORE_REQUEST="true")  # fmt: skip
    assert "<header" in restored.content.decode()  # the whole page, not the results alone
    http.logout()
    ended = http.post("/clients/search/", {"q": "x"}, HTTP_HX_REQUEST="true")
    assert ended.status_code == 200
    assert ended["HX-Redirect"].startswith("/accounts/login/")
    plain = http.get("/clients/search/")
    assert plain.status_code == 302 and "HX-Redirect" not in plain


def test_search_page__posted__bad_or_empty_query(web, counsellor):
    http = web(counsellor)
    too_long = http.post("/clients/search/", {"q": "a" * 101}, HTTP_HX_REQUEST="true")
    assert too_long.status_code == 200
    assert too_long.context["page"] is None
    assert "at most 100" in too_long.content.decode()
    empty = http.post("/clients/search/", {"q": ""})
    assert empty.status_code == 200 and empty.context["page"] is None
    # the form is a write-protected post: without the CSRF token it is refused
    from django.test import Client as BrowserClient

    strict = BrowserClient(enforce_csrf_checks=True)
    strict.force_login(counsellor, backend="koto.accounts.backends.MembershipModelBackend")
    assert strict.post("/clients/search/", {"q": "x"}).status_code == 403


def test_responsibility_history__whose_client_the_client_was_when(org, counsellor, other_org):
    from koto.clients.models import ResponsibilityChange

    c = make_client(counsellor)
    assert selectors.responsibility_history(c) == [(None, None, org.id)]
    # Lahti → Tampere in March, back to Lahti in September (written as the hand-over does)
    march, september = (dt.datetime(2026, m, 1, 9, tzinfo=dt.UTC) for m in (3, 9))
    for i, (at, a, b) in enumerate(((march, org, other_org), (september, other_org, org))):
        ResponsibilityChange.objects.create(
            client=c, from_organisation=a, to_organisation=b, at=at, source_type="referral",
            source_id=i,
        )  # fmt: skip
    assert selectors.responsibility_history(c) == [
        (None, march, org.id),
        (march, september, other_org.id),
        (september, None, org.id),
    ]
