"""The report against a hand-computed set; visibility of contacts."""

import datetime as dt

import pytest

from koto.audit.models import AuditEvent
from koto.core.errors import NotFound, PermissionDenied
from koto.core.roles import Role
from koto.guidance import selectors, services
from tests.factories import make_client, member

JAN, FEB, MAR = dt.date(2026, 1, 15), dt.date(2026, 2, 3), dt.date(2026, 3, 10)


@pytest.fixture
def logged(adviser, other_adviser):
    """Seven contacts of Lahti in the range, one before it, and one of Tampere."""
    client = make_client(adviser)
    log = services.contact_log
    log(actor=adviser, channel="walk_in", reasons=["job_search", "benefits"], language="ar", contacted_on=JAN, minutes=20)  # fmt: skip
    log(actor=adviser, channel="walk_in", reasons=["job_search"], language="ar", contacted_on=JAN)  # fmt: skip
    log(actor=adviser, channel="phone", reasons=["immigration_process"], language="uk", contacted_on=FEB, minutes=10)  # fmt: skip
    log(actor=adviser, channel="phone", reasons=["immigration_process", "housing_family_school"], language="fi", contacted_on=MAR, client_identifier=client.hetu)  # fmt: skip
    log(actor=adviser, channel="email", reasons=[], partner_type="authority", language="fi", contacted_on=FEB)  # fmt: skip
    log(actor=adviser, channel="email", reasons=["job_search"], partner_type="employer", language="fi", contacted_on=MAR)  # fmt: skip
    log(actor=adviser, channel="video", reasons=["benefits"], contacted_on=MAR)
    log(actor=adviser, channel="walk_in", reasons=["benefits"], contacted_on=dt.date(2025, 12, 31))  # fmt: skip
    log(actor=other_adviser, channel="walk_in", reasons=["benefits"], contacted_on=FEB)
    return client


def _rows(items) -> dict:
    return {r.code: (r.contacts, r.partner_contacts) for r in items}


def test_report_compute__hand_computed_set(org, logged):
    r = selectors.report_compute(
        organisation_id=org.id, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 3, 31)
    )
    assert (r.contacts, r.anonymous, r.known_client, r.partner_contacts) == (5, 4, 1, 2)
    assert r.reason_mentions == 7  # five contacts, two of them with two reasons
    assert r.minutes == 30
    assert _rows(r.by_reason) == {
        "immigration_process": (2, 0), "job_search": (2, 1), "benefits": (2, 0),
        "housing_family_school": (1, 0), "money_tax_banking": (0, 0),
        "education_language": (0, 0), "health_social": (0, 0), "other": (0, 0),
    }  # fmt: skip
    assert [x.code for x in r.by_reason][:2] == ["immigration_process", "job_search"]
    assert _rows(r.by_channel) == {
        "walk_in": (2, 0),
        "phone": (2, 0),
        "email": (0, 2),
        "video": (1, 0),
    }
    assert {x.code: x.extra["ura_code"] for x in r.by_channel}["walk_in"] == "36"
    assert _rows(r.by_language) == {"ar": (2, 0), "fi": (1, 2), "uk": (1, 0), "": (1, 0)}
    assert _rows(r.by_month) == {"2026-01": (2, 0), "2026-02": (1, 1), "2026-03": (2, 1)}
    assert _rows(r.by_partner_type) == {"authority": (0, 1), "employer": (0, 1)}


def test_report_compute__csv_and_json_same_numbers(org, logged):
    r = selectors.report_compute(
        organisation_id=org.id, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 3, 31)
    )
    d = r.as_dict()
    assert d["totals"]["contacts"] == 5
    assert d["by_reason"][0] == {
        "code": "immigration_process", "label": "Immigration process (permits, registration, family reunification)",
        "contacts": 2, "partner_contacts": 0, "theme": "participation", "theme_label": "Participation",
    }  # fmt: skip
    rows = r.csv_rows()
    assert rows[0] == ["dimension", "code", "label", "contacts", "partner_contacts"]
    assert ["total", "all", "", 5, 2] in rows
    assert ["channel", "email", "E-mail", 0, 2] in rows


def test_report_for__no_report_permission__denied(org, logged):
    counsellor = member(org, Role.INTEGRATION_COUNSELLOR)
    with pytest.raises(PermissionDenied):
        selectors.report_for(user=counsellor, date_from=JAN, date_to=MAR)


def test_report_for__manager__own_organisation_only(org, logged, manager):
    r = selectors.report_for(user=manager, date_from=dt.date(2026, 2, 1), date_to=FEB)
    assert (r.contacts, r.partner_contacts) == (1, 1)  # Tampere's contact is not counted


def test_contact_get_for__other_organisation__not_found(adviser, other_adviser):
    contact = services.contact_log(actor=adviser, channel="phone", reasons=["other"])
    with pytest.raises(NotFound):
        selectors.contact_get_for(user=other_adviser, contact_id=contact.id)


def test_contact_get_for__known_client__read_audited(adviser, manager):
    client = make_client(adviser)
    c = services.contact_log(
        actor=adviser, channel="phone", reasons=["other"], client_identifier=client.hetu
    )
    got = selectors.contact_get_for(user=manager, contact_id=c.id)
    assert got.reason_codes == ["other"]
    assert (
        AuditEvent.objects.filter(
            action="read", object_type="guidance_contact", client_id=client.id
        ).count()
        == 1
    )


def test_contact_page_for__keyset__all_once(adviser):
    ids = [services.contact_log(actor=adviser, channel="chat", reasons=["other"]).id for _ in range(5)]  # fmt: skip
    first = selectors.contact_page_for(user=adviser, limit=2)
    second = selectors.contact_page_for(user=adviser, limit=2, cursor=first.next_cursor)
    third = selectors.contact_page_for(user=adviser, limit=2, cursor=second.next_cursor)
    seen = [c.id for page in (first, second, third) for c in page.items]
    assert seen == sorted(ids, reverse=True)
    assert third.next_cursor is None


def test_last_used_for__preselects_channel_and_language(adviser):
    assert selectors.last_used_for(user=adviser) == {}
    services.contact_log(actor=adviser, channel="video", reasons=["other"], language="so")
    assert selectors.last_used_for(user=adviser) == {"channel": "video", "language": "so"}


def test_contact__client_no_longer_reached__no_link_no_id_no_read_of_theirs(
    web, adviser, other_org
):
    # the client moved away: the contact still linked and audited a read of a client the
    # organisation no longer sees, and gave the API their id
    from koto.clients.models import Client

    client = make_client(adviser)
    contact = services.contact_log(actor=adviser, channel="phone", reasons=["benefits"],
                                   client_identifier=client.hetu)  # fmt: skip
    http = web(adviser)
    assert http.get(f"/api/v1/guidance/contacts/{contact.id}").json()["client_id"] == client.id
    Client.objects.filter(pk=client.pk).update(responsible_organisation=other_org)
    reads = AuditEvent.objects.filter(action="read", client_id=client.id).count()
    body = http.get(f"/api/v1/guidance/contacts/{contact.id}").json()
    assert (body["client_id"], body["anonymous"]) == (None, False)
    page = http.get(f"/guidance/contacts/{contact.id}/").content.decode()
    assert f"/clients/{client.id}/" not in page and "Known client (no access now)" in page
    assert http.get("/api/v1/guidance/contacts").json()["items"][0]["client_id"] is None
    assert AuditEvent.objects.filter(action="read", client_id=client.id).count() == reads
