"""Guidance contacts: log (also anonymous), list (keyset by id), read, the report."""

import datetime as dt
from typing import Annotated

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool, StrictInt

from koto.api.types import Day, In, fields_named
from koto.core import clock
from koto.core.errors import PermissionDenied, ValidationFailed
from koto.guidance import selectors, services
from koto.guidance.models import Channel, Contact, Outcome, PartnerType, ReasonCode
from koto.guidance.permissions import can_view_contacts
from koto.organisations.selectors import organisation_by_code

router = Router(tags=["guidance"])

FROM_QUERY = Query(None, alias="from", description="first date (YYYY-MM-DD), included")
TO_QUERY = Query(None, alias="to", description="last date (YYYY-MM-DD), included")
CURSOR_QUERY = Query(None, description="next_cursor of the previous page")


# A reason code, at most as long as a code can be: a longer one is no code, and was echoed
# whole in the "Unknown reason" error.
ReasonCodeText = Annotated[str, Field(max_length=ReasonCode._meta.get_field("code").max_length)]


class ContactIn(In):
    channel: Channel
    reasons: list[ReasonCodeText] = Field(
        default_factory=list, max_length=30, description="reason codes"
    )
    partner_type: PartnerType | None = Field(None, description="set for a partner contact")
    language: str = Field("", max_length=3, description="ISO 639 code")
    # strict: `true` was taken as 1 minute and "yes" as an interpreter
    interpreter_used: StrictBool = False
    minutes: StrictInt | None = Field(None, description="whole minutes, 1–1440")
    client_identifier: str = Field(
        "", max_length=20, description="identity code or temporary id; empty = anonymous"
    )
    outcome: Outcome = Outcome.ANSWERED
    referred_to: str = Field("", max_length=200)
    referred_to_organisation_code: str | None = Field(None, max_length=60)
    contacted_on: Day | None = None


class ContactOut(Schema):
    id: int
    contacted_at: dt.datetime
    contacted_on: dt.date
    # false: `contacted_at` is noon of the date, not a time given (logged for an earlier day,
    # or imported)
    time_recorded: bool
    kind: str
    partner_type: str
    anonymous: bool
    client_id: int | None
    channel: str
    ura_channel: str
    language: str
    interpreter_used: bool
    minutes: int | None
    reasons: list[str]
    outcome: str
    referred_to: str
    referred_to_organisation_code: str | None

    @staticmethod
    def resolve_reasons(obj: Contact) -> list[str]:
        return list(getattr(obj, "reason_codes", []))

    @staticmethod
    def resolve_client_id(obj: Contact) -> int | None:
        # a known client the organisation no longer reaches: `anonymous` false, no id
        return obj.client_id if getattr(obj, "client_reachable", True) else None

    @staticmethod
    def resolve_referred_to_organisation_code(obj: Contact) -> str | None:
        org = obj.referred_to_organisation
        return org.code if org is not None else None


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: int | None


class ReasonOut(Schema):
    code: str
    label: str
    theme: str


@router.post("/contacts", response={201: ContactOut}, summary="Log a guidance contact")
def contact_create(request, payload: ContactIn):
    referred_org = None
    if payload.referred_to_organisation_code:
        referred_org = organisation_by_code(payload.referred_to_organisation_code)
        if referred_org is None:
            raise ValidationFailed({"referred_to_organisation_code": _("Unknown organisation.")})
    # the service's `referred_to_organisation` is the request's `referred_to_organisation_code`
    with fields_named(referred_to_organisation="referred_to_organisation_code"):
        contact = services.contact_log(
            actor=request.auth, channel=payload.channel, reasons=payload.reasons,
            partner_type=payload.partner_type or "", language=payload.language,
            interpreter_used=payload.interpreter_used, minutes=payload.minutes,
            outcome=payload.outcome, referred_to=payload.referred_to,
            referred_to_organisation=referred_org, client_identifier=payload.client_identifier,
            contacted_on=payload.contacted_on,
        )  # fmt: skip
    return Status(201, contact)


@router.get("/contacts", response=ContactPage, summary="List guidance contacts, newest first")
def contact_list(
    request,
    date_from: Day | None = FROM_QUERY,
    date_to: Day | None = TO_QUERY,
    cursor: int | None = CURSOR_QUERY,
    limit: int = Query(50, ge=1, le=500),
):
    if not can_view_contacts(request.auth):
        # a token or role without guidance rights: 403, as the report and logging answer,
        # not an empty list that looks like "no contacts"
        raise PermissionDenied()
    page = selectors.contact_page_for(
        user=request.auth, date_from=date_from, date_to=date_to, cursor=cursor, limit=limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/contacts/{contact_id}", response=ContactOut, summary="Read a guidance contact")
def contact_read(request, contact_id: int):
    return selectors.contact_get_for(user=request.auth, contact_id=contact_id, purpose="api")


@router.get("/reasons", response=list[ReasonOut], summary="Active reason codes")
def reason_list(request):
    services.reasons_ensure()
    lang = get_language()
    return [
        {"code": r.code, "label": r.label(lang), "theme": r.theme}
        for r in selectors.active_reasons()
    ]


@router.get("/report", summary="Guidance report of the caller's organisation")
def report(
    request,
    date_from: Day | None = FROM_QUERY,
    date_to: Day | None = TO_QUERY,
):
    today = clock.today()
    start = date_from or today.replace(month=1, day=1)
    end = date_to or today
    if start > end:
        raise ValidationFailed({"to": _("The end cannot be before the start.")})
    return selectors.report_for(user=request.auth, date_from=start, date_to=end).as_dict()
