from django.core.management.base import BaseCommand, CommandError

from koto.audit.verification import verify_chain


class Command(BaseCommand):
    help = "Verify the hash chains (lanes) of the audit trail and report the first broken link."

    def handle(self, *args, **options):
        report = verify_chain()
        if report.ok:
            self.stdout.write(f"OK: {report.checked} audit events, chain intact in every lane.")
            return
        raise CommandError(
            f"BROKEN at audit event {report.broken_at}: {report.problem} "
            f"({report.checked} events verified before it)."
        )
