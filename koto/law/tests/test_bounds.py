"""Dates outside every parameter period: a ``FactsError`` naming the field, never a bare
lookup error (the CLI exits 2 and the API answers 422 on it).

Loading refuses a ``valid_to`` on the last period, so "after the last period" is built here
by hand: the shipped periods with the last one closed on 31.12.2026.
"""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import date

import pytest

from koto.law import Facts, FactsError, params
from koto.law.__main__ import run_jsonl, run_single
from koto.law.engine import evaluate_json
from koto.law.tests.conftest import d, decide

END = date(2026, 12, 31)
GOOD = {
    "on": "2026-06-01",
    "birth_date": "1990-01-01",
    "residence_basis": "asylum",
    "first_permit_on": "2025-01-15",
    "home_municipality_on": "2025-02-01",
}


@pytest.fixture
def closed() -> params.Registry:
    """The shipped periods, the last one ending on ``END`` (as if loading allowed it)."""
    shipped = params.registry().periods
    reg = params.Registry([*shipped[:-1], dataclasses.replace(shipped[-1], valid_to=END)])
    params._cache[None] = reg  # the autouse fixture removed KOTO_LAW_PARAMETERS_DIR
    return reg


def test_on_last_day_of_the_last_period__decided(closed: params.Registry) -> None:
    assert decide(**{**GOOD, "on": "2026-12-31"}).on == END


def test_on_after_the_last_period__facts_error_naming_on(closed: params.Registry) -> None:
    with pytest.raises(FactsError) as e:
        decide(**{**GOOD, "on": "2027-01-01"})
    assert e.value.field == "on"
    assert e.value.message == (
        "is after the last parameter period 2025-01-01, which ends on 2026-12-31: "
        "no rules after 2026-12-31"
    )


def test_home_municipality_after_the_last_period__facts_error(closed: params.Registry) -> None:
    with pytest.raises(FactsError) as e:
        decide(**{**GOOD, "home_municipality_on": "2027-02-01"})
    assert e.value.field == "home_municipality_on"
    assert "no rules after 2026-12-31" in e.value.message


def test_first_permit_after_the_last_period__decided(closed: params.Registry) -> None:
    # the permit date selects no period (not covered yet on `on`)
    assert decide(**{**GOOD, "first_permit_on": "2027-02-01"}).covered is False


def test_fast_path__same_error(closed: params.Registry) -> None:
    facts = Facts.model_validate_json(json.dumps({**GOOD, "on": "2027-03-01"}))
    with pytest.raises(FactsError) as e:
        evaluate_json(facts)
    assert e.value.field == "on"


def test_adulthood_support_after_the_last_period__last_period_stands(
    closed: params.Registry,
) -> None:
    minor = {**GOOD, "arrived_as_unaccompanied_minor": True, "birth_date": "2010-05-05"}
    decision = decide(**minor)
    assert decision.unaccompanied_minor_support_ends_on == d("2033-05-04")


def test_annual_amount_after_the_last_period__none(closed: params.Registry) -> None:
    assert params.annual_amount(date(2027, 1, 1), "municipality", "under_7") is None


def test_cli_single__after_the_last_period_exit_2(closed: params.Registry) -> None:
    out, err = io.BytesIO(), io.BytesIO()
    status = run_single(io.BytesIO(json.dumps({**GOOD, "on": "2027-01-01"}).encode()), out, err)
    assert status == 2
    assert out.getvalue() == b""
    assert err.getvalue().startswith(b"error: on: is after the last parameter period")


def test_cli_jsonl__after_the_last_period_error_line(closed: params.Registry) -> None:
    lines = [json.dumps(GOOD), json.dumps({**GOOD, "on": "2027-01-01"})]
    out, err = io.BytesIO(), io.BytesIO()
    status = run_jsonl(io.BytesIO("\n".join(lines).encode()), out, err)
    assert status == 2
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["covered"] is True
    assert second["error"]["field"] == "on"
    assert "no rules after 2026-12-31" in second["error"]["message"]
    assert err.getvalue() == b"1 of 2 lines failed\n"
