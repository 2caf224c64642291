"""The number of new incoming referrals, for a navigation badge (one COUNT query a page)."""

from koto.referrals.selectors import incoming_new_count, referral_org_of


def referrals(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or referral_org_of(user) is None:
        return {}
    return {"can_handle_referrals": True, "referrals_new_count": incoming_new_count(user)}
