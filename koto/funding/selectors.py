"""Reads of State compensation, already limited to what the viewer may see."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, replace
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from koto.audit.services import audit_record
from koto.core import clock
from koto.core.errors import DomainError, NotFound
from koto.core.pagination import DEFAULT_LIMIT, Page, keyset_page
from koto.core.roles import Perm
from koto.core.spreadsheets import csv_writer
from koto.funding import permissions
from koto.funding.calculations import WELFARE_REGION
from koto.funding.compensation import (
    RECIPIENT_KINDS,
    MonthTotal,
    RateUsed,
    Report,
    ReportRow,
    Span,
    compensation_report,
    localised_name,
    organisation_keys,
    persons_without_residence,
    rates_for_year,
    rates_key,
)
from koto.funding.models import (
    Claim,
    ClaimAttachment,
    ClaimStatus,
    ExpectedMonth,
    ExpectedPeriod,
)
from koto.organisations.models import NATIONAL_KINDS, Organisation, OrganisationKind


def claim_list_for(*, user) -> QuerySet[Claim]:
    m = getattr(user, "active_membership", None)
    if m is None or not user.is_authenticated:
        return Claim.objects.none()
    q = Q(pk__in=[])
    if m.has_perm(Perm.FUNDING_MANAGE):
        q |= Q(organisation_id=m.organisation_id)
    if m.has_perm(Perm.FUNDING_DECIDE):
        q |= Q(authority_id=m.organisation_id) & ~Q(status=ClaimStatus.DRAFT)
    return (
        Claim.objects.filter(q)
        .select_related("organisation", "authority")
        .annotate(claimed=Sum("lines__amount"))
        .order_by("-period_start", "-id")
    )


CLAIM_ORDER = ("-period_start", "-id")


def claim_page_for(*, user, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> Page[Claim]:
    """The claims `claim_list_for` shows, latest period first, keyset by (period start, id):
    one query, the claimed sum included."""
    return keyset_page(claim_list_for(user=user), order=CLAIM_ORDER, cursor=cursor, limit=limit)


def claim_get_for(*, user, claim_id: int) -> Claim:
    claim = (
        Claim.objects.select_related("organisation", "authority", "decided_by")
        .filter(pk=claim_id)
        .first()
    )
    if claim is None or not permissions.can_view_claim(user, claim):
        raise NotFound("claim")
    return claim


def claim_lines(claim: Claim):
    return claim.lines.select_related("client").order_by("occurred_on", "id")


def claim_lines_for(*, user, claim: Claim) -> list:
    """The claim's cost lines as shown (`claim` from `claim_get_for`); lines may name
    clients (interpreting for a client, a client's care), so the read is audited with them
    (`listed`: each client's audit trail shows it)."""
    lines = list(claim_lines(claim))
    clients = [ln.client_id for ln in lines if ln.client_id is not None]
    if clients:
        audit_record(
            actor=user, action="read", object_type="funding_claim", object_id=claim.id,
            listed=clients,
        )  # fmt: skip
    return lines


def claim_attachments(claim: Claim):
    return claim.attachments.defer("data").order_by("id")


def claim_attachment_get_for(*, user, claim_id: int, attachment_id: int) -> ClaimAttachment:
    claim = claim_get_for(user=user, claim_id=claim_id)
    att = ClaimAttachment.objects.filter(claim=claim, pk=attachment_id).first()
    if att is None:
        raise NotFound("attachment")
    audit_record(
        actor=user, action="read", object_type="funding_claim_attachment", object_id=att.id,
        listed=claim.lines.exclude(client=None).values_list("client_id", flat=True),
    )  # fmt: skip
    return att


EXPORT_COLUMNS = (
    "claim_id", "section", "claimant_code", "claimant_name", "authority_code", "period_start",
    "period_end", "line", "date", "description", "amount", "hetu",
)  # fmt: skip


def claim_export_csv(*, user, claim: Claim) -> str:
    """The claim for the regional e-service: one row per cost line (`;`-separated, UTF-8,
    decimal point). Reading it is audited: lines may name clients."""
    out = io.StringIO()
    writer = csv_writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    lines = list(claim_lines(claim))
    for n, line in enumerate(lines, start=1):
        writer.writerow(
            [
                claim.id, claim.section, claim.organisation.code, claim.organisation.name_fi,
                claim.authority.code, claim.period_start.isoformat(),
                claim.period_end.isoformat(), n,
                line.occurred_on.isoformat() if line.occurred_on else "", line.description,
                # the identity code, else the temporary id (as the report's --detail)
                str(line.amount), line.client.identifier if line.client else "",
            ]
        )  # fmt: skip
    audit_record(
        actor=user, action="export", object_type="funding_claim", object_id=claim.id,
        listed=[ln.client_id for ln in lines],
    )  # fmt: skip
    return out.getvalue()


def expected_compensation_for(*, user, year: int) -> Report:
    """This year's expected compensation per month for the viewer's organisation."""
    if not permissions.can_manage_funding(user):
        raise NotFound("funding")
    org = user.active_membership.organisation
    return compensation_report(span=Span.of(year), organisation=org, per_month=True)


@dataclass(frozen=True)
class StoredExpected:
    """This year's expected compensation per month as the last rollup refresh stored it."""

    year: int
    months: list[MonthTotal]
    computed_at: dt.datetime
    parameters_used: list[RateUsed]

    @property
    def unconfirmed(self) -> bool:
        return any(not r.confirmed for r in self.parameters_used)

    @property
    def total(self) -> Decimal:
        return sum((m.amount for m in self.months), Decimal("0.00"))


# The nightly full refresh rewrites every organisation's months; older ones mean it has
# stopped running, and the page then computes live rather than show a stale "as of".
STORED_MAX_AGE = dt.timedelta(hours=26)


def _fresh(rows, year: int, used: list[RateUsed]) -> bool:
    """Stored rows (`ExpectedMonth`, `ExpectedPeriod`) may be shown as current: written
    within a day, with today's amounts and rules and paying municipalities."""
    if not rows:
        return False
    if clock.now() - min(r.computed_at for r in rows) > STORED_MAX_AGE:
        return False  # the refresh has not run for a day: do not show old figures as current
    key = rates_key(year, used)
    org_keys = organisation_keys(sorted({r.organisation_id for r in rows}))
    return all(
        r.rates_key == key and r.organisation_key == org_keys[r.organisation_id] for r in rows
    )


def stored_expected_for(*, user, year: int) -> StoredExpected | None:
    """The viewer's organisation's stored months of `year`, or None when there are none,
    they are incomplete, older than a day, or computed with other amounts, rules or paying
    municipalities than today's (then the caller computes them live:
    `expected_compensation_for`)."""
    if not permissions.can_manage_funding(user):
        raise NotFound("funding")
    org_id = user.active_membership.organisation_id
    rows = list(ExpectedMonth.objects.filter(organisation_id=org_id, year=year).order_by("month"))
    if [r.month for r in rows] != list(range(1, 13)):
        return None
    _table, used = rates_for_year(year)
    if not _fresh(rows, year, used):
        return None
    return StoredExpected(
        year=year,
        months=[MonthTotal(year, r.month, r.persons, r.amount) for r in rows],
        computed_at=min(r.computed_at for r in rows),
        parameters_used=used,
    )


def stored_years_stale(years) -> bool:
    """Whether the stored figures of any of `years` (those with known amounts) are no
    longer what a refresh would write: a municipality or welfare region added or removed,
    another amount or rule, other paying municipalities (a programme switched on or off).
    An incremental refresh recomputes only organisations with changed rows and would leave
    them stale until the nightly full one (`koto.insights.rollups`)."""
    current = set(
        Organisation.objects.filter(kind__in=RECIPIENT_KINDS).values_list("id", flat=True)
    )
    org_keys = organisation_keys(sorted(current))
    for year in years:
        try:
            _table, used = rates_for_year(year)
        except DomainError:
            continue  # no amounts known: nothing is stored for the year
        key = rates_key(year, used)
        rows = list(
            ExpectedPeriod.objects.filter(year=year, quarter=0).values_list(
                "organisation_id", "rates_key", "organisation_key"
            )
        )
        if {oid for oid, _r, _o in rows} != current:
            return True
        if any(r != key or o != org_keys[oid] for oid, r, o in rows):
            return True
    return False


def _stored_part(span: Span) -> tuple[int, int, int | None] | None:
    """(year, quarter 0–4, month or None) of a span the store holds: a whole year, one of
    its quarters or one month; None for any other span."""
    first, last = span.first_index, span.last_index
    year, offset = divmod(first, 12)
    if last == first:
        return year, offset // 3 + 1, offset + 1
    if offset % 3 == 0 and last == first + 2:
        return year, offset // 3 + 1, None
    if offset == 0 and last == first + 11:
        return year, 0, None
    return None


def _stored_report(span: Span, organisation: Organisation | None) -> Report | None:
    """The report of `span` from the rollup refresh's store, for one organisation (with
    its months) or every one; None when the store cannot answer it as computed now."""
    part = _stored_part(span)
    if part is None:
        return None
    year, quarter, month = part
    _table, used = rates_for_year(year)
    periods = ExpectedPeriod.objects.filter(year=year)
    if organisation is not None:
        periods = periods.filter(organisation=organisation)
        months = list(
            ExpectedMonth.objects.filter(organisation=organisation, year=year).order_by("month")
        )
        if [m.month for m in months] != list(range(1, 13)):
            return None
        periods = list(periods.order_by("quarter"))
        if [p.quarter for p in periods] != [0, 1, 2, 3, 4]:
            return None
        if len({r.computed_at for r in months + periods}) != 1:
            return None  # read between two refreshes' writes: not one computation
        of_part = [p for p in periods if p.quarter == (0 if month else quarter)]
    else:
        months = list(ExpectedMonth.objects.filter(year=year, month=month)) if month else []
        of_part = list(periods.filter(quarter=0 if month else quarter))
        # every municipality and welfare region is stored (zeros when paid nothing): one
        # missing, or one more, was added or removed since the last full refresh
        if {p.organisation_id for p in of_part} != set(
            Organisation.objects.filter(kind__in=RECIPIENT_KINDS).values_list("id", flat=True)
        ):
            return None
        if month and {m.organisation_id for m in months} != {p.organisation_id for p in of_part}:
            return None
    if not _fresh(of_part + months, year, used):
        return None
    names = {
        oid: (code, localised_name(fi, sv, en))
        for oid, code, fi, sv, en in Organisation.objects.filter(
            id__in=[p.organisation_id for p in of_part]
        ).values_list("id", "code", "name_fi", "name_sv", "name_en")
    }
    by_month = {m.organisation_id: m for m in months if m.month == month}
    rows = []
    for p in of_part:
        persons, amount = p.persons, p.amount
        if month:
            m = by_month.get(p.organisation_id)
            persons, amount = (m.persons, m.amount) if m else (0, Decimal("0.00"))
        if organisation is None and not persons and not amount:
            continue  # as computed now: an organisation paid nothing in the span has no row
        rows.append(
            ReportRow(p.organisation_id, *names[p.organisation_id], p.kind, persons, amount)
        )
    rows.sort(key=lambda r: (r.organisation, r.kind))
    report = Report(
        span=span, parameters_used=used, rows=rows, computed_at=min(r.computed_at for r in of_part)
    )
    if organisation is not None:
        report.months[organisation.id] = [
            MonthTotal(year, m.month, m.persons, m.amount)
            for m in months
            if span.first_index <= year * 12 + m.month - 1 <= span.last_index
        ]
    else:
        report.persons_without_residence = persons_without_residence(span)
    return report


def compensation_for(*, user, span: Span, live: bool = False) -> Report:
    """The compensation report of `span` for the viewer's organisation (a municipality or
    welfare region, with its months) or, for the State's authorities (`NATIONAL_KINDS`),
    of every one; NotFound for anyone else. Read from the rollup refresh's store when it
    holds the span as it would be computed now (`Report.computed_at` says when), else, or
    when asked (`live`), computed from the client records (at a million clients 0.4 s for
    Lahti, 1.6 s for Helsinki, 3 s for the State's view). Raises DomainError when no
    amounts are known for a year of the span."""
    if not permissions.can_view_compensation_report(user):
        raise NotFound("funding")
    viewer = user.active_membership.organisation
    org = None if viewer.kind in NATIONAL_KINDS else viewer
    report = None if live else _stored_report(span, org)
    if report is None:
        report = compensation_report(span=span, organisation=org, per_month=org is not None)
    if org is None and viewer.kind != OrganisationKind.KEHA:
        _hide_small_counts(report)
    return report


SMALL = "<5"
HIDDEN_TOTAL = ".."


def _hide_small_counts(report: Report) -> None:
    """The State's view for a regional State authority, which does not pay: persons from 1
    to 4 shown as "<5", as on the dashboards outside the viewer's own organisation
    (`docs/insights.md`); a welfare region's persons as ".." where they would give one
    away: one of its municipalities' is hidden, or the region's less its municipalities'
    rows (the residents of those without an integration programme have none) is 1 to 4.
    A row's amount is hidden ("..") with its persons: it is the persons times the monthly
    sums listed beside it, as the dashboards hide a month's calculated compensation. KEHA,
    which pays each person, sees them all."""
    region_of = dict(
        Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY)
        .exclude(welfare_region=None)
        .values_list("id", "welfare_region_id")
    )
    shown: dict[int, int] = {}
    hidden_in: set[int] = set()
    for r in report.rows:
        region = region_of.get(r.organisation_id)
        if region is None:
            continue
        shown[region] = shown.get(region, 0) + r.persons
        if 0 < r.persons < 5:
            hidden_in.add(region)
    rows = []
    for r in report.rows:
        persons: int | str = r.persons
        if r.kind == WELFARE_REGION:
            rest = r.persons - shown.get(r.organisation_id, 0)
            if r.organisation_id in hidden_in or 0 < rest < 5:
                persons = HIDDEN_TOTAL
        if isinstance(persons, int) and 0 < persons < 5:
            persons = SMALL
        # the amount is the persons times the monthly sums in the table below it (326 € a
        # month is two aged seven or over): hidden with them
        amount = r.amount if isinstance(persons, int) else HIDDEN_TOTAL
        rows.append(replace(r, persons=persons, amount=amount))
    report.rows = rows
    report.small_counts_hidden = True
    if 0 < report.persons_without_residence < 5:
        report.persons_without_residence = SMALL
