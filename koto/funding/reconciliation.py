"""Reconciling KEHA's payment statement with the calculated compensation.

The statement is a CSV file (columns in docs/funding.md): one row per person and month
paid. Two lists come out: person-months the organisation should have been paid for but
was not (claim them), and payments for person-months that are not eligible here."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from koto.core.errors import ValidationFailed
from koto.funding.compensation import DetailRow, Span, compensation_report
from koto.organisations.models import Organisation

COLUMNS = ("hetu", "municipality_code", "year", "month", "amount")
MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class PaidRow:
    hetu: str
    organisation_code: str
    year: int
    month: int
    amount: Decimal


@dataclass
class Item:
    hetu: str
    year: int
    month: int
    expected: Decimal
    paid: Decimal
    client_id: int | None = None

    @property
    def difference(self) -> Decimal:
        return self.expected - self.paid

    def as_dict(self) -> dict:
        return {
            "hetu": self.hetu,
            "client_id": self.client_id,
            "year": self.year,
            "month": self.month,
            "expected": str(self.expected),
            "paid": str(self.paid),
            "difference": str(self.difference),
        }


@dataclass
class Reconciliation:
    organisation: str
    year: int
    rows_read: int = 0
    rows_other_organisation: int = 0
    unpaid: list[Item] = field(default_factory=list)
    not_eligible: list[Item] = field(default_factory=list)
    amount_differs: list[Item] = field(default_factory=list)

    @property
    def unpaid_total(self) -> Decimal:
        return sum((i.difference for i in self.unpaid), Decimal("0.00"))

    def as_dict(self) -> dict:
        return {
            "organisation": self.organisation,
            "year": self.year,
            "rows_read": self.rows_read,
            "rows_other_organisation": self.rows_other_organisation,
            "unpaid": [i.as_dict() for i in self.unpaid],
            "not_eligible": [i.as_dict() for i in self.not_eligible],
            "amount_differs": [i.as_dict() for i in self.amount_differs],
        }


def _amount(text: str) -> Decimal:
    return Decimal(text.strip().replace("\u00a0", "").replace(" ", "").replace(",", "."))


def parse_statement(data: bytes) -> list[PaidRow]:
    """Rows of the statement; every problem is a ValidationFailed on field `file` naming the
    line. UTF-8 (with or without BOM), `;` or `,` separated, a header row."""
    if len(data) > MAX_BYTES:
        raise ValidationFailed({"file": _("The file is too large.")})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed({"file": _("The file is not UTF-8 text.")}) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValidationFailed(
            {"file": _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)}}
        )
    reader.fieldnames = header
    rows = []
    for n, raw in enumerate(reader, start=2):
        try:
            row = PaidRow(
                hetu=(raw["hetu"] or "").strip().upper(),
                organisation_code=(raw["municipality_code"] or "").strip(),
                year=int(raw["year"]),
                month=int(raw["month"]),
                amount=_amount(raw["amount"] or ""),
            )
            if not 1 <= row.month <= 12 or not row.hetu:
                raise ValueError
        except (ValueError, TypeError, InvalidOperation):
            raise ValidationFailed(
                {"file": _("Line %(line)s is not valid.") % {"line": n}}
            ) from None
        rows.append(row)
    return rows


def reconcile(*, organisation: Organisation, year: int, statement: list[PaidRow]) -> Reconciliation:
    codes = {organisation.code, organisation.municipality_code} - {""}
    result = Reconciliation(organisation=organisation.code, year=year)
    paid: dict[tuple[str, int, int], Decimal] = defaultdict(Decimal)
    for row in statement:
        result.rows_read += 1
        if row.organisation_code not in codes or row.year != year:
            result.rows_other_organisation += 1
            continue
        paid[(row.hetu, row.year, row.month)] += row.amount

    expected: dict[tuple[str, int, int], list] = {}

    def collect(d: DetailRow) -> None:
        key = (d.hetu.upper(), d.year, d.month)
        if key in expected:
            expected[key][0] += d.amount
        else:
            expected[key] = [d.amount, d.client_id]

    compensation_report(span=Span.of(year), organisation=organisation, detail=collect)
    for key, (amount, client_id) in sorted(expected.items()):
        got = paid.get(key)
        if got is None:
            result.unpaid.append(Item(key[0], key[1], key[2], amount, Decimal("0.00"), client_id))
        elif got != amount:
            result.amount_differs.append(Item(key[0], key[1], key[2], amount, got, client_id))
    for key, got in sorted(paid.items()):
        if key not in expected:
            result.not_eligible.append(Item(key[0], key[1], key[2], Decimal("0.00"), got))
    return result
