"""The one state machine of a placement: which status may follow which, and by which operation.

proposed → accepted | declined (reason) | cancelled;
accepted → housing_reserved (address, date) | supported_housing_requested | cancelled;
housing_reserved, supported_housing_requested → arrived (date: the people become clients)
| cancelled. A housing reservation may be replaced by a supported-housing request and back.
"""

from koto.placement.models import PlacementStatus as S

TRANSITIONS: dict[str, dict[str, str]] = {
    # operation: {from status: to status}
    "accept": {S.PROPOSED: S.ACCEPTED},
    "decline": {S.PROPOSED: S.DECLINED},
    "reserve_housing": {
        S.ACCEPTED: S.HOUSING_RESERVED,
        S.HOUSING_RESERVED: S.HOUSING_RESERVED,
        S.SUPPORTED_HOUSING_REQUESTED: S.HOUSING_RESERVED,
    },
    "request_supported_housing": {
        S.ACCEPTED: S.SUPPORTED_HOUSING_REQUESTED,
        S.HOUSING_RESERVED: S.SUPPORTED_HOUSING_REQUESTED,
    },
    "arrive": {S.HOUSING_RESERVED: S.ARRIVED, S.SUPPORTED_HOUSING_REQUESTED: S.ARRIVED},
    "cancel": {
        S.PROPOSED: S.CANCELLED,
        S.ACCEPTED: S.CANCELLED,
        S.HOUSING_RESERVED: S.CANCELLED,
        S.SUPPORTED_HOUSING_REQUESTED: S.CANCELLED,
    },
}
# Operations of the municipality (answering the proposal, housing, arrival); `cancel` belongs
# to the regional State authority that proposed the placement.
MUNICIPALITY_OPERATIONS = frozenset(
    {"accept", "decline", "reserve_housing", "request_supported_housing", "arrive"}
)
AUTHORITY_OPERATIONS = frozenset({"cancel"})
# Statuses whose people count against the agreed places (accepted but not yet arrived).
COMMITTED = frozenset({S.ACCEPTED, S.HOUSING_RESERVED, S.SUPPORTED_HOUSING_REQUESTED})
OPEN = frozenset({S.PROPOSED, *COMMITTED})


def next_status(operation: str, current: str) -> str | None:
    """The status after `operation`, or None when the operation is not allowed now."""
    return TRANSITIONS.get(operation, {}).get(current)


def allowed_operations(current: str) -> list[str]:
    return [op for op, moves in TRANSITIONS.items() if current in moves]
