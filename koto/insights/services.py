"""Writes of the insights app: the rollup refresh (run by the task worker) and the audit
record of an export. Dashboards themselves hold no personal data."""

import logging

from koto.audit.services import audit_record
from koto.core import clock
from koto.insights import rollups
from koto.insights.models import RefreshState

logger = logging.getLogger(__name__)


def insights_refresh(*, actor=None, full: bool = False) -> dict:
    """Bring the rollups up to date (see `rollups.refresh`) and audit that it ran."""
    result = rollups.refresh(full=full)
    if result["skipped"]:
        return result
    audit_record(
        actor=actor,
        action="update",
        object_type="insights_rollups",
        object_id="full" if result["full"] else "incremental",
        changes={k: result[k] for k in ("organisations", "aggregate_scopes", "cells_written")},
    )
    state = RefreshState.get()
    if state.full_overdue(clock.now()):
        if state.full_refreshed_at is None:
            overdue = "no full refresh has run yet"
        else:
            at = state.full_refreshed_at.astimezone(clock.HELSINKI)
            overdue = f"the last full refresh was at {at:%Y-%m-%d %H:%M} (Helsinki)"
        result["full_overdue"] = overdue
        logger.warning(
            "Dashboard rollups: %s; schedule `refresh_insights --full` nightly.", overdue
        )
    return result


def dashboard_exported(
    *, actor, scope_code: str, filters: dict, file_format: str, what: str = "dashboard"
) -> None:
    """A dashboard (`what`: or the impact evaluation) left Koto as a file: statistics, not
    personal data, but exports are logged."""
    audit_record(
        actor=actor,
        action="export",
        object_type=f"insights_{what}",
        object_id=scope_code,
        changes={**filters, "format": file_format},
    )
