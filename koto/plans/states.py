"""The one state machine of a plan: which status may follow which, and by which operation."""

from koto.plans.models import PlanStatus

TRANSITIONS: dict[str, dict[str, str]] = {
    # operation: {from status: to status}
    "activate": {PlanStatus.DRAFT: PlanStatus.ACTIVE},
    "end": {PlanStatus.ACTIVE: PlanStatus.ENDED},
    "cancel": {PlanStatus.DRAFT: PlanStatus.CANCELLED},
}
EDITABLE = {PlanStatus.DRAFT, PlanStatus.ACTIVE}


def next_status(operation: str, current: str) -> str | None:
    """The status after `operation`, or None when the operation is not allowed now."""
    return TRANSITIONS.get(operation, {}).get(current)
