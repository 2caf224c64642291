"""Writes of the API app: the records of writes sent with an `Idempotency-Key` (the HTTP
side is `koto.api.idempotency`). Callers hold a transaction around a claim and its answer."""

import datetime as dt

from django.db import IntegrityError, transaction

from koto.api.models import IdempotencyKey
from koto.core import clock

KEPT_FOR = dt.timedelta(hours=24)


def key_claim(
    *, credential: str, key: str, fingerprint: str, user_id
) -> tuple[IdempotencyKey, bool]:
    """The key's record, locked for the caller's transaction, and whether it is new (the
    request is to be done) or holds an answer still kept (`KEPT_FOR`). A record older than
    that is taken over as new. A claim another transaction holds is waited for (PostgreSQL's
    unique index)."""
    now = clock.now()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    credential=credential, key=key, fingerprint=fingerprint,
                    created_at=now, user_id=user_id,
                )  # fmt: skip
            return row, True
        except IntegrityError:  # sent before (or being sent: this waited for it)
            row = (
                IdempotencyKey.objects.select_for_update()
                .filter(credential=credential, key=key)
                .first()
            )
        if row is not None:
            break
        # gone meanwhile (the request it waited for was released, or the expired key was
        # cleared): a DoesNotExist here was a 500; claim it again
    else:
        raise RuntimeError("idempotency key claimed and released three times over")
    if row.created_at >= now - KEPT_FOR:
        return row, False
    row.fingerprint, row.created_at, row.status, row.user_id = fingerprint, now, None, user_id
    row.body, row.client_ids = b"", []
    row.save(update_fields=["fingerprint", "created_at", "status", "user_id", "body", "client_ids"])
    return row, True


def key_answered(
    row: IdempotencyKey, *, status: int, content_type: str, body: bytes, client_ids
) -> None:
    """The request was done: its answer is kept, with the clients it was about."""
    row.status, row.content_type, row.body = status, content_type, body
    row.client_ids = sorted(client_ids)
    row.save(update_fields=["status", "content_type", "body", "client_ids"])


def key_released(row: IdempotencyKey) -> None:
    """The request was not done: the key may be used again."""
    row.delete()


def keys_clear_expired() -> int:
    """Delete the keys older than `KEPT_FOR` (their stored answers hold personal data)."""
    deleted, _rows = IdempotencyKey.objects.filter(created_at__lt=clock.now() - KEPT_FOR).delete()
    return deleted
