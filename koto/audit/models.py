"""The append-only, hash-chained audit trail.

Every write and every read of a client's personal data leaves one AuditEvent. The events
form LANES hash chains ("lanes", so that concurrent writers need not wait for one
another): each event carries its lane, its position in the lane and the hash of the lane's
event before it, so editing, deleting or reordering a row breaks its lane and
`manage.py audit_verify` names the first broken link.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from koto.core import clock

# Writers at once without waiting (PostgreSQL): more than a server's request threads.
LANES = 32


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    READ = "read", _("Read")
    EXPORT = "export", _("Exported")
    BREAK_GLASS = "break_glass", _("Emergency access")
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Failed log-in")
    LOGOUT = "logout", _("Logged out")


class AuditEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(default=clock.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    organisation_id = models.BigIntegerField(null=True, blank=True)
    organisation_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    client_id = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=20, blank=True)  # web, api, cli, task
    reason = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    lane = models.PositiveSmallIntegerField(default=1)
    seq = models.BigIntegerField()  # position in the lane, from 1
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["client_id", "-id"], name="audit_client_idx")]
        constraints = [
            models.UniqueConstraint(fields=["lane", "seq"], name="audit_lane_seq_unique")
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}"


class AuditListedClient(models.Model):
    """A client whose name a list showed (a search's results, "My clients", a work list),
    so that the client's audit page finds the list's event. The event itself names the same
    ids in its `changes` ("listed_clients"), which its hash covers; these rows are the index to
    them, and `audit_verify` checks that the two agree."""

    pk = models.CompositePrimaryKey("client_id", "event_id")
    client_id = models.BigIntegerField()
    event_id = models.BigIntegerField()

    class Meta:
        # the primary key serves a client's audit page; this, `audit_verify` (by event)
        indexes = [models.Index(fields=["event_id"], name="audit_listed_event_idx")]
        verbose_name = _("client shown in a list")
        verbose_name_plural = _("clients shown in lists")

    def __str__(self) -> str:
        return f"client {self.client_id} in event {self.event_id}"


class AuditChainHead(models.Model):
    """The end of one lane (its number is the id): the last event's id, hash and position.
    Locking the row serialises the writers of that lane."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_event_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"audit lane {self.id} at {self.last_seq}"
