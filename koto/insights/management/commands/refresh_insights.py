from django.core.management.base import BaseCommand

from koto.core import context
from koto.insights.services import insights_refresh
from koto.insights.tasks import refresh_insights


class Command(BaseCommand):
    help = (
        "Bring the dashboard rollups up to date: the organisations changed since the last "
        "refresh (run every few minutes), or everything with --full (nightly)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="recompute every organisation")
        parser.add_argument(
            "--enqueue", action="store_true", help="queue it for the task worker (db_worker)"
        )

    def handle(self, *args, full, enqueue, **options):
        if enqueue:
            result = refresh_insights.enqueue(full=full)
            self.stdout.write(f"Queued the insights refresh {result.id}; db_worker runs it.")
            return
        token = context.set_current(context.RequestMeta(channel="task"))
        try:
            r = insights_refresh(full=full)
        finally:
            context.reset(token)
        if r["skipped"]:
            self.stdout.write(
                "Another refresh is running; this one did nothing."
                + (" The next refresh to start will be a full one." if full else "")
            )
            return
        if r.get("full_overdue"):
            self.stderr.write(
                f"Warning: {r['full_overdue']}; schedule `refresh_insights --full` nightly "
                "(docs/insights.md)."
            )
        self.stdout.write(
            f"{'Full' if r['full'] else 'Incremental'} refresh: {r['organisations']} "
            f"organisations, {r['aggregate_scopes']} aggregate scopes, {r['cells_written']} "
            f"cells in {r['seconds']} s."
        )
