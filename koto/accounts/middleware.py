import ipaddress

from django.conf import settings
from django.shortcuts import redirect
from django.utils.cache import add_never_cache_headers

from koto.accounts.selectors import active_membership_for
from koto.core import context

# Open to a user who must first change their password: the change itself, signing out,
# static files and the API (which answers systems and the pages' scripts, not people).
_ALWAYS_OPEN = ("/accounts/password/", "/accounts/logout/", "/static/", "/api/", "/i18n/")


def client_address(meta) -> str | None:
    """The client's IP address: REMOTE_ADDR, or behind `settings.PROXY_COUNT` trusted
    proxies the address the first of them saw (X-Forwarded-For, counted from the right, as
    each proxy appends). Anything that is not an IP address is None: an empty REMOTE_ADDR
    (a server on a unix socket) failed every audited insert into PostgreSQL's inet column."""
    address = meta.get("REMOTE_ADDR")
    count = getattr(settings, "PROXY_COUNT", 0)
    if count:
        hops = [h.strip() for h in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= count:
            address = hops[-count]
    try:
        return str(ipaddress.ip_address((address or "").strip()))
    except ValueError:
        return None


class ActiveMembershipMiddleware:
    """Attach the user's active membership (organisation + role) and note the request's origin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = context.set_current(
            context.RequestMeta(
                channel="api" if request.path.startswith("/api/") else "web",
                ip=client_address(request.META),
            )
        )
        try:
            user = request.user
            if user.is_authenticated:
                user.active_membership = active_membership_for(
                    user=user, membership_id=request.session.get("membership_id")
                )
                if user.must_change_password and not request.path.startswith(_ALWAYS_OPEN):
                    # a password an administrator chose: changed before anything else
                    response = redirect("accounts:password_change")
                    add_never_cache_headers(response)
                    return response
            response = self.get_response(request)
        finally:
            context.reset(token)
        signed_in = request.user.is_authenticated or request.path.startswith("/api/")
        if signed_in and not response.has_header("Cache-Control"):
            # a signed-in page (an API answer: token or session) holds personal data: not
            # kept by the browser or a proxy, so Back after signing out on a shared office
            # computer does not show it again
            add_never_cache_headers(response)
        return response
