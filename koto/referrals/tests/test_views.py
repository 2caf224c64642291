"""Referral pages: inbox, new referral, detail (opening receives it), actions, printable;
404 for a third organisation on every referral URL; constant queries on the inbox."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse

from koto.audit.models import AuditEvent
from koto.clients.models import AccessGrant
from koto.core import clock
from koto.core.roles import Role
from koto.referrals import services
from koto.referrals.models import Referral, ReferralStatus
from tests.factories import make_client, member


def referral_url_names() -> dict[str, list[str]]:
    for pattern in get_resolver().url_patterns:
        if getattr(pattern, "namespace", None) == "referrals":
            return {f"referrals:{p.name}": list(p.pattern.converters) for p in pattern.url_patterns}
    return {}


def _urls(referral) -> list[str]:
    out = []
    for name, params in referral_url_names().items():
        if name == "referrals:act":
            out += [reverse(name, args=[referral.id, op]) for op in services.OPERATIONS]
        elif params:
            kw = {"referral_id": referral.id, "client_id": referral.client_id}
            out.append(reverse(name, kwargs={k: kw[k] for k in params}))
    return out


def test_referral_urls__enumerated():
    assert set(referral_url_names()) == {
        "referrals:inbox", "referrals:create", "referrals:detail", "referrals:print",
        "referrals:act",
    }  # fmt: skip


def test_every_referral_url__third_organisation__404(web, send, stranger):
    r = send()
    http = web(stranger)
    for url in _urls(r):
        assert (url, http.get(url).status_code) == (url, 404)
        assert (url, http.post(url, {"reason": "x", "comment": "x"}).status_code) == (url, 404)
    assert Referral.objects.get(pk=r.pk).status == ReferralStatus.SENT


def test_every_referral_url__anonymous__login(client, send):
    r = send()
    for url in [reverse("referrals:inbox"), *_urls(r)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


def test_every_referral_url__member_without_referral_permission__404(web, send, org):
    r = send()
    http = web(member(org, Role.MANAGER, username="boss"))
    for url in [reverse("referrals:inbox"), *_urls(r)]:
        assert (url, http.get(url).status_code) == (url, 404)


def test_inbox__new_incoming_highlighted_and_outgoing_listed(web, send, receiver, counsellor):
    r = send()
    page = web(receiver).get(reverse("referrals:inbox")).content.decode()
    assert "referral-row referral-new" in page
    assert r.client.last_name in page
    assert "1 new referral to your organisation." in page
    mine = web(counsellor).get(reverse("referrals:inbox")).content.decode()
    assert r.client.last_name in mine
    assert "referral-row referral-new" not in mine


def test_inbox__more_than_a_page__next_page_per_box_reaches_every_referral(
    web, send, receiver, counsellor, monkeypatch
):
    from koto.referrals import views

    monkeypatch.setattr(views, "INBOX_PAGE", 2)
    sent = []
    for _ in range(5):
        c = make_client(counsellor)
        c.access = "full"
        sent.append(send(client=c))
    http = web(receiver)
    seen, url = [], reverse("referrals:inbox")
    while url:
        response = http.get(url)
        seen += [r.id for r in response.context["incoming"]]
        assert "5 new referrals to your organisation." in response.content.decode()
        nxt = response.context["incoming_next"]
        url = reverse("referrals:inbox") + nxt if nxt else None
    assert seen == [r.id for r in reversed(sent)]


def test_detail__recipient_not_on_koto__sender_records_the_answer(web, send, counsellor):
    r = send(
        to_organisation=None, scope="none", external_name="Monikulttuurinen yhdistys ry",
        external_contact="Katu 1, 15100 Lahti",
    )  # fmt: skip
    http = web(counsellor)
    response = http.get(reverse("referrals:detail", args=[r.id]))
    assert response.context["actions"] == ["accept", "decline", "return", "withdraw"]
    response = http.post(
        reverse("referrals:act", args=[r.id, "accept"]), {"version": r.version, "note": ""}
    )
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.status == "accepted"


def test_inbox__overdue__flagged(web, send, receiver):
    send()
    http = web(receiver)
    http.cookies["django_language"] = "en"
    with clock.frozen(dt.date(2026, 11, 20)):
        page = http.get(reverse("referrals:inbox")).content.decode()
    assert 'referral-new referral-overdue">' in page
    assert "Overdue</strong>" in page


def _count(http, url):
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_inbox__query_count_constant(web, send, counsellor, receiver, other_org):
    send()
    back = make_client(receiver)
    back.access = "full"
    services.referral_send(  # a row in both boxes: a list with rows names its clients
        actor=receiver, client=back, kind="guidance", message="x",
        to_organisation=counsellor.active_membership.organisation,
    )  # fmt: skip
    http = web(receiver)
    few = _count(http, reverse("referrals:inbox"))
    for _ in range(8):
        c = make_client(counsellor)
        c.access = "full"
        send(client=c)
        back = make_client(receiver)
        back.access = "full"
        services.referral_send(
            actor=receiver, client=back, kind="guidance", message="x",
            to_organisation=counsellor.active_membership.organisation,
        )  # fmt: skip
    many = _count(http, reverse("referrals:inbox"))
    assert many == few


def test_create_page__sends_referral(web, counsellor, client_, other_org):
    response = web(counsellor).post(
        reverse("referrals:create", args=[client_.id]),
        {"kind": "assessment_contact_9", "to_organisation": other_org.id, "scope": "read",
         "message": "Please assess the client's integration needs."},
    )  # fmt: skip
    r = Referral.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("referrals:detail", args=[r.id])
    assert (r.to_organisation, r.scope, r.kind) == (other_org, "read", "assessment_contact_9")


def test_create_page__no_recipient__error_on_field(web, counsellor, client_):
    response = web(counsellor).post(
        reverse("referrals:create", args=[client_.id]),
        {"kind": "guidance", "scope": "none", "message": "x"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["to_organisation"]
    assert Referral.objects.count() == 0


def test_detail__receiver_opens__received_and_read_audited(web, send, receiver):
    r = send()
    response = web(receiver).get(reverse("referrals:detail", args=[r.id]))
    assert response.status_code == 200
    assert r.client.full_name in response.content.decode()
    assert Referral.objects.get(pk=r.pk).status == ReferralStatus.RECEIVED
    assert AuditEvent.objects.filter(
        object_type="referral", action="read", actor=receiver, client_id=r.client_id
    ).exists()
    assert response.context["actions"] == ["accept", "decline", "return"]


def test_detail__sender_opens__stays_sent_and_offers_only_withdrawing(web, send, counsellor):
    r = send()
    response = web(counsellor).get(reverse("referrals:detail", args=[r.id]))
    assert response.status_code == 200
    assert Referral.objects.get(pk=r.pk).status == ReferralStatus.SENT
    assert response.context["actions"] == ["withdraw"]


def test_accept_page__accepts_and_grants(web, send, receiver):
    r = send()
    http = web(receiver)
    http.get(reverse("referrals:detail", args=[r.id]))
    response = http.post(reverse("referrals:act", args=[r.id, "accept"]), {"version": 2})
    assert response.status_code == 302
    assert Referral.objects.get(pk=r.pk).status == ReferralStatus.ACCEPTED
    assert AccessGrant.objects.filter(source_id=str(r.id), scope="read").count() == 1
    assert http.get(reverse("clients:detail", args=[r.client_id])).status_code == 200


def test_accept_page__stale_version__form_error(web, send, receiver):
    r = send()
    response = web(receiver).post(reverse("referrals:act", args=[r.id, "accept"]), {"version": 1})
    assert response.status_code == 302  # version 1 is current: the first open receives it
    r2 = send(kind="guidance")
    response = web(receiver).post(reverse("referrals:act", args=[r2.id, "decline"]),
                                  {"reason": "x", "version": 7})  # fmt: skip
    assert response.status_code == 200
    assert Referral.objects.get(pk=r2.pk).status == ReferralStatus.SENT


def test_accept_page__without_the_version__refused(web, send, receiver):
    r = send()
    response = web(receiver).post(reverse("referrals:act", args=[r.id, "accept"]), {"note": "x"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The form lacks the version of the record: reload the page."
    ]
    assert Referral.objects.get(pk=r.pk).status == ReferralStatus.SENT


def test_decline_page__no_reason__error_on_field(web, send, receiver):
    r = send()
    response = web(receiver).post(reverse("referrals:act", args=[r.id, "decline"]), {"reason": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]


def test_act__unknown_operation__404(web, send, receiver):
    r = send()
    assert web(receiver).get(f"/referrals/{r.id}/explode/").status_code == 404


def test_print__external__shows_chosen_details_only(web, send, counsellor, client_):
    r = send(
        to_organisation=None, scope="none", external_name="Monikulttuurinen yhdistys ry",
        external_contact="Katu 1, 15100 Lahti", include_contact_details=True,
    )  # fmt: skip
    page = web(counsellor).get(reverse("referrals:print", args=[r.id])).content.decode()
    assert "Monikulttuurinen yhdistys ry" in page
    assert client_.full_name in page
    assert "+358401234567" in page
    assert client_.hetu not in page
    assert "@media print" in page


def test_print__receiver__404(web, send, receiver):
    r = send()
    assert web(receiver).get(reverse("referrals:print", args=[r.id])).status_code == 404


def test_create_page__client_of_another_organisation__404(web, stranger, client_):
    assert web(stranger).get(reverse("referrals:create", args=[client_.id])).status_code == 404


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_inbox__every_language__renders(web, counsellor, lang):
    http = web(counsellor)
    http.cookies["django_language"] = lang
    assert http.get(reverse("referrals:inbox")).status_code == 200


def test_detail__included_contact_details__shown_in_hand_not_after_it_is_declined(
    web, send, receiver, client_
):
    # read from the live record: a referral declined long ago showed a new address
    r = send(include_identity_code=True, include_contact_details=True, scope="none")
    http = web(receiver)
    page = http.get(reverse("referrals:detail", args=[r.id])).content.decode()
    assert client_.phone in page and client_.identifier in page
    services.referral_decline(actor=receiver, referral=Referral.objects.get(pk=r.pk), reason="No.")
    page = http.get(reverse("referrals:detail", args=[r.id])).content.decode()
    assert client_.phone not in page and client_.identifier not in page
    assert client_.full_name in page
