from koto.core.roles import ROLE_PERMISSIONS


def membership(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    m = user.active_membership
    return {
        "active_membership": m,
        "perms_in_org": ROLE_PERMISSIONS.get(m.role, frozenset())
        if m is not None and m.is_active
        else frozenset(),
        # as the request reads them (`active_memberships_of`: not those of an ended
        # organisation)
        "memberships": getattr(user, "active_memberships", None) or [],
    }
