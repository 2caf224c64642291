"""Writing to the audit trail. Callers are services and selectors, inside their transaction."""

from django.db import transaction

from koto.audit.chain import event_hash, event_payload
from koto.audit.models import AuditAction, AuditChainHead, AuditEvent
from koto.core import clock, context
from koto.core.bulk import fast_insert


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
    """Append one event to the chain. Runs in (or opens) a transaction and locks the head."""
    meta = context.current()
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
        event = AuditEvent(
            id=head.last_event_id + 1,
            at=clock.now(),
            action=AuditAction(action),
            object_type=object_type,
            object_id=str(object_id) if object_id is not None else "",
            client_id=client_id,
            channel=meta.channel,
            reason=reason,
            changes=changes or {},
            ip=meta.ip,
            prev_hash=head.last_hash,
            **_actor_fields(actor),
        )
        event.hash = event_hash(head.last_hash, event_payload(event))
        event.save(force_insert=True)
        head.last_event_id = event.id
        head.last_hash = event.hash
        head.save(update_fields=["last_event_id", "last_hash"])
    return event


def audit_record_many(
    *, actor, action: str, object_type: str, items: list[dict], reason: str = ""
) -> None:
    """Append many events at once (bulk imports): one lock, hashes chained in order.
    Each item holds `object_id`, optional `client_id` and `changes`."""
    if not items:
        return
    meta = context.current()
    base = _actor_fields(actor)
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
        prev, next_id, at = head.last_hash, head.last_event_id + 1, clock.now()
        events = []
        for item in items:
            event = AuditEvent(
                id=next_id,
                at=at,
                action=AuditAction(action),
                object_type=object_type,
                object_id=str(item.get("object_id", "")),
                client_id=item.get("client_id"),
                channel=meta.channel,
                reason=reason,
                changes=item.get("changes") or {},
                ip=meta.ip,
                prev_hash=prev,
                **base,
            )
            event.hash = prev = event_hash(prev, event_payload(event))
            events.append(event)
            next_id += 1
        fast_insert(events)
        head.last_event_id, head.last_hash = events[-1].id, events[-1].hash
        head.save(update_fields=["last_event_id", "last_hash"])
