"""Whether the user handles referrals, and how many wait unopened at their organisation
(the navigation badge): read from the organisation the membership brought, no query."""

from koto.referrals.selectors import referral_org_of


def referrals(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or referral_org_of(user) is None:
        return {}
    waiting = user.active_membership.organisation.referrals_waiting
    return {"can_handle_referrals": True, "referrals_new_count": waiting}
