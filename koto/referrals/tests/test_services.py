"""Referral services: the state machine (every transition allowed and refused), the access
an accepted referral gives, overdue answers, reopening and referrals to recipients not on
Koto."""

import datetime as dt

import pytest

from koto.audit.models import AuditEvent
from koto.clients.models import AccessGrant, ClientEvent
from koto.clients.permissions import can_edit_client
from koto.clients.selectors import client_get_for
from koto.core import clock
from koto.core.errors import NotFound, PermissionDenied, ValidationFailed
from koto.core.roles import Role
from koto.referrals import selectors, services
from koto.referrals.models import Referral, ReferralStatus, ReferralStep
from koto.referrals.response_times import RESPONSE_TIMES
from koto.referrals.states import SENDER_OPERATIONS, TRANSITIONS, allowed_operations, next_status
from tests.factories import OrganisationFactory, member

from .conftest import TODAY

S = ReferralStatus


def _sees(user, client) -> str | None:
    try:
        return client_get_for(user=user, client_id=client.id, audit=False).access
    except NotFound:
        return None


def _op(op, actor, referral, **kw):
    text = {"decline": "reason", "return": "reason", "reopen": "comment", "withdraw": "reason"}.get(
        op
    )
    if text:
        kw.setdefault(text, "Because.")
    return services.OPERATIONS[op](actor=actor, referral=referral, **kw)


# --------------------------------------------------------------------------- send


def test_referral_send__to_organisation__sent_with_due_date_step_event_and_audit(
    send, counsellor, other_org, client_
):
    r = send()
    assert r.status == S.SENT
    assert r.due_on == dt.date(2026, 11, 9)  # 5 working days
    assert r.from_organisation_id == counsellor.active_membership.organisation_id
    assert list(r.steps.values_list("operation", flat=True)) == ["send"]
    assert ClientEvent.objects.filter(client=client_, kind="referral_sent").count() == 1
    assert AuditEvent.objects.filter(object_type="referral", action="create").count() == 1
    assert AccessGrant.objects.filter(client=client_).count() == 0


@pytest.mark.parametrize(
    ("kind", "due"),
    [
        ("assessment_contact_9", dt.date(2026, 11, 16)),
        ("employment_services", dt.date(2026, 11, 9)),
        ("welfare_services", dt.date(2026, 11, 11)),
        ("integration_training", dt.date(2026, 11, 16)),
        ("guidance", dt.date(2026, 11, 9)),
        ("other", dt.date(2026, 11, 16)),
    ],
)
def test_referral_send__each_type__due_by_its_response_time(send, kind, due):
    assert send(kind=kind).due_on == due


def test_response_times__every_type_has_one():
    from koto.referrals.models import ReferralKind

    assert set(RESPONSE_TIMES) == set(ReferralKind.values)


def test_referral_send__own_organisation__refused_naming_to_organisation(send, org):
    with pytest.raises(ValidationFailed) as e:
        send(to_organisation=org)
    assert list(e.value.fields) == ["to_organisation"]


def test_referral_send__no_recipient__refused_naming_to_organisation(send):
    with pytest.raises(ValidationFailed) as e:
        send(to_organisation=None)
    assert "to_organisation" in e.value.fields


def test_referral_send__empty_message__refused_naming_message(send):
    with pytest.raises(ValidationFailed) as e:
        send(message="  ")
    assert list(e.value.fields) == ["message"]


def test_referral_send__external_with_access__refused_naming_scope(send):
    with pytest.raises(ValidationFailed) as e:
        send(to_organisation=None, external_name="Järjestö ry", external_contact="Katu 1")
    assert list(e.value.fields) == ["scope"]


@pytest.mark.parametrize("scope", ["read", "full"])
def test_referral_send__access_from_read_access__refused(send, client_, scope):
    """A read grant or emergency access is not passed on: it would outlive its source."""
    client_.access = "read"
    with pytest.raises(ValidationFailed) as e:
        send(scope=scope)
    assert list(e.value.fields) == ["scope"]


def test_referral_send__identity_or_contacts_from_read_access__refused(send, client_):
    client_.access = "read"  # a read grant or emergency access
    with pytest.raises(ValidationFailed) as e:
        send(scope="none", include_identity_code=True, include_contact_details=True)
    assert sorted(e.value.fields) == ["include_contact_details", "include_identity_code"]
    assert send(scope="none").include_identity_code is False  # referring as such is allowed


def test_referral_send__ended_organisation__refused_naming_to_organisation(send):
    ely = OrganisationFactory(
        code="ely-04", kind="regional_state_authority", valid_to=dt.date(2025, 12, 31)
    )
    with pytest.raises(ValidationFailed) as e:
        send(to_organisation=ely, scope="none")
    assert list(e.value.fields) == ["to_organisation"]


def test_referral_send__assessment_contact_to_ngo__refused_naming_to_organisation(send):
    ngo = OrganisationFactory(code="ngo-9", kind="ngo")
    with pytest.raises(ValidationFailed) as e:
        send(to_organisation=ngo, kind="assessment_contact_9", scope="none")
    assert list(e.value.fields) == ["to_organisation"]
    assert send(to_organisation=ngo, kind="guidance", scope="none").to_organisation == ngo


def test_referral_send__same_open_referral_twice__refused(send):
    send()
    with pytest.raises(services.ReferralError) as e:
        send()
    assert e.value.code == "referral_open"


def test_referral_send__without_referral_permission__not_found(send, org):
    manager = member(org, Role.MANAGER, username="boss")
    with pytest.raises(NotFound):
        send(actor=manager)


# --------------------------------------------------------------------------- state machine

ALL_STATUSES = list(S.values)
CASES = [(op, status) for op in TRANSITIONS for status in ALL_STATUSES if op != "receive"]


@pytest.mark.parametrize(("operation", "status"), CASES)
def test_transition__every_operation_from_every_status(
    send, counsellor, receiver, operation, status
):
    # given a referral in `status`
    r = send()
    Referral.objects.filter(pk=r.pk).update(status=status)
    r.refresh_from_db()
    actor = counsellor if operation in SENDER_OPERATIONS else receiver
    expected = next_status(operation, status)
    if status == S.SENT and operation in ("accept", "decline", "return"):
        expected = next_status(operation, S.RECEIVED)  # opening it receives it first
    # when / then
    if expected is None:
        with pytest.raises(services.ReferralError) as e:
            _op(operation, actor, r)
        assert e.value.code == "invalid_transition"
        assert Referral.objects.get(pk=r.pk).status == status
    else:
        done = _op(operation, actor, r)
        assert done.status == expected
        assert Referral.objects.get(pk=r.pk).version > 1


def test_states__allowed_operations():
    assert allowed_operations(S.SENT) == ["receive", "withdraw"]
    assert allowed_operations(S.RECEIVED) == ["accept", "decline", "return", "withdraw"]
    assert allowed_operations(S.ACCEPTED) == ["return", "complete", "withdraw"]
    assert allowed_operations(S.COMPLETED) == ["reopen"]
    assert allowed_operations(S.WITHDRAWN) == ["reopen"]


def test_referral_receive__by_receiver__received_once(send, receiver):
    r = send()
    services.referral_receive(actor=receiver, referral=r)
    again = services.referral_receive(actor=receiver, referral=r)
    assert again.status == S.RECEIVED
    assert again.received_at == clock.now()
    assert r.steps.filter(operation="receive").count() == 1


def test_referral_receive__by_sender__stays_sent(send, counsellor):
    r = send()
    assert services.referral_receive(actor=counsellor, referral=r).status == S.SENT


def test_referral_accept__unopened__receive_step_kept(send, receiver):
    r = send()
    services.referral_accept(actor=receiver, referral=r)
    assert list(r.steps.values_list("operation", flat=True)) == ["send", "receive", "accept"]


def test_referral_accept__by_sender__permission_denied(send, counsellor, receiver):
    r = send()
    services.referral_receive(actor=receiver, referral=r)
    with pytest.raises(PermissionDenied):
        services.referral_accept(actor=counsellor, referral=r)


def test_referral_accept__stale_version__conflict(send, receiver):
    r = send()
    with pytest.raises(services.ReferralConflict):
        services.referral_accept(actor=receiver, referral=r, expected_version=r.version + 5)
    assert Referral.objects.get(pk=r.pk).status == S.SENT


@pytest.mark.parametrize("operation", ["decline", "return"])
def test_referral_answer__without_reason__refused_naming_reason(send, receiver, operation):
    r = send()
    with pytest.raises(ValidationFailed) as e:
        services.OPERATIONS[operation](actor=receiver, referral=r, reason=" ")
    assert list(e.value.fields) == ["reason"]


def test_referral_reopen__without_comment__refused_naming_comment(send, counsellor, receiver):
    r = _op("decline", receiver, send())
    with pytest.raises(ValidationFailed) as e:
        services.referral_reopen(actor=counsellor, referral=r, comment="")
    assert list(e.value.fields) == ["comment"]


def test_referral_reopen__audited_with_comment_and_due_again(send, counsellor, receiver):
    r = _op("decline", receiver, send(), reason="No capacity this month.")
    with clock.frozen(dt.date(2026, 12, 1)):
        r = services.referral_reopen(
            actor=counsellor, referral=r, comment="Capacity is back, please look again."
        )
    assert r.status == S.SENT
    assert r.due_on == dt.date(2026, 12, 8)
    assert r.decision_reason == ""
    event = AuditEvent.objects.filter(object_type="referral", object_id=str(r.id)).last()
    assert event.reason == "Capacity is back, please look again."
    # the copy shared is taken anew (the sender keeps the record): what it holds is audited
    assert event.changes == {
        "operation": "reopen", "status": ["declined", "sent"], "shared": sorted(r.shared)
    }  # fmt: skip
    assert r.steps.last().note == "Capacity is back, please look again."


def test_referral_decline__reason_kept(send, receiver):
    r = _op("decline", receiver, send(), reason="Not our client group.")
    assert r.decision_reason == "Not our client group."
    assert r.handled_by == receiver


# --------------------------------------------------------------------------- access


def test_access__read_scope__seen_only_after_accept_read_only_and_lost_after_complete(
    send, receiver, stranger, client_
):
    r = send(scope="read")
    assert _sees(receiver, client_) is None
    services.referral_receive(actor=receiver, referral=r)
    assert _sees(receiver, client_) is None
    r = services.referral_accept(actor=receiver, referral=r)
    grant = AccessGrant.objects.get(source="referral", source_id=str(r.id))
    assert (grant.scope, grant.valid_from, grant.valid_to) == ("read", TODAY, None)
    seen = client_get_for(user=receiver, client_id=client_.id)
    assert seen.access == "read"
    assert can_edit_client(receiver, seen) is False
    assert _sees(stranger, client_) is None
    services.referral_complete(actor=receiver, referral=r)
    assert _sees(receiver, client_) is None
    assert AccessGrant.objects.get(pk=grant.pk).valid_to == TODAY - dt.timedelta(days=1)
    assert _sees(stranger, client_) is None


def test_access__full_scope__receiver_can_edit(send, receiver, client_):
    r = services.referral_accept(actor=receiver, referral=send(scope="full"))
    seen = client_get_for(user=receiver, client_id=client_.id)
    assert seen.access == "full"
    assert can_edit_client(receiver, seen) is True
    assert r.status == S.ACCEPTED


def test_access__none_scope__no_grant(send, receiver, client_):
    services.referral_accept(actor=receiver, referral=send(scope="none"))
    assert AccessGrant.objects.filter(client=client_).count() == 0
    assert _sees(receiver, client_) is None


def test_access__returned_after_accept__access_ends(send, receiver, client_):
    r = services.referral_accept(actor=receiver, referral=send(scope="read"))
    services.referral_return(actor=receiver, referral=r, reason="Wrong office, try Nokia.")
    assert _sees(receiver, client_) is None


def test_access__reopened_and_accepted_again__new_grant(send, counsellor, receiver, client_):
    r = services.referral_accept(actor=receiver, referral=send(scope="read"))
    r = services.referral_complete(actor=receiver, referral=r)
    r = services.referral_reopen(actor=counsellor, referral=r, comment="Needs more support.")
    assert _sees(receiver, client_) is None
    services.referral_accept(actor=receiver, referral=r)
    assert _sees(receiver, client_) == "read"
    assert AccessGrant.objects.filter(source_id=str(r.id)).count() == 2


def _move_away(client_, third_org):
    """The client moves: another organisation keeps the record from now on."""
    client_.responsible_organisation = third_org
    client_.save(update_fields=["responsible_organisation"])


def test_access__sender_no_longer_keeps_record__accept_refused_nothing_granted(
    send, receiver, client_, third_org
):
    r = send(scope="read")
    _move_away(client_, third_org)
    with pytest.raises(services.ReferralError) as e:
        services.referral_accept(actor=receiver, referral=r)
    assert e.value.code == "access_not_held"
    r.refresh_from_db()
    assert r.status == "sent" and not AccessGrant.objects.exists()


def test_access__sender_no_longer_keeps_record__reopen_refused(
    send, counsellor, receiver, client_, third_org
):
    r = services.referral_accept(actor=receiver, referral=send(scope="read"))
    r = services.referral_complete(actor=receiver, referral=r)
    _move_away(client_, third_org)
    with pytest.raises(services.ReferralError) as e:
        services.referral_reopen(actor=counsellor, referral=r, comment="Again.")
    assert e.value.code == "access_not_held"


def test_referral_get_for__third_organisation__not_found(send, stranger):
    r = send()
    with pytest.raises(NotFound):
        selectors.referral_get_for(user=stranger, referral_id=r.id)


def test_referral_get_for__receiver_before_accepting__read_audited(send, receiver, client_):
    r = send()
    selectors.referral_get_for(user=receiver, referral_id=r.id)
    event = AuditEvent.objects.filter(object_type="referral", action="read").get()
    assert (event.client_id, event.actor_id, event.object_id) == (
        client_.id,
        receiver.id,
        str(r.id),
    )


# --------------------------------------------------------------------------- overdue


def test_overdue__open_and_past_due__flagged(send, receiver):
    r = send()  # due 9.11.2026
    with clock.frozen(dt.date(2026, 11, 9)):
        assert r.overdue is False
    with clock.frozen(dt.date(2026, 11, 10)):
        assert r.overdue is True
        r = services.referral_receive(actor=receiver, referral=r)
        assert r.overdue is True
        r = services.referral_accept(actor=receiver, referral=r)
        assert r.overdue is False


def test_incoming_new_count__counts_unopened_of_own_organisation(
    send, receiver, counsellor, stranger, client_
):
    r1 = send()
    send(kind="guidance")
    assert selectors.incoming_new_count(receiver) == 2
    assert selectors.incoming_new_count(counsellor) == 0
    assert selectors.incoming_new_count(stranger) == 0
    services.referral_receive(actor=receiver, referral=r1)
    assert selectors.incoming_new_count(receiver) == 1


# --------------------------------------------------------------------------- external


def test_external_referral__sender_records_the_answer(send, counsellor, receiver):
    r = send(
        to_organisation=None, scope="none", external_name="Monikulttuurinen yhdistys ry",
        external_contact="Katu 1, 15100 Lahti",
    )  # fmt: skip
    assert r.is_external is True
    assert selectors.incoming_new_count(receiver) == 0
    r = services.referral_accept(actor=counsellor, referral=r, note="Accepted by phone.")
    r = services.referral_complete(actor=counsellor, referral=r)
    assert r.status == S.COMPLETED
    assert ReferralStep.objects.filter(referral=r).count() == 4


def test_referrals_waiting__stored_count_follows_every_change(send, receiver, counsellor):
    from koto.organisations.models import Organisation

    def stored() -> int:
        org_id = receiver.active_membership.organisation_id
        return Organisation.objects.get(pk=org_id).referrals_waiting

    r1, r2 = send(), send(kind="guidance")
    assert stored() == 2 == selectors.incoming_new_count(receiver)
    r1 = services.referral_receive(actor=receiver, referral=r1)
    assert stored() == 1
    services.referral_decline(actor=receiver, referral=r2, reason="Not ours.")
    assert stored() == 0
    r1 = services.referral_accept(actor=receiver, referral=r1)
    r1 = services.referral_complete(actor=receiver, referral=r1)
    services.referral_reopen(actor=counsellor, referral=r1, comment="Once more, please.")
    assert stored() == 1 == selectors.incoming_new_count(receiver)


def test_context_processor__new_count_for_referral_handlers_only(send, receiver, org, rf):
    from koto.accounts.selectors import active_membership_for
    from koto.referrals.context_processors import referrals

    send()
    request = rf.get("/")
    # as each request does: the membership (and its organisation) read afresh
    receiver.active_membership = active_membership_for(user=receiver, membership_id=None)
    request.user = receiver
    assert referrals(request) == {"can_handle_referrals": True, "referrals_new_count": 1}
    request.user = member(org, Role.MANAGER, username="boss")
    assert referrals(request) == {}


# --------------------------------------------------------------------------- who reopens


def test_reopen__by_the_receiver__refused_no_access_regained(send, counsellor, receiver, client_):
    # the receiver reopened a completed referral and accepted it again: access the sender
    # never gave a second time
    r = send(scope="full")
    r = services.referral_accept(actor=receiver, referral=r)
    r = services.referral_complete(actor=receiver, referral=r)
    assert not services.can_do(receiver, r, "reopen")
    assert services.can_do(counsellor, r, "reopen")
    with pytest.raises(PermissionDenied):
        services.referral_reopen(actor=receiver, referral=r, comment="check")
    assert Referral.objects.get(pk=r.pk).status == S.COMPLETED
    assert _sees(receiver, client_) is None


def test_reopen__another_open_referral_of_its_type__refused_not_two(send, counsellor, receiver):
    # sending checked for an open one of the same type; sending again did not
    first = services.referral_decline(actor=receiver, referral=send(), reason="Not now.")
    second = send()
    with pytest.raises(services.ReferralError) as e:
        services.referral_reopen(actor=counsellor, referral=first, comment="Again.")
    assert e.value.code == "referral_open"
    services.referral_decline(actor=receiver, referral=second, reason="Still not.")
    assert services.referral_reopen(actor=counsellor, referral=first, comment="Now?").status == (
        S.SENT
    )


def test_reopen__recipient_ended__refused_naming_its_successor(send, counsellor, receiver):
    r = services.referral_decline(actor=receiver, referral=send(), reason="Not ours.")
    r.to_organisation.valid_to = TODAY - dt.timedelta(days=1)
    r.to_organisation.save(update_fields=["valid_to"])
    with pytest.raises(services.ReferralError) as e:
        services.referral_reopen(actor=counsellor, referral=r, comment="Again.")
    assert e.value.code == "recipient_ended"


def test_send__user_who_cannot_edit__no_access_and_no_identity_code_passed_on(
    org, other_org, client_
):
    # a guidance adviser reads the record (and sends referrals): the organisation's full
    # access was enough to hand another organisation write access and the identity code
    adviser = member(org, Role.GUIDANCE_ADVISER, username="adviser")
    with pytest.raises(ValidationFailed) as e:
        services.referral_send(
            actor=adviser, client=client_, kind="guidance", message="Please help.",
            to_organisation=other_org, scope="full", include_identity_code=True,
        )  # fmt: skip
    assert set(e.value.fields) == {"scope", "include_identity_code"}
    r = services.referral_send(
        actor=adviser, client=client_, kind="guidance", message="Please help.",
        to_organisation=other_org, scope="none",
    )  # fmt: skip
    assert r.status == S.SENT


def test_send__to_an_organisation_nobody_there_handles__refused_naming_to_organisation(send):
    # Kela has no role that handles referrals: one sent there waited for ever, overdue
    kela = OrganisationFactory(code="kela-x", name_fi="Kela", kind="kela")
    with pytest.raises(ValidationFailed) as e:
        send(to_organisation=kela, scope="none")
    assert list(e.value.fields) == ["to_organisation"]
    assert not Referral.objects.exists()


def test_send_form__offers_only_organisations_that_handle_referrals(org, other_org):
    from koto.referrals.forms import ReferralForm

    kela = OrganisationFactory(code="kela-y", name_fi="Kela", kind="kela")
    offered = set(ReferralForm(exclude_organisation_id=org.id).fields["to_organisation"].queryset)
    assert other_org in offered and kela not in offered and org not in offered


def test_withdraw__by_the_sender__access_ends_reason_kept_receiver_cannot(
    send, counsellor, receiver, client_
):
    # sent to the wrong organisation or no longer needed: the sender could not take it back
    r = services.referral_accept(actor=receiver, referral=send(scope="read"))
    assert _sees(receiver, client_) == "read"
    assert not services.can_do(receiver, r, "withdraw")
    with pytest.raises(PermissionDenied):
        services.referral_withdraw(actor=receiver, referral=r, reason="x")
    with pytest.raises(ValidationFailed) as e:
        services.referral_withdraw(actor=counsellor, referral=r, reason="")
    assert list(e.value.fields) == ["reason"]
    r = services.referral_withdraw(actor=counsellor, referral=r, reason="Wrong organisation.")
    assert (r.status, r.decision_reason) == (S.WITHDRAWN, "Wrong organisation.")
    assert r.withdrawn_at is not None
    assert _sees(receiver, client_) is None
    assert ClientEvent.objects.filter(client=client_, kind="referral_withdrawn").count() == 1
    event = AuditEvent.objects.filter(object_type="referral").latest("id")
    assert event.changes == {"operation": "withdraw", "status": ["accepted", "withdrawn"]}
    # a new one of its type may be sent; the withdrawn one stays in the history
    assert send(scope="none").status == S.SENT
