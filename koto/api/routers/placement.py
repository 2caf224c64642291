"""Municipal placement: agreements on places (agreed vs. used), the welfare region's
statements, placements from proposal to arrival, the initial health check and unaccompanied
minors' care. Another organisation's agreement, placement or minor answers 404."""

import datetime as dt
from typing import Literal

from django.http import Http404
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status

from koto.api.types import Day, In, fields_named
from koto.clients.models import Gender, ResidenceBasis
from koto.core.errors import NotFound, ValidationFailed
from koto.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from koto.organisations.models import OrganisationKind
from koto.organisations.selectors import organisation_by_code
from koto.placement import permissions, selectors, services
from koto.placement.models import (
    MinorCare,
    PlaceCategory,
    Placement,
    PlacementAgreement,
    PlacementPerson,
    PlacementSource,
)
from koto.placement.states import OPEN

router = Router(tags=["placement"])

CURSOR_QUERY = Query(None, description="next_cursor of the previous page")
LIMIT_QUERY = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


# ---------------------------------------------------------------- schemas


class UsageOut(Schema):
    category: str
    agreed: int
    used: int
    committed: int
    remaining: int
    over: int = Field(description="people arrived or accepted beyond the places agreed")


class ConsultationOut(Schema):
    welfare_region_code: str
    consulted_on: dt.date
    statement: str
    agreement_version: int | None = None

    @staticmethod
    def resolve_welfare_region_code(obj) -> str:
        return obj.welfare_region.code


class AgreementOut(Schema):
    id: int
    version: int
    municipality_code: str
    authority_code: str
    year: int
    places_quota_refugee: int
    places_international_protection: int
    places_unaccompanied_minor: int
    status: str
    signed_on: dt.date | None
    revised_on: dt.date | None
    note: str
    usage: list[UsageOut]

    @staticmethod
    def resolve_municipality_code(obj: PlacementAgreement) -> str:
        return obj.municipality.code

    @staticmethod
    def resolve_authority_code(obj: PlacementAgreement) -> str:
        return obj.authority.code

    @staticmethod
    def resolve_usage(obj: PlacementAgreement) -> list[dict]:
        return [
            {
                "category": u.category,
                "agreed": u.agreed,
                "used": u.used,
                "committed": u.committed,
                "remaining": u.remaining,
                "over": u.over,
            }
            for u in obj.usage
        ]


class AgreementPage(Schema):
    items: list[AgreementOut]
    next_cursor: str | None


class AgreementDetailOut(AgreementOut):
    consultations: list[ConsultationOut]

    @staticmethod
    def resolve_consultations(obj: PlacementAgreement) -> list:
        return obj.consultation_list


class PlacesIn(In):
    places_quota_refugee: int = 0
    places_international_protection: int = 0
    places_unaccompanied_minor: int = 0
    note: str | None = None
    version: int | None = None

    def places(self) -> dict:
        """The places the request gave: a change names only the categories it changes."""
        return self.model_dump(include=set(services.PLACE_FIELDS), exclude_unset=True)


class AgreementIn(PlacesIn):
    municipality_code: str
    year: int


class ReviseIn(PlacesIn):
    revised_on: Day


class SignIn(In):
    signed_on: Day
    version: int | None = None


class ConsultationIn(In):
    consulted_on: Day
    statement: str


class PersonFields(Schema):
    first_name: str
    last_name: str
    birth_date: dt.date
    gender: str = "unknown"
    residence_basis: str
    first_permit_on: dt.date | None = None
    mother_tongue: str = ""
    relation: str = "main"


class PersonIO(PersonFields):
    client_id: int | None = None  # set on arrival; a proposal cannot name an existing client


class PersonIn(PersonFields, In):
    gender: Gender = Gender.UNKNOWN
    residence_basis: ResidenceBasis
    relation: PlacementPerson.Role = PlacementPerson.Role.MAIN
    birth_date: Day  # bounded as input; PersonIO answers with what is stored
    first_permit_on: Day | None = None


class PlacementIn(In):
    municipality_code: str
    category: PlaceCategory
    source: PlacementSource
    persons: list[PersonIn] = Field(max_length=30)  # a person or a family
    year: int | None = None
    source_detail: str = ""
    evident_welfare_needs: bool = False
    welfare_needs_note: str = ""
    proposed_on: Day | None = None
    confirm_duplicate: bool = Field(
        False, description="a person already in another placement is another person"
    )


class HealthCheckOut(Schema):
    welfare_region_code: str
    sent_on: dt.date
    status: str
    done_on: dt.date | None

    @staticmethod
    def resolve_welfare_region_code(obj) -> str:
        return obj.welfare_region.code


class PlacementOut(Schema):
    id: int
    version: int
    authority_code: str
    municipality_code: str
    year: int
    category: str
    source: str
    source_detail: str
    status: str
    proposed_on: dt.date
    evident_welfare_needs: bool
    decided_on: dt.date | None
    decline_reason: str
    housing_address: str
    housing_on: dt.date | None
    supported_housing_note: str
    arrived_on: dt.date | None
    cancelled_on: dt.date | None
    cancel_reason: str
    persons: list[PersonIO]

    @staticmethod
    def resolve_authority_code(obj: Placement) -> str:
        return obj.authority.code

    @staticmethod
    def resolve_municipality_code(obj: Placement) -> str:
        return obj.municipality.code

    @staticmethod
    def resolve_persons(obj: Placement) -> list:
        return list(obj.persons.all())


class PlacementPage(Schema):
    items: list[PlacementOut]
    next_cursor: str | None


class PlacesCheckOut(Schema):
    """The placement against the places its municipality agreed for the year and category
    (while the placement is open): `agreed` is null without an agreement."""

    agreement_status: str | None
    agreed: int | None
    used: int
    committed: int
    proposed: int
    this: int
    over_if_accepted: int
    over_with_proposals: int


class PlacementDetailOut(PlacementOut):
    welfare_needs_note: str
    consultations: list[ConsultationOut]
    health_check: HealthCheckOut | None
    places: PlacesCheckOut | None = None
    warnings: list[str] = Field(
        default_factory=list, description="what the operation just done warns of"
    )

    @staticmethod
    def resolve_places(obj: Placement):
        return selectors.places_check(obj) if obj.status in OPEN else None

    @staticmethod
    def resolve_warnings(obj: Placement) -> list[str]:
        return getattr(obj, "warnings", [])

    @staticmethod
    def resolve_consultations(obj: Placement) -> list:
        return getattr(obj, "consultation_list", None) or list(
            obj.consultations.select_related("welfare_region")
        )

    @staticmethod
    def resolve_health_check(obj: Placement):
        return getattr(obj, "health_check", None)


class DecideIn(In):
    decided_on: Day | None = None
    version: int | None = None


class DeclineIn(DecideIn):
    reason: str


class HousingIn(In):
    address: str
    housing_on: Day
    version: int | None = None


class SupportedHousingIn(In):
    note: str
    version: int | None = None


class ArriveIn(In):
    arrived_on: Day
    version: int | None = None
    confirm_duplicate: bool = Field(
        False, description="a similar client of the municipality is another person"
    )


class CancelIn(In):
    reason: str
    cancelled_on: Day | None = None
    version: int | None = None


class HealthCheckIn(In):
    done_on: Day


class TaskOut(Schema):
    kind: str
    due_on: dt.date
    status: str
    rule_code: str
    rule_section: str
    reason_fi: str
    reason_sv: str
    reason_en: str
    period_id: str


class MinorCareOut(Schema):
    id: int
    version: int
    client_id: int
    client_name: str
    birth_date: dt.date
    placement_id: int | None
    housing_form: str
    representative_name: str
    representative_contact: str
    representative_from: dt.date | None
    representative_to: dt.date | None
    after_care_plan_on: dt.date | None
    after_care_plan_ends_on: dt.date | None
    turns_18_on: dt.date
    support_ends_on: dt.date | None

    @staticmethod
    def resolve_client_name(obj: MinorCare) -> str:
        return obj.client.full_name

    @staticmethod
    def resolve_birth_date(obj: MinorCare) -> dt.date:
        return obj.client.birth_date


class MinorCarePage(Schema):
    items: list[MinorCareOut]
    next_cursor: str | None


class MinorCareDetailOut(MinorCareOut):
    tasks: list[TaskOut]

    @staticmethod
    def resolve_tasks(obj: MinorCare) -> list:
        return list(obj.client.tasks.filter(source_type="minor_care", source_id=obj.id))


class MinorCarePatch(In):
    housing_form: str | None = None
    representative_name: str | None = None
    representative_contact: str | None = None
    representative_from: Day | None = None
    representative_to: Day | None = None
    after_care_plan_on: Day | None = None
    after_care_plan_ends_on: Day | None = None
    version: int | None = None


# ---------------------------------------------------------------- helpers


def _require_role(request) -> None:
    if not permissions.has_placement_role(request.auth):
        raise NotFound("placement")


def _municipality(code: str):
    org = organisation_by_code(code)
    if org is None or org.kind != OrganisationKind.MUNICIPALITY:
        raise ValidationFailed({"municipality_code": gettext("Unknown municipality code.")})
    return org


def _agreement(request, agreement_id: int) -> PlacementAgreement:
    return selectors.agreement_get_for(user=request.auth, agreement_id=agreement_id)


def _placement(request, placement_id: int, purpose: str = "api") -> Placement:
    return selectors.placement_get_for(
        user=request.auth, placement_id=placement_id, purpose=purpose
    )


def _fresh_agreement(request, agreement_id: int) -> PlacementAgreement:
    return selectors.agreement_get_for(user=request.auth, agreement_id=agreement_id)


def _fresh_placement(placement_id: int) -> Placement:
    return (
        Placement.objects.select_related("municipality", "authority")
        .prefetch_related("persons")
        .get(pk=placement_id)
    )


# ---------------------------------------------------------------- agreements


@router.get(
    "/agreements",
    response=AgreementPage,
    summary="Agreements: places agreed vs used, latest year first",
)
def agreement_list(
    request,
    year: int | None = None,
    cursor: str | None = CURSOR_QUERY,
    limit: int = LIMIT_QUERY,
):
    _require_role(request)
    page = selectors.agreement_page_for(user=request.auth, year=year, cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/agreements", response={201: AgreementDetailOut}, summary="Draft an agreement")
def agreement_create(request, payload: AgreementIn):
    if permissions.authority_of(request.auth) is None:
        raise Http404
    with fields_named(municipality="municipality_code"):
        agreement = services.agreement_create(
            actor=request.auth, municipality=_municipality(payload.municipality_code),
            year=payload.year, places=payload.places(), note=payload.note or "",
        )  # fmt: skip
    return Status(201, _fresh_agreement(request, agreement.id))


@router.get("/agreements/{agreement_id}", response=AgreementDetailOut, summary="Read an agreement")
def agreement_read(request, agreement_id: int):
    return _agreement(request, agreement_id)


@router.patch(
    "/agreements/{agreement_id}", response=AgreementDetailOut, summary="Change a draft's places"
)
def agreement_update(request, agreement_id: int, payload: PlacesIn):
    services.agreement_update(
        actor=request.auth, agreement=_agreement(request, agreement_id), places=payload.places(),
        note=payload.note, expected_version=payload.version,
    )  # fmt: skip
    return _fresh_agreement(request, agreement_id)


@router.post(
    "/agreements/{agreement_id}/consultations",
    response={201: ConsultationOut},
    summary="Record the welfare region's statement on the agreement",
)
def agreement_consult(request, agreement_id: int, payload: ConsultationIn):
    consultation = services.agreement_consult(
        actor=request.auth, agreement=_agreement(request, agreement_id), **payload.model_dump()
    )
    return Status(201, consultation)


@router.post(
    "/agreements/{agreement_id}/sign", response=AgreementDetailOut, summary="Sign an agreement"
)
def agreement_sign(request, agreement_id: int, payload: SignIn):
    services.agreement_sign(
        actor=request.auth, agreement=_agreement(request, agreement_id),
        signed_on=payload.signed_on, expected_version=payload.version,
    )  # fmt: skip
    return _fresh_agreement(request, agreement_id)


@router.post(
    "/agreements/{agreement_id}/revise",
    response=AgreementDetailOut,
    summary="Revise a signed agreement",
)
def agreement_revise(request, agreement_id: int, payload: ReviseIn):
    services.agreement_revise(
        actor=request.auth, agreement=_agreement(request, agreement_id), places=payload.places(),
        revised_on=payload.revised_on, note=payload.note, expected_version=payload.version,
    )  # fmt: skip
    return _fresh_agreement(request, agreement_id)


# ---------------------------------------------------------------- placements

StatusFilter = Literal[
    "proposed", "accepted", "declined", "housing_reserved", "supported_housing_requested",
    "arrived", "cancelled",
]  # fmt: skip


@router.get("/placements", response=PlacementPage, summary="Placements, newest first")
def placement_list(
    request,
    status: StatusFilter | None = None,
    year: int | None = None,
    cursor: str | None = CURSOR_QUERY,
    limit: int = LIMIT_QUERY,
):
    _require_role(request)
    page = selectors.placement_page_for(
        user=request.auth, status=status, year=year, cursor=cursor, limit=limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/placements", response={201: PlacementDetailOut}, summary="Propose a placement")
def placement_propose(request, payload: PlacementIn):
    if permissions.authority_of(request.auth) is None:
        raise Http404
    data = payload.model_dump(exclude={"municipality_code", "persons"})
    persons = [p.model_dump() for p in payload.persons]
    with fields_named(municipality="municipality_code"):
        placement = services.placement_propose(
            actor=request.auth, municipality=_municipality(payload.municipality_code),
            persons=persons, **data,
        )  # fmt: skip
    fresh = _fresh_placement(placement.id)
    fresh.warnings = placement.warnings
    return Status(201, fresh)


@router.get("/placements/{placement_id}", response=PlacementDetailOut, summary="Read a placement")
def placement_read(request, placement_id: int):
    return _placement(request, placement_id)


@router.post(
    "/placements/{placement_id}/consultations",
    response={201: ConsultationOut},
    summary="Record the welfare region's statement on a placement",
)
def placement_consult(request, placement_id: int, payload: ConsultationIn):
    consultation = services.placement_consult(
        actor=request.auth, placement=_placement(request, placement_id, "api:consult"),
        **payload.model_dump(),
    )  # fmt: skip
    return Status(201, consultation)


def _act(request, placement_id: int, operation: str, **kwargs) -> Placement:
    placement = _placement(request, placement_id, f"api:{operation}")
    done = services.OPERATIONS[operation](actor=request.auth, placement=placement, **kwargs)
    fresh = _fresh_placement(placement_id)
    fresh.warnings = getattr(done, "warnings", [])
    return fresh


@router.post(
    "/placements/{placement_id}/accept", response=PlacementDetailOut, summary="Accept a proposal"
)
def placement_accept(request, placement_id: int, payload: DecideIn):
    return _act(
        request, placement_id, "accept",
        decided_on=payload.decided_on, expected_version=payload.version,
    )  # fmt: skip


@router.post(
    "/placements/{placement_id}/decline",
    response=PlacementDetailOut,
    summary="Decline a proposal with a reason",
)
def placement_decline(request, placement_id: int, payload: DeclineIn):
    return _act(
        request, placement_id, "decline", reason=payload.reason,
        decided_on=payload.decided_on, expected_version=payload.version,
    )  # fmt: skip


@router.post(
    "/placements/{placement_id}/reserve-housing",
    response=PlacementDetailOut,
    summary="Reserve housing (address, date)",
)
def placement_reserve_housing(request, placement_id: int, payload: HousingIn):
    return _act(
        request, placement_id, "reserve_housing", address=payload.address,
        housing_on=payload.housing_on, expected_version=payload.version,
    )  # fmt: skip


@router.post(
    "/placements/{placement_id}/request-supported-housing",
    response=PlacementDetailOut,
    summary="Request supported housing",
)
def placement_request_supported_housing(request, placement_id: int, payload: SupportedHousingIn):
    return _act(
        request, placement_id, "request_supported_housing",
        note=payload.note, expected_version=payload.version,
    )  # fmt: skip


@router.post(
    "/placements/{placement_id}/arrive",
    response=PlacementDetailOut,
    summary="Record arrival: the people become clients of the municipality",
)
def placement_arrive(request, placement_id: int, payload: ArriveIn):
    return _act(
        request, placement_id, "arrive", arrived_on=payload.arrived_on,
        expected_version=payload.version, confirm_duplicate=payload.confirm_duplicate,
    )  # fmt: skip


@router.post(
    "/placements/{placement_id}/cancel", response=PlacementDetailOut, summary="Cancel a placement"
)
def placement_cancel(request, placement_id: int, payload: CancelIn):
    return _act(
        request, placement_id, "cancel", reason=payload.reason,
        cancelled_on=payload.cancelled_on, expected_version=payload.version,
    )  # fmt: skip


@router.post(
    "/placements/{placement_id}/health-check",
    response=HealthCheckOut,
    summary="Record the initial health check done",
)
def placement_health_check(request, placement_id: int, payload: HealthCheckIn):
    return services.health_check_done(
        actor=request.auth, placement=_placement(request, placement_id, "api:health_check"),
        done_on=payload.done_on,
    )  # fmt: skip


# ---------------------------------------------------------------- unaccompanied minors


@router.get(
    "/minors", response=MinorCarePage, summary="Unaccompanied minors' care, soonest 18 first"
)
def minor_list(request, cursor: str | None = CURSOR_QUERY, limit: int = LIMIT_QUERY):
    _require_role(request)
    page = selectors.minor_care_page_for(user=request.auth, cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/minors/{care_id}", response=MinorCareDetailOut, summary="Read a minor's care")
def minor_read(request, care_id: int):
    return selectors.minor_care_get_for(user=request.auth, care_id=care_id, purpose="api")


@router.patch("/minors/{care_id}", response=MinorCareDetailOut, summary="Update a minor's care")
def minor_update(request, care_id: int, payload: MinorCarePatch):
    care = selectors.minor_care_get_for(user=request.auth, care_id=care_id, purpose="api:edit")
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    return services.minor_care_update(
        actor=request.auth, care=care, data=data, expected_version=payload.version
    )
