"""A client's timeline and meetings reach every record, a keyset page at a time, on the page
and in the API; each read is an audited read of the client."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from koto.audit.models import AuditEvent
from koto.clients.models import ClientEvent, Meeting
from koto.core import clock
from tests.factories import make_client


def add_events(client, actor, n: int) -> list[int]:
    """`n` timeline events, several sharing one moment (ties broken by id); newest first."""
    base = clock.now() - dt.timedelta(days=30)
    ClientEvent.objects.bulk_create(
        ClientEvent(
            client=client,
            kind=ClientEvent.Kind.MEETING,
            actor=actor,
            organisation=actor.active_membership.organisation,
            at=base + dt.timedelta(minutes=i // 3),
        )
        for i in range(n)
    )
    return list(client.events.order_by("-at", "-id").values_list("id", flat=True))


def add_meetings(client, actor, n: int) -> list[int]:
    """`n` meetings, two a day (ties broken by id); latest first."""
    start = clock.today() - dt.timedelta(days=n)
    Meeting.objects.bulk_create(
        Meeting(
            client=client,
            organisation=actor.active_membership.organisation,
            counsellor=actor,
            held_on=start + dt.timedelta(days=i // 2),
            purpose=f"meeting {i}",
            interpreter_mode="phone" if i % 3 == 0 else "",
            interpreter_language="ar" if i % 3 == 0 else "",
            interpreter_minutes=45 if i % 3 == 0 else None,
            client_no_show=i % 4 == 0,
        )
        for i in range(n)
    )
    return list(client.meetings.order_by("-held_on", "-id").values_list("id", flat=True))


def test_client_page__latest_events_and_meetings__links_to_the_rest(web, counsellor):
    c = make_client(counsellor)
    add_events(c, counsellor, 30)
    add_meetings(c, counsellor, 12)
    response = web(counsellor).get(f"/clients/{c.id}/")
    assert len(response.context["timeline"].items) == 20
    assert len(response.context["meetings"].items) == 10
    html = response.content.decode()
    assert f'href="/clients/{c.id}/timeline/"' in html
    assert f'href="/clients/{c.id}/meetings/"' in html


def test_client_page__few_records__no_links(web, counsellor):
    c = make_client(counsellor)
    html = web(counsellor).get(f"/clients/{c.id}/").content.decode()
    assert f'href="/clients/{c.id}/timeline/"' not in html
    assert f'href="/clients/{c.id}/meetings/"' not in html


def test_timeline_page__every_event_once_newest_first(web, counsellor):
    c = make_client(counsellor)
    expected = add_events(c, counsellor, 130)
    http = web(counsellor)
    first = http.get(f"/clients/{c.id}/timeline/")
    assert first.status_code == 200
    page = first.context["page"]
    assert len(page.items) == 100
    assert "?cursor=" in first.content.decode()
    rest = http.get(f"/clients/{c.id}/timeline/", {"cursor": page.next_cursor}).context["page"]
    assert [e.id for e in page.items + rest.items] == expected
    assert rest.next_cursor is None
    # a cursor edited by hand gives the first page
    again = http.get(f"/clients/{c.id}/timeline/", {"cursor": "not-a-cursor"})
    assert [e.id for e in again.context["page"].items] == expected[:100]


def test_meetings_page__every_meeting_once_latest_first(web, counsellor):
    c = make_client(counsellor)
    expected = add_meetings(c, counsellor, 61)
    http = web(counsellor)
    first = http.get(f"/clients/{c.id}/meetings/")
    assert first.status_code == 200
    page = first.context["page"]
    assert len(page.items) == 50
    assert "meeting 60" in first.content.decode()
    rest = http.get(f"/clients/{c.id}/meetings/", {"cursor": page.next_cursor}).context["page"]
    assert [m.id for m in page.items + rest.items] == expected
    assert rest.next_cursor is None


def test_timeline_and_meetings_pages__audited_reads(web, counsellor):
    c = make_client(counsellor)
    http = web(counsellor)
    http.get(f"/clients/{c.id}/timeline/")
    http.get(f"/clients/{c.id}/meetings/")
    http.get(f"/api/v1/clients/{c.id}/timeline")
    http.get(f"/api/v1/clients/{c.id}/meetings")
    reasons = set(
        AuditEvent.objects.filter(action="read", client_id=c.id, actor=counsellor).values_list(
            "reason", flat=True
        )
    )
    assert {"timeline", "meetings", "api:timeline", "api:meetings"} <= reasons


def test_timeline_and_meetings_pages__other_organisation__404(web, counsellor, outsider):
    c = make_client(counsellor)
    http = web(outsider)
    for path in ("timeline", "meetings"):
        assert http.get(f"/clients/{c.id}/{path}/").status_code == 404
    assert http.get(f"/api/v1/clients/{c.id}/timeline").status_code == 404
    assert http.get(f"/api/v1/clients/{c.id}/meetings").status_code == 404


def test_timeline_and_meetings_pages__anonymous__sent_to_sign_in(client, counsellor):
    c = make_client(counsellor)
    for path in ("timeline", "meetings"):
        response = client.get(f"/clients/{c.id}/{path}/")
        assert response.status_code == 302
        assert "/login/" in response["Location"] or "/accounts/" in response["Location"]


def test_pages__queries_constant(web, counsellor):
    c = make_client(counsellor)
    http = web(counsellor)

    def count(path: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert http.get(path).status_code == 200
        return len(ctx.captured_queries)

    paths = [
        f"/clients/{c.id}/",
        f"/clients/{c.id}/timeline/",
        f"/clients/{c.id}/meetings/",
        f"/api/v1/clients/{c.id}/timeline",
        f"/api/v1/clients/{c.id}/meetings",
    ]
    add_events(c, counsellor, 2)
    add_meetings(c, counsellor, 2)
    few = [count(p) for p in paths]
    add_events(c, counsellor, 40)
    add_meetings(c, counsellor, 40)
    assert [count(p) for p in paths] == few


def test_api_timeline__pages_through_every_event(web, counsellor):
    c = make_client(counsellor)
    expected = add_events(c, counsellor, 25)
    http = web(counsellor)
    seen, cursor = [], None
    while True:
        params = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        body = http.get(f"/api/v1/clients/{c.id}/timeline", params).json()
        seen += [e["id"] for e in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    item = body["items"][0]
    assert item["kind"] == "meeting"
    assert item["kind_label"] == "Meeting"
    assert item["actor"]
    assert item["organisation"] == counsellor.active_membership.organisation.name
    assert item["organisation_code"] == counsellor.active_membership.organisation.code


def test_api_meetings__pages_through_every_meeting(web, counsellor):
    c = make_client(counsellor)
    expected = add_meetings(c, counsellor, 7)
    http = web(counsellor)
    first = http.get(f"/api/v1/clients/{c.id}/meetings", {"limit": 5}).json()
    rest = http.get(
        f"/api/v1/clients/{c.id}/meetings", {"limit": 5, "cursor": first["next_cursor"]}
    ).json()
    assert [m["id"] for m in first["items"] + rest["items"]] == expected
    assert rest["next_cursor"] is None
    assert first["items"][0]["organisation_code"] == counsellor.active_membership.organisation.code
    assert first["items"][0]["counsellor"]
    # the fee rule (32 a §): a no-show at a meeting with an interpreter booked
    by_id = {m["id"]: m for m in first["items"] + rest["items"]}
    for m in Meeting.objects.filter(client=c):
        assert by_id[m.id]["fee_may_be_charged"] is (m.client_no_show and bool(m.interpreter_mode))


def test_api_history__bad_cursor_or_limit__422_naming_the_field(web, counsellor):
    c = make_client(counsellor)
    http = web(counsellor)
    for path in ("timeline", "meetings"):
        response = http.get(f"/api/v1/clients/{c.id}/{path}", {"cursor": "bad"})
        assert response.status_code == 422
        assert set(response.json()["fields"]) == {"cursor"}
        response = http.get(f"/api/v1/clients/{c.id}/{path}", {"limit": 0})
        assert response.status_code == 422
        assert "limit" in str(response.json())


def _b64(values) -> str:
    import base64
    import json

    raw = json.dumps(values).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2026-01-01T12:00:00"],
)
def test_timeline__cursor_out_of_range_or_without_offset__first_page_or_422(
    web, counsellor, moment
):
    c = make_client(counsellor)
    expected = add_events(c, counsellor, 3)
    http = web(counsellor)
    cursor = _b64([moment, "1"])
    page = http.get(f"/clients/{c.id}/timeline/", {"cursor": cursor})
    assert page.status_code == 200
    assert [e.id for e in page.context["page"].items] == expected
    response = http.get(f"/api/v1/clients/{c.id}/timeline", {"cursor": cursor})
    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"cursor"}


def test_meetings_page__upcoming_meeting__not_marked_as_attended(web, counsellor):
    c = make_client(counsellor)
    Meeting.objects.create(
        client=c, organisation=counsellor.active_membership.organisation, counsellor=counsellor,
        held_on=clock.today() + dt.timedelta(days=7), purpose="next week",
    )  # fmt: skip
    html = web(counsellor).get(f"/clients/{c.id}/meetings/").content.decode()
    row = html[html.index("next week") :].split("</tr>")[0]
    assert "upcoming" in row
    assert ">yes<" not in row


def test_selectors__a_client_not_read_through_client_get_for__refused(counsellor):
    from koto.clients.selectors import client_meeting_page, client_timeline_page
    from koto.core.errors import NotFound
    from koto.plans.selectors import plans_of_client_with_contents

    c = make_client(counsellor)
    for read in (client_timeline_page, client_meeting_page, plans_of_client_with_contents):
        with pytest.raises(NotFound):
            read(client=c)


def test_api_plans__every_plan_in_constant_queries(web, counsellor):
    from koto.insights.tests.builders import plan
    from koto.plans.models import Action, Extension, Goal, Review

    c = make_client(counsellor)
    http = web(counsellor)

    def read() -> tuple[list[dict], int]:
        with CaptureQueriesContext(connection) as ctx:
            response = http.get(f"/api/v1/clients/{c.id}/plans")
        assert response.status_code == 200
        return response.json(), len(ctx.captured_queries)

    def full_plan(year: int) -> None:
        p = plan(counsellor, c, starts_on=dt.date(year, 1, 1), ended_on=dt.date(year, 6, 1))
        for area in ("language", "work"):
            goal = Goal.objects.create(plan=p, area=area, description=f"{area} {year}")
            for what in ("course", "try-out"):
                Action.objects.create(
                    goal=goal, what=what, responsible="other_organisation",
                    responsible_organisation=counsellor.active_membership.organisation,
                )  # fmt: skip
        Extension.objects.create(
            plan=p, months=2, reason="illness", reason_note="x", decided_on=dt.date(year, 5, 1),
            previous_ends_on=dt.date(year, 6, 1), new_ends_on=dt.date(year, 8, 1),
            decided_by=counsellor,
        )  # fmt: skip
        Review.objects.create(
            plan=p, reviewed_on=dt.date(year, 3, 1), notes="ok", reviewed_by=counsellor
        )

    for year in (2000, 2002):
        full_plan(year)
    _, few = read()
    # more plans than the 20 the list used to stop at, each with goals, actions, an
    # extension and a review
    for year in range(2004, 2048, 2):
        full_plan(year)
    body, many = read()
    assert len(body) == 24
    assert many == few
    assert all(len(p["goals"]) == 2 for p in body)
    assert all(len(g["actions"]) == 2 for p in body for g in p["goals"])


def test_api_language_results__every_result(web, counsellor):
    from koto.offerings.models import LanguageTestResult

    c = make_client(counsellor)
    start = dt.date(2020, 1, 1)
    LanguageTestResult.objects.bulk_create(
        LanguageTestResult(
            client=c, taken_on=start + dt.timedelta(days=i), language="fi", skill="speaking",
            level="A1.1", recorded_by=counsellor,
        )
        for i in range(210)
    )  # fmt: skip
    body = web(counsellor).get(f"/api/v1/services/clients/{c.id}/language-results").json()
    assert len(body) == 210  # it stopped at 200
