"""Table tests of the pure month-by-month calculation against hand-computed amounts."""

import datetime as dt
from decimal import Decimal

import pytest

from koto.funding import calculations as calc

D = dt.date
BANDS = (calc.Band("under_7", 0, 7), calc.Band("7_or_over", 7, None))
RATES = calc.YearRates(
    2026,
    BANDS,
    {
        ("municipality", "under_7"): Decimal("6503"),
        ("municipality", "7_or_over"): Decimal("1955"),
        ("municipality_aland", "under_7"): Decimal("6845"),
        ("municipality_aland", "7_or_over"): Decimal("2300"),
        ("welfare_region", "under_7"): Decimal("342"),
        ("welfare_region", "7_or_over"): Decimal("345"),
    },
)
A, B, ALAND, NOPROG, REGION = 1, 2, 3, 4, 90
MUNIS = {
    A: calc.Municipality(A, welfare_region_id=REGION),
    B: calc.Municipality(B, welfare_region_id=REGION),
    ALAND: calc.Municipality(ALAND, aland=True),
    NOPROG: calc.Municipality(NOPROG, has_programme=False, welfare_region_id=REGION),
}


def totals(*, birth, starts, ends, residences, year=2026):
    run_list = calc.runs(
        birth_date=birth, starts_on=starts, ends_on=ends,
        residences=[calc.ResidencePeriod(*r) for r in residences],
        first_index=year * 12, last_index=year * 12 + 11, bands_for_year=lambda y: BANDS,
    )  # fmt: skip
    out: dict[tuple[int, str], Decimal] = {}
    months: dict[int, int] = {}
    for p in calc.payments(run_list, municipalities=MUNIS, rates_for_year=lambda y: RATES):
        out[(p.recipient_id, p.band)] = out.get((p.recipient_id, p.band), 0) + p.amount
        if p.recipient != "welfare_region":
            months[p.recipient_id] = months.get(p.recipient_id, 0) + p.months
    return out, months


@pytest.mark.parametrize(
    ("annual", "monthly"),
    [("6503", "541.92"), ("1955", "162.92"), ("6845", "570.42"), ("2300", "191.67"),
     ("342", "28.50"), ("345", "28.75"), ("0.06", "0.01"), ("0.05", "0.00")],
)  # fmt: skip
def test_monthly_amount__rounds_half_up_to_cents(annual, monthly):
    assert calc.monthly_amount(Decimal(annual)) == Decimal(monthly)


CASES = [
    # name, birth, starts, ends, residences, expected {(recipient, band): amount}
    ("adult whole year", D(1990, 1, 1), D(2025, 3, 1), D(2027, 2, 28),
     [(A, D(2025, 3, 1), None)],
     {(A, "7_or_over"): Decimal("1955.04"), (REGION, "7_or_over"): Decimal("345.00")}),
    ("under 7 whole year", D(2022, 5, 5), D(2025, 3, 1), D(2027, 2, 28),
     [(A, D(2025, 3, 1), None)],
     {(A, "under_7"): Decimal("6503.04"), (REGION, "under_7"): Decimal("342.00")}),
    ("7th birthday 15.5.: June on is 7 or over", D(2019, 5, 15), D(2025, 3, 1), D(2027, 2, 28),
     [(A, D(2025, 3, 1), None)],
     {(A, "under_7"): Decimal("2709.60"), (A, "7_or_over"): Decimal("1140.44"),
      (REGION, "under_7"): Decimal("142.50"), (REGION, "7_or_over"): Decimal("201.25")}),
    ("7th birthday on the 1st: that month is 7 or over", D(2019, 6, 1), D(2025, 3, 1),
     D(2027, 2, 28), [(A, D(2025, 3, 1), None)],
     {(A, "under_7"): Decimal("2709.60"), (A, "7_or_over"): Decimal("1140.44"),
      (REGION, "under_7"): Decimal("142.50"), (REGION, "7_or_over"): Decimal("201.25")}),
    ("period starts mid-month: the next month is the first", D(1990, 1, 1), D(2026, 2, 10),
     D(2028, 2, 9), [(A, D(2026, 2, 10), None)],
     {(A, "7_or_over"): Decimal("162.92") * 10, (REGION, "7_or_over"): Decimal("28.75") * 10}),
    ("period ends 31.1.: January only", D(1990, 1, 1), D(2024, 2, 1), D(2026, 1, 31),
     [(A, D(2024, 2, 1), None)],
     {(A, "7_or_over"): Decimal("162.92"), (REGION, "7_or_over"): Decimal("28.75")}),
    ("period ends 1.3.: March still counts", D(1990, 1, 1), D(2024, 3, 2), D(2026, 3, 1),
     [(A, D(2024, 3, 2), None)],
     {(A, "7_or_over"): Decimal("162.92") * 3, (REGION, "7_or_over"): Decimal("28.75") * 3}),
    ("moves 15.3. from A to B: March to A, April on to B", D(1990, 1, 1), D(2025, 3, 1),
     D(2027, 2, 28), [(A, D(2025, 3, 1), D(2026, 3, 14)), (B, D(2026, 3, 15), None)],
     {(A, "7_or_over"): Decimal("162.92") * 3, (B, "7_or_over"): Decimal("162.92") * 9,
      (REGION, "7_or_over"): Decimal("345.00")}),
    ("moves on the 1st: that month goes to the new one", D(1990, 1, 1), D(2025, 3, 1),
     D(2027, 2, 28), [(A, D(2025, 3, 1), D(2026, 6, 30)), (B, D(2026, 7, 1), None)],
     {(A, "7_or_over"): Decimal("162.92") * 6, (B, "7_or_over"): Decimal("162.92") * 6,
      (REGION, "7_or_over"): Decimal("345.00")}),
    ("Åland: Åland amounts, no welfare region", D(2022, 5, 5), D(2025, 3, 1), D(2027, 2, 28),
     [(ALAND, D(2025, 3, 1), None)], {(ALAND, "under_7"): Decimal("570.42") * 12}),
    ("no integration programme: nothing to the municipality", D(1990, 1, 1), D(2025, 3, 1),
     D(2027, 2, 28), [(NOPROG, D(2025, 3, 1), None)],
     {(REGION, "7_or_over"): Decimal("345.00")}),
    ("no residence on the 1st: a gap month is not paid", D(1990, 1, 1), D(2025, 3, 1),
     D(2027, 2, 28), [(A, D(2025, 3, 1), D(2026, 4, 30)), (B, D(2026, 5, 2), None)],
     {(A, "7_or_over"): Decimal("162.92") * 4, (B, "7_or_over"): Decimal("162.92") * 7,
      (REGION, "7_or_over"): Decimal("28.75") * 11}),
    ("period over before the year", D(1990, 1, 1), D(2022, 1, 1), D(2025, 12, 31),
     [(A, D(2022, 1, 1), None)], {}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "birth", "starts", "ends", "residences", "expected"), CASES)
def test_runs_and_payments__hand_computed(name, birth, starts, ends, residences, expected):
    got, _months = totals(birth=birth, starts=starts, ends=ends, residences=residences)
    assert got == expected


def test_months__one_row_per_month_whole_amounts():
    run_list = calc.runs(
        birth_date=D(2019, 5, 15), starts_on=D(2025, 3, 1), ends_on=D(2027, 2, 28),
        residences=[(A, D(2025, 3, 1), None)], first_index=2026 * 12,
        last_index=2026 * 12 + 11, bands_for_year=lambda y: BANDS,
    )  # fmt: skip
    pays = list(calc.payments(run_list, municipalities=MUNIS, rates_for_year=lambda y: RATES))
    rows = [r for r in calc.months(pays) if r.recipient == "municipality"]
    assert [(r.month, r.band, r.amount) for r in rows[4:6]] == [
        (5, "under_7", Decimal("541.92")),
        (6, "7_or_over", Decimal("162.92")),
    ]
    assert len(rows) == 12


def test_runs__birthday_29_february_falls_on_28_february():
    # born 29.2.2020: 7 on 28.2.2027, so 1.3.2027 is the first month of "7 or over"
    got, _m = totals(
        birth=D(2020, 2, 29), starts=D(2025, 3, 1), ends=D(2028, 2, 28),
        residences=[(A, D(2025, 3, 1), None)], year=2027,
    )  # fmt: skip
    assert got == {
        (A, "under_7"): Decimal("1083.84"),
        (A, "7_or_over"): Decimal("1629.20"),
        (REGION, "under_7"): Decimal("57.00"),
        (REGION, "7_or_over"): Decimal("287.50"),
    }
