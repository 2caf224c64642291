"""What the API keeps of its own: the answers to writes sent with an `Idempotency-Key`."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from koto.core import clock


class IdempotencyKey(models.Model):
    """A write sent with an `Idempotency-Key` header and the answer it got, so that the same
    request sent again with the same key (a retry after a timeout) gets the same answer
    instead of writing twice (`koto.api.idempotency`; written by `koto.api.services`).
    Kept for `KEPT_FOR`, then cleared
    (`manage.py clear_idempotency_keys`)."""

    # whose key: a digest of the credential that sent it (the bearer token or the session)
    credential = models.CharField(max_length=64)
    key = models.CharField(max_length=64)  # a digest of the caller's key
    # a digest of the method, the path and the body: the same key for another request is
    # refused rather than answered with the first one's result
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=clock.now, db_index=True)
    user_id = models.BigIntegerField(null=True, blank=True)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True, default=b"")
    # the clients the write's audit events were about: the answer is given again only while
    # the user may still see them, and giving it is audited as a read of them
    client_ids = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["credential", "key"], name="api_idempotency_unique")
        ]
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")

    def __str__(self) -> str:
        return f"{self.key} ({self.status})"
