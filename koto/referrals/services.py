"""Writes of referrals. Every status change goes through the state machine in `states.py`,
writes a `ReferralStep`, a client timeline event and an audit record in one transaction.

Acceptance gives the receiving organisation an access grant with the referral's scope (none,
read or full) from that day; decline, return and completion end it. A second handler acting
on the same referral at the same time gets a conflict, not a silent overwrite."""

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from koto.assessments.models import Assessment
from koto.audit.services import audit_record
from koto.clients.models import (
    AccessGrant,
    Client,
    ClientEvent,
    HandedOverRecord,
    ResponsibilityChange,
    Task,
)
from koto.clients.permissions import can_assign_counsellor, can_edit_client
from koto.clients.selectors import organisation_keeps_record
from koto.clients.services import access_grant_open, record_event
from koto.clients.signals import client_transferred
from koto.core import clock
from koto.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from koto.core.roles import Perm, kinds_with
from koto.organisations.models import ASSESSING_KINDS, Organisation
from koto.organisations.selectors import producers_serving, purchasers_served_by
from koto.referrals.models import (
    AccessScope,
    Referral,
    ReferralKind,
    ReferralStatus,
    ReferralStep,
    shared_copy,
)
from koto.referrals.response_times import response_due_on
from koto.referrals.routing import law_recipient_text, recipient_mismatch
from koto.referrals.selectors import referral_org_of
from koto.referrals.states import (
    GRANTING,
    NEEDS_REASON,
    RECEIVER_OPERATIONS,
    SENDER_OPERATIONS,
    next_status,
)

GRANT_SOURCE = "referral"
NOTE_FIELD = {"decline": "reason", "return": "reason", "reopen": "comment", "withdraw": "reason"}
MESSAGE_MAX = 5000
REASON_MAX = 2000
# What the sender may include of the client beyond the name and birth date (`shared_copy`):
# removed from the copy once the referral is closed.
INCLUDED_DETAILS = frozenset({"identity_code", "contact"})

# Client timeline event kinds written by referrals (to be added to clients.ClientEvent.Kind).
EVENT_KINDS = {
    "send": "referral_sent",
    "accept": "referral_accepted",
    "decline": "referral_declined",
    "return": "referral_returned",
    "complete": "referral_completed",
    "reopen": "referral_reopened",
    "withdraw": "referral_withdrawn",
}


class ReferralError(DomainError):
    pass


class ReferralConflict(DomainError):
    status = 409

    def __init__(self) -> None:
        super().__init__(
            "edit_conflict",
            _("Someone else handled this referral while you had it open. Reload to see it."),
            fields={"version": _("The record has changed since you opened it.")},
        )


def _org_of(actor) -> Organisation:
    if referral_org_of(actor) is None:
        raise NotFound("referral")
    return actor.active_membership.organisation


# --------------------------------------------------------------------------- access grants


def referral_grants_end(*, actor, referral: Referral, last_day: dt.date) -> int:
    """End the access grants this referral opened (source "referral", source_id = its id):
    `valid_to` becomes `last_day`. Returns how many rows were ended."""
    grants = list(
        AccessGrant.objects.select_for_update().filter(
            source=GRANT_SOURCE, source_id=str(referral.id), valid_to__isnull=True
        )
    )
    for grant in grants:
        grant.valid_to = last_day
        grant.save(update_fields=["valid_to"])
        audit_record(
            actor=actor,
            action="update",
            object_type="access_grant",
            object_id=grant.id,
            client_id=grant.client_id,
            changes={"valid_to": last_day.isoformat(), "source_id": str(referral.id)},
        )
    return len(grants)


def _check_sender_keeps_record(referral: Referral) -> None:
    """A referral that gives access gives it from the sender's record: refused once the
    sender no longer keeps it (the client moved, its grant ended)."""
    if referral.scope == AccessScope.NONE or referral.to_organisation_id is None:
        return
    if not organisation_keeps_record(
        organisation_id=referral.from_organisation_id, client=referral.client
    ):
        raise ReferralError(
            "access_not_held",
            _(
                "The referring organisation no longer keeps this client's record, so this "
                "referral cannot give access to it. Ask for a new referral without access."
            ),
        )


def _check_recipient_still_open(referral: Referral) -> None:
    """Sent again as sending it first would be: to an organisation that still exists, and
    not beside another open referral of its type to the same organisation."""
    to = referral.to_organisation
    if to is None:
        return
    # the receiver's row locked before the check, as sending locks it: a reopen and a send
    # (or two reopens) at the same moment make one open referral, not two
    list(Organisation.objects.select_for_update(no_key=True).filter(pk=to.id).values("pk"))
    if to.valid_to is not None and to.valid_to < clock.today():
        raise ReferralError(
            "recipient_ended",
            _("%(organisation)s no longer exists; send a new referral to its successor.")
            % {"organisation": to.name},
        )
    if (
        Referral.objects.filter(
            client_id=referral.client_id,
            from_organisation_id=referral.from_organisation_id,
            to_organisation_id=to.id,
            kind=referral.kind,
            status__in=[ReferralStatus.SENT, ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED],
        )
        .exclude(pk=referral.pk)
        .exists()
    ):
        raise ReferralError(
            "referral_open",
            _("This client already has an open referral of this type to that organisation."),
        )


def _grant_open(actor, referral: Referral) -> None:
    if referral.scope == AccessScope.NONE or referral.to_organisation_id is None:
        return
    _check_sender_keeps_record(referral)
    access_grant_open(
        actor=actor,
        client=referral.client,
        organisation=referral.to_organisation,
        scope=referral.scope,
        source=GRANT_SOURCE,
        source_id=str(referral.id),
        valid_from=clock.today(),
    )


# --------------------------------------------------------------------------- create


def _transfer_errors(actor, client: Client, to_organisation) -> dict[str, str]:
    """A transfer is the responsible organisation's to send (or one keeping its records under
    an agreement), to an organisation on Koto, once at a time."""
    errors: dict[str, str] = {}
    if not can_assign_counsellor(actor, client):
        errors["kind"] = _("Only the organisation responsible for the client transfers it.")
    if to_organisation is None:
        errors["to_organisation"] = _("A client is transferred to an organisation on Koto.")
    elif to_organisation.id == client.responsible_organisation_id:
        errors["to_organisation"] = _("The client is already this organisation's.")
    # the client's row locked: two transfers sent at once would both see none waiting
    # (no key lock: inserting any referral of the client takes a key-share lock on its row)
    Client.objects.select_for_update(no_key=True).filter(pk=client.pk).values_list("pk").get()
    waiting = Referral.objects.filter(
        client=client, kind=ReferralKind.TRANSFER,
        status__in=(ReferralStatus.SENT, ReferralStatus.RECEIVED),
    )  # fmt: skip
    if waiting.exists():
        errors.setdefault("kind", _("A transfer of this client is already waiting for an answer."))
    return errors


#: How long the organisation that transferred a client still reads the record: its own
#: records of the time before (its State compensation claims for those months are made
#: until the end of the following year). Koto's choice, not a figure of the law.
def _transferred_from_reads_until(on: dt.date) -> dt.date:
    return dt.date(on.year + 1, 12, 31)


def _hand_over(actor, referral: Referral) -> None:
    """An accepted transfer: the client, and the sending side's open assessment, open plans
    (through `client_transferred`) and open tasks become the receiving organisation's, with
    the accepting user as the counsellor; the sender keeps reading the record. The sender
    must still hold the client (another transfer may have moved them meanwhile)."""
    client = Client.objects.select_for_update().get(pk=referral.client_id)
    before, to, sender = (
        client.responsible_organisation,
        referral.to_organisation,
        referral.from_organisation,
    )
    today = clock.today()
    if before.id != sender.id and before.id not in purchasers_served_by(
        organisation_id=sender.id, on=today
    ):
        raise ReferralError(
            "not_sender_s", _("The client is no longer the sending organisation's to transfer.")
        )
    # the sending side: the responsible organisation and every producer keeping its records
    sending = {before.id, sender.id} | producers_serving(organisation_id=before.id, on=today)
    previous_counsellor = client.counsellor.username if client.counsellor else None
    client.responsible_organisation = to
    client.counsellor = actor
    client.version += 1
    client.updated_at = clock.now()
    client.save(update_fields=["responsible_organisation", "counsellor", "version", "updated_at"])
    # who held the client before: on the referral (its export names it), and in the
    # registry's history of responsibility, which the dashboards and the exports read (whose
    # records were whose, in the apps below this one too)
    referral.transferred_from = before
    referral.save(update_fields=["transferred_from"])
    change = ResponsibilityChange.objects.create(
        client=client, from_organisation=before, to_organisation=to, at=referral.accepted_at,
        source_type="referral", source_id=referral.id, recorded_by=actor,
    )  # fmt: skip
    # the names are searched by organisation: the receiver finds the client by name
    client.names.update(organisation=to)
    tasks = list(
        Task.objects.filter(
            client=client, status=Task.Status.OPEN, organisation_id__in=sending
        ).values_list("id", flat=True)
    )
    Task.objects.filter(id__in=tasks).update(organisation=to, assignee=actor)
    assessments = list(
        Assessment.objects.filter(
            client=client, status=Assessment.Status.STARTED, organisation_id__in=sending
        ).values_list("id", flat=True)
    )
    Assessment.objects.filter(id__in=assessments).update(
        organisation=to, counsellor=actor, version=F("version") + 1, updated_at=clock.now()
    )
    HandedOverRecord.objects.bulk_create(
        [HandedOverRecord(change=change, record_type="task", record_id=i) for i in tasks]
        + [
            HandedOverRecord(change=change, record_type="assessment", record_id=i)
            for i in assessments
        ]
    )
    # access the receiver held by earlier referrals ends: it holds the record now
    ended = AccessGrant.objects.filter(
        client=client, organisation=to, source=GRANT_SOURCE, valid_to__isnull=True
    )
    for grant in ended:
        grant.valid_to = today - dt.timedelta(days=1)
        grant.save(update_fields=["valid_to"])
        audit_record(
            actor=actor, action="update", object_type="access_grant", object_id=grant.id,
            client_id=client.id, changes={"valid_to": grant.valid_to.isoformat(),
                                          "reason": f"transfer:{referral.id}"},
        )  # fmt: skip
    # the sender (and the organisation it kept the record for) read what they recorded
    for organisation in Organisation.objects.filter(id__in=sending - {to.id}):
        access_grant_open(
            actor=actor, client=client, organisation=organisation, scope=AccessGrant.Scope.READ,
            source="transfer", source_id=str(referral.id), valid_from=today,
            valid_to=_transferred_from_reads_until(today),
        )  # fmt: skip
    client_transferred.send(
        sender=Referral, client=client, from_organisations=sending, to_organisation=to,
        counsellor=actor, referral_id=referral.id,
    )  # fmt: skip
    record_event(
        client, actor, ClientEvent.Kind.UPDATED,
        {"fields": ["responsible_organisation", "counsellor"], "referral_id": referral.id},
    )  # fmt: skip
    audit_record(
        actor=actor, action="update", object_type="client", object_id=client.id,
        client_id=client.id, reason=f"transfer:{referral.id}",
        changes={"responsible_organisation": {"from": before.code, "to": to.code},
                 "sender": sender.code,
                 "counsellor": {"from": previous_counsellor, "to": actor.username},
                 "tasks_moved": tasks, "assessments_moved": assessments,
                 "responsibility_change": change.id},
    )  # fmt: skip


def _transfer_complete(actor, referral: Referral, now) -> None:
    """A transfer accepted is done: completed at once, with its step, timeline event and
    audit record as any completion, and the identity code and contact details included
    removed from the copy, as when any referral closes."""
    referral.status = ReferralStatus.COMPLETED
    referral.completed_at = now
    referral.version += 1
    fields = ["status", "completed_at", "version"]
    if INCLUDED_DETAILS & referral.shared.keys():
        referral.shared = {k: v for k, v in referral.shared.items() if k not in INCLUDED_DETAILS}
        fields.append("shared")
    referral.save(update_fields=fields)
    ReferralStep.objects.create(
        referral=referral, at=now, operation="complete", from_status=ReferralStatus.ACCEPTED,
        to_status=ReferralStatus.COMPLETED, actor=actor,
        organisation=actor.active_membership.organisation, note="",
    )  # fmt: skip
    record_event(
        referral.client, actor, EVENT_KINDS["complete"],
        {"referral_id": referral.id, "from": ReferralStatus.ACCEPTED, "to": ReferralStatus.COMPLETED},
    )  # fmt: skip
    audit_record(
        actor=actor, action="update", object_type="referral", object_id=referral.id,
        client_id=referral.client_id,
        changes={"operation": "complete", "status": [ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED],
                 **({"shared": sorted(referral.shared)} if "shared" in fields else {})},
    )  # fmt: skip


def _text(data: dict, name: str, limit: int, errors: dict, required: bool = False) -> str:
    value = (data.get(name) or "").strip()
    if required and not value:
        errors[name] = _("This field is required.")
    elif len(value) > limit:
        errors[name] = _("At most %(n)s characters.") % {"n": limit}
    return value


@transaction.atomic
def referral_send(
    *,
    actor,
    client: Client,
    kind: str,
    message: str,
    to_organisation: Organisation | None = None,
    external_name: str = "",
    external_contact: str = "",
    scope: str = AccessScope.NONE,
    include_identity_code: bool = False,
    include_contact_details: bool = False,
    confirm_recipient: bool | None = None,
) -> Referral:
    """Refer a client the actor's organisation may see to another organisation, or record a
    referral to a recipient not on Koto (printed and sent by the referrer; no access).
    `client` comes from `client_get_for`, so its `access` says what the referrer itself holds:
    the referral cannot give more than that.

    A contact asking for an assessment (9 §) to another authority than the one `koto.law`
    makes responsible keeps where the law routes it (`law_authority`, `law_organisation`),
    shown to both sides. Not a refusal, as elsewhere (the jobseeker flag may be out of
    date), except that `confirm_recipient=False` (the page's form, an API client asking to
    be checked) refuses it naming `to_organisation` and saying where, until confirmed
    (`True`). The recipient sees a copy of the client's details taken now (`shared_copy`),
    not the live record."""
    from_org = _org_of(actor)
    data = {"message": message, "external_name": external_name,
            "external_contact": external_contact}  # fmt: skip
    errors: dict[str, str] = {}
    message = _text(data, "message", MESSAGE_MAX, errors, required=True)
    external_name = _text(data, "external_name", 200, errors)
    external_contact = _text(data, "external_contact", 1000, errors)
    if kind not in ReferralKind.values:
        errors["kind"] = _("Choose the type of referral.")
    if scope not in AccessScope.values:
        errors["scope"] = _("Unknown choice.")
    if to_organisation is None and not external_name:
        errors["to_organisation"] = _(
            "Choose the receiving organisation, or name a recipient not on Koto."
        )
    elif to_organisation is not None and external_name:
        errors["external_name"] = _(
            "Give either an organisation on Koto or a recipient not on Koto, not both."
        )
    elif to_organisation is not None and to_organisation.id == from_org.id:
        errors["to_organisation"] = _("A referral goes to another organisation.")
    elif to_organisation is not None and (
        to_organisation.valid_to is not None and to_organisation.valid_to < clock.today()
    ):
        errors["to_organisation"] = _(
            "%(organisation)s no longer exists; choose its successor."
        ) % {"organisation": to_organisation.name}
    elif to_organisation is not None and to_organisation.kind not in kinds_with(
        Perm.REFERRAL_MANAGE
    ):
        errors["to_organisation"] = _(
            "Nobody at %(organisation)s handles referrals on Koto; name it as a recipient "
            "not on Koto and print the referral."
        ) % {"organisation": to_organisation.name}
    elif (
        to_organisation is not None
        and kind == ReferralKind.TRANSFER
        and to_organisation.kind not in ASSESSING_KINDS
    ):
        errors["to_organisation"] = _(
            "A client is transferred to a municipality or an employment authority."
        )
    elif (
        to_organisation is not None
        and kind == ReferralKind.ASSESSMENT_CONTACT_9
        and to_organisation.kind not in ASSESSING_KINDS
    ):
        # 9 §: the contact goes to whoever assesses: the municipality or the employment authority
        errors["to_organisation"] = _(
            "A contact asking for an assessment goes to a municipality or an employment authority."
        )
    law = None
    if (
        "to_organisation" not in errors
        and to_organisation is not None
        and kind == ReferralKind.ASSESSMENT_CONTACT_9
    ):
        law = recipient_mismatch(client, to_organisation, clock.today())
        if law is not None and confirm_recipient is False:
            errors["to_organisation"] = (
                law_recipient_text(law)
                + " "
                + _(
                    "Send the contact there, or confirm that it goes to %(organisation)s "
                    "all the same."
                )
                % {"organisation": to_organisation.name}
            )
            errors["confirm_recipient"] = _(
                "Confirm only when you know the client's situation has changed."
            )
    if kind == ReferralKind.TRANSFER:
        errors.update(_transfer_errors(actor, client, to_organisation))
        scope = AccessScope.NONE  # on acceptance the whole record passes, not a grant
    if to_organisation is None and external_name and not external_contact:
        errors["external_contact"] = _("Give the recipient's address or contact details.")
    if to_organisation is None and scope != AccessScope.NONE:
        errors["scope"] = _("A recipient not on Koto cannot be given access to records.")
    # access to the record is passed on by whoever keeps it: not onward from a read grant,
    # nor from emergency access, which would outlive the access it came from; and by a user
    # who may edit the record themselves (a guidance adviser reads it, and cannot hand
    # another organisation more than they hold)
    keeps_record = can_edit_client(actor, client)
    org_keeps = getattr(client, "access", None) == "full"
    if scope != AccessScope.NONE and not keeps_record:
        errors["scope"] = (
            _("Only an organisation that may edit the client's record can give access to it.")
            if not org_keeps
            else _("Only a user who may edit the client's record can give access to it.")
        )
    # passing the identity code or contact details on is the record holder's to decide: not
    # of an organisation that only reads the record (a read grant, emergency access)
    if not keeps_record:
        not_yours = (
            _("Only an organisation that may edit the client's record can pass this on.")
            if not org_keeps
            else _("Only a user who may edit the client's record can pass this on.")
        )
        if include_identity_code:
            errors["include_identity_code"] = not_yours
        if include_contact_details:
            errors["include_contact_details"] = not_yours
    if errors:
        raise ValidationFailed(errors)
    if to_organisation is not None:
        # the receiver's row, which `_recount_waiting` locks anyway, locked before the check:
        # two sends of the same referral at once make one referral, the second is refused
        # (FOR NO KEY UPDATE: two sends to each other do not deadlock on the foreign keys)
        list(
            Organisation.objects.select_for_update(no_key=True)
            .filter(pk=to_organisation.id)
            .values("pk")
        )
    if (
        to_organisation is not None
        and Referral.objects.filter(
            client=client,
            from_organisation=from_org,
            to_organisation=to_organisation,
            kind=kind,
            status__in=[ReferralStatus.SENT, ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED],
        ).exists()
    ):
        raise ReferralError(
            "referral_open",
            _("This client already has an open referral of this type to that organisation."),
            fields={"to_organisation": _("Open the existing referral instead.")},
        )
    now = clock.now()
    referral = Referral.objects.create(
        client=client,
        from_organisation=from_org,
        sender=actor,
        to_organisation=to_organisation,
        external_name=external_name if to_organisation is None else "",
        external_contact=external_contact if to_organisation is None else "",
        kind=kind,
        scope=scope,
        message=message,
        include_identity_code=bool(include_identity_code),
        include_contact_details=bool(include_contact_details),
        shared=shared_copy(
            client,
            include_identity_code=bool(include_identity_code),
            include_contact_details=bool(include_contact_details),
        ),
        law_authority=law.authority if law else "",
        law_organisation=law.organisation if law else None,
        sent_at=now,
        due_on=response_due_on(kind, clock.today()),
    )
    ReferralStep.objects.create(
        referral=referral, at=now, operation="send", to_status=ReferralStatus.SENT,
        actor=actor, organisation=from_org, note=message[:200],
    )  # fmt: skip
    _recount_waiting(referral.to_organisation_id)
    recipient = to_organisation.code if to_organisation else external_name
    record_event(
        client, actor, EVENT_KINDS["send"],
        {"referral_id": referral.id, "to": recipient, "kind": kind},
    )  # fmt: skip
    audit_record(
        actor=actor, action="create", object_type="referral", object_id=referral.id,
        client_id=client.id,
        changes={"to": recipient, "kind": kind, "scope": scope,
                 "due_on": referral.due_on.isoformat(),
                 "shared": sorted(referral.shared),
                 **({"law_authority": law.authority,
                     "law_organisation": law.organisation.code if law.organisation else None,
                     "recipient_confirmed": bool(confirm_recipient)} if law else {})},
    )  # fmt: skip
    return referral


# --------------------------------------------------------------------------- transitions


def _may(actor, referral: Referral, operation: str) -> bool:
    org_id = referral_org_of(actor)
    if org_id is None:
        return False
    if operation in RECEIVER_OPERATIONS:
        receiving = referral.to_organisation_id or referral.from_organisation_id
        return org_id == receiving
    if operation in SENDER_OPERATIONS:
        return org_id == referral.from_organisation_id
    return org_id in (referral.from_organisation_id, referral.to_organisation_id)


def can_do(actor, referral: Referral, operation: str) -> bool:
    """Whether the actor's organisation takes part in `operation` and the state allows it.
    The receiving side may answer a referral it has not opened: answering receives it first
    (`_ensure_received`; for a recipient not on Koto the referrer records the answer)."""
    if not _may(actor, referral, operation):
        return False
    status = referral.status
    if (
        status == ReferralStatus.SENT
        and operation != "receive"
        and _may(actor, referral, "receive")
    ):
        status = ReferralStatus.RECEIVED
    return next_status(operation, status) is not None


def _lock(referral: Referral, expected_version: int | None) -> Referral:
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ReferralConflict()
    locked.client = referral.client
    locked.from_organisation = referral.from_organisation
    locked.to_organisation = referral.to_organisation
    return locked


def _recount_waiting(organisation_id: int | None) -> None:
    """Store how many referrals wait unopened at `organisation_id` (the navigation badge).
    The organisation's row is locked first and the count is a statement of its own after
    that, so of concurrent changes the last to commit counts all the others."""
    if organisation_id is None:
        return
    list(
        Organisation.objects.select_for_update(no_key=True)
        .filter(pk=organisation_id)
        .values_list("pk")
    )
    waiting = Referral.objects.filter(
        to_organisation_id=organisation_id, status=ReferralStatus.SENT
    ).count()
    Organisation.objects.filter(pk=organisation_id).update(referrals_waiting=waiting)


def _step(actor, referral: Referral, operation: str, note: str = "") -> Referral:
    """Move `referral` (already locked) by `operation`; write its step and audit record."""
    if not _may(actor, referral, operation):
        raise PermissionDenied(_("The other organisation does this, not yours."))
    if referral.kind == ReferralKind.TRANSFER and (
        operation == "reopen"
        or referral.status in (ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED)
    ):
        # a transfer is answered once: accepted, it is done (completed with it); declined or
        # withdrawn, a new one is sent, checked again against who holds the client now
        raise ReferralError(
            "transferred",
            _("A transfer is answered once: send a new one if the client is to move again."),
        )
    if (
        operation == "accept"
        and referral.kind == ReferralKind.TRANSFER
        and not actor.has_perm_in_org(Perm.CLIENT_EDIT)
    ):
        raise PermissionDenied(_("A counsellor who takes the client over accepts a transfer."))
    new = next_status(operation, referral.status)
    if new is None:
        raise ReferralError(
            "invalid_transition",
            _("This cannot be done to a referral whose status is %(status)s.")
            % {"status": referral.get_status_display()},
        )
    note = (note or "").strip()
    field = NOTE_FIELD.get(operation, "note")
    if operation in NEEDS_REASON and not note:
        raise ValidationFailed({field: _("Give the reason.")})
    if len(note) > REASON_MAX:
        raise ValidationFailed({field: _("At most %(n)s characters.") % {"n": REASON_MAX}})
    now, old = clock.now(), referral.status
    fields = ["status", "version", "updated_at"]
    stamp = {"receive": "received_at", "accept": "accepted_at", "decline": "declined_at",
             "return": "returned_at", "complete": "completed_at", "reopen": "reopened_at",
             "withdraw": "withdrawn_at"}  # fmt: skip
    setattr(referral, stamp[operation], now)
    fields.append(stamp[operation])
    if operation != "receive":
        referral.handled_by = actor
        fields.append("handled_by")
    if operation in ("decline", "return", "withdraw"):
        referral.decision_reason = note
        fields.append("decision_reason")
    if operation == "reopen":
        referral.sent_at = now
        referral.due_on = response_due_on(referral.kind, clock.today())
        referral.decision_reason = ""
        fields += ["sent_at", "due_on", "decision_reason"]
        fields += _reopen_refresh(actor, referral)
    referral.status = new
    if not referral.shows_included_details and INCLUDED_DETAILS & referral.shared.keys():
        # closed (declined, returned, completed, withdrawn): the identity code and contact
        # details the sender included are no longer the recipient's to see, nor kept here
        referral.shared = {k: v for k, v in referral.shared.items() if k not in INCLUDED_DETAILS}
        fields.append("shared")
    referral.version += 1
    referral.updated_at = now
    referral.save(update_fields=fields)
    ReferralStep.objects.create(
        referral=referral, at=now, operation=operation, from_status=old, to_status=new,
        actor=actor, organisation=actor.active_membership.organisation, note=note,
    )  # fmt: skip
    if operation in EVENT_KINDS:
        record_event(
            referral.client, actor, EVENT_KINDS[operation],
            {"referral_id": referral.id, "from": old, "to": new},
        )  # fmt: skip
    audit_record(
        actor=actor, action="update", object_type="referral", object_id=referral.id,
        client_id=referral.client_id, reason=note,
        changes={"operation": operation, "status": [old, new],
                 **({"law_authority": referral.law_authority}
                    if operation == "reopen" and referral.law_authority else {}),
                 **({"shared": sorted(referral.shared)} if "shared" in fields else {})},
    )  # fmt: skip
    if ReferralStatus.SENT in (old, new):
        _recount_waiting(referral.to_organisation_id)
    # Access follows the state: held while accepted, ended (yesterday was its last day, so it
    # is gone at once) when the referral leaves the accepted state.
    if operation == "accept" and referral.kind == ReferralKind.TRANSFER:
        _hand_over(actor, referral)
        # done with it: completed at once, so the client can move on, or back, with a new one
        _transfer_complete(actor, referral, now)
        return referral
    if old not in GRANTING and new in GRANTING:
        _grant_open(actor, referral)
    elif old in GRANTING and new not in GRANTING:
        referral_grants_end(
            actor=actor, referral=referral, last_day=clock.today() - dt.timedelta(days=1)
        )
    return referral


def _reopen_refresh(actor, referral: Referral) -> list[str]:
    """Sent again, the referral shares the client's details as they are now, when the
    sender may still pass them on (its organisation keeps the record and the actor may edit
    it); otherwise the copy of the first sending stays. A 9 § contact notes again where the
    law routes it now. Returns the fields changed."""
    changed = []
    client = referral.client
    if actor.has_perm_in_org(Perm.CLIENT_EDIT) and organisation_keeps_record(
        organisation_id=referral.from_organisation_id, client=client
    ):
        referral.shared = shared_copy(
            client,
            include_identity_code=referral.include_identity_code,
            include_contact_details=referral.include_contact_details,
        )
        changed.append("shared")
    if referral.kind == ReferralKind.ASSESSMENT_CONTACT_9 and referral.to_organisation_id:
        law = recipient_mismatch(client, referral.to_organisation, clock.today())
        referral.law_authority = law.authority if law else ""
        referral.law_organisation = law.organisation if law else None
        changed += ["law_authority", "law_organisation"]
    return changed


def _ensure_received(actor, referral: Referral) -> None:
    """The receiver answering a referral it never opened (e.g. through the API) has
    received it first: keep that step in the history."""
    if referral.status == ReferralStatus.SENT and _may(actor, referral, "receive"):
        _step(actor, referral, "receive")


@transaction.atomic
def referral_receive(*, actor, referral: Referral) -> Referral:
    """The receiving organisation opened the referral (called when it is viewed)."""
    locked = _lock(referral, None)
    if locked.status != ReferralStatus.SENT or not _may(actor, locked, "receive"):
        return locked
    return _step(actor, locked, "receive")


@transaction.atomic
def referral_accept(
    *, actor, referral: Referral, note: str = "", expected_version: int | None = None
) -> Referral:
    """Accept: the receiving organisation gets the access the referral's scope allows."""
    locked = _lock(referral, expected_version)
    _ensure_received(actor, locked)
    return _step(actor, locked, "accept", note)


@transaction.atomic
def referral_decline(
    *, actor, referral: Referral, reason: str, expected_version: int | None = None
) -> Referral:
    locked = _lock(referral, expected_version)
    _ensure_received(actor, locked)
    return _step(actor, locked, "decline", reason)


@transaction.atomic
def referral_return(
    *, actor, referral: Referral, reason: str, expected_version: int | None = None
) -> Referral:
    """Send the referral back (wrong recipient, missing information): access ends."""
    locked = _lock(referral, expected_version)
    _ensure_received(actor, locked)
    return _step(actor, locked, "return", reason)


@transaction.atomic
def referral_complete(
    *, actor, referral: Referral, note: str = "", expected_version: int | None = None
) -> Referral:
    """The referred service was given: access ends."""
    locked = _lock(referral, expected_version)
    return _step(actor, locked, "complete", note)


@transaction.atomic
def referral_reopen(
    *, actor, referral: Referral, comment: str, expected_version: int | None = None
) -> Referral:
    """Send a declined, returned or completed referral again, with an audited comment; the
    answer is due again from today."""
    locked = _lock(referral, expected_version)
    _check_sender_keeps_record(locked)
    if _may(actor, locked, "reopen") and next_status("reopen", locked.status) is not None:
        _check_recipient_still_open(locked)
    return _step(actor, locked, "reopen", comment)


@transaction.atomic
def referral_withdraw(
    *, actor, referral: Referral, reason: str, expected_version: int | None = None
) -> Referral:
    """The sender takes the referral back (sent to the wrong organisation, no longer needed),
    with a reason: an accepted one's access ends at once."""
    locked = _lock(referral, expected_version)
    return _step(actor, locked, "withdraw", reason)


OPERATIONS = {
    "accept": referral_accept,
    "decline": referral_decline,
    "return": referral_return,
    "complete": referral_complete,
    "reopen": referral_reopen,
    "withdraw": referral_withdraw,
}
