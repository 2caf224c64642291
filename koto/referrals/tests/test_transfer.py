"""A client moves: the municipality responsible for them transfers them (a referral of kind
"transfer"), and on acceptance the receiving organisation takes the client over with their
open assessment, open plans and open tasks; the sender keeps reading the record. Until
2026-12-07 the new municipality could neither take the client over nor create them (the
identity code was taken)."""

import datetime as dt

import pytest

from koto.assessments.services import assessment_start
from koto.audit.models import AuditEvent
from koto.clients.models import AccessGrant, Client, Task
from koto.clients.selectors import client_get_for
from koto.core import clock
from koto.core.errors import NotFound, PermissionDenied, ValidationFailed
from koto.core.roles import Role
from koto.organisations.models import OrganisationKind
from koto.referrals import services
from koto.referrals.models import Referral, ReferralStatus
from tests.factories import OrganisationFactory, make_client, member

from .conftest import TODAY


@pytest.fixture
def moved(counsellor, client_):
    """The client with an open assessment of Lahti's (and its deadline task)."""
    assessment_start(actor=counsellor, client=client_, trigger="client_request")
    return client_


def _transfer(send, **kw):
    return send(kind="transfer", message="Muutti Tampereelle 1.11.", **kw)


def test_transfer_accepted__the_client_their_assessment_and_tasks_the_receiver_s(
    send, moved, counsellor, receiver, org, other_org
):
    referral = _transfer(send)
    assert referral.scope == "none"  # the record passes on acceptance, not by a grant
    services.referral_receive(actor=receiver, referral=referral)
    services.referral_accept(actor=receiver, referral=referral)
    client = Client.objects.get(pk=moved.pk)
    assert (client.responsible_organisation_id, client.counsellor_id) == (other_org.id, receiver.id)
    assert set(client.assessments.values_list("organisation_id", "counsellor_id")) == {
        (other_org.id, receiver.id)
    }
    # the receiver edits; Lahti reads until the end of next year, and edits no more
    assert client_get_for(user=receiver, client_id=client.id).access == "full"
    assert client_get_for(user=counsellor, client_id=client.id).access == "read"
    grant = AccessGrant.objects.get(client=client, organisation=org, source="transfer")
    assert (grant.scope, grant.valid_to) == ("read", dt.date(TODAY.year + 1, 12, 31))
    event = AuditEvent.objects.filter(object_type="client", reason=f"transfer:{referral.id}").get()
    assert event.changes["responsible_organisation"] == {"from": org.code, "to": other_org.code}


def test_transfer__declined__nothing_changes(send, moved, receiver, org):
    referral = _transfer(send)
    services.referral_receive(actor=receiver, referral=referral)
    services.referral_decline(actor=receiver, referral=referral, reason="Ei muuttanut meille.")
    client = Client.objects.get(pk=moved.pk)
    assert client.responsible_organisation_id == org.id
    assert AccessGrant.objects.filter(client=client, source="transfer").exists() is False
    with pytest.raises(NotFound):
        client_get_for(user=receiver, client_id=client.id)


def test_transfer__accepted_only_by_someone_who_takes_the_client(send, moved, other_org, org):
    adviser = member(other_org, Role.GUIDANCE_ADVISER, username="adviser")
    referral = _transfer(send)
    services.referral_receive(actor=adviser, referral=referral)
    with pytest.raises(PermissionDenied):
        services.referral_accept(actor=adviser, referral=referral)
    assert Client.objects.get(pk=moved.pk).responsible_organisation_id == org.id
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.RECEIVED


def test_transfer__bad_recipient_or_sender__refused_naming_the_field(
    send, moved, counsellor, other_org, receiver
):
    ngo = OrganisationFactory(code="ngo-x", name_fi="Yhdistys", kind=OrganisationKind.NGO)
    with pytest.raises(ValidationFailed) as e:
        _transfer(send, to_organisation=ngo)
    assert "to_organisation" in e.value.fields
    # a second one while the first waits
    _transfer(send)
    with pytest.raises(ValidationFailed) as e:
        _transfer(send)
    assert set(e.value.fields) == {"kind"}
    # an organisation editing the client under a grant does not transfer them
    other = make_client(counsellor)
    AccessGrant.objects.create(
        client=other, organisation=other_org, scope="full", source="referral",
        valid_from=dt.date(2020, 1, 1),
    )  # fmt: skip
    seen = client_get_for(user=receiver, client_id=other.id)
    third = OrganisationFactory(code="091", name_fi="Helsinki")
    with pytest.raises(ValidationFailed) as e:
        services.referral_send(
            actor=receiver, client=seen, kind="transfer", message="x", to_organisation=third
        )
    assert list(e.value.fields) == ["kind"]
    assert "responsible" in str(e.value.fields["kind"])


def test_transfer__accepted__completed_at_once_and_not_undone(send, moved, counsellor, receiver):
    referral = _transfer(send)
    services.referral_receive(actor=receiver, referral=referral)
    referral = services.referral_accept(actor=receiver, referral=referral)
    assert referral.status == ReferralStatus.COMPLETED
    with pytest.raises(services.ReferralError) as e:
        services.referral_reopen(actor=counsellor, referral=referral, comment="Väärin.")
    assert e.value.code == "transferred"
    with pytest.raises(services.ReferralError):
        services.referral_return(actor=receiver, referral=referral, reason="Ei meille.")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.COMPLETED


def _accepted(receiver, referral):
    return services.referral_accept(
        actor=receiver, referral=services.referral_receive(actor=receiver, referral=referral)
    )


def test_transfer__declined__not_reopened_a_new_one_is_checked_again(
    send, moved, counsellor, receiver
):
    referral = _transfer(send)
    services.referral_receive(actor=receiver, referral=referral)
    services.referral_decline(actor=receiver, referral=referral, reason="Ei muuttanut meille.")
    with pytest.raises(services.ReferralError) as e:
        services.referral_reopen(actor=counsellor, referral=referral, comment="Muutti sittenkin.")
    assert e.value.code == "transferred"
    assert _transfer(send).status == ReferralStatus.SENT


def test_transfer__there_and_back_and_there_again(
    send, moved, counsellor, receiver, org, other_org
):
    _accepted(receiver, _transfer(send))
    theirs = client_get_for(user=receiver, client_id=moved.id)
    back = services.referral_send(
        actor=receiver, client=theirs, kind="transfer", message="Muutti takaisin.",
        to_organisation=org,
    )  # fmt: skip
    _accepted(counsellor, back)
    assert Client.objects.get(pk=moved.pk).responsible_organisation_id == org.id
    _accepted(receiver, _transfer(send, client=client_get_for(user=counsellor, client_id=moved.id)))
    assert Client.objects.get(pk=moved.pk).responsible_organisation_id == other_org.id


def test_transfer__the_receiver_finds_the_client_by_name(send, moved, receiver):
    from koto.clients.selectors import client_search_for

    _accepted(receiver, _transfer(send))
    page = client_search_for(user=receiver, query=moved.last_name)
    assert [c.id for c in page.items] == [moved.id]


def test_transfer__another_organisation_s_open_assessment_stays_its_own(
    send, client_, receiver, third_org, stranger
):
    # Helsinki edits the client under a full grant and assesses; Lahti transfers to Tampere
    AccessGrant.objects.create(
        client=client_, organisation=third_org, scope="full", source="referral",
        valid_from=dt.date(2020, 1, 1),
    )  # fmt: skip
    theirs = assessment_start(
        actor=stranger, client=client_get_for(user=stranger, client_id=client_.id),
        trigger="client_request",
    )  # fmt: skip
    _accepted(receiver, _transfer(send))
    theirs.refresh_from_db()
    assert (theirs.organisation_id, theirs.counsellor_id) == (third_org.id, stranger.id)


def test_transfer__the_receiver_s_earlier_referral_grant_ends(send, moved, receiver, other_org):
    _accepted(receiver, send())  # employment services, read access on acceptance
    open_grants = AccessGrant.objects.filter(
        organisation=other_org, source="referral", valid_to__isnull=True
    )
    assert open_grants.count() == 1
    _accepted(receiver, _transfer(send))
    assert open_grants.count() == 0


def test_transfer_pages__sent_from_the_client_page_accepted_in_the_inbox(
    web, moved, counsellor, receiver, other_org
):
    http = web(counsellor)
    r = http.post(
        f"/referrals/new/{moved.id}/",
        {"kind": "transfer", "to_organisation": other_org.id, "message": "Muutti Tampereelle.",
         "scope": "read"},
    )  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:2000]
    referral_url = r["Location"]
    http = web(receiver)
    assert http.get(referral_url).status_code == 200
    referral = Referral.objects.get(client=moved, kind="transfer")
    page = http.get(referral_url.rstrip("/") + "/accept/").content.decode()
    assert "with you as the counsellor" in page
    accepted = http.post(
        referral_url.rstrip("/") + "/accept/", {"note": "", "version": referral.version}
    )
    assert accepted.status_code == 302
    assert Client.objects.get(pk=moved.pk).responsible_organisation_id == other_org.id
    # the referral's page leads to the client taken over (until 2026-12-08 it did not)
    assert f'href="/clients/{moved.id}/"' in http.get(referral_url).content.decode()


def test_transfer_accepted__open_deadline_tasks_go_with_the_client(
    send, client_, counsellor, receiver, other_org
):
    # the assessment's start is due: the task is Lahti's counsellor's, then the receiver's
    Task.objects.filter(client=client_).update(assignee=counsellor)
    assert Task.objects.filter(client=client_, status="open").exists() is True
    referral = _transfer(send)
    services.referral_receive(actor=receiver, referral=referral)
    services.referral_accept(actor=receiver, referral=referral)
    assert set(
        Task.objects.filter(client=client_, status="open").values_list(
            "organisation_id", "assignee_id"
        )
    ) == {(other_org.id, receiver.id)}
    # on record as handed over, as the open assessment and plans are
    from koto.clients.models import HandedOverRecord

    assert set(
        HandedOverRecord.objects.filter(change__client=client_).values_list(
            "record_type", "record_id"
        )
    ) == {("task", t) for t in Task.objects.filter(client=client_, status="open").values_list(
        "id", flat=True
    )}  # fmt: skip


def test_transfer__completion_stepped_audited_and_the_included_code_removed(send, moved, receiver):
    referral = _accepted(receiver, _transfer(send, include_identity_code=True))
    assert list(referral.steps.values_list("operation", flat=True).order_by("id")) == [
        "send", "receive", "accept", "complete"
    ]  # fmt: skip
    assert "identity_code" not in Referral.objects.get(pk=referral.pk).shared
    assert (
        AuditEvent.objects.filter(
            object_type="referral", object_id=str(referral.id), changes__operation="complete"
        ).count()
        == 1
    )


def test_transfer__a_producer_s_open_assessment_moves_and_it_keeps_reading(
    org, counsellor, other_org, receiver
):
    from koto.organisations.models import AgreementScope, ServiceAgreement

    # Hollola's client, whose assessment Lahti (producing Hollola's services) started
    hollola = OrganisationFactory(code="098", name_fi="Hollola")
    hollola_worker = member(hollola, Role.INTEGRATION_COUNSELLOR, username="hollola")
    ServiceAgreement.objects.create(
        producer=org, purchaser=hollola, scope=AgreementScope.INTEGRATION_SERVICES,
        valid_from=dt.date(2025, 1, 1),
    )  # fmt: skip
    client = make_client(hollola_worker)
    started = assessment_start(
        actor=counsellor, client=client_get_for(user=counsellor, client_id=client.id),
        trigger="client_request",
    )  # fmt: skip
    referral = services.referral_send(
        actor=hollola_worker, client=client_get_for(user=hollola_worker, client_id=client.id),
        kind="transfer", message="Muutti Tampereelle.", to_organisation=other_org,
    )  # fmt: skip
    _accepted(receiver, referral)
    started.refresh_from_db()
    assert (started.organisation_id, started.counsellor_id) == (other_org.id, receiver.id)
    assert client_get_for(user=counsellor, client_id=client.id).access == "read"


def test_client_page__transfer_button_opens_the_referral_page_with_the_kind(
    web, moved, counsellor, receiver
):
    http = web(counsellor)
    url = f"/referrals/new/{moved.id}/?kind=transfer"
    assert url.replace("&", "&amp;") in http.get(f"/clients/{moved.id}/").content.decode()
    page = http.get(url).content.decode()
    assert '<option value="transfer" selected>' in page
    # a reader of the client (no one to transfer it) sees no button
    AccessGrant.objects.create(
        client=moved, organisation=receiver.active_membership.organisation, scope="read",
        source="referral", valid_from=dt.date(2020, 1, 1),
    )  # fmt: skip
    assert "?kind=transfer" not in web(receiver).get(f"/clients/{moved.id}/").content.decode()


def test_transfer_accepted__the_registry_keeps_the_change_of_responsibility(
    send, moved, receiver, org, other_org
):
    """The history of the responsible organisation is kept in the registry too, for the apps
    below the referrals (the Koto-AJ export tells by it whose records were whose)."""
    from koto.clients.models import ResponsibilityChange

    referral = _transfer(send)
    services.referral_receive(actor=receiver, referral=referral)
    services.referral_accept(actor=receiver, referral=referral)
    referral.refresh_from_db()
    change = ResponsibilityChange.objects.get(client=moved)
    assert (change.from_organisation_id, change.to_organisation_id) == (org.id, other_org.id)
    assert (change.at, change.recorded_by_id) == (referral.accepted_at, receiver.id)
    assert (change.source_type, change.source_id) == ("referral", referral.id)
    # the open assessment passed over with the client, on record as handed over
    open_assessment = moved.assessments.get()
    assert list(change.handed_over.values_list("record_type", "record_id")) == [
        ("assessment", open_assessment.id)
    ]
    event = AuditEvent.objects.filter(object_type="client", reason=f"transfer:{referral.id}").get()
    assert event.changes["responsibility_change"] == change.id


def test_client_page__the_history_of_the_responsible_organisation(
    web, send, moved, receiver, org, other_org
):
    """After the move the client page says where the client came from and when: where the
    earlier records are, which that organisation still answers for."""
    referral = _transfer(send)
    services.referral_receive(actor=receiver, referral=referral)
    services.referral_accept(actor=receiver, referral=referral)
    page = web(receiver).get(f"/clients/{moved.id}/").content.decode()
    day = clock.today().strftime("%-d.%-m.%Y")
    assert f"{day}: transferred from {org.name_en} to {other_org.name_en}" in page


def test_api_client__the_history_of_the_responsible_organisation(
    web, send, moved, receiver, org, other_org
):
    assert web(receiver).get(f"/api/v1/clients/{moved.id}").status_code == 404
    referral = _transfer(send)
    services.referral_receive(actor=receiver, referral=referral)
    services.referral_accept(actor=receiver, referral=referral)
    referral.refresh_from_db()
    body = web(receiver).get(f"/api/v1/clients/{moved.id}").json()
    assert body["responsibility_history"] == [
        {"at": referral.accepted_at.isoformat().replace("+00:00", "Z"),
         "from_organisation": org.code, "to_organisation": other_org.code}
    ]  # fmt: skip
