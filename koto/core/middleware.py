import json
import re

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render, resolve_url
from django.utils.translation import gettext as _
from django.views import defaults
from django_htmx.http import HttpResponseClientRedirect

from koto.core.errors import NotFound, PermissionDenied
from koto.core.params import BadQueryParameter
from koto.core.text import has_text_control_characters


class DomainErrorMiddleware:
    """HTML views: a NotFound from a selector is a 404 page, a PermissionDenied a 403 page,
    and a bad value in the page's address (`core.params.BadQueryParameter`) a 400 page
    naming each parameter; any other ValidationFailed no form caught stays an error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            return defaults.page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return defaults.permission_denied(request, exception)
        if isinstance(exception, BadQueryParameter) and not request.path.startswith("/api/"):
            return render(request, "bad_address.html", {"error": exception}, status=400)
        return None


def _null_paths(value):
    """The paths ("names.0.first") of the strings in decoded JSON that hold U+0000 (a stack,
    not recursion: a body nested thousands deep is walked, not a RecursionError)."""
    stack = [(value, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                yield path or "body"
        elif isinstance(value, dict):
            stack.extend(
                reversed([(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()])
            )
        elif isinstance(value, list):
            stack.extend(
                reversed([(v, f"{path}.{i}" if path else str(i)) for i, v in enumerate(value)])
            )


# A control character other than tab, LF and CR, percent-encoded in an address (C0, DEL,
# and C1 as UTF-8): the quick test before the parameters are decoded and looked at.
_ENCODED_CONTROL = re.compile(r"%(?:0[0-8bcef]|1[0-9a-f]|7f|c2%[89][0-9a-f])", re.IGNORECASE)


class NullCharacterMiddleware:
    """The API's answers in its own shape where no view of it answers (a method an endpoint
    does not take: 405 as JSON, not Django's plain text), and input holding U+0000 answers 422 (the API, naming each field) or 400 (a page), before
    any view: PostgreSQL's text cannot store it, and a query or a write with it failed there
    as a 500. Django's form fields refuse it already; the API's schemas and the parameters
    that pages read themselves did not. Costs a substring test on requests without it.
    The address's parameters (a search's `q`, filters) are refused the same way when they
    hold any other control character than tab and line breaks, as text in forms and API
    bodies is (`core.forms.Form`, `api.types.In`): until 2026-12-06 a search stored them in
    its audit event."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            fields = self._null_fields(request)
        except (RequestDataTooBig, SuspiciousOperation, MultiPartParserError, BadRequest) as e:
            # the body is read here first: its faults are answered here, the API's in its
            # own shape (a page's by Django, as before)
            if not request.path.startswith("/api/"):
                raise
            too_big = isinstance(e, RequestDataTooBig)
            return JsonResponse(
                {"code": "too_large" if too_big else "bad_request",
                 "message": _("The request is too large.") if too_big
                 else _("The request cannot be read."), "fields": {}},
                status=413 if too_big else 400,
            )  # fmt: skip
        message = _("Null characters are not allowed.")
        if not fields and _ENCODED_CONTROL.search(request.META.get("QUERY_STRING", "")):
            fields = [k for k, vs in request.GET.lists()
                      if any(has_text_control_characters(v) for v in vs)]  # fmt: skip
            message = _("Remove the control characters (invisible characters) from the text.")
        if fields:
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "validation_error", "message": _("Check the highlighted fields."),
                     "fields": {f: [message] for f in fields}},
                    status=422,
                )  # fmt: skip
            return HttpResponseBadRequest(  # plain text: nothing in it is markup
                f"{message} ({', '.join(fields)})", content_type="text/plain; charset=utf-8"
            )
        response = self.get_response(request)
        if response.status_code == 405 and request.path.startswith("/api/"):
            # an endpoint that does not take the method: ninja answers Django's plain text;
            # the API answers every error as JSON, naming the methods it takes (Allow kept)
            allow = response.get("Allow", "")
            json_response = JsonResponse(
                {"code": "method_not_allowed",
                 "message": _("This address does not take the method %(method)s; it takes "
                              "%(allowed)s.") % {"method": request.method, "allowed": allow},
                 "fields": {}},
                status=405,
            )  # fmt: skip
            json_response["Allow"] = allow
            for name, value in response.items():
                if name.lower() not in ("content-type", "content-length", "allow"):
                    json_response.setdefault(name, value)
            json_response.cookies = response.cookies
            return json_response
        return response

    @staticmethod
    def _null_fields(request) -> list[str]:
        fields = []
        if "%00" in request.META.get("QUERY_STRING", ""):
            fields += [k for k, vs in request.GET.lists() if any("\x00" in v for v in vs)]
        if request.method in ("POST", "PUT", "PATCH"):
            if request.content_type == "application/json":
                if b"\\u0000" in request.body:  # JSON writes U+0000 only as this escape
                    try:
                        fields += list(_null_paths(json.loads(request.body)))
                    except (ValueError, RecursionError):
                        pass  # not JSON, or nested too deep to read: the API's parser says so
            elif request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                if request.path.startswith("/api/"):  # pages' forms name the field themselves
                    fields += [k for k, vs in request.POST.lists() if any("\x00" in v for v in vs)]
        return list(dict.fromkeys(fields))


class HtmxLoginRedirectMiddleware:
    """An htmx request whose session has ended: the sign-in page's redirect would be followed
    inside the request and the whole sign-in page swapped into a part of the page. htmx is
    told to go to it instead (`HX-Redirect`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and response.status_code == 302
            and response.get("Location", "").startswith(resolve_url(settings.LOGIN_URL))
        ):
            return HttpResponseClientRedirect(response["Location"])
        return response
