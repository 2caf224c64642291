from django.core.management.base import BaseCommand

from koto.api.services import KEPT_FOR, keys_clear_expired


class Command(BaseCommand):
    help = (
        f"Delete the API's Idempotency-Key records older than {KEPT_FOR} (their stored "
        "answers hold personal data). Nightly from cron."
    )

    def handle(self, *args, **options):
        deleted = keys_clear_expired()
        self.stdout.write(f"Deleted {deleted} idempotency keys older than {KEPT_FOR}.")
