"""The one state machine of a referral: which status may follow which, and by which operation.

sent → received (the receiving organisation opened it) → accepted | declined | returned;
accepted → completed | returned; sent, received, accepted → withdrawn by the sender;
declined, returned, completed, withdrawn → sent again by `reopen` (the sender).
"""

from koto.referrals.models import ReferralStatus as S

TRANSITIONS: dict[str, dict[str, str]] = {
    # operation: {from status: to status}
    "receive": {S.SENT: S.RECEIVED},
    "accept": {S.RECEIVED: S.ACCEPTED},
    "decline": {S.RECEIVED: S.DECLINED},
    "return": {S.RECEIVED: S.RETURNED, S.ACCEPTED: S.RETURNED},
    "complete": {S.ACCEPTED: S.COMPLETED},
    "withdraw": {S.SENT: S.WITHDRAWN, S.RECEIVED: S.WITHDRAWN, S.ACCEPTED: S.WITHDRAWN},
    "reopen": {S.DECLINED: S.SENT, S.RETURNED: S.SENT, S.COMPLETED: S.SENT, S.WITHDRAWN: S.SENT},
}
# Operations of the receiving side. For a recipient not on Koto the referring organisation
# records the recipient's answers itself.
RECEIVER_OPERATIONS = frozenset({"receive", "accept", "decline", "return", "complete"})
# Operations of the referring side: only the sender sends again. (The receiver reopening a
# closed referral and accepting it gave itself back the access the sender once chose.)
# The sender withdraws a referral sent by mistake (the wrong organisation, the wrong client)
# or no longer needed: the receiver's access, if any, ends at once.
SENDER_OPERATIONS = frozenset({"reopen", "withdraw"})
# Statuses in which the receiving organisation holds the access the referral's scope allows.
GRANTING = frozenset({S.ACCEPTED})
# Operations that need a written reason or comment.
NEEDS_REASON = frozenset({"decline", "return", "reopen", "withdraw"})


def next_status(operation: str, current: str) -> str | None:
    """The status after `operation`, or None when the operation is not allowed now."""
    return TRANSITIONS.get(operation, {}).get(current)


def allowed_operations(current: str) -> list[str]:
    return [op for op, moves in TRANSITIONS.items() if current in moves]
