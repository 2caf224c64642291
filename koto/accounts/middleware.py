from koto.accounts.selectors import active_membership_for
from koto.core import context


class ActiveMembershipMiddleware:
    """Attach the user's active membership (organisation + role) and note the request's origin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = context.set_current(
            context.RequestMeta(
                channel="api" if request.path.startswith("/api/") else "web",
                ip=request.META.get("REMOTE_ADDR"),
            )
        )
        try:
            user = request.user
            if user.is_authenticated:
                user.active_membership = active_membership_for(
                    user=user, membership_id=request.session.get("membership_id")
                )
            return self.get_response(request)
        finally:
            context.reset(token)
