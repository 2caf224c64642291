import sys

from django.core.management.base import BaseCommand, CommandError

from koto.core import context
from koto.core.csv_import import CsvFileError, ImportAborted, check_readable, read_csv, stopped_at
from koto.guidance.importing import check_header, import_contacts
from koto.organisations.selectors import organisation_by_code


class Command(BaseCommand):
    help = "Import guidance contacts from a CSV file (columns: docs/guidance.md)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--organisation", required=True, help="organisation code, e.g. 398")
        parser.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
        parser.add_argument("--atomic", action="store_true", help="store nothing if any row fails")
        parser.add_argument(
            "--source",
            default="",
            help="where the file comes from (e.g. the office): rows without external_id are "
            "told apart from identical rows of another source's files (docs/guidance.md)",
        )

    def handle(self, *args, file, organisation, dry_run, atomic, source, **options):
        org = organisation_by_code(organisation)
        if org is None:
            raise CommandError(f"--organisation: no organisation with code {organisation!r}")
        try:
            check_readable(file)
            header, rows = read_csv(file)
        except OSError as e:
            raise CommandError(f"FILE: cannot read {file}: {e.strerror}") from e
        except CsvFileError as e:
            raise CommandError(f"{e} Nothing was imported.") from e
        header_errors = check_header(header)
        if header_errors:
            for e in header_errors:
                self.stderr.write(f"row {e.row}: {e.field}: {e.message}")
            raise CommandError("The header is not valid; nothing was imported.")
        token = context.set_current(context.RequestMeta(channel="cli", from_command=True))
        try:
            result = import_contacts(
                rows=rows, organisation=org, dry_run=dry_run, atomic=atomic, source_name=file,
                source=source,
            )  # fmt: skip
        except ImportAborted as e:
            result = e.result
        except CsvFileError as e:
            raise CommandError(stopped_at(e, nothing_kept=atomic or dry_run)) from e
        finally:
            context.reset(token)
        for e in result.errors:
            self.stderr.write(f"row {e.row}: {e.field}: {e.message}")
        verb = "would create" if dry_run else "created"
        summary = (
            f"{result.rows} rows: {verb} {result.created}, already present "
            f"{result.skipped_existing}, failed {result.failed_rows}."
        )
        if atomic and result.errors:
            raise CommandError(f"{summary} --atomic: nothing was stored.")
        self.stdout.write(summary)
        if result.errors:
            sys.exit(1)
