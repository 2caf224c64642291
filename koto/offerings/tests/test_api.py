"""The catalogue API: keyset pages by Finnish name, bad cursor or limit 422 naming the field,
constant queries, anonymous 401."""

import base64
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from koto.core import clock
from koto.core.roles import Role
from koto.offerings import services
from koto.offerings.models import Service
from tests.factories import make_client, member

URL = "/api/v1/services/"
TODAY = dt.date(2026, 11, 2)


def _services(manager, n: int, **extra) -> list[Service]:
    """n services, two of each name (so the id breaks the ties)."""
    return [
        services.service_create(
            actor=manager,
            data={
                "kind": "other",
                "theme": "participation",
                "name_fi": f"Työpaja {i // 2:02d}",
                "capacity": 2,
                **extra,
            },
        )
        for i in range(n)
    ]


def _enrol(counsellor, service: Service, n: int) -> list:
    """n new clients of the counsellor enrolled in `service`, in order."""
    made = []
    for _ in range(n):
        c = make_client(counsellor)
        c.access = "full"
        made.append(services.enrolment_create(actor=counsellor, client=c, service=service))
    return made


def _walk(http, limit: int, **params) -> tuple[list[dict], int]:
    items, cursor, pages = [], None, 0
    while True:
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        r = http.get(URL, query)
        assert r.status_code == 200, r.content
        body = r.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return items, pages


def test_service_list__pages__every_service_once_in_order(web, manager, counsellor, other_org):
    # given seven active services of two producers, one inactive, seats taken on one
    made = _services(manager, 5)
    _services(member(other_org, Role.MANAGER, username="tampere_manager"), 2)
    _services(manager, 1, active=False)
    client = make_client(counsellor)
    client.access = "full"
    services.enrolment_create(actor=counsellor, client=client, service=made[0])
    # when a counsellor pages through the catalogue three at a time
    items, pages = _walk(web(counsellor), limit=3)
    # then every active service comes once, by name, the id breaking ties
    expected = list(
        Service.objects.filter(active=True).order_by("name_fi", "id").values_list("id", flat=True)
    )
    assert [s["id"] for s in items] == expected
    assert (len(items), pages) == (7, 3)
    taken = {s["id"]: s["taken"] for s in items}
    assert taken[made[0].id] == 1
    assert sum(taken.values()) == 1


def test_service_list__long_names_in_another_script__every_page_reached(web, manager, counsellor):
    # a 200-character name of four-byte characters makes a cursor past 1 024 characters,
    # which the first limit on cursors refused as unreadable
    for _ in range(3):
        services.service_create(
            actor=manager,
            data={"kind": "other", "theme": "participation", "name_fi": "𝔎" * 200, "capacity": 2},
        )
    items, pages = _walk(web(counsellor), 1)
    assert (len(items), pages) == (3, 3)


def test_service_list__kind_filter_pages(web, manager, counsellor):
    _services(manager, 3)
    _services(manager, 3, kind="integration_training", starts_on=TODAY)
    items, pages = _walk(web(counsellor), limit=2, kind="integration_training")
    assert ([s["kind"] for s in items], pages) == (["integration_training"] * 3, 2)


def _b64(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    ["nonsense", "7", _b64(["Työpaja"]), _b64(["Työpaja", "x"]), _b64({"a": 1}),
     # nested past Python's recursion limit; a NUL and a lone surrogate the database refuses;
     # far longer than any cursor written
     base64.urlsafe_b64encode(b"[" * 1500).decode(), _b64(["a\u0000", "1"]),
     base64.urlsafe_b64encode(b'["\\ud800", "1"]').decode(), "1" * 5000],
)  # fmt: skip
def test_service_list__bad_cursor__422_naming_cursor(web, counsellor, cursor):
    r = web(counsellor).get(URL, {"cursor": cursor})
    assert r.status_code == 422
    assert (r.json()["code"], list(r.json()["fields"])) == ("validation_error", ["cursor"])


@pytest.mark.parametrize("limit", ["0", "501", "-1"])
def test_service_list__bad_limit__422_naming_limit(web, counsellor, limit):
    r = web(counsellor).get(URL, {"limit": limit})
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["limit"]


def test_service_list__anonymous__401(client):
    assert client.get(URL).status_code == 401


def test_service_list__queries_constant(web, manager, counsellor):
    http = web(counsellor)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            r = http.get(URL)
            assert r.status_code == 200
        return len(ctx.captured_queries)

    _services(manager, 2)
    two = count()
    _services(manager, 18)
    assert len(http.get(URL).json()["items"]) == 20
    assert count() == two


def test_seats__counted_for_the_services_shown(web, manager, counsellor):
    # given a one-seat service with one enrolment holding it and one on the waiting list
    full, empty = _services(manager, 2)
    full.capacity = 1
    full.save()
    _enrol(counsellor, full, 2)
    http = web(counsellor)
    # then the catalogue page, the list, the detail and the API detail agree
    page = http.get("/services/")
    shown = {s.id: (s.taken, s.waiting) for s in page.context["services"]}
    assert shown == {full.id: (1, 1), empty.id: (0, 0)}
    listed = {s["id"]: (s["taken"], s["waiting"]) for s in http.get(URL).json()["items"]}
    assert listed == shown
    assert http.get(f"{URL}{full.id}").json()["waiting"] == 1
    assert http.get(f"/services/{full.id}/").context["service"].taken == 1


def test_enrol_form__services_near_the_client__whole_catalogue_on_request(
    web, manager, counsellor, other_org
):
    # given a service of the counsellor's organisation, one of another organisation serving
    # the client's municipality, and one elsewhere
    own = _services(manager, 1)[0]
    other_manager = member(other_org, Role.MANAGER, username="tampere_manager")
    serving, elsewhere = _services(other_manager, 2)
    client = make_client(counsellor)
    serving.served_municipalities.add(
        client.home_municipality_id or client.responsible_organisation_id
    )
    http = web(counsellor)
    url = f"/services/clients/{client.id}/enrol/"
    # then the form offers the near ones, and the whole catalogue one click away
    near = http.get(url)
    assert {s.id for s in near.context["form"].fields["service"].queryset} == {own.id, serving.id}
    assert "?all=1" in near.content.decode()
    every = http.get(url + "?all=1").context["form"].fields["service"].queryset
    assert {own.id, serving.id, elsewhere.id} <= {s.id for s in every}
    # and enrolling from the whole catalogue works
    response = http.post(url + "?all=1", {"service": elsewhere.id})
    assert response.status_code == 302
    assert elsewhere.enrolments.filter(client=client).exists()


@pytest.mark.parametrize("action", ["%C2%B2", "abc", "9" * 25, "0"])
def test_enrol_page__action_that_is_not_one__404(web, counsellor, action):
    client = make_client(counsellor)
    response = web(counsellor).get(f"/services/clients/{client.id}/enrol/?action={action}")
    assert response.status_code == 404


def test_enrol_page__another_clients_plan_action__404(web, counsellor):
    from koto.plans import services as plan_services

    owner = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    owner.access = "full"
    plan = plan_services.plan_create(
        actor=counsellor, client=owner, starts_on=dt.date(2026, 11, 2),
        ends_on=dt.date(2027, 8, 1),
    )  # fmt: skip
    goal = plan_services.goal_add(actor=counsellor, plan=plan, area="language", description="Suomi")
    action = plan_services.action_add(
        actor=counsellor, goal=goal, what="Kurssi", responsible="client"
    )
    http = web(counsellor)
    assert http.get(f"/services/clients/{owner.id}/enrol/?action={action.id}").status_code == 200
    other = make_client(counsellor)
    assert http.get(f"/services/clients/{other.id}/enrol/?action={action.id}").status_code == 404


def test_enrol_and_catalogue_pages__unknown_filter_value__400_naming_it(web, counsellor):
    client = make_client(counsellor)
    http = web(counsellor)
    response = http.get(f"/services/clients/{client.id}/enrol/?all=yes")
    assert response.status_code == 400
    assert "<code>all</code>" in response.content.decode()
    assert http.get("/services/?kind=integration_training").status_code == 200
    response = http.get("/services/?kind=bogus")
    assert response.status_code == 400
    assert "<code>kind</code>" in response.content.decode()


def test_catalogue_page__keyset_pages_by_name(web, manager, counsellor):
    made = _services(manager, 53)
    http = web(counsellor)
    first = http.get("/services/")
    assert len(first.context["services"]) == 50
    cursor = first.context["page"].next_cursor
    rest = http.get("/services/", {"cursor": cursor}).context["services"]
    seen = [s.id for s in first.context["services"]] + [s.id for s in rest]
    assert seen == sorted(
        (s.id for s in made), key=lambda i: (Service.objects.get(pk=i).name_fi, i)
    )
    assert http.get("/services/", {"cursor": "not-a-cursor"}).status_code == 200


def test_seats__stored_counts_follow_every_change(manager, counsellor):
    from koto.offerings.models import SEAT_HOLDING, EnrolmentStatus
    from koto.offerings.services import enrolment_transition, seats_recount_all, service_update

    service = _services(manager, 1)[0]
    service_update(actor=manager, service=service, data={"kind": "other", "theme": "participation", "name_fi": "T", "capacity": 1})  # fmt: skip

    def live():
        s = Service.objects.get(pk=service.pk)
        rows = s.enrolments
        counted = (
            rows.filter(status__in=SEAT_HOLDING).count(),
            rows.filter(status=EnrolmentStatus.WAITING).count(),
        )
        return (s.taken, s.waiting), counted

    made = _enrol(counsellor, service, 3)
    stored, counted = live()
    assert stored == counted == (1, 2)
    # cancelling the seat-holder offers the seat to the first on the waiting list
    enrolment_transition(actor=counsellor, enrolment=made[0], operation="cancel")
    stored, counted = live()
    assert stored == counted == (1, 1)
    # more capacity: the rest of the waiting list is offered a seat
    service_update(actor=manager, service=service, data={"kind": "other", "theme": "participation", "name_fi": "T", "capacity": 5})  # fmt: skip
    stored, counted = live()
    assert stored == counted == (2, 0)
    # a recount of everything (after a bulk load) gives the same
    Service.objects.update(taken=0, waiting=9)
    seats_recount_all()
    stored, counted = live()
    assert stored == counted


def test_service_page__participants_in_keyset_pages(web, manager, counsellor):
    from koto.offerings import selectors

    service = _services(manager, 1)[0]
    made = [e.id for e in _enrol(counsellor, service, 7)]
    seen, cursor = [], None
    while True:
        page = selectors.enrolment_page_of_service_for(
            user=manager, service=service, cursor=cursor, limit=3
        )
        seen += [e.id for e in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == made
    http = web(manager)
    first = http.get(f"/services/{service.id}/")
    assert len(first.context["enrolments"]) == 7
    assert first.context["page"].next_cursor is None
    assert http.get(f"/services/{service.id}/", {"cursor": "??"}).status_code == 200


def test_participants_api__keyset_pages__bad_cursor_422(web, manager, counsellor):
    service = _services(manager, 1)[0]
    made = [e.id for e in _enrol(counsellor, service, 5)]
    http = web(manager)
    url = f"{URL}{service.id}/enrolments"
    seen, cursor = [], None
    while True:
        body = http.get(url, {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        assert len(body["items"]) <= 2
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == made
    bad = http.get(url, {"cursor": "!!"})
    assert bad.status_code == 422
    assert "cursor" in bad.content.decode()


def test_api_attendance__recorded_not_taken_for_an_operation(web, manager, counsellor):
    # the route "/enrolments/{id}/{operation}" used to take "attendance" and answer 404
    from koto.offerings.services import enrolment_transition

    service = _services(manager, 1)[0]
    enrolment = _enrol(counsellor, service, 1)[0]
    enrolment_transition(actor=counsellor, enrolment=enrolment, operation="start",
                         on=clock.today() - dt.timedelta(days=7))  # fmt: skip
    url = f"/api/v1/services/enrolments/{enrolment.id}/attendance"
    http = web(counsellor)
    day = (clock.today() - dt.timedelta(days=1)).isoformat()
    response = http.post(url, {"on": day, "hours": "3.5"}, content_type="application/json")
    assert response.status_code == 201
    assert enrolment.attendance.get().hours == Decimal("3.50")
    response = http.post(url, {"on": day, "hours": "13"}, content_type="application/json")
    assert response.status_code == 422 and list(response.json()["fields"]) == ["hours"]


@pytest.mark.parametrize("field", ["capacity", "hours"])
@pytest.mark.parametrize("value", [0, 10_001, 2**31, 10**20])
def test_api_service_create__size_out_of_range__422_naming_it(web, manager, field, value):
    body = {
        "kind": "other",
        "theme": "participation",
        "name_fi": "Kurssi",
        "capacity": 10,
        "hours": 20,
        field: value,
    }
    response = web(manager).post("/api/v1/services/", body, content_type="application/json")
    assert response.status_code == 422
    assert list(response.json()["fields"]) == [field]


@pytest.mark.parametrize("field", ["capacity", "hours"])
def test_service_form__size_out_of_range__shown_on_the_field(web, manager, field):
    body = {"kind": "other", "theme": "participation", "name_fi": "Kurssi", "capacity": "10", "hours": "20",
            field: str(2**31)}  # fmt: skip
    response = web(manager).post("/services/new/", body)
    assert response.status_code == 200  # the form again, not a 500 from the database
    assert list(response.context["form"].errors) == [field]
    assert not Service.objects.filter(name_fi="Kurssi").exists()


def test_attendance_and_operation_pages__read_grant_only__403(
    web, org, manager, counsellor, other_org
):
    # seen through a read grant: the pages showed a form that could only refuse
    import datetime as dt

    from koto.clients import services as client_services
    from koto.core import clock

    (service,) = _services(manager, 1)
    (enrolment,) = _enrol(counsellor, service, 1)
    reader = member(other_org, Role.EMPLOYMENT_COUNSELLOR, username="reader")
    with clock.frozen(dt.date(2026, 11, 2)):
        client_services.access_grant_open(
            actor=counsellor, client=enrolment.client, organisation=other_org, scope="read",
            source="test", source_id="1", valid_from=dt.date(2026, 11, 1),
        )  # fmt: skip
        http = web(reader)
        for url in (f"/services/enrolments/{enrolment.id}/attendance/",
                    f"/services/enrolments/{enrolment.id}/cancel/"):  # fmt: skip
            assert http.get(url).status_code == 403, url
            assert http.post(url, {"on": "2026-11-02"}).status_code == 403, url
        assert (
            web(manager).get(f"/services/enrolments/{enrolment.id}/attendance/").status_code == 200
        )
        # the service's page lists the reader's row without the links that would answer 403
        cancel = f"/services/enrolments/{enrolment.id}/cancel/"
        page = web(reader).get(f"/services/{service.id}/")
        assert enrolment.client.last_name in page.content.decode()
        assert cancel not in page.content.decode()
        assert cancel in web(counsellor).get(f"/services/{service.id}/").content.decode()


def test_service_page__queries_constant_in_the_participants(web, manager, counsellor):
    # each row's right to be handled read its service again: 50 more queries a page
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    (service,) = _services(manager, 1, capacity=50)
    _enrol(counsellor, service, 2)

    def count() -> int:
        http = web(counsellor)
        with CaptureQueriesContext(connection) as ctx:
            assert http.get(f"/services/{service.id}/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    _enrol(counsellor, service, 6)
    assert count() == few


def test_producers_administrator__manages_the_catalogue_sees_no_participant(
    web, org, manager, counsellor
):
    # the administrator reads no client, yet saw every participant and their attendance
    from koto.core.roles import Role
    from koto.offerings.selectors import can_handle_enrolment
    from tests.factories import member

    admin = member(org, Role.ORG_ADMIN, username="it_admin")
    service = _services(manager, 1)[0]
    (enrolment,) = _enrol(counsellor, service, 1)
    http = web(admin)
    page = http.get(f"/services/{service.id}/")
    assert page.status_code == 200 and enrolment.client.last_name not in page.content.decode()
    assert not can_handle_enrolment(admin, enrolment)
    assert can_handle_enrolment(manager, enrolment)
    response = http.get(f"/api/v1/services/{service.id}/enrolments")
    assert (response.status_code, response.json()["items"]) == (200, [])
    # the catalogue entry stays the administrator's to edit
    assert f"/services/{service.id}/edit/" in page.content.decode()
    assert http.get(f"/services/{service.id}/edit/").status_code == 200
