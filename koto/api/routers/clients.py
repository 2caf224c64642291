"""Clients: create, read, update, search (keyset pagination)."""

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from koto.api.routers.law import facts_error
from koto.api.types import Day, In, QueryText
from koto.clients import selectors, services
from koto.clients.law import MissingFacts, decision_for
from koto.clients.models import Client, Gender, ResidenceBasis
from koto.core import clock
from koto.core.errors import DomainError, ValidationFailed
from koto.law import Decision, FactsError
from koto.privacy.selectors import subject_export_for

router = Router(tags=["clients"])


class ClientIn(In):
    first_name: str = Field(max_length=150)
    last_name: str = Field(max_length=150)
    birth_date: Day
    hetu: str | None = None
    gender: Gender = Gender.UNKNOWN
    citizenship: str = ""
    mother_tongue: str = ""
    other_languages: list[str] = Field([], max_length=20)
    interpreter_needed: bool = False
    interpreter_language: str = ""
    transliterated_names: list[tuple[str, str]] = []
    email: str = ""
    phone: str = ""
    street_address: str = ""
    postal_code: str = ""
    post_office: str = ""
    residence_basis: ResidenceBasis | None = None
    first_permit_on: Day | None = None
    home_municipality_code: str | None = None
    home_municipality_on: Day | None = None
    migri_number: str = ""
    unhcr_number: str = ""
    unemployed_jobseeker: bool = False
    social_assistance_long_term: bool = False
    child_home_care_allowance: bool = False
    arrived_as_unaccompanied_minor: bool = False
    trafficking_victim: bool = False
    other_need_identified: bool = False
    welfare_service_needs: bool = False
    # the day the situation facts above hold from (default today; not ahead, not before birth)
    facts_valid_from: Day | None = None
    confirm_duplicate: bool = False


class ClientPatch(In):
    """Only the fields sent are changed. `version` (from a read) guards against overwriting
    someone else's edit: a mismatch answers 409. It is required, as on every other update
    of the API (without it a PATCH silently overwrote a counsellor's edit)."""

    version: int
    facts_valid_from: Day | None = None
    # another municipality of residence from the same day corrects a wrong one; a move
    # comes with its day (`home_municipality_on`)
    municipality_corrected: bool = False
    first_name: str | None = None
    last_name: str | None = None
    birth_date: Day | None = None
    hetu: str | None = None
    gender: Gender | None = None
    citizenship: str | None = None
    mother_tongue: str | None = None
    other_languages: list[str] | None = Field(None, max_length=20)
    interpreter_needed: bool | None = None
    interpreter_language: str | None = None
    transliterated_names: list[tuple[str, str]] | None = None
    email: str | None = None
    phone: str | None = None
    street_address: str | None = None
    postal_code: str | None = None
    post_office: str | None = None
    residence_basis: ResidenceBasis | None = None
    first_permit_on: Day | None = None
    home_municipality_code: str | None = None
    home_municipality_on: Day | None = None
    migri_number: str | None = None
    unhcr_number: str | None = None
    unemployed_jobseeker: bool | None = None
    social_assistance_long_term: bool | None = None
    child_home_care_allowance: bool | None = None
    arrived_as_unaccompanied_minor: bool | None = None
    trafficking_victim: bool | None = None
    other_need_identified: bool | None = None
    welfare_service_needs: bool | None = None


class ClientSummary(Schema):
    id: int
    first_name: str
    last_name: str
    birth_date: dt.date
    identifier: str
    home_municipality_code: str | None
    responsible_organisation_code: str

    @staticmethod
    def resolve_home_municipality_code(obj: Client) -> str | None:
        return obj.home_municipality.municipality_code if obj.home_municipality_id else None

    @staticmethod
    def resolve_responsible_organisation_code(obj: Client) -> str:
        return obj.responsible_organisation.code


class ResponsibilityChangeOut(Schema):
    at: dt.datetime
    from_organisation: str = Field(description="the organisation's code")
    to_organisation: str = Field(description="the organisation's code")


class ClientOut(ClientSummary):
    version: int
    access: str
    hetu: str | None
    temporary_id: str | None
    gender: str
    citizenship: str
    mother_tongue: str
    other_languages: list[str]
    interpreter_needed: bool
    interpreter_language: str
    names: list[dict]
    email: str
    phone: str
    street_address: str
    postal_code: str
    post_office: str
    residence_basis: str
    first_permit_on: dt.date | None
    home_municipality_on: dt.date | None
    migri_number: str
    unhcr_number: str
    unemployed_jobseeker: bool
    social_assistance_long_term: bool
    child_home_care_allowance: bool
    arrived_as_unaccompanied_minor: bool
    trafficking_victim: bool
    other_need_identified: bool
    welfare_service_needs: bool
    counsellor: str | None
    responsibility_history: list[ResponsibilityChangeOut] = Field(
        description="the changes of responsible organisation by accepted transfers, oldest first"
    )

    @staticmethod
    def resolve_responsibility_history(obj: Client) -> list[dict]:
        return [
            {"at": c.at, "from_organisation": c.from_organisation.code,
             "to_organisation": c.to_organisation.code}
            for c in selectors.responsibility_changes(obj)
        ]  # fmt: skip

    @staticmethod
    def resolve_counsellor(obj: Client) -> str | None:
        return obj.counsellor.username if obj.counsellor_id else None

    @staticmethod
    def resolve_other_languages(obj: Client) -> list[str]:
        return [lang.language for lang in obj.languages.all()]

    @staticmethod
    def resolve_names(obj: Client) -> list[dict]:
        return [
            {"kind": n.kind, "first_name": n.first_name, "last_name": n.last_name}
            for n in obj.names.all()
        ]


class ClientPage(Schema):
    items: list[ClientSummary]
    next_cursor: str | None


def _get(request: HttpRequest, client_id: int, purpose: str = "api") -> Client:
    return selectors.client_get_for(user=request.auth, client_id=client_id, purpose=purpose)


SEARCH_QUERY = Query(
    "", max_length=100, description="Name in any recorded form, identity code or temporary id"
)


@router.get("/", response=ClientPage, summary="Search clients")
def client_search(
    request,
    q: QueryText = SEARCH_QUERY,
    cursor: str | None = None,
    limit: int = Query(25, ge=1, le=200),
    mine: bool = False,
):
    page = selectors.client_search_for(
        user=request.auth, query=q, cursor=cursor, limit=limit, mine=mine
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


class ClientSearchIn(In):
    """A search sent in the body: an identity code in a query string is written wherever
    addresses are (a proxy's or gateway's log); here it is not."""

    q: str = Field(
        "", max_length=100, description="Name in any recorded form, identity code or temporary id"
    )
    cursor: str | None = None
    limit: int = Field(25, ge=1, le=200)
    mine: bool = False


@router.post("/search", response=ClientPage, summary="Search clients (query in the body)")
def client_search_post(request, payload: ClientSearchIn):
    page = selectors.client_search_for(
        user=request.auth, query=payload.q, cursor=payload.cursor, limit=payload.limit,
        mine=payload.mine,
    )  # fmt: skip
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/", response={201: ClientOut}, summary="Create a client")
def client_create(request, payload: ClientIn):
    data = payload.model_dump(exclude={"confirm_duplicate", "facts_valid_from"})
    data["residence_basis"] = data["residence_basis"] or ""
    client = services.client_create(
        actor=request.auth, data=data, confirm_duplicate=payload.confirm_duplicate,
        facts_valid_from=payload.facts_valid_from,
    )  # fmt: skip
    return Status(201, _get(request, client.id, purpose="api:create"))


@router.get("/{client_id}", response=ClientOut, summary="Read a client")
def client_read(request, client_id: int):
    return _get(request, client_id)


@router.patch("/{client_id}", response=ClientOut, summary="Update a client")
def client_update(request, client_id: int, payload: ClientPatch):
    client = _get(request, client_id, purpose="api:update")
    data = payload.model_dump(
        exclude_unset=True, exclude={"version", "facts_valid_from", "municipality_corrected"}
    )
    if "residence_basis" in data and data["residence_basis"] is None:
        data["residence_basis"] = ""
    services.client_update(
        actor=request.auth,
        client=client,
        data=data,
        expected_version=payload.version,
        facts_valid_from=payload.facts_valid_from,
        municipality_corrected=payload.municipality_corrected,
    )
    return selectors.client_get_for(
        user=request.auth, client_id=client_id, purpose="api:update", audit=False
    )


class CounsellorIn(In):
    """`counsellor`: the username of a member of your organisation whose role edits
    clients, or null for nobody. `version` from a read (409 when it moved)."""

    counsellor: str | None = Field(max_length=150)
    version: int


@router.put("/{client_id}/counsellor", response=ClientOut, summary="Set a client's counsellor")
def client_counsellor(request, client_id: int, payload: CounsellorIn):
    client = _get(request, client_id, purpose="api:counsellor")
    chosen = None
    if payload.counsellor is not None:
        candidates = selectors.counsellor_candidates(
            organisation_id=request.auth.active_membership.organisation_id
        )
        chosen = next((u for u in candidates if u.username == payload.counsellor), None)
        if chosen is None:
            raise ValidationFailed(
                {"counsellor": _("Choose a member of your organisation who works with clients.")}
            )
    services.client_assign_counsellor(
        actor=request.auth, client=client, counsellor=chosen, expected_version=payload.version
    )
    return selectors.client_get_for(
        user=request.auth, client_id=client_id, purpose="api:counsellor", audit=False
    )


@router.get("/{client_id}/law", response=Decision, summary="What the law says for a stored client")
def client_law(request, client_id: int, on: Day | None = None):
    """The `koto.law` decision built from the client's recorded facts, on `on` (default today)."""
    client = _get(request, client_id, purpose="api:law")
    try:
        return decision_for(client, on or clock.today())
    except MissingFacts as exc:
        raise DomainError(
            "missing_facts",
            _("The client record lacks a fact the rules need."),
            fields={exc.field: _("This field is required.")},
        ) from None
    except FactsError as exc:
        raise facts_error(exc) from None


class MeetingFields(Schema):
    purpose: str
    interpreter_mode: str = ""
    interpreter_language: str = ""
    interpreter_provider: str = ""
    interpreter_minutes: int | None = None
    interpreter_cost: Decimal | None = None
    client_no_show: bool = False
    no_show_reason_accepted: bool = False
    notes: str = ""


class MeetingIn(MeetingFields, In):
    held_on: Day


class MeetingOut(MeetingFields):
    held_on: dt.date  # as stored: an answer never fails on an older row's date
    id: int
    fee_may_be_charged: bool
    organisation_code: str
    counsellor: str

    @staticmethod
    def resolve_fee_may_be_charged(obj) -> bool:
        return obj.fee_reason is not None

    @staticmethod
    def resolve_organisation_code(obj) -> str:
        return obj.organisation.code

    @staticmethod
    def resolve_counsellor(obj) -> str:
        return obj.counsellor.get_full_name() or obj.counsellor.username


@router.post(
    "/{client_id}/meetings",
    response={201: MeetingOut},
    summary="Record a meeting and its interpreting",
)
def meeting_record(request, client_id: int, payload: MeetingIn):
    client = _get(request, client_id, purpose="api:meeting")
    return Status(
        201, services.meeting_record(actor=request.auth, client=client, data=payload.model_dump())
    )


class MeetingPage(Schema):
    items: list[MeetingOut]
    next_cursor: str | None


@router.get("/{client_id}/meetings", response=MeetingPage, summary="A client's meetings")
def meeting_list(
    request,
    client_id: int,
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    limit: int = Query(50, ge=1, le=200),
):
    """Latest first, a keyset page at a time: pass `next_cursor` back as `cursor`."""
    client = _get(request, client_id, purpose="api:meetings")
    page = selectors.client_meeting_page(client=client, cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


class EventOut(Schema):
    id: int
    at: dt.datetime
    kind: str
    kind_label: str
    actor: str | None
    organisation_code: str | None
    organisation: str | None

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return (obj.actor.get_full_name() or obj.actor.username) if obj.actor else None

    @staticmethod
    def resolve_organisation_code(obj) -> str | None:
        return obj.organisation.code if obj.organisation else None

    @staticmethod
    def resolve_organisation(obj) -> str | None:
        return obj.organisation.name if obj.organisation else None


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


@router.get("/{client_id}/timeline", response=EventPage, summary="A client's timeline")
def timeline(
    request,
    client_id: int,
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    limit: int = Query(100, ge=1, le=500),
):
    """Newest first, a keyset page at a time: pass `next_cursor` back as `cursor`."""
    client = _get(request, client_id, purpose="api:timeline")
    page = selectors.client_timeline_page(client=client, cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


class ExportPart(Schema):
    title: str
    fields: dict[str, str] = Field(description="field code → its label in the export's language")
    rows: list[dict]
    withheld: list[str] = Field(description="labels of fields the caller may not read")
    withheld_because: str = Field(
        description='"welfare" (health and social details), "finance" (the whole kind), or ""'
    )


class SubjectExportOut(Schema):
    client_id: int
    organisation: str
    made_at: dt.datetime
    language: str
    parts: dict[str, ExportPart]


@router.get(
    "/{client_id}/export", response=SubjectExportOut, summary="A client's data-subject export"
)
def client_export(
    request, client_id: int, lang: Literal["fi", "sv", "en"] | None = None, own: bool = False
):
    """What your organisation holds about the client (GDPR art. 15 and 20), every kind of
    record of the personal data catalogue: codes as stored, related organisations and people
    by name, each field's label in `lang` (by default the client's mother tongue when it is
    Finnish, Swedish or English, otherwise Finnish). Rows other organisations hold are not
    included. By default the export of the organisation responsible for the client when
    yours keeps its records; `own=true` the export of what your organisation answers for
    itself (records it kept while the client was its own). Audited as an export; 404 unless
    your role answers data-subject requests (casework roles) and your organisation keeps the
    client's record or is the one the client was transferred from (its read grant of the
    transfer). With `own=true`: 404 when your organisation keeps the record only for the
    responsible one; the default export when it is responsible or holds it for itself."""
    export = subject_export_for(
        user=request.auth, client_id=client_id, fmt="api", own=own, lang=lang, fallback="fi"
    )
    with translation.override(export.language):
        return export.as_json()
