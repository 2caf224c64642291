"""The API under /api/v1/: session auth for the UI, per-organisation bearer tokens for systems.
Errors are JSON {"code", "message", "fields"}; bad input is 422 naming the field as the
request gave it (a form field or file by its own name, a body field by its path), an address
that is no endpoint 404, a body over the size limit 413, a failure of Koto's own 500 (logged),
a method an endpoint does not take 405 with the methods it does in `Allow`. A write
(POST, PATCH) sent with an `Idempotency-Key` header is done once: sent again with the same
key, it gets the first answer (header `Idempotent-Replayed: true`) and writes nothing."""

import logging

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.urls import resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from koto.accounts.selectors import active_membership_for
from koto.accounts.services import api_token_authenticate
from koto.api.idempotency import idempotent
from koto.api.routers.casework import router as casework_router
from koto.api.routers.clients import router as clients_router
from koto.api.routers.funding import router as funding_router
from koto.api.routers.guidance import router as guidance_router
from koto.api.routers.insights import router as insights_router
from koto.api.routers.law import router as law_router
from koto.api.routers.offerings import router as offerings_router
from koto.api.routers.placement import router as placement_router
from koto.api.routers.referrals import router as referrals_router
from koto.api.routers.status import router as status_router
from koto.core.errors import DomainError, PermissionDenied

logger = logging.getLogger(__name__)


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_authenticate(token)
        if user is None:
            return None
        request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's Django session (CSRF checked for unsafe methods)."""

    param_name = "sessionid"

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if user.must_change_password:
            # the pages send such a user to change the password first; the API, open to the
            # same session, let whoever chose it work on as the member
            raise PermissionDenied(_("Change your password first: an administrator chose it."))
        if user.active_membership is None:
            user.active_membership = active_membership_for(
                user=user, membership_id=request.session.get("membership_id")
            )
        return user


AUTH = [TokenAuth(), SessionAuth()]

api = NinjaAPI(
    title="Koto API",
    version="1",
    description=__doc__,
    auth=AUTH,
    urls_namespace="api",
    docs_url="/docs",
)
# a write sent again with the same Idempotency-Key header is answered, not done, again
api.add_decorator(idempotent(AUTH), mode="view")


def _error(request, status: int, code: str, message: str, fields: dict | None = None):
    return api.create_response(
        request, {"code": code, "message": message, "fields": fields or {}}, status=status
    )


# Where ninja says a value came from: the first part of an error's location, not a field.
SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", [])]
        if loc and loc[0] in SOURCES:  # ["form", "year"] names `year`, ["file", "file"] `file`
            loc = loc[1:]
        name = ".".join(p for p in loc if p != "payload") or "body"
        fields.setdefault(name, []).append(err.get("msg", "invalid"))
    return _error(request, 422, "validation_error", _("Check the highlighted fields."), fields)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _error(request, 404, "not_found", _("Not found."))


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _error(request, 401, "unauthenticated", _("Log in or send a valid API token."))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    """Ninja's own errors (a body that is not JSON, a failed CSRF check, …) in the same
    shape as every other error, not ninja's `{"detail": …}`."""
    codes = {400: "bad_request", 403: "forbidden", 405: "method_not_allowed"}
    # ninja's 400 is a body it cannot read: named as the field, as every bad input is
    fields = {"body": [_("Send the body as JSON.")]} if exc.status_code == 400 else None
    return _error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc), fields)


@api.exception_handler(Exception)
def on_unexpected_error(request, exc: Exception):
    """Anything else in the same shape as every other error: a body over the size limit
    413, any failure of Koto's own 500 (logged with its traceback, told to nobody)."""
    if isinstance(exc, RequestDataTooBig):
        return _error(request, 413, "too_large", _("The request is too large."))
    if isinstance(exc, SuspiciousOperation | BadRequest | MultiPartParserError):
        # too many fields or files, a broken multipart body, and the like
        return _error(request, 400, "bad_request", _("The request cannot be read."))
    logger.error("API error on %s %s", request.method, request.path, exc_info=exc)
    # (a keyed write's transaction is rolled back by the idempotency wrapper on a 500)
    return _error(
        request, 500, "server_error", _("Something went wrong on our side; try again later.")
    )


@csrf_exempt  # as the API's own views: a token's write to a wrong address gets this 404
def not_found(request, rest: str = ""):
    """An address under /api/v1/ that is no endpoint: 404 in the API's own shape. An
    endpoint's address without its closing slash is redirected to it, as Django's
    APPEND_SLASH did before this route caught every address."""
    path = request.path_info  # as the URL resolver sees it (without a script prefix)
    if settings.APPEND_SLASH and request.method in ("GET", "HEAD") and not path.endswith("/"):
        if resolve(path + "/").func is not not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return JsonResponse({"code": "not_found", "message": _("Not found."), "fields": {}}, status=404)


api.add_router("/clients", clients_router)
api.add_router("/law", law_router)
api.add_router("/", casework_router)
api.add_router("/guidance", guidance_router)
api.add_router("/referrals", referrals_router)
api.add_router("/services", offerings_router)
api.add_router("/placement", placement_router)
api.add_router("/funding", funding_router)
api.add_router("/insights", insights_router)
api.add_router("/status", status_router)
