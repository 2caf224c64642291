"""Writing to the audit trail. Callers are services and selectors, inside their transaction.

The trail is a set of hash chains, "lanes" (`AuditChainHead` rows). A writer locks one
lane that nobody else holds (`FOR UPDATE SKIP LOCKED` on PostgreSQL), appends to it and
keeps the lock until its transaction commits, so concurrent requests never queue behind
one another's commit; each lane is still one unbroken chain, and an edited, deleted or
reordered event breaks its lane (`koto.audit.verification`). Event ids come from the
table's sequence, so they follow the order of writing across lanes."""

import random

from django.db import connection, transaction

from koto.audit.chain import event_hash, event_payload
from koto.audit.models import LANES, AuditAction, AuditChainHead, AuditEvent
from koto.core import clock, context
from koto.core.bulk import allocate_ids, fast_insert


def _actor_fields(actor) -> dict:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {
            "actor": None,
            "actor_label": "system",
            "organisation_id": None,
            "organisation_label": "",
        }
    membership = getattr(actor, "active_membership", None)
    org = membership.organisation if membership is not None else None
    return {
        "actor": actor,
        "actor_label": actor.get_username(),
        "organisation_id": org.id if org else None,
        "organisation_label": f"{org.code} {org.name_fi}" if org else "",
    }


def _lock_lane() -> AuditChainHead:
    """A lane locked for this transaction: on PostgreSQL a free one, if any; otherwise (all
    busy, none created yet, or SQLite, whose writers are serialised anyway) wait for one."""
    if connection.features.has_select_for_update_skip_locked:
        free = list(AuditChainHead.objects.select_for_update(skip_locked=True).order_by("?")[:1])
        if free:
            return free[0]
        lane = random.randint(1, LANES)  # noqa: S311 - spreading writers, not a secret
    else:
        lane = 1
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=lane)
    return head


def _append(head: AuditChainHead, events: list[AuditEvent]) -> None:
    """Give the events ids, their lane positions and hashes, write them, move the head."""
    prev, seq = head.last_hash, head.last_seq
    for event, event_id in zip(events, allocate_ids(AuditEvent, len(events)), strict=True):
        seq += 1
        event.id, event.lane, event.seq, event.prev_hash = event_id, head.id, seq, prev
        event.hash = prev = event_hash(prev, event_payload(event))
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        fast_insert(events)
    head.last_event_id, head.last_hash, head.last_seq = events[-1].id, prev, seq
    head.save(update_fields=["last_event_id", "last_hash", "last_seq"])


def audit_record(
    *,
    actor,
    action: str,
    object_type: str,
    object_id: object = "",
    client_id: int | None = None,
    reason: str = "",
    changes: dict | None = None,
) -> AuditEvent:
    """Append one event. Runs in (or opens) a transaction and holds its lane until then."""
    meta = context.current()
    event = AuditEvent(
        at=clock.now(),
        action=AuditAction(action),
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else "",
        client_id=client_id,
        channel=meta.channel,
        reason=reason,
        changes=changes or {},
        ip=meta.ip,
        **_actor_fields(actor),
    )
    with transaction.atomic():
        _append(_lock_lane(), [event])
    return event


def audit_record_many(
    *, actor, action: str, object_type: str, items: list[dict], reason: str = ""
) -> None:
    """Append many events at once (bulk imports): one lane, hashes chained in order.
    Each item holds `object_id`, optional `client_id` and `changes`."""
    if not items:
        return
    meta = context.current()
    base = _actor_fields(actor)
    at = clock.now()
    events = [
        AuditEvent(
            at=at,
            action=AuditAction(action),
            object_type=object_type,
            object_id=str(item.get("object_id", "")),
            client_id=item.get("client_id"),
            channel=meta.channel,
            reason=reason,
            changes=item.get("changes") or {},
            ip=meta.ip,
            **base,
        )
        for item in items
    ]
    with transaction.atomic():
        _append(_lock_lane(), events)
