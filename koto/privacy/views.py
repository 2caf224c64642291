import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _

from koto.core.errors import NotFound
from koto.core.params import BadQueryParameter
from koto.privacy import selectors
from koto.privacy.selectors import LANGUAGES


def _language(request) -> str | None:
    """The language asked for (`?lang=`); None: the client's own when it is one of Koto's."""
    asked = request.GET.get("lang", "")
    if asked in LANGUAGES:
        return asked
    if asked:
        raise BadQueryParameter({"lang": [_("Choose fi, sv or en.")]})
    return None


def _export(request, client_id: int, fmt: str):
    lang = _language(request)
    try:
        export = selectors.subject_export_for(
            user=request.user,
            client_id=client_id,
            fmt=fmt,
            own=request.GET.get("own") == "1",
            lang=lang,
        )
    except NotFound as e:
        raise Http404 from e
    return export, export.language


@login_required
def export_page(request, client_id: int):
    export, lang = _export(request, client_id, "html")
    with translation.override(lang):
        response = render(
            request,
            "privacy/export.html",
            {
                "export": export,
                "languages": LANGUAGES,
                "client_id": client_id,
                "own": request.GET.get("own") == "1",
                "name_bdi": format_html('<bdi dir="auto">{}</bdi>', export.name),
            },
        )
    response["Content-Language"] = lang
    return response


@login_required
def export_json(request, client_id: int):
    export, _lang = _export(request, client_id, "json")
    body = json.dumps(export.as_json(), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    name = f"koto-{client_id}-{export.made_at.date().isoformat()}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Content-Language"] = export.language
    return response
