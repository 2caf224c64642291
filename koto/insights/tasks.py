"""Background work of the insights app (worker: `manage.py db_worker`)."""

from django.tasks import task

from koto.insights.services import insights_refresh


@task
def refresh_insights(full: bool = False) -> dict:
    """Rebuild the dashboard rollups: incremental every few minutes from cron
    (`manage.py refresh_insights --enqueue`), full nightly (`--full`)."""
    return insights_refresh(full=full)
