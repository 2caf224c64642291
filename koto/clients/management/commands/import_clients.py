import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from koto.clients.importing import check_header, import_clients
from koto.core import context
from koto.core.csv_import import CsvFileError, ImportAborted, check_readable, read_csv, stopped_at
from koto.organisations.selectors import organisation_by_code


class Command(BaseCommand):
    help = "Import clients from a CSV file (columns: docs/import.md)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--organisation", required=True, help="code of the responsible organisation, e.g. 398"
        )
        parser.add_argument("--dry-run", action="store_true", help="validate only, write nothing")
        parser.add_argument("--atomic", action="store_true", help="store nothing if any row fails")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, file, organisation, dry_run, atomic, no_progress, **options):
        org = organisation_by_code(organisation)
        if org is None:
            raise CommandError(f"--organisation: no organisation with code {organisation!r}")
        try:
            total = check_readable(file)
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
        bar = tqdm(total=total, unit="row", disable=no_progress, file=sys.stderr)
        token = context.set_current(context.RequestMeta(channel="cli", from_command=True))
        try:
            result = import_clients(
                rows=rows,
                organisation=org,
                dry_run=dry_run,
                atomic=atomic,
                progress=bar.update,
                source_name=file,
            )
        except ImportAborted as e:
            result = e.result
        except CsvFileError as e:
            raise CommandError(stopped_at(e, nothing_kept=atomic or dry_run)) from e
        finally:
            bar.close()
            context.reset(token)
        for e in result.errors:
            self.stderr.write(f"row {e.row}: {e.field}: {e.message}")
        verb = "would create" if dry_run else "created"
        summary = (
            f"{result.rows} rows: {verb} {result.created}, already present {result.skipped_existing}, "
            f"failed {result.failed_rows}."
        )
        if atomic and result.errors:
            raise CommandError(f"{summary} --atomic: nothing was stored.")
        self.stdout.write(summary)
        if result.errors:
            sys.exit(1)
