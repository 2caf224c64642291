"""Reconciling KEHA's payment statement with the calculated compensation.

The statement is a CSV file (columns in docs/funding.md): one row per person and month
paid. The months compared are those up to the latest month of the year on the statement
(without any row of the year: up to the current month). Out come person-months the
organisation should have been paid for but was not (claim them), payments for
person-months that are not eligible here, payments of another amount, and the expected
months after those compared (not yet due: neither unpaid nor in the total to claim)."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from stdnum.fi import hetu as hetu_lib

from koto.core import clock
from koto.core.errors import ValidationFailed, read_upload
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


# Up to which month a reconciliation compares (`Reconciliation.compared_until_basis`)
UNTIL_STATEMENT = "statement"  # the latest month of the year on the statement
UNTIL_TODAY = "today"  # no row of the year on the statement: the current month


def _sum(values) -> Decimal:
    return sum(values, Decimal("0.00"))


@dataclass
class Reconciliation:
    organisation: str
    year: int
    rows_read: int = 0
    rows_other_organisation: int = 0
    # months 1 … compared_until of the year are compared (0: none is due yet)
    compared_until: int = 12
    compared_until_basis: str = UNTIL_STATEMENT
    unpaid: list[Item] = field(default_factory=list)
    not_eligible: list[Item] = field(default_factory=list)
    amount_differs: list[Item] = field(default_factory=list)
    # expected for months after `compared_until`: not on the statement yet, not claimed
    not_yet_due: list[Item] = field(default_factory=list)

    def client_ids(self) -> list[int]:
        """The clients the result names (by identity code): its audit record lists them."""
        items = (*self.unpaid, *self.not_eligible, *self.amount_differs, *self.not_yet_due)
        return [i.client_id for i in items if i.client_id is not None]

    @property
    def unpaid_total(self) -> Decimal:
        """Expected for the months compared and not paid at all."""
        return _sum(i.difference for i in self.unpaid)

    @property
    def underpaid_total(self) -> Decimal:
        """Paid less than expected: the shortfalls of "amount differs"."""
        return _sum(i.difference for i in self.amount_differs if i.difference > 0)

    @property
    def overpaid_total(self) -> Decimal:
        """Paid more than expected for months that are expected (not claimed; to check)."""
        return _sum(-i.difference for i in self.amount_differs if i.difference < 0)

    @property
    def not_eligible_total(self) -> Decimal:
        """Paid for persons or months not expected here (recoveries included)."""
        return _sum(i.paid for i in self.not_eligible)

    @property
    def not_yet_due_total(self) -> Decimal:
        return _sum(i.expected for i in self.not_yet_due)

    @property
    def claim_total(self) -> Decimal:
        """To claim: the months not paid and the amounts paid short."""
        return self.unpaid_total + self.underpaid_total

    def as_dict(self) -> dict:
        return {
            "organisation": self.organisation,
            "year": self.year,
            "rows_read": self.rows_read,
            "rows_other_organisation": self.rows_other_organisation,
            "compared_until_month": self.compared_until,
            "compared_until_basis": self.compared_until_basis,
            "unpaid": [i.as_dict() for i in self.unpaid],
            "not_eligible": [i.as_dict() for i in self.not_eligible],
            "amount_differs": [i.as_dict() for i in self.amount_differs],
            "not_yet_due": [i.as_dict() for i in self.not_yet_due],
            "claim_total": str(self.claim_total),
            "unpaid_total": str(self.unpaid_total),
            "underpaid_total": str(self.underpaid_total),
            "overpaid_total": str(self.overpaid_total),
            "not_eligible_total": str(self.not_eligible_total),
            "not_yet_due_total": str(self.not_yet_due_total),
        }


# An amount on the statement: finite, two decimals at most, below ten thousand million
# (a payment, or a recovery written as a negative amount).
MAX_AMOUNT = Decimal("10000000000")
CENT = Decimal("0.01")
FIRST_YEAR, LAST_YEAR = 2000, 2100
LINE_END = re.compile(r"\r\n|\r|\n")
TEMPORARY_ID = re.compile(r"TMP-[A-Z0-9]{1,40}\Z")  # Koto's own, for a person with no code
ORGANISATION_CODE = re.compile(
    r"[A-Za-z0-9-]{1,60}\Z"
)  # as long as Organisation.code  # "398", "hva-07"


def _amount(text: str) -> Decimal:
    value = Decimal(text.strip().replace("\u00a0", "").replace(" ", "").replace(",", "."))
    if not value.is_finite() or abs(value) >= MAX_AMOUNT or value != value.quantize(CENT):
        raise ValueError
    return value


def _number(text: str, low: int, high: int) -> int:
    """An integer written in ASCII digits (int() also reads other scripts' digits)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 4) or not low <= int(text) <= high:
        raise ValueError
    return int(text)


def _row(raw: dict) -> PaidRow:
    """One row, or ValueError naming the first column that is wrong."""
    hetu = (raw["hetu"] or "").strip().upper()
    if not (hetu_lib.is_valid(hetu) or TEMPORARY_ID.match(hetu)):
        raise ValueError("hetu")
    code = (raw["municipality_code"] or "").strip()
    if not ORGANISATION_CODE.match(code):
        raise ValueError("municipality_code")
    values = {}
    for column, read in (
        ("year", lambda t: _number(t, FIRST_YEAR, LAST_YEAR)),
        ("month", lambda t: _number(t, 1, 12)),
        ("amount", _amount),
    ):
        try:
            values[column] = read(raw[column] or "")
        except (ValueError, InvalidOperation):
            raise ValueError(column) from None
    return PaidRow(hetu=hetu, organisation_code=code, **values)


def _line_error(line: int, column: str | None = None) -> ValidationFailed:
    if column is None:
        message = _("Line %(line)s is not valid.") % {"line": line}
    else:
        message = _("Line %(line)s: the value in column %(column)s is not valid.") % {
            "line": line,
            "column": column,
        }
    return ValidationFailed({"file": message})


def read_statement(upload) -> bytes:
    return read_upload(upload, MAX_BYTES, _("The file is too large."))


def parse_statement(data: bytes) -> list[PaidRow]:
    """Rows of the statement; every problem is a ValidationFailed on field `file` naming the
    line (and the column). UTF-8 (with or without BOM), `;` or `,` separated, a header row,
    any line ends (CR LF, LF, or CR alone as older spreadsheet programs on a Mac write)."""
    if len(data) > MAX_BYTES:
        raise ValidationFailed({"file": _("The file is too large.")})
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed({"file": _("The file is not UTF-8 text.")}) from None
    lines = LINE_END.split(text)  # not str.splitlines(): it also splits at \x0b, \x1c, U+2028…
    first = lines[0] if lines else ""
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter=delimiter, restkey="_extra")
    rows = []
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ValidationFailed(
                {"file": _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)}}
            )
        twice = sorted({c for c in COLUMNS if header.count(c) > 1})  # others are ignored
        if twice:
            raise ValidationFailed(
                {"file": _("Columns given twice: %(columns)s.") % {"columns": ", ".join(twice)}}
            )
        reader.fieldnames = header
        for raw in reader:
            line = reader.line_num
            if any((v or "").strip() for v in raw.get("_extra") or ()):
                raise _line_error(line)  # more fields than the header names
            try:
                rows.append(_row(raw))
            except (ValueError, TypeError) as e:
                raise _line_error(line, e.args[0] if e.args else None) from None
    except csv.Error:  # a field over csv's size limit, a quote left open: in the line after
        raise _line_error(reader.line_num + 1) from None  # the last one read whole
    return rows


def compared_until(year: int, statement: list[PaidRow]) -> tuple[int, str]:
    """The last month of `year` a statement can be held against, and why: the latest month
    of the year on it (of any organisation: a national statement shows how far KEHA has
    paid), so months KEHA has not paid anybody for yet are not listed as unpaid; without
    any row of the year, the current month (every month of a past year; none of a year
    to come)."""
    months = [row.month for row in statement if row.year == year]
    if months:
        return max(months), UNTIL_STATEMENT
    today = clock.today()
    if year < today.year:
        return 12, UNTIL_TODAY
    if year > today.year:
        return 0, UNTIL_TODAY
    return today.month, UNTIL_TODAY


def reconcile(*, organisation: Organisation, year: int, statement: list[PaidRow]) -> Reconciliation:
    codes = {organisation.code, organisation.municipality_code} - {""}
    until, basis = compared_until(year, statement)
    result = Reconciliation(
        organisation=organisation.code, year=year, compared_until=until,
        compared_until_basis=basis,
    )  # fmt: skip
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
        if got is None and key[2] > until:
            # after the months compared (the statement's latest, else the current one)
            result.not_yet_due.append(
                Item(key[0], key[1], key[2], amount, Decimal("0.00"), client_id)
            )
        elif got is None:
            result.unpaid.append(Item(key[0], key[1], key[2], amount, Decimal("0.00"), client_id))
        elif got != amount:
            result.amount_differs.append(Item(key[0], key[1], key[2], amount, got, client_id))
    for key, got in sorted(paid.items()):
        if key not in expected:
            result.not_eligible.append(Item(key[0], key[1], key[2], Decimal("0.00"), got))
    return result
