"""Reads of referrals. A referral is seen by the referring and the receiving organisation
only, by their members who handle referrals; anyone else gets NotFound (404). Every read of
a referral shows personal data (the client's name and birth date, the message), so it is
audited, also when the receiving organisation reads it before accepting."""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext

from koto.audit.services import audit_record
from koto.clients.selectors import client_list_for
from koto.core import clock
from koto.core.errors import NotFound, ValidationFailed
from koto.core.pagination import Page, keyset_page
from koto.core.roles import Perm
from koto.referrals.models import Referral, ReferralKind, ReferralStatus


def referral_org_of(user) -> int | None:
    """The organisation on whose behalf the user handles referrals, or None."""
    m = getattr(user, "active_membership", None)
    if m is None or not m.has_perm(Perm.REFERRAL_MANAGE):
        return None
    return m.organisation_id


def _base() -> QuerySet[Referral]:
    """Referrals with what their pages show. The client's details come from the copy the
    referral shared (`Referral.shared`); the client row is joined for the services' checks,
    never shown."""
    return Referral.objects.select_related(
        "client", "from_organisation", "to_organisation", "sender", "handled_by",
        "law_organisation",
    )  # fmt: skip


def referral_get_for(*, user, referral_id: int, purpose: str = "view") -> Referral:
    """One referral of the viewer's organisation (sent or received), audited as a read of the
    client's data."""
    org_id = referral_org_of(user)
    if org_id is None:
        raise NotFound("referral")
    referral = (
        _base()
        .filter(pk=referral_id)
        .filter(Q(from_organisation_id=org_id) | Q(to_organisation_id=org_id))
        .first()
    )
    if referral is None:
        raise NotFound("referral")
    audit_record(
        actor=user,
        action="read",
        object_type="referral",
        object_id=referral.id,
        client_id=referral.client_id,
        reason=purpose,
    )
    return referral


def is_receiver(user, referral: Referral) -> bool:
    org_id = referral_org_of(user)
    return org_id is not None and org_id == referral.to_organisation_id


def is_sender(user, referral: Referral) -> bool:
    return referral_org_of(user) == referral.from_organisation_id


def took_over(user, referral: Referral) -> bool:
    """A transfer the user's organisation accepted, whose client it still holds (the client
    may have moved on since): the referral's page links to the client."""
    return (
        is_receiver(user, referral)
        and referral.kind == ReferralKind.TRANSFER
        and referral.status == ReferralStatus.COMPLETED
        and client_list_for(user=user).filter(pk=referral.client_id).exists()
    )


# The inbox's filters besides one status: waiting for the answer, and those overdue.
STATUS_FILTERS = ("open", "overdue")


def status_filter_q(status: str | None) -> Q:
    """The referrals a `status` filter keeps: one status, `open` (sent or received) or
    `overdue` (open and past the due day); an unknown one is `ValidationFailed` naming
    `status`."""
    if not status:
        return Q()
    waiting = Q(status__in=[ReferralStatus.SENT, ReferralStatus.RECEIVED])
    if status == "open":
        return waiting
    if status == "overdue":
        return waiting & Q(due_on__lt=clock.today())
    if status in ReferralStatus.values:
        return Q(status=status)
    raise ValidationFailed({"status": gettext("Unknown status.")})


def referral_list_for(
    *,
    user,
    box: str = "incoming",
    cursor: str | None = None,
    limit: int = 50,
    status: str | None = None,
) -> Page[Referral]:
    """Incoming or outgoing referrals of the viewer's organisation, newest first, keyset by id
    (a cursor that cannot be read: `ValidationFailed` naming `cursor`), optionally only those
    of a `status` (`status_filter_q`). Audited as one read of the list (it names clients)."""
    org_id = referral_org_of(user)
    if org_id is None:
        return Page([], None)
    where = status_filter_q(status)
    # a list shows the shared copy only: the client rows are not read
    qs = Referral.objects.select_related("from_organisation", "to_organisation", "law_organisation")
    qs = (
        qs.filter(to_organisation_id=org_id)
        if box == "incoming"
        else qs.filter(from_organisation_id=org_id)
    ).filter(where)
    page = keyset_page(qs, order=("-id",), cursor=cursor, limit=limit)
    audit_record(
        actor=user,
        action="read",
        object_type="referral_list",
        changes={"box": box, "status": status or "", "results": len(page.items)},
        listed=[r.client_id for r in page.items],
    )
    return page


def incoming_new_count(user) -> int:
    """Referrals sent to the user's organisation that nobody there has opened yet (for the
    navigation badge). No personal data, so not audited."""
    org_id = referral_org_of(user)
    if org_id is None:
        return 0
    return Referral.objects.filter(to_organisation_id=org_id, status=ReferralStatus.SENT).count()


def referral_steps(referral: Referral) -> list:
    return list(referral.steps.select_related("actor", "organisation").order_by("at", "id"))
