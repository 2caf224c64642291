"""python manage.py reconcile_keha FILE --organisation CODE --year YYYY [--format json|csv]"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from koto.audit.services import audit_record
from koto.core import context
from koto.core.errors import DomainError
from koto.core.spreadsheets import csv_writer
from koto.funding.management import arguments
from koto.funding.reconciliation import parse_statement, reconcile
from koto.organisations.models import Organisation


class Command(BaseCommand):
    help = "Compare KEHA's payment statement (CSV) with the calculated compensation."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--organisation", required=True)
        parser.add_argument("--year", type=arguments.year, required=True, metavar="YYYY")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    @context.run_by_hand
    def handle(self, *args, file, organisation, year, format, **kw):
        org = Organisation.objects.filter(code=organisation).first()
        if org is None:
            raise CommandError(f"--organisation: no organisation {organisation!r}")
        try:
            statement = parse_statement(Path(file).read_bytes())
            result = reconcile(organisation=org, year=year, statement=statement)
        except OSError as e:
            raise CommandError(f"{file}: {e.strerror}") from e
        except DomainError as e:
            raise CommandError("; ".join([e.message, *sum(e.fields.values(), [])])) from e
        audit_record(
            actor=None, action="export", object_type="keha_reconciliation",
            object_id=f"{org.code}-{year}", reason="reconcile_keha",
            listed=result.client_ids(),  # on each client's audit page, as the page's export
        )  # fmt: skip
        if format == "json":
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
            return
        w = csv_writer(self.stdout._out, lineterminator="\n")
        w.writerow(["list", "hetu", "client_id", "year", "month", "expected", "paid", "difference"])
        for name, items in (
            ("unpaid", result.unpaid),
            ("not_eligible", result.not_eligible),
            ("amount_differs", result.amount_differs),
            ("not_yet_due", result.not_yet_due),
        ):
            for i in items:
                d = i.as_dict()
                w.writerow([name, d["hetu"], d["client_id"] or "", d["year"], d["month"],
                            d["expected"], d["paid"], d["difference"]])  # fmt: skip
