"""Checking the chain: recompute every hash in order and report the first broken link.

Events are read once in id order; each lane's events must follow one another (positions
1, 2, 3… with each event's `prev_hash` the hash of the one before it in the lane) and each
lane must end where its head says. The clients a list event names (`changes["listed_clients"]`,
under its hash) must be exactly its rows in `AuditListedClient`, the index each client's
audit page reads: a row deleted there would hide the list from that page."""

import hashlib
import json
from dataclasses import dataclass

from koto.audit.chain import GENESIS, event_hash, event_payload
from koto.audit.models import AuditChainHead, AuditEvent, AuditListedClient
from koto.core import clock


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None = None
    problem: str = ""
    lane: int | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def _lanes_before(first_id: int) -> dict[int, tuple[int, str, int]]:
    """Each lane's (position, hash, id) of its last event before `first_id`."""
    state = {}
    for lane in AuditChainHead.objects.values_list("id", flat=True):
        last = (
            AuditEvent.objects.filter(lane=lane, id__lt=first_id)
            .order_by("-seq")
            .values_list("seq", "hash", "id")
            .first()
        )
        if last is not None:
            state[lane] = last
    return state


def verify_chain(batch_size: int = 5000, *, from_id: int = 1) -> ChainReport:
    """Verify every event with id ≥ `from_id` (all of them by default) against its lane,
    and every lane's end against its head. Starting later trusts the events before.

    The heads are read first, and each lane is checked up to the end its head had then:
    those events had all been committed (a lane's head moves in the transaction that writes
    its event). Reading the heads at the end reported "events missing at the end of lane N"
    for any audited write while the check ran (it reads for minutes over millions), and an
    event committed late, after a later id had been read, as a deleted row. An event past
    its lane's first-read end is set aside; at the end the heads are read again, and one
    that its head has reached since was written meanwhile (the next run checks it), while
    one that no head has reached is checked in its place (a row moved or added by hand)."""
    heads = {h.id: (h.last_seq, h.last_hash, h.last_event_id) for h in AuditChainHead.objects.all()}  # fmt: skip
    state = _lanes_before(from_id) if from_id > 1 else {}
    checked = 0
    later: list[tuple[int, int, int]] = []  # (id, lane, position) past the first-read heads

    def check(event) -> ChainReport | None:
        seq, prev_hash, _id = state.get(event.lane, (0, GENESIS, 0))
        if event.seq != seq + 1:
            what = (
                f"missing event (deleted row): position {seq + 1} of lane {event.lane}"
                if event.seq > seq + 1
                else f"position {event.seq} of lane {event.lane} out of order"
            )
            return ChainReport(checked, event.id, what, event.lane)
        if event.prev_hash != prev_hash:
            return ChainReport(checked, event.id, "previous-hash link does not match", event.lane)
        if event_hash(prev_hash, event_payload(event)) != event.hash:
            return ChainReport(
                checked, event.id, "content does not match its hash (edited)", event.lane
            )
        state[event.lane] = (event.seq, event.hash, event.id)
        return None

    last_id = from_id - 1
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for event in batch:
            last_id = event.id
            if event.seq > heads.get(event.lane, (0, GENESIS, 0))[0]:
                later.append((event.id, event.lane, event.seq))
                continue
            if (broken := check(event)) is not None:
                return broken
            checked += 1
        broken = _listed_mismatch(batch)
        if broken is not None:
            return ChainReport(
                checked, broken.id, "clients shown in the list do not match its index", broken.lane
            )  # fmt: skip
    if later:
        now = dict(AuditChainHead.objects.values_list("id", "last_seq"))
        unreached = [i for i, lane, seq in later if seq > now.get(lane, 0)]
        for event in AuditEvent.objects.filter(id__in=unreached).order_by("id"):
            if (broken := check(event)) is not None:
                return broken
            checked += 1
    for lane, (last_seq, head_hash, head_event_id) in sorted(heads.items()):
        seq, last_hash, last_id = state.get(lane, (0, GENESIS, 0))
        if seq < last_seq:
            return ChainReport(
                checked, head_event_id, f"events missing at the end of lane {lane}", lane
            )  # fmt: skip
        if (seq, last_hash) != (last_seq, head_hash):
            return ChainReport(
                checked, last_id, f"lane {lane} goes on past its recorded end", lane
            )  # fmt: skip
    return ChainReport(checked)


def _listed_mismatch(batch: list[AuditEvent]) -> AuditEvent | None:
    """The first event of the batch whose named clients differ from its index rows."""
    indexed: dict[int, set[int]] = {}
    rows = AuditListedClient.objects.filter(event_id__gte=batch[0].id, event_id__lte=batch[-1].id)
    for client_id, event_id in rows.values_list("client_id", "event_id"):
        indexed.setdefault(event_id, set()).add(client_id)
    for event in batch:
        named = event.changes.get("listed_clients") if isinstance(event.changes, dict) else None
        if set(named or ()) != indexed.pop(event.id, set()):
            return event
    return None


# ---------------------------------------------------------------- seals
# The chain proves that nothing inside a lane was edited, removed or reordered, but not that
# a lane's end was not cut off and its head moved back with it (no hash need be computed
# for that), nor that a whole lane was not removed with its head: someone with write access
# to the database could do either. A seal is the heads at one moment, kept outside the
# database (mailed, logged, printed); checked against it later, every lane must still hold
# the sealed event, unchanged, at the sealed position.


def seal_now() -> dict:
    """The heads as they are now, and a digest of them (to quote in a mail or a log)."""
    heads = {
        str(lane): [seq, digest]
        for lane, seq, digest in AuditChainHead.objects.order_by("id").values_list(
            "id", "last_seq", "last_hash"
        )
    }
    body = json.dumps(heads, sort_keys=True, separators=(",", ":"))
    return {
        "at": clock.now().isoformat(),
        "heads": heads,
        "digest": hashlib.sha256(body.encode()).hexdigest(),
    }


def check_seal(seal: dict) -> list[str]:
    """What no longer matches a seal (`seal_now`'s): for each lane sealed, the event at the
    sealed position must exist with the sealed hash. Run it with `verify_chain`, which
    proves the events before it unchanged. Empty when all match."""
    problems = []
    heads = seal.get("heads")
    if not isinstance(heads, dict) or not all(
        isinstance(k, str) and k.isdigit() and isinstance(v, list) and len(v) == 2
        and isinstance(v[0], int) and isinstance(v[1], str)
        for k, v in heads.items()
    ):  # fmt: skip
        return ["the seal holds no heads in the form --seal writes"]
    # The digest only tells a damaged or carelessly edited seal: anyone who can rewrite the
    # seal can compute it again, so the seal must be kept where the database's users cannot
    # write (docs/operations.md).
    body = json.dumps(heads, sort_keys=True, separators=(",", ":"))
    if hashlib.sha256(body.encode()).hexdigest() != seal.get("digest"):
        problems.append("the seal's digest does not match its heads (damaged or edited)")
    for lane, (seq, digest) in sorted(heads.items(), key=lambda kv: int(kv[0])):
        if not seq:
            continue
        stored = (
            AuditEvent.objects.filter(lane=int(lane), seq=seq)
            .values_list("hash", flat=True)
            .first()
        )
        if stored is None:
            problems.append(f"lane {lane}: the sealed event at position {seq} is gone")
        elif stored != digest:
            problems.append(f"lane {lane}: the event at position {seq} differs from the seal")
    return problems
