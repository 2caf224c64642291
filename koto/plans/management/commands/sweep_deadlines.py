from django.core.management.base import BaseCommand

from koto.core import context
from koto.plans.services import deadlines_sweep
from koto.plans.tasks import sweep_deadlines


class Command(BaseCommand):
    help = "Recompute deadline tasks for every client with open casework (run nightly)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue", action="store_true", help="queue it for the task worker (db_worker)"
        )

    def handle(self, *args, enqueue, **options):
        if enqueue:
            result = sweep_deadlines.enqueue()
            self.stdout.write(f"Queued deadline sweep {result.id}; `manage.py db_worker` runs it.")
            return
        token = context.set_current(context.RequestMeta(channel="task"))
        try:
            r = deadlines_sweep()
        finally:
            context.reset(token)
        self.stdout.write(f"Swept {r['clients']} clients: {r['open_tasks']} open deadline tasks.")
        if r.get("failed"):
            self.stderr.write(f"{r['failed']} clients could not be swept; see the log.")
