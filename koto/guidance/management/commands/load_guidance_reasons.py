from django.core.management.base import BaseCommand

from koto.guidance.services import reasons_seed


class Command(BaseCommand):
    help = "Create the default guidance reason codes that are missing (safe to run again)."

    def handle(self, *args, **options):
        created = reasons_seed()
        self.stdout.write(f"created {created} reason codes.")
