"""Writing to the audit trail. Callers are services and selectors, inside their transaction.

The trail is a set of hash chains, "lanes" (`AuditChainHead` rows). A writer locks one
lane that nobody else holds (`FOR UPDATE SKIP LOCKED` on PostgreSQL), appends to it and
keeps the lock until its transaction commits, so concurrent requests never queue behind
one another's commit; each lane is still one unbroken chain, and an edited, deleted or
reordered event breaks its lane (`koto.audit.verification`). Event ids come from the
table's sequence, so they follow the order of writing across lanes."""

import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection, transaction

from koto.audit.chain import event_hash, event_payload
from koto.audit.models import LANES, AuditAction, AuditChainHead, AuditEvent, AuditListedClient
from koto.core import clock, context
from koto.core.bulk import allocate_ids, fast_insert, insert_params, insert_statement

_audited_clients: ContextVar[set[int] | None] = ContextVar("koto_audited_clients", default=None)


@contextmanager
def clients_audited() -> Iterator[set[int]]:
    """Within: the ids of the clients the recorded events are about (for a caller that must
    know whom a request concerned: the API's stored answers, `koto.api.idempotency`)."""
    token = _audited_clients.set(set())
    try:
        yield _audited_clients.get()
    finally:
        _audited_clients.reset(token)


def _note_clients(*ids) -> None:
    seen = _audited_clients.get()
    if seen is not None:
        seen.update(i for i in ids if i is not None)


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
    busy, none made yet, or SQLite, whose writers are serialised anyway) wait for one. Plain
    SQL: every audited request runs it, and the ORM's query building cost more than the
    database."""
    if connection.features.has_select_for_update_skip_locked:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, last_event_id, last_hash, last_seq FROM audit_auditchainhead "
                "ORDER BY id = %s DESC, random() LIMIT 1 FOR UPDATE SKIP LOCKED",
                [getattr(connection, "koto_audit_lane", 0)],  # as `_LOCK_FREE_LANE_WITH_ID`
            )
            free = cursor.fetchone()
        if free:
            connection.koto_audit_lane = free[0]
            return AuditChainHead(*free)
        lane = random.randint(1, LANES)  # noqa: S311 - spreading writers, not a secret
    else:
        lane = 1
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(id=lane)
    return head


def _append(head: AuditChainHead, events: list[AuditEvent]) -> None:
    """Give the events ids, their lane positions and hashes, write them, move the head.
    Plain statements (`fast_insert`, one UPDATE): this runs on every audited request."""
    prev, seq = head.last_hash, head.last_seq
    for event, event_id in zip(events, allocate_ids(AuditEvent, len(events)), strict=True):
        seq += 1
        event.id, event.lane, event.seq, event.prev_hash = event_id, head.id, seq, prev
        event.hash = prev = event_hash(prev, event_payload(event))
    fast_insert(events)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditchainhead SET last_event_id = %s, last_hash = %s, last_seq = %s "
            "WHERE id = %s",
            [events[-1].id, prev, seq, head.id],
        )


def _with_operator(actor, meta, changes: dict | None) -> dict | None:
    """A command run by nobody signed in (an export, an import from the command line) names
    the operating-system user who ran it, so its audit record still says who."""
    if actor is not None or meta.channel != "cli" or not meta.from_command:
        return changes
    return {**(changes or {}), "operator": context.os_user()}


def audit_record(
    *,
    actor,
    action: str,
    object_type: str,
    object_id: object = "",
    client_id: int | None = None,
    reason: str = "",
    changes: dict | None = None,
    listed: Iterable[int | None] | None = None,
) -> AuditEvent:
    """Append one event. Runs in (or opens) a transaction and holds its lane until then.
    `listed`: the clients a list showed, named in the event (`changes["listed_clients"]`, under
    its hash) and indexed for each client's audit page (`AuditListedClient`)."""
    meta = context.current()
    changes = _with_operator(actor, meta, changes)
    ids = None
    if listed is not None:
        ids = list(dict.fromkeys(int(i) for i in listed if i is not None))
        changes = {**(changes or {}), "listed_clients": ids}
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
    _note_clients(client_id, *(ids or ()))
    # Inside the caller's transaction without a savepoint: an audit that fails fails it all.
    with transaction.atomic(savepoint=False):
        if connection.features.has_select_for_update_skip_locked:
            _append_one(event, ids or [])
        else:
            _append(_lock_lane(), [event])
            _insert_listed(event.id, ids or [])
    return event


def _insert_listed(event_id: int, ids: list[int]) -> None:
    if ids:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {AuditListedClient._meta.db_table} (client_id, event_id) "
                "VALUES (%s, %s)",
                [(client_id, event_id) for client_id in ids],
            )


# One event on PostgreSQL in two statements instead of four: a free lane locked together
# with the event's id, then the event written and the lane's head moved in one statement.
# The lane this connection took last comes first: a transaction that records several events
# (a keyed API write records its read and its write) then holds one lane, not one per
# event, so it never waits for a lane while holding another (two such would deadlock once
# all lanes were busy). A lane is never locked by another transaction here (SKIP LOCKED),
# and its head is read afresh, so the preference is only a choice among free lanes.
_LOCK_FREE_LANE_WITH_ID = (
    "SELECT h.id, h.last_event_id, h.last_hash, h.last_seq, "
    "nextval(pg_get_serial_sequence('audit_auditevent', 'id')) FROM "
    "(SELECT id, last_event_id, last_hash, last_seq FROM audit_auditchainhead "
    "ORDER BY id = %s DESC, random() LIMIT 1 FOR UPDATE SKIP LOCKED) h"
)
_INSERT_EVENT, _EVENT_PARAMS = insert_statement(AuditEvent)
_MOVE_HEAD = (
    "head AS (UPDATE audit_auditchainhead SET last_event_id = %s, last_hash = %s, "
    "last_seq = %s WHERE id = %s)"
)
_APPEND_ONE = f"WITH {_MOVE_HEAD} {_INSERT_EVENT}"
# ... and the clients a list showed, in the same statement (no round trip more per list)
_APPEND_ONE_LISTED = (
    f"WITH {_MOVE_HEAD}, listed AS (INSERT INTO {AuditListedClient._meta.db_table} "
    f"(client_id, event_id) SELECT unnest(%s::bigint[]), %s) {_INSERT_EVENT}"
)


def _append_one(event: AuditEvent, listed: list[int]) -> None:
    """`_append` of a single event on PostgreSQL, the same chain in fewer round trips."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_FREE_LANE_WITH_ID, [getattr(connection, "koto_audit_lane", 0)])
        row = cursor.fetchone()
    if row is None:  # every lane busy (or none yet): wait for one, as `_lock_lane` does
        _append(_lock_lane(), [event])
        _insert_listed(event.id, listed)
        return
    lane, _last_event, prev, seq, event.id = row
    connection.koto_audit_lane = lane
    event.lane, event.seq, event.prev_hash = lane, seq + 1, prev
    event.hash = event_hash(prev, event_payload(event))
    head = [event.id, event.hash, event.seq, lane]
    with connection.cursor() as cursor:
        if listed:
            cursor.execute(
                _APPEND_ONE_LISTED,
                [*head, listed, event.id, *insert_params(event, _EVENT_PARAMS)],
            )
        else:
            cursor.execute(_APPEND_ONE, [*head, *insert_params(event, _EVENT_PARAMS)])


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
    items = [
        {**item, "changes": _with_operator(actor, meta, item.get("changes"))} for item in items
    ]
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
    _note_clients(*(event.client_id for event in events))
    with transaction.atomic(savepoint=False):
        _append(_lock_lane(), events)
