import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from koto.core import clock, context
from koto.organisations.selectors import organisation_by_code
from koto.plans.kotoaj import KotoAjExportError, default_out_dir, export_kotoaj


class Command(BaseCommand):
    help = (
        "Export a municipality's assessments and integration plans for Koto-AJ (not those "
        "begun while the client was a jobseeker) as JSON Lines plus a manifest "
        "(docs/kotoaj-mapping.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--organisation",
            required=True,
            help="code of the municipality whose records to export, e.g. 398",
        )
        parser.add_argument(
            "--since",
            required=True,
            help="YYYY-MM-DD: records created or updated on or after this day (Helsinki time)",
        )
        parser.add_argument(
            "--out", help="output directory (default var/exports/kotoaj-<code>-<timestamp>/)"
        )

    def handle(self, *args, organisation, since, out, **options):
        try:
            since_on = dt.date.fromisoformat(since)
        except ValueError:
            raise CommandError(f"--since: enter a date as YYYY-MM-DD, not {since!r}") from None
        if since_on > clock.today():
            raise CommandError(f"--since: {since_on} is in the future")
        org = organisation_by_code(organisation)
        if org is None:
            raise CommandError(f"--organisation: no organisation with code {organisation!r}")
        out_dir = Path(out) if out else default_out_dir(org)
        token = context.set_current(context.RequestMeta(channel="cli", from_command=True))
        try:
            manifest = export_kotoaj(organisation=org, since=since_on, out_dir=out_dir)
        except KotoAjExportError as e:
            raise CommandError(f"{e.option}: {e.message}") from None
        finally:
            context.reset(token)
        files, skipped = manifest["files"], manifest["skipped_jobseekers"]
        self.stdout.write(
            f"Wrote {out_dir}: {files['assessments.jsonl']['records']} assessments, "
            f"{files['plans.jsonl']['records']} plans; skipped jobseekers' "
            f"{skipped['assessments']} assessments and {skipped['plans']} plans "
            f"({skipped['clients']} clients)."
        )
        if manifest["labels_missing_fi"]:
            self.stderr.write(
                f"Warning: {len(manifest['labels_missing_fi'])} coded values have no Finnish "
                "label in koto/locale/fi yet, so label_fi holds the English source text "
                "(listed in the manifest as labels_missing_fi)."
            )
