"""Deadlines: working days with Finnish holidays, months with end-of-month clamping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from koto.law import deadlines
from koto.law.params import ParameterMissing
from koto.law.tests.conftest import d


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param("2025-12-23", 1, "2025-12-29", id="christmas_eve_to_boxing_day_skipped"),
        pytest.param("2025-06-19", 1, "2025-06-23", id="midsummer_eve_and_day_skipped"),
        pytest.param("2025-04-17", 1, "2025-04-22", id="easter_good_friday_to_monday_skipped"),
        pytest.param("2025-05-28", 1, "2025-05-30", id="ascension_day_skipped"),
        pytest.param("2025-12-05", 1, "2025-12-08", id="independence_day_on_saturday"),
        pytest.param("2025-01-03", 1, "2025-01-07", id="epiphany_monday_skipped"),
        pytest.param("2025-03-07", 1, "2025-03-10", id="weekend_skipped"),
        pytest.param("2025-03-10", 5, "2025-03-17", id="plain_week"),
        pytest.param("2025-03-10", 0, "2025-03-10", id="zero_on_working_day"),
        pytest.param("2025-12-24", 0, "2025-12-29", id="zero_on_holiday_moves_forward"),
    ],
)
def test_add_working_days(start: str, n: int, expected: str) -> None:
    assert deadlines.add_working_days(d(start), n) == d(expected)


def test_add_working_days__negative_refused() -> None:
    with pytest.raises(ValueError):
        deadlines.add_working_days(d("2025-01-01"), -1)


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param("2025-01-31", 1, "2025-02-28", id="clamp_to_february"),
        pytest.param("2024-01-31", 1, "2024-02-29", id="clamp_to_leap_february"),
        pytest.param("2025-03-31", -1, "2025-02-28", id="negative"),
        pytest.param("2025-12-15", 2, "2026-02-15", id="over_year_end"),
        pytest.param("2025-08-31", 6, "2026-02-28", id="six_months_clamped"),
        pytest.param("2024-02-29", 12, "2025-02-28", id="leap_day_plus_year"),
    ],
)
def test_add_months(start: str, n: int, expected: str) -> None:
    assert deadlines.add_months(d(start), n) == d(expected)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param(datetime(2025, 6, 30, 21, 30, tzinfo=UTC), "2025-07-01", id="summer_utc3"),
        pytest.param(datetime(2025, 1, 15, 22, 30, tzinfo=UTC), "2025-01-16", id="winter_utc2"),
        pytest.param(datetime(2025, 1, 15, 21, 59, tzinfo=UTC), "2025-01-15", id="winter_before"),
        pytest.param(
            datetime(2025, 1, 15, 23, 0, tzinfo=timezone(timedelta(hours=-5))),
            "2025-01-16",
            id="other_zone",
        ),
    ],
)
def test_to_helsinki_date(moment: datetime, expected: str) -> None:
    assert deadlines.to_helsinki_date(moment) == d(expected)


def test_to_helsinki_date__naive_refused() -> None:
    with pytest.raises(ValueError):
        deadlines.to_helsinki_date(datetime(2025, 1, 1, 12, 0))


def test_jobseeker_initial_interview_due__over_christmas() -> None:
    result = deadlines.jobseeker_initial_interview_due(d("2025-12-19"))
    # 22, 23 | 24, 25, 26 holidays | 29, 30, 31
    assert result.due_on == d("2025-12-31")
    assert result.period_id == "2025-01-01"
    assert result.assumed is True
    assert result.reason.code == "DEADLINE_JOBSEEKER_INITIAL_INTERVIEW"
    assert "31.12.2025" in result.reason.text_fi
    assert "2025-12-31" in result.reason.text_en


def test_jobseeker_initial_interview_due__over_midsummer() -> None:
    # Thu 19.6.; Fri 20.6. Midsummer Eve: 23, 24, 25, 26, 27
    assert deadlines.jobseeker_initial_interview_due(d("2025-06-19")).due_on == d("2025-06-27")


def test_assessment_start_due() -> None:
    result = deadlines.assessment_start_due(d("2025-03-31"))
    assert result.due_on == d("2025-05-31")
    assert result.assumed is True
    assert result.reason.section


def test_guidance_to_service_due() -> None:
    result = deadlines.guidance_to_service_due(d("2025-08-31"))
    assert result.due_on == d("2026-02-28")
    assert result.assumed is False
    assert result.period_id == "2025-01-01"


@pytest.mark.parametrize(
    ("agreed", "due", "period_id"),
    [
        ("2024-05-01", "2024-06-01", "2023-03-01"),
        ("2024-09-30", "2024-10-30", "2024-07-01"),
        ("2024-12-31", "2025-01-31", "2024-07-01"),
        ("2012-01-31", "2012-02-29", "2011-09-01"),
    ],
)
def test_guidance_to_service_due__old_act_one_month(agreed: str, due: str, period_id: str) -> None:
    # 1386/2010 14 §: guide the client to a service within a month of the plan
    result = deadlines.guidance_to_service_due(d(agreed))
    assert result.due_on == d(due)
    assert result.period_id == period_id
    assert result.assumed is False
    assert result.reason.section == "1386/2010 14 §"
    assert "1 kuukauden kuluessa" in result.reason.text_fi
    assert "inom 1 månad " in result.reason.text_sv
    assert "within 1 month of" in result.reason.text_en


def test_guidance_to_service_due__new_act_texts_unchanged() -> None:
    result = deadlines.guidance_to_service_due(d("2025-08-31"))
    assert "(6 kuukauden kuluessa kotoutumissuunnitelman laatimisesta 31.8.2025)" in (
        result.reason.text_fi
    )
    assert "(inom 6 månader från" in result.reason.text_sv
    assert "(within 6 months of the integration plan" in result.reason.text_en


def test_plan_review_due__not_in_old_act() -> None:
    # the old Act sets no review interval in the parameters (the sweep skips the task)
    with pytest.raises(ParameterMissing):
        deadlines.plan_review_due(d("2024-05-01"))


def test_plan_review_due() -> None:
    assert deadlines.plan_review_due(d("2025-01-15")).due_on == d("2025-07-15")


@pytest.mark.parametrize(
    ("args", "kwargs", "expected", "code"),
    [
        pytest.param(("2025-02-01", True), {}, "2026-01-31", "DEADLINE_PLAN_END", id="first"),
        pytest.param(
            ("2025-02-01", False, 12),
            {"plan_started_on": "2026-02-01"},
            "2027-01-31",
            "DEADLINE_PLAN_END",
            id="second_plan_remaining_12",
        ),
        pytest.param(
            ("2025-02-01", False, 20),
            {"plan_started_on": "2026-02-01"},
            "2026-05-31",
            "DEADLINE_PLAN_END",
            id="second_plan_remaining_4",
        ),
        pytest.param(
            ("2025-02-01", False, 24),
            {"plan_started_on": "2027-02-01"},
            "2027-01-31",
            "DEADLINE_PLAN_MONTHS_USED",
            id="all_months_used",
        ),
        # the old Act's first plan: at most a year (1386/2010 12 §), not three
        pytest.param(("2024-03-01", True), {}, "2025-02-28", "DEADLINE_PLAN_END", id="old_act"),
        pytest.param(
            ("2024-03-01", False, 12),
            {"plan_started_on": "2025-03-01"},
            "2027-02-28",
            "DEADLINE_PLAN_END",
            id="old_act_later_plans_to_three_years",
        ),
    ],
)
def test_plan_end_limit(args: tuple, kwargs: dict, expected: str, code: str) -> None:
    first_started, *rest = args
    kw = {k: d(v) for k, v in kwargs.items()}
    result = deadlines.plan_end_limit(d(first_started), *rest, **kw)
    assert result.due_on == d(expected)
    assert result.reason.code == code


@pytest.mark.parametrize(
    ("ends_on", "months", "expected"),
    [
        ("2027-02-28", 1, "2027-03-31"),  # a month's last day: the later month's last day
        ("2027-04-30", 1, "2027-05-31"),
        ("2027-01-31", 1, "2027-02-28"),
        ("2028-02-29", 12, "2029-02-28"),
        ("2027-01-30", 1, "2027-02-28"),  # the day missing in February: its last day
        ("2027-01-27", 1, "2027-02-27"),
        ("2027-03-30", 1, "2027-04-30"),
        ("2027-03-29", 1, "2027-04-29"),
        ("2027-10-31", 6, "2028-04-30"),
        ("2027-06-15", 12, "2028-06-15"),
    ],
)
def test_extended_end(ends_on: str, months: int, expected: str) -> None:
    assert deadlines.extended_end(d(ends_on), months) == d(expected)


def test_limits_and_extensions__count_month_ends_alike() -> None:
    # a plan to 30.1 with one extension month left may be extended by that month, to 28.2
    assert deadlines.extension_limit(d("2026-01-30"), 11).due_on == d("2026-02-28")
    assert deadlines.extended_end(d("2026-01-30"), 1) == d("2026-02-28")
    # a first plan from 29.2.2028 runs twelve months, to 28.2.2029 (not 27.2)
    assert deadlines.plan_end_limit(d("2028-02-29"), True).due_on == d("2029-02-28")


def test_extension_limit() -> None:
    full = deadlines.extension_limit(d("2026-01-31"))
    assert full.due_on == d("2027-01-31")
    assert full.assumed is True
    partial = deadlines.extension_limit(d("2026-01-31"), 5)
    assert partial.due_on == d("2026-08-31")
