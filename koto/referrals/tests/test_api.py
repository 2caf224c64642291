"""The referrals API: the whole loop, errors naming the field, keyset lists, and 404 for a
third organisation on every path."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from koto.referrals import services
from koto.referrals.models import Referral
from tests.factories import make_client

BASE = "/api/v1/referrals"
BODIES = {
    "accept": {},
    "decline": {"reason": "x"},
    "complete": {},
    "return": {"reason": "x"},
    "reopen": {"comment": "x"},
    "withdraw": {"reason": "x"},
}


def _post(http, url, body):
    return http.post(url, data=json.dumps(body), content_type="application/json")


# Every path about one referral (checked against the OpenAPI schema below).
REFERRAL_PATHS = [("get", f"{BASE}/{{referral_id}}")] + [
    ("post", f"{BASE}/{{referral_id}}/{op}") for op in BODIES
]


def referral_api_paths() -> list[tuple[str, str]]:
    return REFERRAL_PATHS


def test_api_paths__enumerated(web, counsellor):
    # the referrals app sits below the API layer, so it reads the schema over HTTP
    paths = web(counsellor).get("/api/v1/openapi.json").json()["paths"]
    found = {(m, p) for p, ops in paths.items() if "{referral_id}" in p for m in ops}
    assert found == set(REFERRAL_PATHS)
    assert set(paths[BASE]) == {"get", "post"}


def test_api__send_read_accept_complete(web, counsellor, receiver, client_, other_org):
    # given a Lahti counsellor sends a referral
    r = _post(web(counsellor), BASE, {
        "client_id": client_.id, "kind": "employment_services", "message": "Jobseeker.",
        "to_organisation_code": other_org.code, "scope": "read",
    })  # fmt: skip
    assert r.status_code == 201
    body = r.json()
    assert (body["status"], body["due_on"], body["overdue"]) == ("sent", "2026-11-09", False)
    rid = body["id"]
    # when Tampere lists its incoming referrals, reads it, accepts and completes it
    http = web(receiver)
    listed = http.get(f"{BASE}?box=incoming").json()
    assert [i["id"] for i in listed["items"]] == [rid]
    read = http.get(f"{BASE}/{rid}").json()
    assert (read["status"], read["client_name"]) == ("received", client_.full_name)
    assert http.get(f"/api/v1/clients/{client_.id}").status_code == 404
    accepted = _post(http, f"{BASE}/{rid}/accept", {"version": read["version"]})
    assert accepted.json()["status"] == "accepted"
    assert http.get(f"/api/v1/clients/{client_.id}").status_code == 200
    done = _post(http, f"{BASE}/{rid}/complete", {"note": "Registered."})
    assert done.json()["status"] == "completed"
    # then the access ended with it
    assert http.get(f"/api/v1/clients/{client_.id}").status_code == 404


def test_api_send__unknown_organisation__422_naming_field(web, counsellor, client_):
    r = _post(web(counsellor), BASE, {"client_id": client_.id, "kind": "guidance",
                                      "message": "x", "to_organisation_code": "nope"})  # fmt: skip
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["to_organisation_code"]


def test_api_send__bad_kind__422_naming_field(web, counsellor, client_, other_org):
    r = _post(web(counsellor), BASE, {"client_id": client_.id, "kind": "x", "message": "x",
                                      "to_organisation_code": other_org.code})  # fmt: skip
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["kind"]


def test_api_send__client_of_another_organisation__404(web, stranger, client_, other_org):
    r = _post(web(stranger), BASE, {"client_id": client_.id, "kind": "guidance",
                                    "message": "x", "to_organisation_code": other_org.code})  # fmt: skip
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


def test_api_decline__missing_reason__422_naming_reason(web, send, receiver):
    rid = send().id
    r = _post(web(receiver), f"{BASE}/{rid}/decline", {})
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["reason"]
    r = _post(web(receiver), f"{BASE}/{rid}/decline", {"reason": " "})
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["reason"]


def test_api_complete__not_accepted__422_invalid_transition(web, send, receiver):
    r = _post(web(receiver), f"{BASE}/{send().id}/complete", {})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_transition"


def test_api_accept__stale_version__409(web, send, receiver):
    r = _post(web(receiver), f"{BASE}/{send().id}/accept", {"version": 99})
    assert r.status_code == 409
    assert list(r.json()["fields"]) == ["version"]


def test_api_accept__by_sender__403(web, send, counsellor):
    r = _post(web(counsellor), f"{BASE}/{send().id}/accept", {})
    assert r.status_code == 403


@pytest.mark.parametrize(("method", "path"), referral_api_paths())
def test_api_every_referral_path__third_organisation__404(web, send, stranger, method, path):
    rid = send().id
    url = path.replace("{referral_id}", str(rid))
    http = web(stranger)
    op = path.rsplit("/", 1)[-1]
    response = http.get(url) if method == "get" else _post(http, url, BODIES.get(op, {}))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Referral.objects.get(pk=rid).status == "sent"


def test_api_list__third_organisation__sees_none(web, send, stranger):
    send()
    for box in ("incoming", "outgoing"):
        assert web(stranger).get(f"{BASE}?box={box}").json()["items"] == []


@pytest.mark.parametrize(("method", "path"), [("get", BASE), *referral_api_paths()])
def test_api_every_path__anonymous__401(client, send, method, path):
    url = path.replace("{referral_id}", str(send().id))
    response = client.get(url) if method == "get" else _post(client, url, {})
    assert response.status_code == 401


def test_api_list__keyset_pages_by_id(web, send, counsellor):
    ids = [send(kind=k).id for k in ("guidance", "other", "employment_services")]
    http = web(counsellor)
    first = http.get(f"{BASE}?box=outgoing&limit=2").json()
    assert [i["id"] for i in first["items"]] == sorted(ids, reverse=True)[:2]
    second = http.get(f"{BASE}?box=outgoing&limit=2&cursor={first['next_cursor']}").json()
    assert [i["id"] for i in second["items"]] == [min(ids)]
    assert second["next_cursor"] is None


@pytest.mark.parametrize("cursor", ["abc", "%C2%B2", "9" * 30, "-1x"])
def test_api_list__unreadable_cursor__422_naming_it(web, send, counsellor, cursor):
    send()
    response = web(counsellor).get(f"{BASE}?box=outgoing&cursor={cursor}")
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["cursor"]


def test_api_list__query_count_constant(web, send, counsellor):
    send()
    http = web(counsellor)
    with CaptureQueriesContext(connection) as few:
        http.get(f"{BASE}?box=outgoing")
    for _ in range(6):
        c = make_client(counsellor)
        c.access = "full"
        send(client=c)
    with CaptureQueriesContext(connection) as many:
        http.get(f"{BASE}?box=outgoing")
    assert len(many.captured_queries) == len(few.captured_queries)


def test_api_read__what_the_sender_passed_on__given_while_in_hand(web, send, receiver, client_):
    # the page showed the identity code and contact details the sender included; the API
    # withheld them, so a receiving system could not get what it was sent
    r = send(include_identity_code=True, include_contact_details=True, scope="none")
    http = web(receiver)
    # not in bulk: the inbox list gives only the flags (its rows are neither received nor
    # audited one by one)
    (row,) = http.get("/api/v1/referrals", {"box": "incoming"}).json()["items"]
    assert row["include_identity_code"] is True and "client_identity_code" not in row
    body = http.get(f"/api/v1/referrals/{r.id}").json()
    assert body["client_identity_code"] == client_.identifier
    assert body["client_contact"]["phone"] == client_.phone
    assert body["client_name"] == client_.full_name
    plain = send(kind="guidance", scope="none")
    body = http.get(f"/api/v1/referrals/{plain.id}").json()
    assert body["client_identity_code"] is None and body["client_contact"] is None
    services.referral_decline(actor=receiver, referral=Referral.objects.get(pk=r.pk), reason="No.")
    body = http.get(f"/api/v1/referrals/{r.id}").json()
    assert body["client_identity_code"] is None and body["client_contact"] is None
