"""Programme services: catalogue, enrolments, attendance, language test results."""

import datetime as dt
from decimal import Decimal
from typing import Annotated

from django.http import Http404
from django.utils.translation import gettext
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictInt

from koto.api.types import Day, EmptyIsNone, In, fields_named
from koto.clients.selectors import client_get_for
from koto.core.errors import PermissionDenied, ValidationFailed
from koto.core.pagination import DEFAULT_LIMIT, MAX_LIMIT
from koto.core.roles import Perm
from koto.guidance.models import Theme
from koto.offerings import selectors, services
from koto.offerings.models import LanguageTestResult, Service, ServiceKind
from koto.organisations.models import Organisation, OrganisationKind
from koto.plans.models import Action

router = Router(tags=["services"])


class ServiceIn(In):
    kind: ServiceKind
    # another service's national monitoring theme (required for kind "other"; a programme
    # service's is its kind's)
    theme: Theme | None = None
    name_fi: str
    name_sv: str = ""
    name_en: str = ""
    description_fi: str = ""
    description_sv: str = ""
    description_en: str = ""
    language: str = ""
    # strict: a JSON `true` was taken for 1 (a course of one place); a number in quotes, too
    hours: StrictInt | None = None
    topics: list[str] = Field([], max_length=50)
    track: str = ""
    target_level: str = ""
    on_the_job_learning: bool = False
    capacity: StrictInt
    starts_on: Day | None = None
    ends_on: Day | None = None
    place: str = ""
    remote: bool = False
    active: bool = True
    served_municipality_codes: list[str] = Field([], max_length=400)  # Finland has 308


class ServiceOut(Schema):
    id: int
    producer_code: str
    kind: str
    theme: str
    name_fi: str
    name_sv: str
    name_en: str
    language: str
    hours: int | None
    topics: list[str]
    track: str
    target_level: str
    capacity: int
    taken: int
    waiting: int
    starts_on: dt.date | None
    ends_on: dt.date | None
    place: str
    remote: bool
    active: bool

    @staticmethod
    def resolve_producer_code(obj: Service) -> str:
        return obj.producer.code


class ServicePage(Schema):
    items: list[ServiceOut]
    next_cursor: str | None


class EnrolIn(In):
    client_id: int
    plan_action_id: int | None = None


class EnrolmentOut(Schema):
    id: int
    service_id: int
    client_id: int
    plan_action_id: int | None
    status: str
    offered_on: dt.date | None
    accepted_on: dt.date | None
    started_on: dt.date | None
    ended_on: dt.date | None
    interruption_reason: str
    version: int


class EnrolmentPage(Schema):
    items: list[EnrolmentOut]
    next_cursor: str | None


class OperationIn(In):
    on: Day | None = None
    reason: str = ""
    version: int | None = None


class AttendanceIn(In):
    on: Day
    hours: Decimal
    monthly: bool = False


class AttendanceOut(Schema):
    id: int
    on: dt.date
    hours: Decimal
    monthly: bool


class ResultIO(Schema):
    language: str
    skill: str
    level: str


class ResultIn(ResultIO, In):
    """A result given: an unknown field in it is refused, as in the body around it."""


class ResultsIn(In):
    taken_on: Day
    results: list[ResultIn] = Field(max_length=50)
    # the client's enrolment in the language test taken (optional)
    enrolment_id: StrictInt | None = None


class ResultOut(ResultIO):
    taken_on: dt.date
    enrolment_id: int | None


def _served(request, codes: list[str]) -> list[Organisation]:
    """The municipalities a service serves, by code (only for who may manage services: the
    codes are not looked up for anyone else)."""
    if not request.auth.has_perm_in_org(Perm.OFFERINGS_MANAGE):
        raise PermissionDenied()
    orgs = list(Organisation.objects.filter(code__in=codes, kind=OrganisationKind.MUNICIPALITY))
    if len(orgs) != len(set(codes)):
        raise ValidationFailed({"served_municipality_codes": gettext("Unknown municipality code.")})
    return orgs


@router.get("/", response=ServicePage, summary="The service catalogue, by Finnish name")
def service_list(
    request,
    kind: Annotated[ServiceKind | None, EmptyIsNone] = None,
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
):
    page = selectors.service_page_for(
        user=request.auth, kind=kind or "", cursor=cursor, limit=limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/", response={201: ServiceOut}, summary="Add a service to the catalogue")
def service_create(request, payload: ServiceIn):
    data = payload.model_dump(exclude={"served_municipality_codes"})
    s = services.service_create(
        actor=request.auth,
        data=data,
        served_municipalities=_served(request, payload.served_municipality_codes),
    )
    return Status(201, selectors.service_get(service_id=s.id))


@router.get("/{service_id}", response=ServiceOut, summary="Read a service")
def service_read(request, service_id: int):
    return selectors.service_get(service_id=service_id)


@router.post("/{service_id}/enrolments", response={201: EnrolmentOut}, summary="Enrol a client")
def enrolment_create(request, service_id: int, payload: EnrolIn):
    service = selectors.service_get(service_id=service_id)
    client = client_get_for(user=request.auth, client_id=payload.client_id, purpose="api:enrol")
    action = None
    if payload.plan_action_id:
        action = (
            Action.objects.filter(pk=payload.plan_action_id, goal__plan__client=client)
            .select_related("goal__plan")
            .first()
        )
        if action is None:
            raise Http404
    with fields_named(service="service_id", plan_action="plan_action_id", client="client_id"):
        enrolment = services.enrolment_create(
            actor=request.auth, client=client, service=service, plan_action=action
        )
    return Status(201, enrolment)


@router.get(
    "/{service_id}/enrolments",
    response=EnrolmentPage,
    summary="Participants you may see, in enrolment order",
)
def enrolment_list(
    request,
    service_id: int,
    cursor: str | None = Query(None, description="next_cursor of the previous page"),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
):
    service = selectors.service_get(service_id=service_id)
    page = selectors.enrolment_page_of_service_for(
        user=request.auth, service=service, cursor=cursor, limit=limit
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


# Before "/enrolments/{enrolment_id}/{operation}", which would take "attendance" as an
# operation (and answer 404).
@router.post(
    "/enrolments/{enrolment_id}/attendance",
    response={201: AttendanceOut},
    summary="Record attendance hours",
)
def attendance_record(request, enrolment_id: int, payload: AttendanceIn):
    e = selectors.enrolment_get_for(user=request.auth, enrolment_id=enrolment_id)
    return Status(
        201, services.attendance_record(actor=request.auth, enrolment=e, **payload.model_dump())
    )


@router.post(
    "/enrolments/{enrolment_id}/{operation}",
    response=EnrolmentOut,
    summary="accept, start, interrupt, complete, decline or cancel",
)
def enrolment_operation(request, enrolment_id: int, operation: str, payload: OperationIn):
    if operation not in services.TRANSITIONS:
        raise Http404
    e = selectors.enrolment_get_for(user=request.auth, enrolment_id=enrolment_id)
    return services.enrolment_transition(
        actor=request.auth,
        enrolment=e,
        operation=operation,
        on=payload.on,
        reason=payload.reason,
        expected_version=payload.version,
    )


@router.post(
    "/clients/{client_id}/language-results",
    response={201: list[ResultOut]},
    summary="Record language test results",
)
def language_results_record(request, client_id: int, payload: ResultsIn):
    client = client_get_for(user=request.auth, client_id=client_id, purpose="api:language_result")
    enrolment = None
    if payload.enrolment_id is not None:
        enrolment = selectors.enrolment_of_client(client=client, enrolment_id=payload.enrolment_id)
        if enrolment is None:
            raise ValidationFailed({"enrolment_id": gettext("The client has no such enrolment.")})
    with fields_named(enrolment="enrolment_id"):
        rows = services.language_result_record(
            actor=request.auth,
            client=client,
            taken_on=payload.taken_on,
            results=[r.model_dump() for r in payload.results],
            enrolment=enrolment,
        )
    return Status(201, rows)


@router.get(
    "/clients/{client_id}/language-results",
    response=list[ResultOut],
    summary="A client's language test results",
)
def language_results_list(request, client_id: int):
    """Every result of the client (a handful per test taken; the client page lists them
    all too), so none is cut off silently."""
    client = client_get_for(user=request.auth, client_id=client_id, purpose="api:language_results")
    return list(LanguageTestResult.objects.filter(client=client))
