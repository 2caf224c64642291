"""Reads of referrals. A referral is seen by the referring and the receiving organisation
only, by their members who handle referrals; anyone else gets NotFound (404). Every read of
a referral shows personal data (the client's name and birth date, the message), so it is
audited, also when the receiving organisation reads it before accepting."""

from django.db.models import Q, QuerySet

from koto.audit.services import audit_record
from koto.core.errors import NotFound
from koto.core.pagination import Page, keyset_page
from koto.core.roles import Perm
from koto.referrals.models import Referral, ReferralStatus


def referral_org_of(user) -> int | None:
    """The organisation on whose behalf the user handles referrals, or None."""
    m = getattr(user, "active_membership", None)
    if m is None or not m.has_perm(Perm.REFERRAL_MANAGE):
        return None
    return m.organisation_id


def _base() -> QuerySet[Referral]:
    return Referral.objects.select_related(
        "client", "from_organisation", "to_organisation", "sender", "handled_by"
    )


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


def referral_list_for(
    *, user, box: str = "incoming", cursor: str | None = None, limit: int = 50
) -> Page[Referral]:
    """Incoming or outgoing referrals of the viewer's organisation, newest first, keyset by id
    (a cursor that cannot be read: `ValidationFailed` naming `cursor`). Audited as one read
    of the list (it names clients)."""
    org_id = referral_org_of(user)
    if org_id is None:
        return Page([], None)
    qs = _base()
    qs = (
        qs.filter(to_organisation_id=org_id)
        if box == "incoming"
        else qs.filter(from_organisation_id=org_id)
    )
    page = keyset_page(qs, order=("-id",), cursor=cursor, limit=limit)
    audit_record(
        actor=user,
        action="read",
        object_type="referral_list",
        changes={"box": box, "results": len(page.items)},
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
