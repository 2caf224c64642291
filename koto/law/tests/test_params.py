"""Parameter periods: the period in force around boundaries, extra directories, checks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from koto.law import params
from koto.law.params import NoPeriodInForce, ParameterError
from koto.law.tests.conftest import d, decide

BUILTIN_2025 = (params.BUILTIN_DIR / "2025-01-01.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("day", "period_id"),
    [
        pytest.param("2011-09-01", "2011-09-01", id="first_day_of_old_act"),
        pytest.param("2023-02-28", "2011-09-01", id="day_before_temporary_protection_amendment"),
        pytest.param("2023-03-01", "2023-03-01", id="temporary_protection_amendment_first_day"),
        pytest.param("2024-06-30", "2023-03-01", id="day_before_amendment"),
        pytest.param("2024-07-01", "2024-07-01", id="amendment_first_day"),
        pytest.param("2024-12-31", "2024-07-01", id="last_day_of_old_act"),
        pytest.param("2025-01-01", "2025-01-01", id="new_act_first_day"),
        pytest.param("2040-01-01", "2025-01-01", id="open_ended"),
    ],
)
def test_period_on__boundaries(day: str, period_id: str) -> None:
    assert params.period_on(d(day)).id == period_id


def test_period_on__before_first_period() -> None:
    with pytest.raises(NoPeriodInForce):
        params.period_on(d("2011-08-31"))


def test_builtin_periods__every_value_has_source_and_confidence() -> None:
    for period in params.periods():
        for key, param in period.params.items():
            assert param.section, key
            assert param.source, key
            assert param.confidence in ("seen", "assumed"), key


def test_builtin_periods__assumed_values_flagged() -> None:
    new = params.period_on(d("2025-06-01"))
    assumed = {k for k, p in new.params.items() if p.assumed}
    assert {
        "plan_extension_max_months",
        "assessment_start_within_months",
        "jobseeker_initial_interview_working_days",
        "compensation_transition",
        "temporary_protection_with_home_municipality_is_protection_group",
    } <= assumed
    assert new.value("civic_orientation_min_hours") == 70


def test_annual_amount__known_years_only() -> None:
    assert params.annual_amount(d("2023-05-01"), "municipality", "under_7") == Decimal("6503")
    assert params.annual_amount(d("2024-08-01"), "municipality_aland", "7_or_over") == Decimal(
        "2300"
    )
    assert params.annual_amount(d("2024-01-01"), "welfare_region", "7_or_over") == Decimal("345")
    assert params.annual_amount(d("2025-03-01"), "municipality", "under_7") is None


def _write(directory: Path, name: str, text: str) -> None:
    (directory / f"{name}.toml").write_text(text, encoding="utf-8")


def _new_period(period_id: str, *, valid_to: str | None = None, window: int = 3) -> str:
    text = BUILTIN_2025.replace('id = "2025-01-01"', f'id = "{period_id}"')
    text = text.replace("valid_from = 2025-01-01", f"valid_from = {period_id}")
    if valid_to:
        text = text.replace(
            f"valid_from = {period_id}", f"valid_from = {period_id}\nvalid_to = {valid_to}"
        )
    return text.replace(
        "assessment_window_years = { value = 3,", f"assessment_window_years = {{ value = {window},"
    )


def test_extra_dir__adds_a_period(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "2027-01-01", _new_period("2027-01-01", window=2))
    monkeypatch.setenv(params.ENV_VAR, str(tmp_path))
    assert params.period_on(d("2026-12-31")).id == "2025-01-01"
    assert params.period_on(d("2026-12-31")).valid_to == d("2026-12-31")
    assert params.period_on(d("2027-01-01")).id == "2027-01-01"
    decision = decide(residence_basis="asylum", first_permit_on="2025-03-01", on="2027-06-01")
    assert decision.assessment.window_ends_on == d("2027-03-01")
    assert decision.parameters_used["assessment_window"] == "2027-01-01"


def test_extra_dir__replaces_a_period_by_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "2025-01-01", _new_period("2025-01-01", window=4))
    monkeypatch.setenv(params.ENV_VAR, str(tmp_path))
    assert params.period_on(d("2025-06-01")).value("assessment_window_years") == 4


def test_extra_dir__overlap_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "2024-10-01", _new_period("2024-10-01", valid_to="2024-12-31"))
    monkeypatch.setenv(params.ENV_VAR, str(tmp_path))
    with pytest.raises(ParameterError, match="overlap"):
        params.registry()


def test_extra_dir__gap_fails_loudly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (params.BUILTIN_DIR / "2024-07-01.toml").read_text(encoding="utf-8")
    _write(tmp_path, "2024-07-01", text.replace("valid_to = 2024-12-31", "valid_to = 2024-11-30"))
    monkeypatch.setenv(params.ENV_VAR, str(tmp_path))
    with pytest.raises(ParameterError, match="gap"):
        params.registry()


def test_extra_dir__missing_value_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _new_period("2027-01-01")
    text = "\n".join(line for line in text.splitlines() if "plan_first_max_months" not in line)
    _write(tmp_path, "2027-01-01", text)
    monkeypatch.setenv(params.ENV_VAR, str(tmp_path))
    with pytest.raises(ParameterError, match="plan_first_max_months"):
        params.registry()


def test_extra_dir__bad_confidence_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "2027-01-01", _new_period("2027-01-01").replace('"seen"', '"guessed"', 1))
    monkeypatch.setenv(params.ENV_VAR, str(tmp_path))
    with pytest.raises(ParameterError, match="2027-01-01"):
        params.registry()


def test_extra_dir__missing_directory_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(params.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(ParameterError, match="does not exist"):
        params.registry()


def test_extra_dir__third_age_band(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _new_period("2027-01-01").replace(
        '{ code = "7_or_over", min_age = 7 }',
        '{ code = "7_to_17", min_age = 7, max_age = 18 }, { code = "18_or_over", min_age = 18 }',
    )
    _write(tmp_path, "2027-01-01", text)
    monkeypatch.setenv(params.ENV_VAR, str(tmp_path))
    decision = decide(residence_basis="asylum", home_municipality_on="2026-05-01", on="2027-02-01")
    assert decision.compensation.age_band == "18_or_over"
    child = decide(
        residence_basis="asylum",
        birth_date="2015-01-01",
        home_municipality_on="2026-05-01",
        on="2027-02-01",
    )
    assert child.compensation.age_band == "7_to_17"


# ------------------------------------------------------------------ the periods as shipped


def test_old_act_periods__plan_durations_and_guidance_seen() -> None:
    for day in ("2012-01-01", "2023-06-01", "2024-09-01"):
        period = params.period_on(d(day))
        assert period.value("plan_first_max_months") == 12
        assert period.value("plan_total_max_months") == 36
        assert period.value("plan_extension_max_months") == 24
        assert period.value("guidance_to_service_within_months") == 1
        for key in (
            "plan_first_max_months",
            "plan_total_max_months",
            "plan_extension_max_months",
            "guidance_to_service_within_months",
        ):
            assert period.param(key).confidence == "seen", (day, key)
            assert period.param(key).source.startswith("https://"), (day, key)


@pytest.mark.parametrize(
    ("day", "compensated"),
    [("2012-01-01", False), ("2023-02-28", False), ("2023-03-01", True), ("2025-06-01", True)],
)
def test_temporary_protection_compensated_from_1_march_2023(day: str, compensated: bool) -> None:
    period = params.period_on(d(day))
    key = "compensation_temporary_protection_with_home_municipality"
    assert period.value(key) is compensated
    assert period.param(key).confidence == "seen"


@pytest.mark.parametrize("day", ["2023-01-01", "2023-02-28", "2023-03-01", "2023-12-31"])
def test_annual_amount__2023_known_on_both_sides_of_the_split(day: str) -> None:
    assert params.annual_amount(d(day), "municipality", "under_7") == Decimal("6503")
    assert params.annual_amount(d(day), "welfare_region", "7_or_over") == Decimal("345")


def test_annual_amount__before_the_first_period_is_not_known() -> None:
    assert params.annual_amount(d("2010-06-01"), "municipality", "under_7") is None


def test_new_act__plan_values_cite_public_pages() -> None:
    period = params.period_on(d("2025-06-01"))
    for key in (
        "assessment_window_years",
        "assessment_window_exempt_groups",
        "plan_first_max_months",
        "plan_total_max_months",
        "guidance_to_service_within_months",
        "plan_review_interval_months",
    ):
        param = period.param(key)
        assert param.confidence == "seen", key
        assert param.source.startswith("https://"), key
        assert "integration-act.md" not in param.source, key
    assert period.param("assessment_window_years").section == "681/2023 14 §"
    assert "finlex.fi/fi/laki/alkup/2023/20230681" in (
        period.param("assessment_window_years").note or ""
    )


def test_no_period_in_force__says_which_side() -> None:
    with pytest.raises(NoPeriodInForce) as e:
        params.period_on(d("2011-08-31"))
    assert e.value.before_first is True
    assert e.value.reason == (
        "is before the first parameter period 2011-09-01: no rules are known before 2011-09-01"
    )


# ------------------------------------------------------------------ loading refuses


def test_extra_dir__valid_to_on_the_last_period_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # no rules would exist after it: every later date would fail
    _write(tmp_path, "2027-01-01", _new_period("2027-01-01", valid_to="2027-12-31"))
    monkeypatch.setenv(params.ENV_VAR, str(tmp_path))
    with pytest.raises(ParameterError, match=r"2027-01-01\.toml.*must not have valid_to"):
        params.registry()


def test_extra_dir__seen_without_a_public_source_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _new_period("2027-01-01").replace(
        'source = "https://kotoutuminen.fi/en/when-is-the-integration-plan-drawn-up-"',
        'source = "our own notes"',
        1,
    )
    _write(tmp_path, "2027-01-01", text)
    monkeypatch.setenv(params.ENV_VAR, str(tmp_path))
    with pytest.raises(ParameterError, match="plan_first_max_months"):
        params.registry()


def test_extra_dir__assumed_without_a_url_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _new_period("2027-01-01")
    assert 'source = "no statutory day count found' in text  # an assumed value, no URL
    _write(tmp_path, "2027-01-01", text)
    monkeypatch.setenv(params.ENV_VAR, str(tmp_path))
    assert params.period_on(d("2027-06-01")).id == "2027-01-01"


def test_interpreting_in_calculated_compensation__from_681_2023():
    """From 1.1.2025 interpreting is among the costs the calculated compensation is meant
    to cover (a rule the funding app held as a date of its own)."""
    assert params.interpreting_in_calculated_compensation(d("2024-12-31")) is False
    assert params.interpreting_in_calculated_compensation(d("2025-01-01")) is True
    assert params.interpreting_in_calculated_compensation(d("2005-01-01")) is False
