"""The placement API: the journey from agreement to arrival, errors naming the field,
keyset pages and constant queries on lists and 404 for a third organisation on every path."""

import base64
import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from koto.placement import services
from koto.placement.models import MinorCare, Placement, PlacementAgreement

from .conftest import TODAY, add_agreements, add_minors, family

BASE = "/api/v1/placement"


def _send(http, method, url, body=None):
    if method == "get":
        return http.get(url)
    return getattr(http, method)(url, data=json.dumps(body or {}), content_type="application/json")


BODIES = {
    "accept": {},
    "decline": {"reason": "x"},
    "reserve-housing": {"address": "x", "housing_on": "2026-11-02"},
    "request-supported-housing": {"note": "x"},
    "arrive": {"arrived_on": "2026-11-02"},
    "cancel": {"reason": "x"},
    "health-check": {"done_on": "2026-11-02"},
    "consultations": {"consulted_on": "2026-11-02", "statement": "x"},
}
PATHS = [
    ("get", "/agreements/{agreement_id}", None),
    ("patch", "/agreements/{agreement_id}", {"places_quota_refugee": 1}),
    ("post", "/agreements/{agreement_id}/consultations", BODIES["consultations"]),
    ("post", "/agreements/{agreement_id}/sign", {"signed_on": "2026-11-02"}),
    ("post", "/agreements/{agreement_id}/revise", {"revised_on": "2026-11-02"}),
    ("get", "/placements/{placement_id}", None),
    *[("post", f"/placements/{{placement_id}}/{op}", body) for op, body in BODIES.items()],
    ("get", "/minors/{care_id}", None),
    ("patch", "/minors/{care_id}", {"representative_name": "x"}),
]


def test_api_paths__enumerated(web, officer):
    schema = web(officer).get("/api/v1/openapi.json").json()["paths"]
    found = {
        (m, p.removeprefix(BASE))
        for p, ops in schema.items()
        if p.startswith(BASE) and "{" in p
        for m in ops
    }
    assert found == {(m, p) for m, p, _b in PATHS}


@pytest.fixture
def records(propose, agreement, manager):
    placement = propose()
    minor = propose(
        category="unaccompanied_minor", source="reception_centre",
        persons=[{"first_name": "Ali", "last_name": "Rahimi", "birth_date": dt.date(2010, 5, 15),
                  "residence_basis": "asylum", "first_permit_on": dt.date(2025, 9, 1)}],
    )  # fmt: skip
    services.placement_accept(actor=manager, placement=minor)
    services.placement_reserve_housing(
        actor=manager, placement=minor, address="Kauppakatu 1", housing_on=TODAY
    )
    services.placement_arrive(actor=manager, placement=minor, arrived_on=TODAY)
    return {
        "placement_id": placement.id,
        "agreement_id": agreement.id,
        "care_id": MinorCare.objects.get().id,
    }


def test_every_placement_api_path__third_organisation__404(web, records, strangers):
    for stranger in strangers:
        http = web(stranger)
        for method, path, body in PATHS:
            url = BASE + path.format(**records)
            response = _send(http, method, url, body)
            assert (stranger.username, method, url, response.status_code) == (
                stranger.username, method, url, 404,
            )  # fmt: skip
            assert response.json()["code"] == "not_found"
        for path in ("/agreements", "/placements", "/minors"):
            response = http.get(BASE + path)
            assert response.status_code == 200
            assert response.json() == {"items": [], "next_cursor": None}
    assert Placement.objects.get(pk=records["placement_id"]).status == "proposed"


def test_every_placement_api_path__anonymous__401(client, records):
    for method, path, body in PATHS:
        response = _send(client, method, BASE + path.format(**records), body)
        assert response.status_code == 401


def test_api_journey__agreement_to_arrival(web, officer, manager, social_worker, lahti):
    ely, mun, wr = web(officer), None, None
    r = _send(ely, "post", f"{BASE}/agreements", {
        "municipality_code": "398", "year": 2026, "places_quota_refugee": 10,
        "places_international_protection": 5, "places_unaccompanied_minor": 2,
    })  # fmt: skip
    assert r.status_code == 201, r.content
    agreement_id = r.json()["id"]
    r = _send(ely, "post", f"{BASE}/agreements/{agreement_id}/sign", {"signed_on": "2026-11-02"})
    assert (r.status_code, r.json()["code"]) == (422, "consultation_required")
    wr = web(social_worker)
    r = _send(
        wr, "post", f"{BASE}/agreements/{agreement_id}/consultations", BODIES["consultations"]
    )
    assert r.status_code == 201
    ely = web(officer)
    r = _send(ely, "post", f"{BASE}/agreements/{agreement_id}/sign", {"signed_on": "2026-11-02"})
    assert (r.status_code, r.json()["status"]) == (200, "signed")

    persons = [{**p, "birth_date": p["birth_date"].isoformat(),
                "first_permit_on": p["first_permit_on"].isoformat()} for p in family()]  # fmt: skip
    r = _send(ely, "post", f"{BASE}/placements", {
        "municipality_code": "398", "category": "quota_refugee", "source": "quota",
        "persons": [{**persons[0], "birth_date": "0201-05-15"}, *persons[1:]],
    })  # fmt: skip
    assert r.status_code == 422 and list(r.json()["fields"]) == ["persons.0.birth_date"]
    r = _send(ely, "post", f"{BASE}/placements", {
        "municipality_code": "398", "category": "quota_refugee", "source": "quota",
        "persons": persons,
    })  # fmt: skip
    assert r.status_code == 201, r.content
    pid = r.json()["id"]
    mun = web(manager)
    assert _send(mun, "post", f"{BASE}/placements/{pid}/accept", {}).status_code == 200
    r = _send(mun, "post", f"{BASE}/placements/{pid}/reserve-housing", {"address": "Katu 1"})
    assert (r.status_code, list(r.json()["fields"])) == (422, ["housing_on"])
    r = _send(mun, "post", f"{BASE}/placements/{pid}/reserve-housing", BODIES["reserve-housing"])
    assert r.json()["status"] == "housing_reserved"
    r = _send(mun, "post", f"{BASE}/placements/{pid}/arrive", BODIES["arrive"])
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "arrived"
    assert all(p["client_id"] for p in body["persons"])
    assert body["health_check"]["welfare_region_code"] == "hva-paijat-hame"
    r = _send(web(officer), "get", f"{BASE}/agreements/{agreement_id}")
    usage = {u["category"]: u for u in r.json()["usage"]}
    assert (usage["quota_refugee"]["used"], usage["quota_refugee"]["remaining"]) == (2, 8)


def test_api_patch__one_category__others_kept(web, officer, agreement):
    r = _send(web(officer), "patch", f"{BASE}/agreements/{agreement.id}",
              {"places_quota_refugee": 25})  # fmt: skip
    assert r.status_code == 200, r.content
    usage = {u["category"]: u["agreed"] for u in r.json()["usage"]}
    assert usage == {"quota_refugee": 25, "international_protection": 10,
                     "unaccompanied_minor": 4}  # fmt: skip


def test_api_agreement__municipality_of_another_authority__422_naming_municipality_code(
    web, lahti, strangers
):
    r = _send(web(strangers[-1]), "post", f"{BASE}/agreements",
              {"municipality_code": "398", "year": 2026})  # fmt: skip
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["municipality_code"]


def test_api_propose__person_with_client_id__422(web, officer, lahti):
    person = {**family()[0], "client_id": 1}
    person = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in person.items()}
    r = _send(web(officer), "post", f"{BASE}/placements", {
        "municipality_code": "398", "category": "quota_refugee", "source": "quota",
        "persons": [person],
    })  # fmt: skip
    assert r.status_code == 422
    assert not Placement.objects.exists()


def test_api_accept__flagged_without_consultation__422_naming_field(web, propose, manager):
    placement = propose(evident_welfare_needs=True)
    r = _send(web(manager), "post", f"{BASE}/placements/{placement.id}/accept", {})
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["welfare_consultation"]


def test_api_cancel__by_municipality__403(web, propose, manager):
    placement = propose()
    r = _send(web(manager), "post", f"{BASE}/placements/{placement.id}/cancel", {"reason": "x"})
    assert r.status_code == 403


# ---------------------------------------------------------------- lists: keyset pages


def _placements(propose, n: int) -> None:
    for _ in range(n):
        propose()


@pytest.fixture
def make(propose, officer, manager, lahti):
    """(who lists, how to add n rows, the ids in the list's order) for each list."""

    def ids(qs, *order):
        return list(qs.order_by(*order).values_list("id", flat=True))

    return {
        "/placements": (
            officer,
            lambda n: _placements(propose, n),
            lambda: ids(Placement.objects, "-id"),
        ),
        "/agreements": (
            officer,
            lambda n: add_agreements(officer, lahti.welfare_region, n),
            lambda: ids(PlacementAgreement.objects, "-year", "-id"),
        ),
        "/minors": (
            manager,
            lambda n: add_minors(propose, manager, n),
            lambda: ids(MinorCare.objects, "turns_18_on", "id"),
        ),
    }


LISTS = ["/placements", "/agreements", "/minors"]


@pytest.mark.parametrize("path", LISTS)
def test_api_lists__pages__every_row_once_in_order(web, make, path):
    user, add, expected = make[path]
    add(5)
    http = web(user)
    seen, cursor, pages = [], None, 0
    while True:
        r = http.get(BASE + path, {"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.content
        body = r.json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert (seen, pages) == (expected(), 3)


def test_api_placements__filter_and_pages(web, propose, officer, manager):
    _placements(propose, 3)
    accepted = propose()
    services.placement_accept(actor=manager, placement=accepted)
    r = web(officer).get(f"{BASE}/placements", {"status": "proposed", "limit": 2})
    first = r.json()
    r = web(officer).get(
        f"{BASE}/placements", {"status": "proposed", "limit": 2, "cursor": first["next_cursor"]}
    )
    rest = r.json()
    ids = [p["id"] for p in first["items"] + rest["items"]]
    assert (len(ids), accepted.id in ids, rest["next_cursor"]) == (3, False, None)
    assert len(first["items"][0]["persons"]) == 2


def _b64(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


@pytest.mark.parametrize(
    ("path", "cursor"),
    [
        ("/placements", "x1"),
        ("/placements", _b64(["1"])),
        ("/placements", "99999999999999999999"),
        ("/agreements", "5"),
        ("/agreements", _b64(["2026"])),
        ("/agreements", _b64(["year", "1"])),
        ("/agreements", _b64(["-1", "1"])),
        ("/minors", "nonsense"),
        ("/minors", _b64(["2028-02-30", "1"])),
    ],
)
def test_api_lists__bad_cursor__422_naming_cursor(web, officer, manager, path, cursor):
    user = manager if path == "/minors" else officer
    r = web(user).get(BASE + path, {"cursor": cursor})
    assert r.status_code == 422
    assert (r.json()["code"], list(r.json()["fields"])) == ("validation_error", ["cursor"])


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("limit", ["0", "501", "ten"])
def test_api_lists__bad_limit__422_naming_limit(web, officer, path, limit):
    r = web(officer).get(BASE + path, {"limit": limit})
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["limit"]


@pytest.mark.parametrize("path", LISTS)
def test_api_lists__queries_constant(web, make, path):
    user, add, _expected = make[path]

    def count() -> int:
        http = web(user)
        with CaptureQueriesContext(connection) as ctx:
            r = http.get(BASE + path)
            assert r.status_code == 200
        return len(ctx.captured_queries)

    add(2)
    two = count()
    add(18)
    assert len(web(user).get(BASE + path).json()["items"]) == 20
    assert count() == two
