import base64
import json
from functools import partial

import pytest

from koto.clients.models import Client
from koto.core.roles import Role
from tests.factories import approved_token, client_data, make_client, member


def body(**kw):
    d = client_data(**kw)
    for k in ("birth_date", "first_permit_on"):
        if d.get(k):
            d[k] = d[k].isoformat()
    return d


def test_api_create__valid__201(web, counsellor):
    http = web(counsellor)
    response = http.post(
        "/api/v1/clients/", body(first_name="Rania"), content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["first_name"] == "Rania"
    assert response.json()["version"] == 1


def test_api_create__facts_valid_from__dates_the_situation(web, counsellor):
    """The API could not date the situation at all (unknown field): facts made by it
    started on the day of the call, and a later PATCH records only changes."""
    http = web(counsellor)
    data = body(unemployed_jobseeker=True)
    response = http.post(
        "/api/v1/clients/", {**data, "facts_valid_from": "2025-06-01"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201
    client = Client.objects.get(id=response.json()["id"])
    assert client.fact_changes.get(fact="unemployed_jobseeker").valid_from.isoformat() == (
        "2025-06-01"
    )
    response = http.post(
        "/api/v1/clients/", {**body(unemployed_jobseeker=True), "facts_valid_from": "2099-01-01"},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["facts_valid_from"]


def test_api_create__bad_input__422_names_fields(web, counsellor):
    response = web(counsellor).post(
        "/api/v1/clients/", body(citizenship="XX", hetu="nope"), content_type="application/json"
    )
    assert response.status_code == 422
    payload = response.json()
    assert payload["code"] == "validation_error"
    assert set(payload["fields"]) == {"citizenship", "hetu"}


def test_api_create__wrong_type__422_names_field(web, counsellor):
    response = web(counsellor).post(
        "/api/v1/clients/", {**body(), "birth_date": "yesterday"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["birth_date"]


def test_api_update__version_conflict__409(web, counsellor):
    c = make_client(counsellor)
    http = web(counsellor)
    assert (
        http.patch(
            f"/api/v1/clients/{c.id}", {"phone": "1", "version": 1}, content_type="application/json"
        ).status_code
        == 200
    )
    response = http.patch(
        f"/api/v1/clients/{c.id}", {"phone": "2", "version": 1}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "edit_conflict"


def test_api_search__keyset(web, counsellor):
    for i in range(5):
        make_client(counsellor, last_name=f"Korhonen{i}")
    http = web(counsellor)
    first = http.get("/api/v1/clients/?q=korhonen&limit=2").json()
    assert len(first["items"]) == 2
    second = http.get(f"/api/v1/clients/?q=korhonen&limit=2&cursor={first['next_cursor']}").json()
    assert {c["id"] for c in first["items"]}.isdisjoint({c["id"] for c in second["items"]})


def test_api_search__posted__the_query_in_the_body(web, counsellor):
    """`POST /api/v1/clients/search`: an identity code searched is in no address (a gateway's
    log); the same answer and pages as the GET."""
    for i in range(3):
        make_client(counsellor, last_name=f"Virtanen{i}")
    coded = make_client(counsellor, last_name="Tesfamariam")
    http = web(counsellor)
    post = partial(http.post, "/api/v1/clients/search", content_type="application/json")
    by_code = post({"q": coded.hetu}).json()
    assert [c["id"] for c in by_code["items"]] == [coded.id]
    first = post({"q": "virtanen", "limit": 2}).json()
    second = post({"q": "virtanen", "limit": 2, "cursor": first["next_cursor"]}).json()
    got = [c["id"] for c in first["items"] + second["items"]]
    assert got == [c["id"] for c in http.get("/api/v1/clients/?q=virtanen").json()["items"]]
    assert len(got) == 3
    # a body that is not JSON: 400, naming the body
    broken = post("{")
    assert broken.status_code == 400
    assert broken.json()["code"] == "bad_request" and "body" in broken.json()["fields"]
    for body, field in (({"q": "a" * 101}, "q"), ({"q": "x", "limit": 0}, "limit"),
                        ({"query": "x"}, "query"), ({"q": "a\u0000b"}, "q")):  # fmt: skip
        response = post(body)
        assert response.status_code == 422, body
        assert field in json.dumps(response.json()), body


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    ["not-base64!", _cursor(["x", "y"]), _cursor(["x"]), _cursor([1, 2]), _cursor(["x", True]),
     _cursor(["x", 2**70]), _cursor({"a": 1}),
     # nested past Python's recursion limit; a NUL and a lone surrogate the database refuses
     base64.urlsafe_b64encode(b"[" * 1500).decode(), _cursor(["a\u0000", 1]),
     base64.urlsafe_b64encode(b'["\\ud800", 1]').decode()],
)  # fmt: skip
def test_api_search__unreadable_cursor__422_naming_it_and_the_page_starts_over(
    web, counsellor, cursor
):
    make_client(counsellor, last_name="Korhonen")
    http = web(counsellor)
    for q in ("korhonen", ""):  # a name search and the list by name
        response = http.get("/api/v1/clients/", {"q": q, "cursor": cursor})
        assert response.status_code == 422
        assert list(response.json()["fields"]) == ["cursor"]
    page = http.get("/clients/search/", {"q": "korhonen", "cursor": cursor})
    assert page.status_code == 200 and len(page.context["page"].items) == 1
    assert http.get("/clients/", {"cursor": cursor}).status_code == 200


def test_api_token__reads_own_organisation_only(client, org, counsellor, outsider):
    admin = member(org, Role.ORG_ADMIN)
    _token, key = approved_token(admin, org, "CRM")
    own = make_client(counsellor)
    foreign = make_client(outsider)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get(f"/api/v1/clients/{own.id}", **auth).status_code == 200
    assert client.get(f"/api/v1/clients/{foreign.id}", **auth).status_code == 404
    assert (
        client.get(
            f"/api/v1/clients/{own.id}", HTTP_AUTHORIZATION="Bearer koto_x_wrong"
        ).status_code
        == 401
    )


def test_api_token__last_used_kept_to_the_minute(client, org, counsellor):
    import datetime as dt

    from koto.core import clock

    admin = member(org, Role.ORG_ADMIN)
    token, key = approved_token(admin, org, "CRM")
    own = make_client(counsellor)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    start = clock.now()
    for seconds, expected in ((0, 0), (30, 0), (61, 61)):
        with clock.frozen(start + dt.timedelta(seconds=seconds)):
            assert client.get(f"/api/v1/clients/{own.id}", **auth).status_code == 200
        token.refresh_from_db()
        assert token.last_used_at == start + dt.timedelta(seconds=expected)


def test_api_token__assessment_and_plan_owned_by_the_clients_counsellor(client, org, counsellor):
    # the token's system account became the counsellor: the plan's statutory tasks went
    # to no person's "my work"
    from koto.assessments.models import Assessment
    from koto.plans.models import IntegrationPlan

    admin = member(org, Role.ORG_ADMIN)
    _token, key = approved_token(admin, org, "CRM")
    own = make_client(counsellor)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    response = client.post(f"/api/v1/clients/{own.id}/assessments", {"trigger": "intake"},
                           content_type="application/json", **auth)  # fmt: skip
    assert response.status_code == 201, response.content
    assessment = Assessment.objects.get()
    assert assessment.counsellor == counsellor
    # a plan rests on a completed assessment (the page offered only those; the API any)
    response = client.post(f"/api/v1/clients/{own.id}/plans", {"assessment_id": assessment.id},
                           content_type="application/json", **auth)  # fmt: skip
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"assessment_id"}
    response = client.post(f"/api/v1/clients/{own.id}/plans", {},
                           content_type="application/json", **auth)  # fmt: skip
    assert response.status_code == 201, response.content
    plan = IntegrationPlan.objects.get()
    assert plan.counsellor == counsellor
    # the integration drafts; agreeing the plan with the client is a counsellor's decision
    response = client.post(f"/api/v1/plans/{plan.id}/activate", {},
                           content_type="application/json", **auth)  # fmt: skip
    assert response.status_code == 403
    assert IntegrationPlan.objects.get().status == "draft"


def test_api_session__csrf_required_for_writes(counsellor):
    from django.test import Client

    http = Client(enforce_csrf_checks=True)
    http.force_login(counsellor, backend="koto.accounts.backends.MembershipModelBackend")
    response = http.post("/api/v1/clients/", body(), content_type="application/json")
    assert response.status_code in (401, 403)


@pytest.mark.parametrize("path", ["/api/v1/docs", "/api/v1/openapi.json"])
def test_api_docs__served(client, path):
    assert client.get(path).status_code == 200


def test_api__null_character_in_a_field__422_naming_it_nothing_written(web, counsellor):
    # PostgreSQL's text cannot hold U+0000: without the check this was a 500 there
    http = web(counsellor)
    response = http.post("/api/v1/clients/", {**body(), "first_name": "Ra\u0000nia"},
                         content_type="application/json")  # fmt: skip
    assert response.status_code == 422
    assert response.json()["fields"] == {"first_name": ["Null characters are not allowed."]}
    response = http.post("/api/v1/clients/", {**body(), "other_languages": ["fi", "\u0000"],
                         "transliterated_names": [["ar", "x\u0000"]]}, content_type="application/json")  # fmt: skip
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"other_languages.1", "transliterated_names.0.1"}
    response = http.get("/api/v1/clients/", {"q": "Ra\u0000"})
    assert response.status_code == 422
    assert response.json()["fields"] == {"q": ["Null characters are not allowed."]}
    assert not Client.objects.exists()
    page = http.get("/clients/search/", {"q": "Ra\u0000"})
    assert page.status_code == 400 and "q" in page.content.decode()


def test_api__body_nested_thousands_deep__json_error_not_500(web, counsellor):
    # the null-character check decoded it first: RecursionError escaped as an HTML 500
    http = web(counsellor)
    for inner in ('"\\u0000"', '"x"'):
        deep = "[" * 3000 + inner + "]" * 3000
        response = http.post("/api/v1/clients/", deep, content_type="application/json")
        assert 400 <= response.status_code < 500
        assert response["Content-Type"].startswith("application/json")
    assert not Client.objects.exists()


def test_api__control_characters_in_text__422_naming_the_field_nothing_written(web, counsellor):
    # only U+0000 was refused (by the middleware); the others were stored
    from koto.clients.models import Meeting

    c = make_client(counsellor)
    http = web(counsellor)
    response = http.post(f"/api/v1/clients/{c.id}/meetings",
                         {"held_on": "2026-11-02", "purpose": "Plan", "notes": "ok\u001b[2J"},
                         content_type="application/json")  # fmt: skip
    assert response.status_code == 422
    assert response.json()["fields"] == {
        "notes": ["Remove the control characters (invisible characters) from the text."]
    }
    # within a list of an input schema
    response = http.post("/api/v1/clients/", {**body(), "other_languages": ["fi", "s\u0007v"]},
                         content_type="application/json")  # fmt: skip
    assert response.status_code == 422 and list(response.json()["fields"]) == ["other_languages"]
    # an update
    response = http.patch(f"/api/v1/clients/{c.id}", {"street_address": "Katu 1\u0085", "version": 1},
                          content_type="application/json")  # fmt: skip
    assert response.status_code == 422 and list(response.json()["fields"]) == ["street_address"]
    assert not Meeting.objects.exists() and Client.objects.count() == 1
    # tab and line breaks are text
    response = http.post(f"/api/v1/clients/{c.id}/meetings",
                         {"held_on": "2026-11-02", "purpose": "Plan", "notes": "a\r\n\tb"},
                         content_type="application/json")  # fmt: skip
    assert response.status_code == 201 and response.json()["notes"] == "a\r\n\tb"


def test_address_parameter_with_a_control_character__refused_naming_it(web, counsellor):
    # a search's q was stored with it in the search's audit event
    from koto.audit.models import AuditEvent

    http = web(counsellor)
    response = http.get("/api/v1/clients/?q=Ra%1B%5B2J")
    assert response.status_code == 422
    assert response.json()["fields"] == {
        "q": ["Remove the control characters (invisible characters) from the text."]
    }
    page = http.get("/clients/search/?q=Ra%C2%85")
    assert page.status_code == 400 and "(q)" in page.content.decode()
    assert not AuditEvent.objects.filter(object_type="client_search").exists()
    assert http.get("/clients/search/?q=Ra%09").status_code == 200  # a tab is text


def test_api__stored_control_characters__still_answered(web, counsellor):
    # the check is on input only: an older row holding one is still read
    import datetime as dt

    from koto.clients.models import Meeting

    c = make_client(counsellor)
    Meeting.objects.create(client=c, organisation=c.responsible_organisation, counsellor=counsellor,
                           held_on=dt.date(2026, 1, 1), purpose="Old", notes="x\x07")  # fmt: skip
    response = web(counsellor).get(f"/api/v1/clients/{c.id}/meetings")
    assert response.status_code == 200
    assert [m["notes"] for m in response.json()["items"]] == ["x\x07"]


@pytest.mark.parametrize(
    "cost",
    ["10000000.00", "1e30", 2**31,
     # rounded to 10 000 000.00 past the bound check: overflowed; more than cents: rounded
     "9999999.995", "12.345", "NaN"],
)  # fmt: skip
def test_api_meeting__interpreter_cost_beyond_the_column__422_naming_it(web, counsellor, cost):
    # PostgreSQL's numeric(9, 2) overflowed into a 500
    c = make_client(counsellor)
    body = {"held_on": "2026-11-02", "purpose": "Plan", "interpreter_cost": cost}
    response = web(counsellor).post(f"/api/v1/clients/{c.id}/meetings", body,
                                    content_type="application/json")  # fmt: skip
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["interpreter_cost"]


@pytest.mark.parametrize("held_on", ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"])
def test_api_dates__outside_1900_to_2100__422_naming_the_field(web, counsellor, held_on):
    # the pages' forms refused these; the API stored them
    c = make_client(counsellor)
    http = web(counsellor)
    response = http.post(f"/api/v1/clients/{c.id}/meetings", {"held_on": held_on, "purpose": "Plan"},
                         content_type="application/json")  # fmt: skip
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["held_on"]
    response = http.post("/api/v1/clients/", {**body(), "birth_date": held_on},
                         content_type="application/json")  # fmt: skip
    assert response.status_code == 422 and list(response.json()["fields"]) == ["birth_date"]
    adviser = member(counsellor.memberships.first().organisation, Role.GUIDANCE_ADVISER)
    response = web(adviser).get(f"/api/v1/guidance/contacts?from={held_on}")
    assert response.status_code == 422 and list(response.json()["fields"]) == ["from"]


def test_api_dates__within__taken(web, counsellor):
    c = make_client(counsellor)
    response = web(counsellor).post(f"/api/v1/clients/{c.id}/meetings",
                                    {"held_on": "2026-11-02", "purpose": "Plan"},
                                    content_type="application/json")  # fmt: skip
    assert response.status_code == 201


def test_api_meetings__a_stored_date_outside_the_bounds__still_answered(web, counsellor):
    # the output schema inherited the input's bound: an older row's date was a 500
    import datetime as dt

    from koto.clients.models import Meeting

    c = make_client(counsellor)
    Meeting.objects.create(client=c, organisation=c.responsible_organisation, counsellor=counsellor,
                           held_on=dt.date(1850, 1, 1), purpose="Old")  # fmt: skip
    response = web(counsellor).get(f"/api/v1/clients/{c.id}/meetings")
    assert response.status_code == 200
    assert [m["held_on"] for m in response.json()["items"]] == ["1850-01-01"]


def test_api_patch__without_version__422_naming_it(web, counsellor):
    c = make_client(counsellor)
    response = web(counsellor).patch(
        f"/api/v1/clients/{c.id}", {"phone": "040 123"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["version"]
    c.refresh_from_db()
    assert c.phone != "040 123"


def test_api_patch__unknown_field__422_naming_it_nothing_changed(web, counsellor):
    # {"home_municipality": "091"} (for home_municipality_code) answered 200, changing nothing
    c = make_client(counsellor)
    response = web(counsellor).patch(
        f"/api/v1/clients/{c.id}", {"home_municipality": "091", "version": c.version},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["home_municipality"]


def test_api__body_not_json__400_in_the_error_shape(web, counsellor):
    response = web(counsellor).post(
        "/api/v1/clients/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "fields"}


def test_api_token__system_user_deactivated__refused(client, org):
    admin = member(org, Role.ORG_ADMIN)
    token, key = approved_token(admin, org, "CRM")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get("/api/v1/clients/", **auth).status_code == 200
    token.user.is_active = False
    token.user.save(update_fields=["is_active"])
    assert client.get("/api/v1/clients/", **auth).status_code == 401


def test_api_unknown_address__404_in_the_api_shape(web, counsellor):
    response = web(counsellor).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_api_unexpected_failure__500_in_the_api_shape(web, counsellor, monkeypatch):
    from koto.clients import selectors

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "client_search_for", broken)
    http = web(counsellor)
    http.raise_request_exception = False
    response = http.get("/api/v1/clients/?q=x")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error" and "a bug" not in response.content.decode()


def test_api_form_field_error__named_without_its_source(web, org):
    finance = member(org, Role.FINANCE_OFFICER, username="finance_api")
    response = web(finance).post("/api/v1/funding/reconciliation", {"year": "1999"})
    assert response.status_code == 422
    assert not [f for f in response.json()["fields"] if f.startswith(("form.", "file."))]


@pytest.mark.parametrize(("path", "field"), [
    ("/api/v1/clients/?q=a%00b", "q"), ("/api/v1/clients/?q=a%01b", "q"),
    ("/api/v1/clients/?q=" + "a" * 101, "q"), ("/api/v1/services/?kind=%01", "kind"),
    ("/api/v1/services/?kind=nonsense", "kind"),
])  # fmt: skip
def test_api_query_text__control_characters_or_too_long__422_naming_it(
    web, counsellor, path, field
):
    response = web(counsellor).get(path)
    assert response.status_code == 422
    assert list(response.json()["fields"]) == [field]


def test_api_services__empty_kind__no_filter(web, counsellor):
    assert web(counsellor).get("/api/v1/services/?kind=").status_code == 200


def test_api_address_without_its_slash__redirected_and_token_writes_to_nowhere_404(
    web, counsellor, org
):
    assert web(counsellor).get("/api/v1/clients?q=x").status_code == 301
    admin = member(org, Role.ORG_ADMIN, username="token_admin")
    _token, key = approved_token(admin, org, "CRM")
    from django.test import Client as HttpClient

    strict = HttpClient(enforce_csrf_checks=True)
    response = strict.post("/api/v1/no-such-thing", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_api_method_an_endpoint_does_not_take__405_in_the_api_shape_with_allow(web, counsellor):
    response = web(counsellor).delete("/api/v1/guidance/contacts")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert (body["code"], body["fields"]) == ("method_not_allowed", {})
    assert set(response["Allow"].split(", ")) == {"GET", "POST"}
    assert "DELETE" in body["message"]


@pytest.mark.parametrize("key", [None, "k-big"])
def test_api_body_over_the_limit__413_in_the_api_shape(client, counsellor, org, settings, key):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 200
    admin = member(org, Role.ORG_ADMIN, username="token_admin_413")
    _token, token = approved_token(admin, org, "CRM")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    response = client.post(
        "/api/v1/guidance/contacts", json.dumps({"channel": "phone", "referred_to": "x" * 500}),
        content_type="application/json", **headers,
    )  # fmt: skip
    assert (response.status_code, response.json()["code"]) == (413, "too_large")
