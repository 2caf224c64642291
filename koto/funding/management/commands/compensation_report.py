"""python manage.py compensation_report --year YYYY [--organisation CODE]
[--quarter Q | --month M] [--format json|csv|xlsx] [--detail] [--output FILE]"""

import json
import os

from django.core.management.base import BaseCommand, CommandError

from koto.audit.services import audit_record
from koto.core import context
from koto.core.errors import DomainError
from koto.core.spreadsheets import csv_writer, xlsx_row
from koto.funding.compensation import RECIPIENT_KINDS, DetailRow, Span, compensation_report
from koto.funding.management import arguments
from koto.organisations.models import Organisation


def _private(path: str) -> int:
    """A file descriptor of `path` for writing, readable by its owner only: made so, or an
    existing file made so before anything is written into it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return fd


# the columns of the `parameters_used` sheet, as `RateUsed.as_dict` names them
PARAMETER_COLUMNS = (
    "year", "recipient", "age_band", "annual_amount", "monthly_amount", "source", "confirmed",
    "origin",
)  # fmt: skip


class Command(BaseCommand):
    help = "Calculated compensation per municipality and welfare region for a year (or part)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=arguments.year, required=True, metavar="YYYY")
        parser.add_argument("--quarter", type=int, choices=[1, 2, 3, 4])
        parser.add_argument("--month", type=int, choices=range(1, 13), metavar="1-12")
        parser.add_argument("--organisation", help="code of a municipality or welfare region")
        parser.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
        parser.add_argument(
            "--detail", action="store_true", help="one row per person, month and recipient"
        )
        parser.add_argument("--output", help="file to write (default: standard output)")

    @context.run_by_hand
    def handle(self, *args, year, quarter, month, organisation, format, detail, output, **kw):
        if quarter and month:
            raise CommandError("give --quarter or --month, not both")
        if format == "xlsx" and not output:
            raise CommandError("--format xlsx: give --output FILE.xlsx (a workbook is not text)")
        org = None
        if organisation:
            org = Organisation.objects.filter(
                code=organisation,
                kind__in=RECIPIENT_KINDS,
            ).first()
            if org is None:
                raise CommandError(
                    f"--organisation: no municipality or welfare region {organisation!r}"
                )
        span = Span.of(year, quarter=quarter, month=month)
        if format == "xlsx":
            self._xlsx(span, org, detail, output)
            return
        # a file of identity codes (--detail): readable by its owner only, as the Koto-AJ export's
        out = (
            os.fdopen(_private(output), "w", newline="", encoding="utf-8")
            if output
            else self.stdout._out
        )
        try:
            self._run(span, org, format, detail, out)
        finally:
            if output:
                out.close()

    def _xlsx(self, span, org, detail, path):
        """A workbook (write-only, so the per-person sheet streams): the summary rows, the
        parameters used and, with --detail, one row per person, month and recipient."""
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        detail_sheet = wb.create_sheet("detail") if detail else None
        if detail_sheet is not None:
            detail_sheet.append(list(DetailRow.FIELDS))
        listed: set[int] = set()

        def sink(row: DetailRow) -> None:
            listed.add(row.client_id)
            detail_sheet.append(xlsx_row(detail_sheet, row.as_list()))

        try:
            report = compensation_report(
                span=span, organisation=org, detail=sink if detail_sheet is not None else None
            )
        except DomainError as e:
            raise CommandError(e.message) from e
        summary = wb.create_sheet("summary", 0)
        summary.append(["organisation", "name", "kind", "persons", "amount"])
        for row in report.rows:
            summary.append(
                xlsx_row(summary, [row.organisation, row.name, row.kind, row.persons, row.amount])
            )
        params = wb.create_sheet("parameters_used", 1)
        params.append(list(PARAMETER_COLUMNS))
        for r in report.parameters_used:
            # numbers as numbers, `confirmed` a boolean cell
            params.append(xlsx_row(params, [getattr(r, c) for c in PARAMETER_COLUMNS]))
        with os.fdopen(_private(path), "wb") as f:
            wb.save(f)  # readable by its owner only
        audit_record(
            actor=None, action="export", object_type="compensation_report",
            object_id=f"{span.first_index}-{span.last_index}",
            reason=f"compensation_report --format xlsx {org.code if org else 'all'}",
            listed=sorted(listed),  # the persons of the detail sheet, on their audit pages
        )  # fmt: skip

    def _run(self, span, org, fmt, detail, out):
        sink = None
        writer = None
        listed: set[int] = set()
        if detail:
            if fmt == "csv":
                writer = csv_writer(out, lineterminator="\n")
                writer.writerow(DetailRow.FIELDS)

                def sink(row: DetailRow) -> None:
                    listed.add(row.client_id)
                    writer.writerow(row.as_list())
            else:

                def sink(row: DetailRow) -> None:
                    listed.add(row.client_id)
                    out.write(json.dumps(row.as_dict()))
                    out.write("\n")

        try:
            report = compensation_report(span=span, organisation=org, detail=sink)
        except DomainError as e:
            raise CommandError(e.message) from e
        finally:
            if detail and listed:
                # every person whose identity code went out, on their audit page; also when
                # the run stopped half-way (the lines written so far are out)
                audit_record(
                    actor=None, action="export", object_type="compensation_report",
                    object_id=f"{span.first_index}-{span.last_index}",
                    reason=f"compensation_report --detail {org.code if org else 'all'}",
                    listed=sorted(listed),
                )  # fmt: skip
        data = report.as_dict()
        if fmt == "json":
            out.write(json.dumps(data, ensure_ascii=False, indent=None if detail else 2))
            out.write("\n")
        elif not detail:
            w = csv_writer(out, lineterminator="\n")
            w.writerow(["organisation", "name", "kind", "persons", "amount"])
            for row in report.rows:
                w.writerow([row.organisation, row.name, row.kind, row.persons, str(row.amount)])
        if report.unconfirmed:
            self.stderr.write(
                "WARNING: amounts not confirmed (no source entered) were used: "
                + ", ".join(
                    sorted(
                        {
                            f"{r.year} {r.recipient}"
                            for r in report.parameters_used
                            if not r.confirmed
                        }
                    )
                )
            )
