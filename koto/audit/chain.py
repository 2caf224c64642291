"""How an audit event is hashed (pure)."""

import datetime as dt
import hashlib
import json

GENESIS = "0" * 64


def event_hash(prev_hash: str, payload: dict) -> str:
    body = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False
    )
    return hashlib.sha256(f"{prev_hash}|{body}".encode()).hexdigest()


def event_payload(event) -> dict:
    """The fields covered by the hash, read back from a stored event."""
    return {
        "id": event.id,
        # in UTC, as it is read back: an event written at a moment with another offset (the
        # one clock's Helsinki time, `clock.frozen`) was hashed as "…+02:00" and read back
        # as "…+00:00", so verification called it edited
        "at": event.at.astimezone(dt.UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "organisation_id": event.organisation_id,
        "organisation_label": event.organisation_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "client_id": event.client_id,
        "channel": event.channel,
        "reason": event.reason,
        "changes": event.changes,
        "ip": event.ip,
    }
