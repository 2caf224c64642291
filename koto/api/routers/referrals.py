"""Referrals between organisations: send, list (incoming or outgoing, keyset by id), read
(the receiving organisation's first read marks it received), accept, decline, complete,
return and reopen. Another organisation's referral answers 404."""

import datetime as dt
from typing import Literal

from django.http import Http404
from django.utils.translation import gettext
from ninja import Query, Router, Schema, Status

from koto.api.types import In, fields_named
from koto.clients.selectors import client_get_for
from koto.core.errors import NotFound, ValidationFailed
from koto.organisations.selectors import organisation_by_code
from koto.referrals import selectors, services
from koto.referrals.models import AccessScope, Referral, ReferralKind

router = Router(tags=["referrals"])


class ReferralIn(In):
    client_id: int
    kind: ReferralKind
    message: str
    to_organisation_code: str | None = None
    external_name: str = ""
    external_contact: str = ""
    scope: AccessScope = AccessScope.NONE
    include_identity_code: bool = False
    include_contact_details: bool = False
    # a contact asking for an assessment (9 §) to another authority than koto.law's is sent
    # and notes where the law routes it (`law_authority`, `law_organisation_code`); `false`
    # asks to be refused instead (422 naming `to_organisation_code`, saying where), `true`
    # confirms it
    confirm_recipient: bool | None = None


class ContactOut(Schema):
    phone: str
    email: str
    street_address: str
    postal_code: str
    post_office: str


class ReferralSummaryOut(Schema):
    """A referral in a list: what the sender passed on (identity code, contact details) is
    given only by reading the referral itself, which receives it and is audited one by one."""

    id: int
    version: int
    client_id: int
    client_name: str
    client_birth_date: dt.date | None
    kind: str
    status: str
    scope: str
    message: str
    from_organisation_code: str
    to_organisation_code: str | None
    external_name: str
    external_contact: str
    sent_at: dt.datetime
    due_on: dt.date
    overdue: bool
    received_at: dt.datetime | None
    accepted_at: dt.datetime | None
    declined_at: dt.datetime | None
    returned_at: dt.datetime | None
    completed_at: dt.datetime | None
    reopened_at: dt.datetime | None
    withdrawn_at: dt.datetime | None
    decision_reason: str
    include_identity_code: bool
    include_contact_details: bool
    law_authority: str | None
    law_organisation_code: str | None

    # the client as the referral shared them when sent, never the live record

    @staticmethod
    def resolve_client_name(obj: Referral) -> str:
        return obj.shared_name

    @staticmethod
    def resolve_client_birth_date(obj: Referral) -> dt.date | None:
        return obj.shared_birth_date

    @staticmethod
    def resolve_law_authority(obj: Referral) -> str | None:
        return obj.law_authority or None

    @staticmethod
    def resolve_law_organisation_code(obj: Referral) -> str | None:
        return obj.law_organisation.code if obj.law_organisation_id else None

    @staticmethod
    def resolve_from_organisation_code(obj: Referral) -> str:
        return obj.from_organisation.code

    @staticmethod
    def resolve_to_organisation_code(obj: Referral) -> str | None:
        return obj.to_organisation.code if obj.to_organisation_id else None


class ReferralOut(ReferralSummaryOut):
    """A referral as both organisations see it. What the sender chose to pass on (the
    identity code, the contact details), as it was when sent, is given while the referral
    is in hand, as on its page; otherwise those fields are null."""

    client_identity_code: str | None
    client_contact: ContactOut | None

    @staticmethod
    def resolve_client_identity_code(obj: Referral) -> str | None:
        return obj.shared_identity_code

    @staticmethod
    def resolve_client_contact(obj: Referral) -> dict | None:
        return obj.shared_contact


class ReferralPage(Schema):
    items: list[ReferralSummaryOut]
    next_cursor: str | None


class NoteIn(In):
    note: str = ""
    version: int | None = None


class ReasonIn(In):
    reason: str
    version: int | None = None


class ReopenIn(In):
    comment: str
    version: int | None = None


def _get(request, referral_id: int, purpose: str = "api") -> Referral:
    return selectors.referral_get_for(user=request.auth, referral_id=referral_id, purpose=purpose)


@router.post("", response={201: ReferralOut}, summary="Send a referral")
def referral_send(request, payload: ReferralIn):
    if selectors.referral_org_of(request.auth) is None:
        raise Http404
    client = client_get_for(user=request.auth, client_id=payload.client_id, purpose="api:referral")
    org = None
    if payload.to_organisation_code:
        org = organisation_by_code(payload.to_organisation_code)
        if org is None:
            raise ValidationFailed({"to_organisation_code": gettext("Unknown organisation code.")})
    data = payload.model_dump(exclude={"client_id", "to_organisation_code"})
    with fields_named(to_organisation="to_organisation_code"):
        referral = services.referral_send(
            actor=request.auth, client=client, to_organisation=org, **data
        )
    return Status(201, referral)


@router.get("", response=ReferralPage, summary="Incoming or outgoing referrals")
def referral_list(
    request,
    box: Literal["incoming", "outgoing"] = "incoming",
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=200),
    status: str | None = Query(
        None, description="one status, `open` (sent or received) or `overdue`", max_length=20
    ),
):
    if selectors.referral_org_of(request.auth) is None:
        raise NotFound("referral")
    page = selectors.referral_list_for(
        user=request.auth, box=box, cursor=cursor, limit=limit, status=status
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/{referral_id}", response=ReferralOut, summary="Read a referral")
def referral_read(request, referral_id: int):
    referral = _get(request, referral_id)
    if selectors.is_receiver(request.auth, referral) and referral.is_new:
        referral = services.referral_receive(actor=request.auth, referral=referral)
    return referral


@router.post("/{referral_id}/accept", response=ReferralOut, summary="Accept a referral")
def referral_accept(request, referral_id: int, payload: NoteIn):
    return services.referral_accept(
        actor=request.auth, referral=_get(request, referral_id, "api:accept"),
        note=payload.note, expected_version=payload.version,
    )  # fmt: skip


@router.post("/{referral_id}/decline", response=ReferralOut, summary="Decline a referral")
def referral_decline(request, referral_id: int, payload: ReasonIn):
    return services.referral_decline(
        actor=request.auth, referral=_get(request, referral_id, "api:decline"),
        reason=payload.reason, expected_version=payload.version,
    )  # fmt: skip


@router.post("/{referral_id}/complete", response=ReferralOut, summary="Complete a referral")
def referral_complete(request, referral_id: int, payload: NoteIn):
    return services.referral_complete(
        actor=request.auth, referral=_get(request, referral_id, "api:complete"),
        note=payload.note, expected_version=payload.version,
    )  # fmt: skip


@router.post("/{referral_id}/return", response=ReferralOut, summary="Return a referral")
def referral_return(request, referral_id: int, payload: ReasonIn):
    return services.referral_return(
        actor=request.auth, referral=_get(request, referral_id, "api:return"),
        reason=payload.reason, expected_version=payload.version,
    )  # fmt: skip


@router.post("/{referral_id}/reopen", response=ReferralOut, summary="Reopen a referral")
def referral_reopen(request, referral_id: int, payload: ReopenIn):
    return services.referral_reopen(
        actor=request.auth, referral=_get(request, referral_id, "api:reopen"),
        comment=payload.comment, expected_version=payload.version,
    )  # fmt: skip


@router.post("/{referral_id}/withdraw", response=ReferralOut, summary="Withdraw a referral")
def referral_withdraw(request, referral_id: int, payload: ReasonIn):
    """The sender takes it back, with a reason; an accepted referral's access ends."""
    return services.referral_withdraw(
        actor=request.auth, referral=_get(request, referral_id, "api:withdraw"),
        reason=payload.reason, expected_version=payload.version,
    )  # fmt: skip
