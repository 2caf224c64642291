"""The API's writes sent with an Idempotency-Key: done once, answered alike when sent again."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.test import Client as HttpClient

from koto.api.models import IdempotencyKey
from koto.audit.models import AuditEvent
from koto.clients.models import Meeting
from koto.core import clock
from koto.core.roles import Role
from tests.factories import approved_token, make_client, member


@pytest.fixture
def bearer(org):
    admin = member(org, Role.ORG_ADMIN)

    def make(name="CRM"):
        _token, key = approved_token(admin, org, name)
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    return make


def _meeting(http, client_id, auth, key=None, **data):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    body = {"held_on": "2026-11-02", "purpose": "Follow-up", **data}
    return http.post(f"/api/v1/clients/{client_id}/meetings", json.dumps(body),
                     content_type="application/json", **auth, **headers)  # fmt: skip


def test_same_key_sent_again__the_first_answer_and_one_meeting(client, bearer, counsellor):
    # a retry after a timeout wrote the meeting twice
    c, auth = make_client(counsellor), bearer()
    first = _meeting(client, c.id, auth, key="4f1c2b7e-retry-1")
    again = _meeting(client, c.id, auth, key="4f1c2b7e-retry-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Meeting.objects.filter(client=c).count() == 1
    replay = AuditEvent.objects.get(object_type="api_replay")  # reading the answer again
    assert replay.action == "read" and replay.channel == "api"
    assert replay.organisation_id == counsellor.active_membership.organisation_id


def test_replay__audited_as_a_read_of_the_client_and_only_while_visible(
    client, bearer, counsellor, other_org
):
    from koto.clients.models import Client

    c, auth = make_client(counsellor), bearer()
    first = _meeting(client, c.id, auth, key="v1")
    assert _meeting(client, c.id, auth, key="v1").json() == first.json()
    assert AuditEvent.objects.get(object_type="api_replay").client_id == c.id
    # the client moves to another organisation: the stored answer is no longer given
    Client.objects.filter(pk=c.pk).update(responsible_organisation=other_org)
    response = _meeting(client, c.id, auth, key="v1")
    assert response.status_code == 404 and "Idempotent-Replayed" not in response
    assert AuditEvent.objects.filter(object_type="api_replay").count() == 1


def test_without_a_key__each_request_writes(client, bearer, counsellor):
    c, auth = make_client(counsellor), bearer()
    assert _meeting(client, c.id, auth).status_code == 201
    assert _meeting(client, c.id, auth).status_code == 201
    assert Meeting.objects.filter(client=c).count() == 2
    assert not IdempotencyKey.objects.exists()


def test_same_key_for_another_request__422_naming_the_header(client, bearer, counsellor):
    c, auth = make_client(counsellor), bearer()
    assert _meeting(client, c.id, auth, key="k1").status_code == 201
    response = _meeting(client, c.id, auth, key="k1", purpose="Another")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert list(response.json()["fields"]) == ["Idempotency-Key"]
    assert Meeting.objects.filter(client=c).count() == 1


@pytest.mark.parametrize("key", ["", "with space", "ä", "x" * 256])
def test_unreadable_key__422_naming_the_header_nothing_written(client, bearer, counsellor, key):
    c, auth = make_client(counsellor), bearer()
    response = _meeting(client, c.id, auth, key=key)
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["Idempotency-Key"]
    assert not Meeting.objects.exists()


def test_a_key_belongs_to_its_credential(client, bearer, counsellor):
    # another system's token with the same key is another write, not the first one's answer
    c = make_client(counsellor)
    one, two = bearer("CRM"), bearer("Kiosk")
    assert _meeting(client, c.id, one, key="same").status_code == 201
    response = _meeting(client, c.id, two, key="same")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Meeting.objects.filter(client=c).count() == 2


def test_after_an_error__the_key_may_be_used_again(client, bearer, counsellor):
    c, auth = make_client(counsellor), bearer()
    bad = _meeting(client, c.id, auth, key="k2", held_on="2026-13-01")
    assert bad.status_code == 422
    good = _meeting(client, c.id, auth, key="k2")
    assert good.status_code == 201 and "Idempotent-Replayed" not in good
    assert _meeting(client, c.id, auth, key="k2").json() == good.json()
    assert Meeting.objects.filter(client=c).count() == 1


def test_another_organisations_client__404_and_the_key_not_kept(client, bearer, outsider):
    foreign = make_client(outsider)
    assert _meeting(client, foreign.id, bearer(), key="k3").status_code == 404
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["k4", "with space"])
def test_unauthenticated__401_whatever_the_key_and_nothing_kept(client, counsellor, key):
    c = make_client(counsellor)
    response = _meeting(client, c.id, {"HTTP_AUTHORIZATION": "Bearer koto_x_wrong"}, key=key)
    assert response.status_code == 401
    assert not IdempotencyKey.objects.exists()


def test_session__csrf_still_required_and_replay_works(counsellor):
    c = make_client(counsellor)
    http = HttpClient(enforce_csrf_checks=True)
    http.force_login(counsellor, backend="koto.accounts.backends.MembershipModelBackend")
    assert _meeting(http, c.id, {}, key="s1").status_code in (401, 403)  # no CSRF token
    http.get("/clients/")  # the page sets the CSRF cookie
    csrf = {"HTTP_X_CSRFTOKEN": http.cookies["csrftoken"].value}
    first = _meeting(http, c.id, csrf, key="s1")
    again = _meeting(http, c.id, csrf, key="s1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert Meeting.objects.filter(client=c).count() == 1


def test_kept_a_day__then_a_new_write_and_cleared(client, bearer, counsellor):
    c, auth = make_client(counsellor), bearer()
    start = clock.now()
    assert _meeting(client, c.id, auth, key="k5").status_code == 201
    with clock.frozen(start + dt.timedelta(hours=23)):
        assert _meeting(client, c.id, auth, key="k5")["Idempotent-Replayed"] == "true"
        call_command("clear_idempotency_keys")
        assert IdempotencyKey.objects.count() == 1
    with clock.frozen(start + dt.timedelta(hours=25)):
        later = _meeting(client, c.id, auth, key="k5")
        assert later.status_code == 201 and "Idempotent-Replayed" not in later
        assert Meeting.objects.filter(client=c).count() == 2
    with clock.frozen(start + dt.timedelta(hours=50)):
        call_command("clear_idempotency_keys")
    assert not IdempotencyKey.objects.exists()


def test_get_and_other_methods__the_header_ignored(client, bearer, counsellor):
    c, auth = make_client(counsellor), bearer()
    response = client.get(f"/api/v1/clients/{c.id}", HTTP_IDEMPOTENCY_KEY="g1", **auth)
    assert response.status_code == 200 and not IdempotencyKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_postgresql__the_same_key_at_once__one_write_the_other_waits_and_replays(
    bearer, counsellor, monkeypatch
):
    """A retry sent while the first request is still running waits for it (the unique
    index) and then answers with its result."""
    import threading

    from django.db import close_old_connections, connection

    from koto.clients import services

    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL (SQLite serialises writers anyway)")
    c, auth = make_client(counsellor), bearer()
    inside, release = threading.Event(), threading.Event()
    record = services.meeting_record

    def slow_record(**kwargs):
        inside.set()
        release.wait(timeout=30)
        return record(**kwargs)

    monkeypatch.setattr(services, "meeting_record", slow_record)
    answers: dict[str, object] = {}

    def send(name):
        try:
            answers[name] = _meeting(HttpClient(), c.id, auth, key="at-once")
        finally:
            close_old_connections()
            connection.close()

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert inside.wait(timeout=10)
    second = threading.Thread(target=send, args=("second",))
    second.start()
    second.join(timeout=1)
    assert second.is_alive()  # waiting on the first request's key
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert answers["first"].status_code == answers["second"].status_code == 201
    assert answers["second"]["Idempotent-Replayed"] == "true"
    assert answers["second"].json() == answers["first"].json()
    assert Meeting.objects.filter(client=c).count() == 1


def test_key_claim__key_gone_after_the_wait__claimed_again(db, monkeypatch):
    # the request waited for was released (or the expired key cleared) in between: the
    # lookup after the unique index's refusal found nothing, a DoesNotExist (a 500)
    from django.db import IntegrityError

    from koto.api import services
    from koto.api.models import IdempotencyKey

    create = IdempotencyKey.objects.create
    calls = []

    def refused_once(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            raise IntegrityError("duplicate key (held by a request since released)")
        return create(**kwargs)

    monkeypatch.setattr(IdempotencyKey.objects, "create", refused_once)
    row, new = services.key_claim(credential="t", key="k", fingerprint="f", user_id=None)
    assert new is True and row.pk is not None and len(calls) == 2


def test_session__switched_to_another_organisation__not_replayed(org, other_org):
    """A key belongs to the organisation acted for: the same key and body sent after the
    session switched organisation is a write of its own, not the first organisation's answer."""
    from koto.accounts.models import Membership
    from koto.guidance.models import Contact
    from koto.guidance.services import reasons_seed

    reasons_seed()
    adviser = member(org, Role.GUIDANCE_ADVISER, username="two_hats")
    second = Membership.objects.create(
        user=adviser, organisation=other_org, role=Role.GUIDANCE_ADVISER
    )
    http = HttpClient()
    http.force_login(adviser, backend="koto.accounts.backends.MembershipModelBackend")

    def log():
        return http.post(
            "/api/v1/guidance/contacts", json.dumps({"channel": "phone", "reasons": ["other"]}),
            content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1",
        )  # fmt: skip

    assert log().status_code == 201
    session = http.session
    session["membership_id"] = second.id
    session.save()
    answer = log()
    assert answer.status_code == 201 and not answer.has_header("Idempotent-Replayed")
    assert sorted(Contact.objects.values_list("organisation_id", flat=True)) == sorted(
        [org.id, other_org.id]
    )


def test_answer_fails_after_the_write__nothing_kept_and_the_retry_writes_once(
    client, bearer, counsellor, monkeypatch
):
    """A keyed write whose answer fails after the service wrote answers 500 and keeps
    nothing: the retry with the same key writes once, not a second meeting."""
    from koto.clients import services as client_services

    c = make_client(counsellor)
    auth = bearer()
    real = client_services.meeting_record

    def written_then_failing(**kwargs):
        real(**kwargs)
        raise RuntimeError("the answer failed")

    monkeypatch.setattr(client_services, "meeting_record", written_then_failing)
    client.raise_request_exception = False
    assert _meeting(client, c.id, auth, key="k-500").status_code == 500
    assert Meeting.objects.filter(client=c).count() == 0
    monkeypatch.setattr(client_services, "meeting_record", real)
    assert _meeting(client, c.id, auth, key="k-500").status_code == 201
    assert Meeting.objects.filter(client=c).count() == 1
