import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from koto.core import context
from koto.core.spreadsheets import csv_writer
from koto.guidance.selectors import report_compute
from koto.guidance.services import report_exported
from koto.organisations.selectors import organisation_by_code


def _date(name: str, raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as e:
        raise CommandError(f"{name}: enter a date as YYYY-MM-DD, not {raw!r}") from e


class Command(BaseCommand):
    help = (
        "Print an organisation's guidance contacts and partner contacts counted by reason, "
        "channel, language and month (the same numbers as the report page)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organisation", required=True, help="organisation code, e.g. 398")
        parser.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args, organisation, date_from, date_to, format, **options):
        org = organisation_by_code(organisation)
        if org is None:
            raise CommandError(f"--organisation: no organisation with code {organisation!r}")
        start, end = _date("--from", date_from), _date("--to", date_to)
        if start > end:
            raise CommandError("--to: the end cannot be before the start")
        report = report_compute(organisation_id=org.id, date_from=start, date_to=end)
        token = context.set_current(context.RequestMeta(channel="cli", from_command=True))
        try:
            report_exported(actor=None, report=report, file_format=format)
        finally:
            context.reset(token)
        if format == "csv":
            csv_writer(self.stdout, lineterminator="\n").writerows(report.csv_rows())
        else:
            data = {"organisation": org.code, **report.as_dict()}
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
