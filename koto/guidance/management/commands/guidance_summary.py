from django.core.management.base import BaseCommand, CommandError

from koto.guidance import summary
from koto.organisations.selectors import organisation_by_code


class Command(BaseCommand):
    help = (
        "Check the guidance report's day counts against a recount from the contacts "
        "(the default), or recount them (--rebuild). Exits with an error when they differ."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--organisation", action="append", default=[],
            help="organisation code, e.g. 398 (repeatable; all organisations by default)",
        )  # fmt: skip
        parser.add_argument("--rebuild", action="store_true", help="recount the day rows")

    def handle(self, *args, organisation, rebuild, **options):
        ids = None
        if organisation:
            ids = []
            for code in organisation:
                org = organisation_by_code(code)
                if org is None:
                    raise CommandError(f"--organisation: no organisation with code {code!r}")
                ids.append(org.id)
        if rebuild:
            written = summary.rebuild(ids)
            self.stdout.write(
                "Recounted: " + ", ".join(f"{n} {table} rows" for table, n in written.items()) + "."
            )
            return
        problems = summary.differences(ids)
        if problems:
            raise CommandError(
                "The day counts differ from the contacts (run with --rebuild to recount):\n"
                + "\n".join(problems)
            )
        self.stdout.write("The day counts match the contacts.")
