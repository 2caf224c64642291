"""Who may do what with State compensation. Visibility itself is in selectors."""

from koto.core.roles import Perm
from koto.funding.compensation import RECIPIENT_KINDS
from koto.funding.models import ClaimStatus
from koto.organisations.models import NATIONAL_KINDS


def _org_id(user):
    m = getattr(user, "active_membership", None)
    return m.organisation_id if m is not None else None


def can_manage_funding(user) -> bool:
    return user.is_authenticated and user.has_perm_in_org(Perm.FUNDING_MANAGE)


def can_view_compensation_report(user) -> bool:
    """A municipality's or welfare region's finance users see its own report; the State's
    authorities (KEHA, the regional State authorities) see every organisation's."""
    m = getattr(user, "active_membership", None)
    return (
        can_manage_funding(user)
        and m is not None
        and m.organisation.kind in (*RECIPIENT_KINDS, *NATIONAL_KINDS)
    )


def can_decide_claims(user) -> bool:
    return user.is_authenticated and user.has_perm_in_org(Perm.FUNDING_DECIDE)


def can_view_funding(user) -> bool:
    return can_manage_funding(user) or can_decide_claims(user)


def can_edit_claim(user, claim) -> bool:
    """The claiming organisation's finance users."""
    return can_manage_funding(user) and claim.organisation_id == _org_id(user)


def can_decide_claim(user, claim) -> bool:
    """Deciders of the regional State authority the claim is addressed to, once it is sent:
    a draft (its lines, the identity codes on them) is the claiming organisation's own."""
    return (
        can_decide_claims(user)
        and claim.authority_id == _org_id(user)
        and claim.status != ClaimStatus.DRAFT
    )


def can_view_claim(user, claim) -> bool:
    return can_edit_claim(user, claim) or can_decide_claim(user, claim)
