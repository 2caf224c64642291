"""The guidance API: log, list, read, report; errors name the field; other org 404."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from koto.guidance import services
from koto.guidance.models import Contact
from tests.factories import OrganisationFactory, make_client


def _post(http, data):
    return http.post("/api/v1/guidance/contacts", json.dumps(data), content_type="application/json")


def test_contact_create__anonymous__201(web, adviser):
    response = _post(web(adviser), {"channel": "chat", "reasons": ["benefits"], "language": "ara"})
    assert response.status_code == 201
    body = response.json()
    assert body["anonymous"] is True
    assert body["client_id"] is None
    assert body["ura_channel"] == "97"
    assert body["language"] == "ar"
    assert body["reasons"] == ["benefits"]


def test_contact_create__known_client__linked(web, adviser):
    client = make_client(adviser)
    response = _post(
        web(adviser),
        {"channel": "phone", "reasons": ["job_search"], "client_identifier": client.hetu},
    )
    assert response.status_code == 201
    assert response.json()["client_id"] == client.id


def test_contact_create__bad_reason__422_names_field(web, adviser):
    response = _post(web(adviser), {"channel": "phone", "reasons": ["nope"]})
    assert response.status_code == 422
    assert response.json()["fields"] == {"reasons": ["Unknown reason: nope."]}


def test_contact_create__bad_channel__422(web, adviser):
    response = _post(web(adviser), {"channel": "fax", "reasons": ["other"]})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["channel"]


def test_contact_create__no_permission__403(web, manager, reasons):
    assert _post(web(manager), {"channel": "phone", "reasons": ["other"]}).status_code == 403


def test_contact_read__other_organisation__404(web, adviser, other_adviser):
    contact = services.contact_log(actor=adviser, channel="phone", reasons=["other"])
    response = web(other_adviser).get(f"/api/v1/guidance/contacts/{contact.id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_contact_list__other_organisation__sees_none(web, adviser, other_adviser):
    services.contact_log(actor=adviser, channel="phone", reasons=["other"])
    assert web(other_adviser).get("/api/v1/guidance/contacts").json()["items"] == []


def test_contact_list__keyset_and_date_filter(web, adviser):
    for _ in range(3):
        services.contact_log(actor=adviser, channel="phone", reasons=["other"])
    http = web(adviser)
    first = http.get("/api/v1/guidance/contacts?limit=2").json()
    assert len(first["items"]) == 2
    rest = http.get(f"/api/v1/guidance/contacts?limit=2&cursor={first['next_cursor']}").json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    none = http.get("/api/v1/guidance/contacts?from=2026-03-17").json()
    assert none["items"] == []


def test_contact_list__query_count_constant(web, adviser):
    http = web(adviser)
    services.contact_log(actor=adviser, channel="phone", reasons=["other"])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert http.get("/api/v1/guidance/contacts").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(5):
        services.contact_log(actor=adviser, channel="walk_in", reasons=["other", "benefits"])
        services.contact_log(  # referred to an organisation on Koto: its code is on the row
            actor=adviser, channel="walk_in", reasons=["other"], outcome="referred",
            referred_to_organisation=OrganisationFactory(code=f"ngo-{i}", kind="ngo"),
        )  # fmt: skip
    assert count() == few


def test_report__numbers(web, adviser, manager):
    services.contact_log(actor=adviser, channel="phone", reasons=["other", "benefits"])
    services.contact_log(actor=adviser, channel="email", reasons=[], partner_type="trainer")
    response = web(manager).get("/api/v1/guidance/report?from=2026-01-01&to=2026-12-31")
    assert response.status_code == 200
    body = response.json()
    assert body["totals"]["contacts"] == 1
    assert body["totals"]["partner_contacts"] == 1
    assert body["totals"]["reason_mentions"] == 2
    assert body["by_partner_type"][0]["code"] == "trainer"


def test_report__reversed_dates__422(web, manager):
    response = web(manager).get("/api/v1/guidance/report?from=2026-03-01&to=2026-01-01")
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["to"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/guidance/contacts"), ("post", "/api/v1/guidance/contacts"),
     ("get", "/api/v1/guidance/contacts/1"), ("get", "/api/v1/guidance/report"),
     ("get", "/api/v1/guidance/reasons")],
)  # fmt: skip
def test_guidance_api__anonymous__401(db, client, method, path):
    assert getattr(client, method)(path).status_code == 401
    assert Contact.objects.count() == 0


def test_api_contact_list__user_without_guidance_rights__403_not_an_empty_list(web, org):
    from koto.core.roles import Role
    from tests.factories import member

    finance = member(org, Role.FINANCE_OFFICER, username="finance_x")
    assert web(finance).get("/api/v1/guidance/contacts").status_code == 403
