def membership(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    m = user.active_membership
    return {
        "active_membership": m,
        "memberships": list(user.memberships.filter(is_active=True).select_related("organisation")),
    }
