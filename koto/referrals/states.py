"""The one state machine of a referral: which status may follow which, and by which operation.

sent → received (the receiving organisation opened it) → accepted | declined | returned;
accepted → completed | returned; declined, returned, completed → sent again by `reopen`.
"""

from koto.referrals.models import ReferralStatus as S

TRANSITIONS: dict[str, dict[str, str]] = {
    # operation: {from status: to status}
    "receive": {S.SENT: S.RECEIVED},
    "accept": {S.RECEIVED: S.ACCEPTED},
    "decline": {S.RECEIVED: S.DECLINED},
    "return": {S.RECEIVED: S.RETURNED, S.ACCEPTED: S.RETURNED},
    "complete": {S.ACCEPTED: S.COMPLETED},
    "reopen": {S.DECLINED: S.SENT, S.RETURNED: S.SENT, S.COMPLETED: S.SENT},
}
# Operations of the receiving side. For a recipient not on Koto the referring organisation
# records the recipient's answers itself.
RECEIVER_OPERATIONS = frozenset({"receive", "accept", "decline", "return", "complete"})
# Operations of the referring side: only the sender sends again. (The receiver reopening a
# closed referral and accepting it gave itself back the access the sender once chose.)
SENDER_OPERATIONS = frozenset({"reopen"})
# Statuses in which the receiving organisation holds the access the referral's scope allows.
GRANTING = frozenset({S.ACCEPTED})
# Operations that need a written reason or comment.
NEEDS_REASON = frozenset({"decline", "return", "reopen"})


def next_status(operation: str, current: str) -> str | None:
    """The status after `operation`, or None when the operation is not allowed now."""
    return TRANSITIONS.get(operation, {}).get(current)


def allowed_operations(current: str) -> list[str]:
    return [op for op, moves in TRANSITIONS.items() if current in moves]
