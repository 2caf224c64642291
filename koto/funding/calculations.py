"""Calculated compensation (laskennallinen korvaus) for one person, month by month. PURE:
dates and Decimals in, results out; no Django, no clock, no I/O (rules: docs/funding.md).

- A month is paid whole or not at all, to the municipality of residence on the month's
  first day. It counts only when that first day lies inside the compensation period given
  by ``koto.law`` (``starts_on`` … ``ends_on``, both included) and inside a residence
  period (``from_on`` … ``to_on``, both included; ``to_on`` None = still living there).
- The age band is the one on the month's first day (the 7th birthday itself is
  ``7_or_over``; 29 February birthdays fall on 28 February, as in ``koto.law``).
- Monthly amount = annual amount / 12, rounded to the cent with ROUND_HALF_UP; a run of
  n months of one band in one municipality is n × the monthly amount.
- Åland municipalities get the Åland amounts; a municipality without an integration
  programme (13 §) gets nothing; the welfare region of the municipality (Helsinki is its
  own, organisation ``hva-90``) gets the welfare-region amount for the same months.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import NamedTuple

from koto.law.engine import anniversary

CENT = Decimal("0.01")
MUNICIPALITY = "municipality"
MUNICIPALITY_ALAND = "municipality_aland"
WELFARE_REGION = "welfare_region"
RECIPIENTS = (MUNICIPALITY, MUNICIPALITY_ALAND, WELFARE_REGION)


def monthly_amount(annual: Decimal) -> Decimal:
    """Annual amount / 12 rounded to the cent, halves up (541.9166… → 541.92)."""
    return (annual / 12).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Band:
    code: str
    min_age: int
    max_age: int | None = None  # exclusive; None = no upper limit


@dataclass(frozen=True)
class YearRates:
    """The annual amounts of one calendar year: ``annual[(recipient, band_code)]``."""

    year: int
    bands: tuple[Band, ...]
    annual: Mapping[tuple[str, str], Decimal]

    def monthly(self, recipient: str, band: str) -> Decimal:
        return monthly_amount(self.annual[(recipient, band)])


class ResidencePeriod(NamedTuple):
    municipality_id: int
    from_on: dt.date
    to_on: dt.date | None = None


@dataclass(frozen=True)
class Municipality:
    id: int
    aland: bool = False
    has_programme: bool = True
    welfare_region_id: int | None = None


class Run(NamedTuple):
    """``months`` consecutive paid months from ``first_index`` (see ``month_index``) in one
    municipality, one calendar year and one age band."""

    municipality_id: int
    year: int
    band: str
    first_index: int
    months: int


@dataclass(frozen=True)
class Payment:
    """What one recipient gets for a run: ``months`` × ``monthly``."""

    recipient_id: int
    recipient: str  # municipality / municipality_aland / welfare_region
    municipality_id: int
    year: int
    band: str
    first_index: int
    months: int
    monthly: Decimal

    @property
    def amount(self) -> Decimal:
        return self.monthly * self.months


def month_index(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def index_to_month(i: int) -> tuple[int, int]:
    return i // 12, i % 12 + 1


def first_month_from(d: dt.date) -> int:
    """Index of the first month whose first day is on or after ``d``."""
    return month_index(d) if d.day == 1 else month_index(d) + 1


def last_month_until(d: dt.date) -> int:
    """Index of the last month whose first day is on or before ``d``."""
    return month_index(d)


@lru_cache(maxsize=131072)
def _band_starts(birth_date: dt.date, bands: tuple[Band, ...]) -> tuple[tuple[int, str], ...]:
    """(first month index of the band, band code) in order of age."""
    out = []
    for band in bands:
        if band.min_age == 0:
            out.append((-(10**9), band.code))
        else:
            out.append((first_month_from(anniversary(birth_date, band.min_age)), band.code))
    return tuple(out)


def runs(
    *,
    birth_date: dt.date,
    starts_on: dt.date,
    ends_on: dt.date,
    residences: Sequence[ResidencePeriod] | Sequence[tuple],
    first_index: int,
    last_index: int,
    bands_for_year: Callable[[int], tuple[Band, ...]],
) -> list[Run]:
    """The paid months between ``first_index`` and ``last_index`` (inclusive month indexes,
    the period asked for) as runs split by municipality, year and age band. Residences are
    ``(municipality_id, from_on, to_on)``."""
    d = starts_on
    lo = d.year * 12 + d.month - (1 if d.day == 1 else 0)
    if lo < first_index:
        lo = first_index
    hi = ends_on.year * 12 + ends_on.month - 1
    if hi > last_index:
        hi = last_index
    if lo > hi:
        return []
    out: list[Run] = []
    for mid, from_on, to_on in residences:
        r_lo = from_on.year * 12 + from_on.month - (1 if from_on.day == 1 else 0)
        if r_lo < lo:
            r_lo = lo
        r_hi = hi if to_on is None else min(hi, to_on.year * 12 + to_on.month - 1)
        if r_lo > r_hi:
            continue
        for year in range(r_lo // 12, r_hi // 12 + 1):
            y_lo, y_hi = max(r_lo, year * 12), min(r_hi, year * 12 + 11)
            starts = _band_starts(birth_date, bands_for_year(year))
            last = len(starts) - 1
            for k, (b_start, code) in enumerate(starts):
                if b_start > y_hi:
                    break
                a = y_lo if y_lo > b_start else b_start
                b = starts[k + 1][0] - 1 if k < last else y_hi
                if b > y_hi:
                    b = y_hi
                if a <= b:
                    out.append(Run(mid, year, code, a, b - a + 1))
    return out


def recipients(
    run_list: Sequence[Run], *, municipalities: Mapping[int, Municipality]
) -> Iterator[tuple[Run, int, str]]:
    """Who each run pays, as (run, recipient id, recipient kind): the municipality (unless
    it has no integration programme) and its welfare region (when it has one; Åland
    municipalities have none)."""
    for run in run_list:
        m = municipalities[run.municipality_id]
        if m.has_programme:
            yield run, m.id, MUNICIPALITY_ALAND if m.aland else MUNICIPALITY
        if m.welfare_region_id is not None:
            yield run, m.welfare_region_id, WELFARE_REGION


def payments(
    run_list: Sequence[Run],
    *,
    municipalities: Mapping[int, Municipality],
    rates_for_year: Callable[[int], YearRates],
) -> Iterator[Payment]:
    """Each run's payment to each of its `recipients`."""
    for run, recipient_id, kind in recipients(run_list, municipalities=municipalities):
        yield Payment(
            recipient_id, kind, run.municipality_id, run.year, run.band, run.first_index,
            run.months, rates_for_year(run.year).monthly(kind, run.band),
        )  # fmt: skip


@dataclass(frozen=True)
class MonthRow:
    year: int
    month: int
    recipient_id: int
    recipient: str
    municipality_id: int
    band: str
    amount: Decimal


def months(payment_list: Sequence[Payment]) -> Iterator[MonthRow]:
    """One row per paid month and recipient, in month order."""
    rows = []
    for p in payment_list:
        for i in range(p.first_index, p.first_index + p.months):
            y, m = index_to_month(i)
            rows.append(
                MonthRow(y, m, p.recipient_id, p.recipient, p.municipality_id, p.band, p.monthly)
            )
    rows.sort(key=lambda r: (r.year, r.month, r.recipient != WELFARE_REGION))
    yield from rows
