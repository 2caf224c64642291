"""Reads of the catalogue (public) and of enrolments (personal data: the producer's staff
and those who may see the client)."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from koto.audit.services import audit_record
from koto.clients.permissions import can_edit_client
from koto.clients.selectors import (
    client_get_for,
    client_list_for,
    reach_of,
    read_reason,
    set_access_of_listed,
)
from koto.core import clock
from koto.core.errors import NotFound
from koto.core.pagination import DEFAULT_LIMIT, Page, keyset_page
from koto.core.roles import Perm
from koto.offerings.models import Enrolment, Service, ServiceKind


def catalogue(
    *, kind: str = "", municipality_id: int | None = None, only_active: bool = True
) -> QuerySet[Service]:
    """Services in catalogue order, with their stored seat counts (`taken`, `waiting`)."""
    qs = Service.objects.select_related("producer")
    if only_active:
        qs = qs.filter(active=True)
    if kind:
        qs = qs.filter(kind=kind)
    if municipality_id:
        qs = qs.filter(
            Q(served_municipalities__id=municipality_id) | Q(producer_id=municipality_id)
        ).distinct()
    return qs.order_by("starts_on", "name_fi", "id")


def services_near(*, client, organisation_id: int) -> QuerySet[Service]:
    """The active services offered when enrolling `client`: those produced by the viewer's
    organisation (`organisation_id`), the client's responsible organisation or municipality
    of residence, and those serving that municipality or organisation. The national
    catalogue (1 848 services at national scale) stays one click away."""
    places = {organisation_id, client.responsible_organisation_id, client.home_municipality_id}
    places.discard(None)
    served = Service.served_municipalities.through.objects.filter(
        service_id=OuterRef("pk"), organisation_id__in=places
    )
    return catalogue().filter(Q(producer_id__in=places) | Exists(served))


SERVICE_ORDER = ("name_fi", "id")


def service_page_for(
    *, user, kind: str = "", cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[Service]:
    """The active catalogue by Finnish name, keyset by (name_fi, id), seats taken and waiting
    stored on each service. The catalogue is public to every signed-in `user`."""
    return keyset_page(catalogue(kind=kind), order=SERVICE_ORDER, cursor=cursor, limit=limit)


def service_get(*, service_id: int) -> Service:
    service = catalogue(only_active=False).filter(pk=service_id).first()
    if service is None:
        raise NotFound("service")
    return service


def can_handle_enrolment(user, enrolment: Enrolment) -> bool:
    """Whether the user may move an enrolment on or record its attendance: the producer's
    staff, or whoever may enrol and edit the client (a read grant is not enough)."""
    m = getattr(user, "active_membership", None)
    if m is None:
        return False
    if is_producer_staff(user, enrolment.service):
        return True
    return m.has_perm(Perm.ENROL) and can_edit_client(user, enrolment.client)


def can_manage_service(user, service: Service) -> bool:
    """Whether the user edits the service itself (its catalogue entry, places, opening and
    closing): the producer's people who manage offerings, the administrator included."""
    m = getattr(user, "active_membership", None)
    return (
        m is not None
        and m.organisation_id == service.producer_id
        and m.has_perm(Perm.OFFERINGS_MANAGE)
    )


def is_producer_staff(user, service: Service) -> bool:
    """The producer's people who run the service and see its participants: managing the
    offerings and reading clients (the organisation administrator manages the catalogue but
    reads no client: participants' names, attendance and reasons for dropping out are not
    theirs)."""
    return can_manage_service(user, service) and user.active_membership.has_perm(Perm.CLIENT_VIEW)


def _enrolments_visible(user, service: Service) -> QuerySet[Enrolment] | None:
    """The service's enrolments the viewer may see: all for the producer's staff, else those
    of clients the viewer may see; None for a viewer who may see no client."""
    qs = Enrolment.objects.filter(service=service).select_related("client")
    if not is_producer_staff(user, service):
        if reach_of(user) is None:
            return None
        qs = qs.filter(client_id__in=client_list_for(user=user).values("id"))
    return qs


def _audit_enrolment_list(user, service: Service, rows: list) -> None:
    if rows:
        audit_record(
            actor=user,
            action="read",
            object_type="enrolment_list",
            object_id=service.id,
            changes={"count": len(rows)},
            listed=[e.client_id for e in rows],
        )


ENROLMENT_ORDER = ("requested_at", "id")


def enrolment_page_of_service_for(
    *, user, service: Service, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[Enrolment]:
    """The participants the viewer may see in enrolment order, keyset by (requested_at, id):
    a course of a large city has thousands over the years (11 129 in one at national
    scale). Audited as one read of the page."""
    qs = _enrolments_visible(user, service)
    if qs is None:
        return Page([], None)
    page = keyset_page(qs, order=ENROLMENT_ORDER, cursor=cursor, limit=limit)
    for e in page.items:
        e.service = service  # known: not read again per row (`can_handle_enrolment` asks)
    if is_producer_staff(user, service):
        for e in page.items:
            e.client.access = "read"  # as `enrolment_get_for` sets it
    else:
        set_access_of_listed(user=user, clients=[e.client for e in page.items])
    _audit_enrolment_list(user, service, page.items)
    return page


def enrolment_get_for(*, user, enrolment_id: int) -> Enrolment:
    e = (
        Enrolment.objects.select_related("service", "client", "plan_action__goal__plan")
        .filter(pk=enrolment_id)
        .first()
    )
    if e is None:
        raise NotFound("enrolment")
    if is_producer_staff(user, e.service):
        e.client.access = "read"
    else:
        try:
            e.client = client_get_for(user=user, client_id=e.client_id, audit=False)
        except NotFound:
            raise NotFound("enrolment") from None
    audit_record(
        actor=user, action="read", object_type="enrolment", object_id=e.id,
        client_id=e.client_id, reason=read_reason(e.client, "view"),
    )  # fmt: skip
    return e


def language_test_enrolments_of(*, client) -> QuerySet[Enrolment]:
    """The client's enrolments in language tests that have started (a result is linked to
    the test taken), the latest first: the choices of a language result's enrolment. The
    client is one the viewer has read (`client_get_for`)."""
    return (
        Enrolment.objects.filter(
            client=client,
            service__kind=ServiceKind.LANGUAGE_TEST,
            started_on__isnull=False,
            started_on__lte=clock.today(),
        )
        .select_related("service")
        .order_by("-started_on", "-id")
    )


def enrolment_of_client(*, client, enrolment_id: int) -> Enrolment | None:
    """One of the client's enrolments by id (None when it is not theirs), with its service:
    an enrolment named with the client's language results (the service checks it further)."""
    return (
        Enrolment.objects.select_related("service").filter(pk=enrolment_id, client=client).first()
    )
