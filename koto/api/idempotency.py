"""Safe retries of the API's writes: the `Idempotency-Key` request header.

A system that sends a write (a guidance contact, a meeting, a new client…) and gets no
answer (a timeout, a dropped connection) cannot know whether it was written. Sent again
with the same `Idempotency-Key` (any 1–255 visible ASCII characters, unique per write,
such as a UUID), the request is answered with the first one's stored answer and the header
`Idempotent-Replayed: true`, and nothing is written twice. The same key with another
method, path or body is refused (422 naming the header); a key whose first request is
still running waits for it (PostgreSQL's unique index). Only successful answers (2xx) are
kept: after an error the key may be used again. A key belongs to the user and credential
that sent it (the bearer token, or the browser session) and is kept for `koto.api.services.KEPT_FOR`
(`manage.py clear_idempotency_keys` clears older ones, nightly from cron). A stored answer
is given again only while the user may still see every client it is about (else 404), and
giving it is audited as a read of those clients. Requests without the header work as
before. The write and its stored answer are one transaction, so the audit lane a keyed
write takes (one: `koto.audit.services`) is held until its answer is stored. The records
are written by `koto.api.services`. The header follows the IETF draft "The Idempotency-Key
HTTP Header Field" (httpapi working group)."""

import functools
import hashlib
import json
import re

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from koto.api.models import IdempotencyKey
from koto.api.services import key_answered, key_claim, key_released
from koto.audit.services import audit_record, clients_audited
from koto.clients.selectors import client_list_for

HEADER = "Idempotency-Key"
METHODS = ("POST", "PATCH")
_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def _refused(message: str, code: str = "validation_error") -> JsonResponse:
    return JsonResponse(
        {
            "code": code,
            "message": _("Check the highlighted fields."),
            "fields": {HEADER: [message]},
        },
        status=422,
    )


def _who(request, authenticators) -> tuple[object, str] | None:
    """The user the request's credential authenticates, and a digest naming that credential
    (None: not authenticated; the operation itself then answers 401 or 403)."""
    for auth in authenticators:
        try:
            user = auth(request)
        except Exception:  # noqa: BLE001 - a refused credential (CSRF…): the operation says why
            return None
        if user:
            # the credential that authenticated: the bearer token, or else the session
            credential = (
                request.headers.get("Authorization", "")
                if isinstance(auth, HttpBearer)
                else f"session {request.session.session_key}"
            )
            # and the organisation acted for: a session switched to another organisation
            # is another credential, so a write made for the first is not replayed for it
            membership = getattr(getattr(user, "active_membership", None), "pk", None)
            digest = hashlib.sha256(f"{user.pk} {credential} {membership}".encode()).hexdigest()
            return user, digest
    return None


def _fingerprint(request) -> str:
    """A digest of the method, the path and the content: the body of JSON, the fields and
    the files' bytes of a form (whose body may be read once only, and may be large)."""
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        digest.update(json.dumps(sorted(request.POST.lists())).encode())
        for name, files in sorted(request.FILES.lists()):
            for upload in files:
                digest.update(f"\n{name} {upload.name} {upload.size}\n".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def _replay(row: IdempotencyKey, user, request) -> HttpResponse:
    """The stored answer again, while the user may still see every client it is about;
    giving it is a read of those clients (audited as such)."""
    ids = sorted(row.client_ids or [])
    if ids and client_list_for(user=user).filter(id__in=ids).count() != len(ids):
        return JsonResponse(
            {"code": "not_found", "message": _("Not found."), "fields": {}}, status=404
        )
    audit_record(
        actor=user, action="read", object_type="api_replay", object_id=row.id,
        client_id=ids[0] if len(ids) == 1 else None, listed=ids if len(ids) > 1 else None,
        changes={"path": request.path, "status": row.status},
    )  # fmt: skip
    response = HttpResponse(bytes(row.body), status=row.status, content_type=row.content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(authenticators):
    """A ninja "view" decorator (around authentication and validation): writes sent with an
    `Idempotency-Key` are done once and answered alike (the module's docstring)."""

    def decorator(run):
        @functools.wraps(run)
        def wrapper(request, *args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None or request.method not in METHODS:
                return run(request, *args, **kwargs)
            who = _who(request, authenticators)
            if who is None:  # the operation answers 401 (or 403), whatever the key
                return run(request, *args, **kwargs)
            if not _KEY.fullmatch(key):
                return _refused(_("Give 1 to 255 visible ASCII characters, such as a UUID."))
            user, credential = who
            try:
                fingerprint = _fingerprint(request)
            except RequestDataTooBig:  # the body is read here first: the API's 413
                return JsonResponse(
                    {"code": "too_large", "message": _("The request is too large."), "fields": {}},
                    status=413,
                )
            key = hashlib.sha256(key.encode()).hexdigest()  # the caller's text is not kept
            with transaction.atomic():
                row, new = key_claim(
                    credential=credential, key=key, fingerprint=fingerprint, user_id=user.pk
                )
                if not new:
                    if row.fingerprint != fingerprint:
                        return _refused(
                            _("This key was used for another request: use a new key "
                              "for each write."),
                            code="idempotency_key_reused",
                        )  # fmt: skip
                    return _replay(row, user, request)
                with clients_audited() as client_ids:
                    response = run(request, *args, **kwargs)
                if transaction.get_rollback() or response.status_code >= 500:
                    # the write failed within (also after a service wrote and the answer
                    # failed): all is undone, and the key may be used again
                    transaction.set_rollback(True)
                    return response
                if 200 <= response.status_code < 300 and not response.streaming:
                    key_answered(
                        row, status=response.status_code, client_ids=client_ids,
                        content_type=response.get("Content-Type", ""), body=response.content,
                    )  # fmt: skip
                else:  # not done: the key may be used again
                    key_released(row)
            return response

        return wrapper

    return decorator
