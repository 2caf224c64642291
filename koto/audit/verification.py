"""Checking the chain: recompute every hash in order and report the first broken link."""

from dataclasses import dataclass

from koto.audit.chain import GENESIS, event_hash, event_payload
from koto.audit.models import AuditChainHead, AuditEvent


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken_at: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(batch_size: int = 5000) -> ChainReport:
    prev_hash = GENESIS
    expected_id = 1
    checked = 0
    last_id = 0
    while True:
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch_size])
        if not batch:
            break
        for event in batch:
            if event.id != expected_id:
                return ChainReport(checked, expected_id, "missing event (deleted row)")
            if event.prev_hash != prev_hash:
                return ChainReport(checked, event.id, "previous-hash link does not match")
            if event_hash(prev_hash, event_payload(event)) != event.hash:
                return ChainReport(checked, event.id, "content does not match its hash (edited)")
            prev_hash = event.hash
            expected_id += 1
            checked += 1
            last_id = event.id
    head = AuditChainHead.objects.filter(id=1).first()
    if head is not None and head.last_event_id != last_id:
        return ChainReport(checked, last_id + 1, "events missing at the end of the chain")
    return ChainReport(checked)
