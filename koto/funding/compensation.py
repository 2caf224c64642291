"""Calculated compensation from client records: the one function behind the command, the
finance page and the API (`compensation_report`), and the yearly amounts it uses.

Clients are streamed in chunks with only the columns needed; residences are fetched per
chunk; the compensation period comes from `koto.law.evaluate` and the months from the pure
`koto.funding.calculations`; totals are kept in dicts per organisation, so memory stays
flat whatever the number of clients. Per-person detail is handed to a callback as it is
computed (the command writes it out at once)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from koto.clients.models import Client, Residence
from koto.core.errors import DomainError
from koto.funding import calculations as calc
from koto.funding.models import CompensationRate
from koto.law import Facts, evaluate
from koto.law import params as law_params
from koto.law.models import PROTECTION_BASES, ResidenceBasis
from koto.organisations.models import Organisation, OrganisationKind

ALAND_REGION_CODE = "21"
#: Residence bases that can give calculated compensation (koto.law decides the rest).
COMPENSATED_BASES = sorted(
    b.value for b in (*PROTECTION_BASES, ResidenceBasis.TEMPORARY_PROTECTION)
)
#: The organisations calculated compensation is paid to.
RECIPIENT_KINDS = (OrganisationKind.MUNICIPALITY, OrganisationKind.WELFARE_REGION)
RECIPIENT_KIND = {
    calc.MUNICIPALITY: OrganisationKind.MUNICIPALITY,
    calc.MUNICIPALITY_ALAND: OrganisationKind.MUNICIPALITY,
    calc.WELFARE_REGION: OrganisationKind.WELFARE_REGION,
}


# ---------------------------------------------------------------------------- amounts
@dataclass(frozen=True)
class RateUsed:
    year: int
    recipient: str
    age_band: str
    annual_amount: Decimal
    source: str
    confirmed: bool
    origin: str  # "koto.law:<period id>", "rate:<id>" or "carried_forward:<year>"

    @property
    def monthly_amount(self) -> Decimal:
        return calc.monthly_amount(self.annual_amount)

    def as_dict(self) -> dict:
        return {
            "year": self.year,
            "recipient": self.recipient,
            "age_band": self.age_band,
            "annual_amount": str(self.annual_amount),
            "monthly_amount": str(self.monthly_amount),
            "source": self.source,
            "confirmed": self.confirmed,
            "origin": self.origin,
        }


FIRST_AMOUNT_YEAR = 2023
# The last year a report or a reconciliation may ask for (the forms' and the API's bound):
# missing amounts are carried forward a year at a time, and dates end at 9999.
LAST_YEAR = 2100


def _bands(year: int) -> tuple[calc.Band, ...]:
    """Age bands of the parameter period in force on 1 January of the year."""
    period = law_params.period_on(dt.date(year, 1, 1))
    return tuple(
        calc.Band(b.code, b.min_age, b.max_age) for b in period.values["compensation_age_bands"]
    )


def _own_rates(
    year: int, rows: dict[tuple[str, str], CompensationRate]
) -> tuple[tuple[calc.Band, ...], dict[tuple[str, str], RateUsed | None]]:
    """The year's bands and, per (recipient, band), its own amount: `koto.law`'s parameter,
    else the administrator's row, else None (to be carried forward)."""
    bands = _bands(year)
    jan1 = dt.date(year, 1, 1)
    period = law_params.period_on(jan1)
    own: dict[tuple[str, str], RateUsed | None] = {}
    for recipient in calc.RECIPIENTS:
        for band in bands:
            amount = law_params.annual_amount(jan1, recipient, band.code)
            row = rows.get((recipient, band.code))
            if amount is not None:
                param = period.params["compensation_annual_amounts"]
                own[(recipient, band.code)] = RateUsed(
                    year, recipient, band.code, Decimal(amount), param.source,
                    param.confidence == "seen", f"koto.law:{period.id}",
                )  # fmt: skip
            elif row is not None:
                own[(recipient, band.code)] = RateUsed(
                    year, recipient, band.code, row.annual_amount, row.source,
                    row.confirmed, f"rate:{row.id}",
                )  # fmt: skip
            else:
                own[(recipient, band.code)] = None
    return bands, own


def rates_for_year(year: int) -> tuple[calc.YearRates, list[RateUsed]]:
    """The year's amounts: `koto.law` parameters first (2023–2024, seen), then the
    administrator's `CompensationRate` rows, then (marked unconfirmed) the previous year's,
    carried forward year by year. A loop, not a recursion: a year far ahead carries the
    amounts forward across every year between (one query for the rows of them all)."""
    if not FIRST_AMOUNT_YEAR <= year <= LAST_YEAR:
        raise DomainError(
            "no_amounts", _("No compensation amounts are known for %(year)s.") % {"year": year}
        )
    by_year: dict[int, dict[tuple[str, str], CompensationRate]] = defaultdict(dict)
    for r in CompensationRate.objects.filter(
        year__gte=FIRST_AMOUNT_YEAR, year__lte=year
    ).order_by():
        by_year[r.year][(r.recipient, r.age_band)] = r
    # back from `year` to the latest year that has every amount of its own
    chain: list[tuple[int, tuple[calc.Band, ...], dict]] = []
    y = year
    while True:
        if y < FIRST_AMOUNT_YEAR:
            raise DomainError(
                "no_amounts", _("No compensation amounts are known for %(year)s.") % {"year": y}
            )
        bands, own = _own_rates(y, by_year[y])
        chain.append((y, bands, own))
        if all(u is not None for u in own.values()):
            break
        y -= 1
    # then forward, each missing amount the year before's
    previous: dict[tuple[str, str], RateUsed] = {}
    used: list[RateUsed] = []
    for y, _bands_of_y, own in reversed(chain):
        used = []
        for (recipient, band), u in own.items():
            if u is None:
                before = previous.get((recipient, band))
                if before is None:
                    raise DomainError(
                        "no_amounts",
                        _("No compensation amount is known for %(year)s.") % {"year": y},
                    )
                u = RateUsed(
                    y, recipient, band, before.annual_amount,
                    _("not confirmed — carried forward from %(year)s; enter the amount")
                    % {"year": y - 1},
                    False, f"carried_forward:{y - 1}",
                )  # fmt: skip
            used.append(u)
        previous = {(u.recipient, u.age_band): u for u in used}
    table = calc.YearRates(
        year=year,
        bands=chain[0][1],
        annual={(u.recipient, u.age_band): u.annual_amount for u in used},
    )
    return table, used


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()


# Raise it with any change to how the figures are counted (which residences, which months,
# who is a person of a month): figures stored by the code before are then stale, computed
# live until the next refresh, which runs in full (`funding.selectors.stored_years_stale`).
# 2: superseded residences left out (clients.0010).
CALCULATION_VERSION = 2


def rates_key(year: int, used: list[RateUsed]) -> str:
    """A fingerprint of what a year's figures are computed with: the amounts and age bands
    of the year, `koto.law`'s compensation parameters of every period (lengths of the
    period, the transition rule), not sources or confirmation, which change no figure, and
    `CALCULATION_VERSION`. Months stored with another key are stale."""
    bands = [(b.code, b.min_age, b.max_age) for b in _bands(year)]
    amounts = sorted(
        (u.recipient, u.age_band, str(u.annual_amount)) for u in used if u.year == year
    )
    law = [
        [p.id, str(p.valid_from), str(p.valid_to),
         sorted((k, repr(v)) for k, v in p.values.items() if k.startswith("compensation_"))]
        for p in law_params.periods()
    ]  # fmt: skip
    return _digest([year, bands, amounts, law, CALCULATION_VERSION])


def organisation_keys(organisation_ids: list[int]) -> dict[int, str]:
    """A fingerprint per organisation of the municipalities whose payments it receives
    (itself, or a welfare region's members): their integration programme, welfare region
    and Åland. Months stored with another key are stale (a programme switched off)."""
    wanted = set(organisation_ids)
    parts: dict[int, list] = defaultdict(list)
    rows = Organisation.objects.filter(
        Q(id__in=wanted) | Q(welfare_region_id__in=wanted)
    ).values_list("id", "welfare_region_id", "has_integration_programme", "region_code")
    for oid, region, programme, region_code in rows:
        entry = (oid, region, programme, region_code)
        for owner in {oid, region} & wanted:
            parts[owner].append(entry)
    return {oid: _digest(sorted(parts[oid])) for oid in wanted}


# ---------------------------------------------------------------------------- period
#: Bases whose compensation period `koto.law` computes alike (the period lengths name
#: quota refugees, their family and "other"; temporary protection has its own switch).
_PERIOD_GROUP = {
    ResidenceBasis.QUOTA_REFUGEE.value: ResidenceBasis.QUOTA_REFUGEE.value,
    ResidenceBasis.FAMILY_OF_QUOTA_REFUGEE.value: ResidenceBasis.FAMILY_OF_QUOTA_REFUGEE.value,
    ResidenceBasis.TEMPORARY_PROTECTION.value: ResidenceBasis.TEMPORARY_PROTECTION.value,
}


_OTHER_PROTECTION = ResidenceBasis.ASYLUM.value


def compensation_period(basis: str, starts_on: dt.date) -> tuple[dt.date, dt.date] | None:
    """`koto.law`'s compensation period (starts_on, ends_on) for a residence basis and the
    first kotikunta date, or None when not eligible. The period depends on nothing else
    (the age band is taken per month by the pure calculation), and `koto.law` treats the
    protection bases other than quota refugees and their families alike, so the decision is
    asked once per (group, date)."""
    return _compensation_period(_PERIOD_GROUP.get(basis, _OTHER_PROTECTION), starts_on)


@lru_cache(maxsize=65536)
def _compensation_period(basis: str, starts_on: dt.date) -> tuple[dt.date, dt.date] | None:
    decision = evaluate(
        Facts(
            on=starts_on,
            birth_date=starts_on,
            residence_basis=basis,
            first_permit_on=None if basis == ResidenceBasis.ASYLUM_SEEKER else starts_on,
            home_municipality_on=starts_on,
        )
    )
    c = decision.compensation
    if not c.eligible or c.starts_on is None or c.ends_on is None:
        return None
    return c.starts_on, c.ends_on


def clear_caches() -> None:
    _compensation_period.cache_clear()


def max_period_years() -> int:
    years = 0
    for p in law_params.periods():
        y = p.values["compensation_period_years"]
        years = max(years, y.quota_refugee, y.family_of_quota_refugee, y.other)
    return years


# ---------------------------------------------------------------------------- report
@dataclass(frozen=True)
class Span:
    """Months `first_index` … `last_index` (see `calculations.month_index`)."""

    first_index: int
    last_index: int

    @classmethod
    def of(cls, year: int, *, quarter: int | None = None, month: int | None = None) -> Span:
        if month is not None:
            i = year * 12 + month - 1
            return cls(i, i)
        if quarter is not None:
            i = year * 12 + (quarter - 1) * 3
            return cls(i, i + 2)
        return cls(year * 12, year * 12 + 11)

    @property
    def first_day(self) -> dt.date:
        y, m = calc.index_to_month(self.first_index)
        return dt.date(y, m, 1)

    @property
    def last_first_day(self) -> dt.date:
        y, m = calc.index_to_month(self.last_index)
        return dt.date(y, m, 1)

    def years(self) -> range:
        return range(self.first_index // 12, self.last_index // 12 + 1)


@dataclass
class ReportRow:
    organisation_id: int
    organisation: str  # code
    name: str
    kind: str  # municipality / municipality_aland / welfare_region
    persons: int  # or "<5" / ".." in a regional State authority's view (hidden)
    amount: Decimal  # or ".." with hidden persons

    def as_dict(self) -> dict:
        return {
            "organisation": self.organisation,
            "name": self.name,
            "kind": self.kind,
            "persons": self.persons,
            "amount": str(self.amount),
        }


@dataclass
class MonthTotal:
    year: int
    month: int
    persons: int
    amount: Decimal


@dataclass
class Report:
    span: Span
    parameters_used: list[RateUsed]
    rows: list[ReportRow]
    months: dict[int, list[MonthTotal]] = field(default_factory=dict)  # organisation id →
    persons_without_residence: int = 0
    # (organisation id, quarter 1–4) → persons paid in that quarter: a whole year's report
    # with `per_month` counts them for the stored quarters (`koto.funding.services`)
    quarter_persons: dict[tuple[int, int], int] = field(default_factory=dict)
    # when the figures were computed, if they were read from the rollup refresh's store;
    # None: computed now from the client records
    computed_at: dt.datetime | None = None
    # persons from 1 to 4 shown as "<5" (a regional State authority's view of the country)
    small_counts_hidden: bool = False

    @property
    def unconfirmed(self) -> bool:
        return any(not r.confirmed for r in self.parameters_used)

    @property
    def total(self) -> Decimal:
        """The rows' amounts (a hidden one, "..", is not a number and not in it)."""
        return sum((r.amount for r in self.rows if isinstance(r.amount, Decimal)), Decimal("0.00"))

    def as_dict(self) -> dict:
        y0, m0 = calc.index_to_month(self.span.first_index)
        y1, m1 = calc.index_to_month(self.span.last_index)
        return {
            "year": y0 if y0 == y1 else None,
            "period": {"from": f"{y0}-{m0:02d}", "to": f"{y1}-{m1:02d}"},
            "unconfirmed": self.unconfirmed,
            "parameters_used": [r.as_dict() for r in self.parameters_used],
            "persons_without_residence": self.persons_without_residence,
            "rows": [r.as_dict() for r in self.rows],
        }


@dataclass(frozen=True)
class DetailRow:
    client_id: int
    hetu: str
    year: int
    month: int
    organisation: str
    kind: str
    municipality: str
    age_band: str
    amount: Decimal

    FIELDS = (
        "client_id", "hetu", "year", "month", "organisation", "kind", "municipality",
        "age_band", "amount",
    )  # fmt: skip

    def as_list(self) -> list:
        """The values in `FIELDS` order, numbers as numbers (the amount a Decimal: a CSV
        writes it as 162.92, a workbook as a number)."""
        return [
            self.client_id, self.hetu, self.year, self.month, self.organisation, self.kind,
            self.municipality, self.age_band, self.amount,
        ]  # fmt: skip

    def as_dict(self) -> dict:
        """For JSON: the amount a decimal string, as in the report's rows."""
        return {**dict(zip(self.FIELDS, self.as_list(), strict=True)), "amount": str(self.amount)}


class _Municipalities(dict):
    def __missing__(self, oid: int) -> calc.Municipality:
        # a residence in something that is not a municipality: pays nothing
        return calc.Municipality(oid, has_programme=False, welfare_region_id=None)


def localised_name(name_fi: str, name_sv: str, name_en: str) -> str:
    """An organisation's name in the active language, as `Organisation.name` gives it
    (Finnish where the other is not recorded), from the columns read."""
    lang = (get_language() or "fi")[:2]
    return {"sv": name_sv, "en": name_en}.get(lang) or name_fi


class OrgIndex:
    """Every municipality and welfare region, loaded once."""

    def __init__(self) -> None:
        self.municipalities: dict[int, calc.Municipality] = _Municipalities()
        self.info: dict[int, tuple[str, str]] = {}
        self.by_code: dict[str, int] = {}
        rows = Organisation.objects.filter(
            kind__in=RECIPIENT_KINDS
        ).values_list(
            "id", "code", "name_fi", "name_sv", "name_en", "kind", "region_code",
            "has_integration_programme", "welfare_region_id",
        )  # fmt: skip
        for oid, code, fi, sv, en, kind, region, programme, region_id in rows:
            self.info[oid] = (code, localised_name(fi, sv, en))
            self.by_code[code] = oid
            if kind == OrganisationKind.MUNICIPALITY:
                self.municipalities[oid] = calc.Municipality(
                    oid, region == ALAND_REGION_CODE, programme, region_id
                )


def _earliest_start(span: Span) -> dt.date:
    """No compensation period is longer than the longest length in the parameters."""
    first = span.first_day
    return dt.date(first.year - max_period_years(), first.month, 1)


def persons_without_residence(span: Span) -> int:
    """Clients whose residence basis can give compensation and whose first kotikunta date
    can put a month of `span` inside the period, but who have no residence history: no
    municipality can be paid for them (the national report counts them)."""
    return (
        Client.objects.filter(residence_basis__in=COMPENSATED_BASES)
        .filter(~Exists(Residence.in_force.filter(client_id=OuterRef("pk"))))
        .annotate(kotikunta_on=Coalesce(F("first_home_municipality_on"), F("home_municipality_on")))
        .filter(kotikunta_on__isnull=False, kotikunta_on__gte=_earliest_start(span))
        .filter(kotikunta_on__lte=span.last_first_day)
        .count()
    )


def _stream(span: Span, municipality_ids: list[int] | None, chunk_size: int, ident: bool):
    """(client id, birth date, basis, kotikunta date, identifier, [(municipality, from, to)])
    per candidate with a residence history, in client order; one query, streamed."""
    kot = Coalesce(F("client__first_home_municipality_on"), F("client__home_municipality_on"))
    qs = (
        Residence.in_force.filter(client__residence_basis__in=COMPENSATED_BASES)
        .annotate(kot=kot)
        .filter(kot__isnull=False, kot__gte=_earliest_start(span), kot__lte=span.last_first_day)
        .filter(Q(to_on__isnull=True) | Q(to_on__gte=span.first_day))
        .filter(from_on__lte=span.last_first_day)
    )
    if municipality_ids is not None:
        qs = qs.filter(
            client_id__in=Residence.in_force.filter(municipality_id__in=municipality_ids).values(
                "client_id"
            )
        )
    rows = (
        qs.order_by("client_id", "from_on")
        .values_list(
            "client_id", "client__birth_date", "client__residence_basis", "kot",
            "municipality_id", "from_on", "to_on",
            *(("client__hetu", "client__temporary_id") if ident else ()),
        )
        .iterator(chunk_size=chunk_size)
    )  # fmt: skip
    current = None
    res: list = []
    head: tuple = ()
    for row in rows:
        cid = row[0]
        if cid != current:
            if current is not None:
                yield head + (res,)
            current = cid
            head = (cid, row[1], row[2], row[3], (row[7] or row[8] or "") if ident else "")
            res = []
        res.append((row[4], row[5], row[6]))
    if current is not None:
        yield head + (res,)


def recipient_kind(organisation: Organisation) -> str:
    """The kind of a report row of a municipality or welfare region."""
    if organisation.kind == OrganisationKind.WELFARE_REGION:
        return calc.WELFARE_REGION
    if organisation.region_code == ALAND_REGION_CODE:
        return calc.MUNICIPALITY_ALAND
    return calc.MUNICIPALITY


def zero_row(organisation: Organisation) -> ReportRow:
    """The row of an organisation paid nothing in the span."""
    return ReportRow(
        organisation.id, organisation.code, organisation.name,
        recipient_kind(organisation), 0, Decimal(0),
    )  # fmt: skip


def _count_month_persons(diff: dict, run_list, munis) -> None:
    """One person's months per recipient into `diff` (+1 where paying starts, -1 after it
    ends): each recipient's runs merged first, so a person counts once a month however
    many runs pay the recipient that month (residences that overlap on a first day)."""
    if len(run_list) == 1:
        mid, _y, _b, i, n = run_list[0]
        m = munis[mid]
        if m.has_programme:
            diff[(mid, i)] += 1
            diff[(mid, i + n)] -= 1
        if m.welfare_region_id is not None:
            diff[(m.welfare_region_id, i)] += 1
            diff[(m.welfare_region_id, i + n)] -= 1
        return
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for run, recipient_id, _kind in calc.recipients(run_list, municipalities=munis):
        spans[recipient_id].append((run.first_index, run.first_index + run.months))
    for recipient_id, intervals in spans.items():
        intervals.sort()
        start, end = intervals[0]
        for a, b in intervals[1:]:
            if a > end:
                diff[(recipient_id, start)] += 1
                diff[(recipient_id, end)] -= 1
                start, end = a, b
            elif b > end:
                end = b
        diff[(recipient_id, start)] += 1
        diff[(recipient_id, end)] -= 1


def _count_quarter_persons(counts: dict, run_list, munis, first: int) -> None:
    """One person into `counts` per (organisation, quarter 1–4 of the year starting at
    month index `first`), as the rows' persons are counted: every municipality with a run
    in the quarter that has an integration programme (one without has no row: it is paid
    nothing) and the welfare region of every one, once each."""
    if len(run_list) == 1:
        mid, _y, _b, i, n = run_list[0]
        m = munis[mid]
        region = m.welfare_region_id
        for q in range((i - first) // 3 + 1, (i + n - 1 - first) // 3 + 2):
            if m.has_programme:
                counts[(mid, q)] += 1
            if region is not None:
                counts[(region, q)] += 1
        return
    touched = {
        (mid, q)
        for mid, _y, _b, i, n in run_list
        for q in range((i - first) // 3 + 1, (i + n - 1 - first) // 3 + 2)
    }
    regions = set()
    for mid, q in touched:
        m = munis[mid]
        if m.has_programme:
            counts[(mid, q)] += 1
        if m.welfare_region_id is not None:
            regions.add((m.welfare_region_id, q))
    for pair in regions:
        counts[pair] += 1


def compensation_report(
    *,
    span: Span,
    organisation: Organisation | None = None,
    per_month: bool = False,
    detail: Callable[[DetailRow], None] | None = None,
    chunk_size: int = 10000,
) -> Report:
    """Calculated compensation for `span`, for every municipality and welfare region or for
    one `organisation` (a municipality or a welfare region). `per_month` adds totals per
    month; `detail` receives one row per person, month and recipient as they are computed.
    Raises DomainError when no amounts are known for a year of the span.

    Paid months are counted per (municipality, year, age band) while streaming; amounts
    are months × the monthly amount at the end, which equals the sum of the monthly
    payments exactly (Decimal)."""
    tables: dict[int, calc.YearRates] = {}
    used: list[RateUsed] = []
    for year in span.years():
        tables[year], u = rates_for_year(year)
        used += u
    orgs = OrgIndex()
    munis = orgs.municipalities
    only: int | None = None
    municipality_ids: list[int] | None = None
    if organisation is not None:
        only = organisation.id
        if organisation.kind == OrganisationKind.WELFARE_REGION:
            municipality_ids = [m.id for m in munis.values() if m.welfare_region_id == only]
        else:
            municipality_ids = [only]

    counts: dict[tuple[int, int, str], int] = defaultdict(int)  # (municipality, year, band)
    persons: dict[int, int] = defaultdict(int)  # recipient organisation id → persons
    month_diff: dict[tuple[int, str, int], int] = defaultdict(int)  # (municipality, band, i)
    month_persons: dict[tuple[int, int], int] = defaultdict(int)  # (recipient, i)
    quarter_persons: dict[tuple[int, int], int] = defaultdict(int)  # (organisation, 1–4)
    bands_for_year = {y: tables[y].bands for y in tables}.__getitem__
    first, last = span.first_index, span.last_index
    by_quarter = per_month and first % 12 == 0 and last == first + 11
    runs = calc.runs
    period_cache: dict[tuple[str, dt.date], tuple[dt.date, dt.date] | None] = {}
    stream = _stream(span, municipality_ids, chunk_size, detail is not None)
    for cid, birth, basis, kot, ident, res in stream:
        key = (basis, kot)
        try:
            period = period_cache[key]
        except KeyError:
            period = period_cache[key] = compensation_period(basis, kot)
        if period is None:
            continue
        run_list = runs(
            birth_date=birth, starts_on=period[0], ends_on=period[1], residences=res,
            first_index=first, last_index=last, bands_for_year=bands_for_year,
        )  # fmt: skip
        if not run_list:
            continue
        for mid, year, band, _i, n in run_list:
            counts[(mid, year, band)] += n
        if len(run_list) == 1 or len({r[0] for r in run_list}) == 1:
            m = munis[run_list[0][0]]
            persons[m.id] += 1
            if m.welfare_region_id is not None:
                persons[m.welfare_region_id] += 1
        else:
            ms = {munis[r[0]] for r in run_list}
            for m in ms:
                persons[m.id] += 1
            for region in {m.welfare_region_id for m in ms} - {None}:
                persons[region] += 1
        if per_month:
            for mid, _y, band, i, n in run_list:
                month_diff[(mid, band, i)] += 1
                month_diff[(mid, band, i + n)] -= 1
            # who is paid, not how much: the amounts come from `counts` at the end
            _count_month_persons(month_persons, run_list, munis)
        if by_quarter:
            _count_quarter_persons(quarter_persons, run_list, munis, first)
        if detail is not None:
            pays = list(
                calc.payments(run_list, municipalities=munis, rates_for_year=tables.__getitem__)
            )
            for mr in calc.months(pays):
                if only is not None and mr.recipient_id != only:
                    continue
                detail(
                    DetailRow(
                        cid, ident, mr.year, mr.month, orgs.info[mr.recipient_id][0],
                        mr.recipient, orgs.info.get(mr.municipality_id, ("", ""))[0],
                        mr.band, mr.amount,
                    )
                )  # fmt: skip

    amounts: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for (mid, year, band), n in counts.items():
        m = munis[mid]
        rates = tables[year]
        if m.has_programme:
            kind = calc.MUNICIPALITY_ALAND if m.aland else calc.MUNICIPALITY
            amounts[(mid, kind)] += rates.monthly(kind, band) * n
        if m.welfare_region_id is not None:
            amounts[(m.welfare_region_id, calc.WELFARE_REGION)] += (
                rates.monthly(calc.WELFARE_REGION, band) * n
            )
    rows = [
        ReportRow(oid, *orgs.info.get(oid, (str(oid), "")), kind, persons[oid], amount)
        for (oid, kind), amount in amounts.items()
        if only is None or oid == only
    ]
    if organisation is not None and not rows:
        rows = [zero_row(organisation)]
    rows.sort(key=lambda r: (r.organisation, r.kind))
    for r in rows:
        r.amount = r.amount.quantize(calc.CENT)
    report = Report(span=span, parameters_used=used, rows=rows)
    if by_quarter:
        wanted = {r.organisation_id for r in rows}
        report.quarter_persons = {k: n for k, n in quarter_persons.items() if k[0] in wanted}
    report.persons_without_residence = (
        persons_without_residence(span) if municipality_ids is None else 0
    )
    if per_month:
        for row in rows:
            out = []
            active: dict[tuple[int, str], int] = defaultdict(int)
            running_p = 0
            for i in range(first, last + 1):
                y, mo = calc.index_to_month(i)
                amount = Decimal(0)
                for (mid, band, j), d in month_diff.items():
                    if j == i:
                        active[(mid, band)] += d
                for (mid, band), n in active.items():
                    if not n:
                        continue
                    m = munis[mid]
                    monthly = tables[y].monthly
                    if (
                        row.kind == calc.WELFARE_REGION
                        and m.welfare_region_id == row.organisation_id
                    ):
                        amount += monthly(calc.WELFARE_REGION, band) * n
                    elif (
                        row.kind != calc.WELFARE_REGION
                        and mid == row.organisation_id
                        and m.has_programme
                    ):
                        amount += monthly(row.kind, band) * n
                running_p += month_persons.get((row.organisation_id, i), 0)
                out.append(MonthTotal(y, mo, running_p, amount.quantize(calc.CENT)))
            report.months[row.organisation_id] = out
    return report
