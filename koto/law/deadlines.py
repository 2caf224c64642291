"""Deadlines of the Integration Act: calendar and working-day arithmetic, pure.

Working days exclude Saturdays, Sundays and Finnish public holidays as given by the
``holidays`` package (``holidays.country_holidays("FI")``, which includes Midsummer Eve and
Christmas Eve). Month arithmetic clamps to the end of the month (31.1. + 1 month = 28.2.).
A month-based due date is not moved off a weekend or holiday.

Every deadline function returns a ``Deadline``: the date, the reason (code, section,
texts) and the id of the parameter period used, which is the period in force on the date
the deadline runs from.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from pydantic import BaseModel, ConfigDict

from koto.law.models import Reason
from koto.law.params import Period, period_on
from koto.law.reasons import months_words, reason

HELSINKI = ZoneInfo("Europe/Helsinki")
ONE_DAY = timedelta(days=1)
_fi_holidays: holidays.HolidayBase | None = None


def _holidays() -> holidays.HolidayBase:
    global _fi_holidays
    if _fi_holidays is None:
        _fi_holidays = holidays.country_holidays("FI")
    return _fi_holidays


class Deadline(BaseModel):
    """A due date with its reason and the parameter period it came from."""

    model_config = ConfigDict(frozen=True)

    due_on: date
    reason: Reason
    period_id: str
    assumed: bool = False


# --------------------------------------------------------------------------- arithmetic


def to_helsinki_date(dt: datetime) -> date:
    """The Europe/Helsinki calendar date of an aware datetime (naive ones are refused)."""
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise ValueError("to_helsinki_date() needs an aware datetime")
    return dt.astimezone(HELSINKI).date()


def is_working_day(d: date) -> bool:
    """Monday to Friday and not a Finnish public holiday."""
    return d.weekday() < 5 and d not in _holidays()


def add_working_days(d: date, n: int) -> date:
    """The ``n``-th working day after ``d`` (``d`` itself is not counted; n >= 0).

    ``add_working_days(d, 0)`` is ``d`` when it is a working day, else the next one.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    current = d
    if n == 0:
        while not is_working_day(current):
            current += ONE_DAY
        return current
    remaining = n
    while remaining:
        current += ONE_DAY
        if is_working_day(current):
            remaining -= 1
    return current


def add_months(d: date, n: int) -> date:
    """``d`` plus ``n`` calendar months (n may be negative), clamped to the month's end."""
    month_index = d.year * 12 + (d.month - 1) + n
    year, month0 = divmod(month_index, 12)
    month = month0 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


# --------------------------------------------------------------------------- deadlines


def _deadline(period: Period, key: str, due_on: date, code: str, **values: object) -> Deadline:
    param = period.param(key)
    return Deadline(
        due_on=due_on,
        reason=reason(code, param.section, due_on=due_on, **values),
        period_id=period.id,
        assumed=param.assumed,
    )


def assessment_start_due(became_client_on: date) -> Deadline:
    """Last day to start the assessment: months from becoming a client (assumed: 2)."""
    period = period_on(became_client_on)
    months = period.value("assessment_start_within_months")
    due = add_months(became_client_on, months)
    return _deadline(
        period,
        "assessment_start_within_months",
        due,
        "DEADLINE_ASSESSMENT_START",
        months=months_words(months),
        start_on=became_client_on,
    )


def jobseeker_initial_interview_due(registered_on: date) -> Deadline:
    """Last day of the jobseeker's initial interview: working days after registering."""
    period = period_on(registered_on)
    days = period.value("jobseeker_initial_interview_working_days")
    due = add_working_days(registered_on, days)
    return _deadline(
        period,
        "jobseeker_initial_interview_working_days",
        due,
        "DEADLINE_JOBSEEKER_INITIAL_INTERVIEW",
        days=days,
        start_on=registered_on,
    )


def guidance_to_service_due(plan_agreed_on: date) -> Deadline:
    """Last day to guide the client to a suitable service after the plan (6 months; 1 month
    under the old Act 1386/2010 14 §)."""
    period = period_on(plan_agreed_on)
    months = period.value("guidance_to_service_within_months")
    due = add_months(plan_agreed_on, months)
    return _deadline(
        period,
        "guidance_to_service_within_months",
        due,
        "DEADLINE_GUIDANCE_TO_SERVICE",
        months=months_words(months),
        start_on=plan_agreed_on,
    )


def plan_preparation_start_due(assessment_completed_on: date) -> Deadline:
    """Last day to start drawing up the plan (booking its meeting is enough) after the
    assessment found one needed: "without delay" (681/2023), two weeks under the old Act's
    guidance; the days are a parameter (`plan_preparation_start_within_days`)."""
    period = period_on(assessment_completed_on)
    days = period.value("plan_preparation_start_within_days")
    due = assessment_completed_on + timedelta(days=days)
    return _deadline(
        period,
        "plan_preparation_start_within_days",
        due,
        "DEADLINE_PLAN_PREPARATION_START",
        days=days,
        start_on=assessment_completed_on,
    )


def plan_review_due(last_review_on: date) -> Deadline:
    """Next municipal plan review at the latest (every 6 months from the last review)."""
    period = period_on(last_review_on)
    months = period.value("plan_review_interval_months")
    due = add_months(last_review_on, months)
    return _deadline(
        period,
        "plan_review_interval_months",
        due,
        "DEADLINE_PLAN_REVIEW",
        months=months,
        start_on=last_review_on,
    )


def plan_end_limit(
    first_plan_started_on: date,
    is_first_plan: bool,
    months_used_before: int = 0,
    *,
    plan_started_on: date | None = None,
) -> Deadline:
    """The last day a plan may run to.

    ``first_plan_started_on``: start of the client's first plan; it selects the parameter
    period (the regime the plans began under). ``plan_started_on``: start of the plan being
    checked (defaults to ``first_plan_started_on``). The first plan runs at most
    ``plan_first_max_months``; all plans together at most ``plan_total_max_months``, of
    which ``months_used_before`` are already used. When no months remain, ``due_on`` is the
    day before ``plan_started_on`` (reason ``DEADLINE_PLAN_MONTHS_USED``).
    """
    if months_used_before < 0:
        raise ValueError("months_used_before must be >= 0")
    start = plan_started_on or first_plan_started_on
    period = period_on(first_plan_started_on)
    total = period.value("plan_total_max_months")
    remaining = total - months_used_before
    if is_first_plan:
        remaining = min(remaining, period.value("plan_first_max_months"))
        key = "plan_first_max_months"
    else:
        key = "plan_total_max_months"
    if remaining <= 0:
        return _deadline(
            period,
            "plan_total_max_months",
            start - ONE_DAY,
            "DEADLINE_PLAN_MONTHS_USED",
            total=total,
            start_on=start,
        )
    # `remaining` months from the start: as an extension of a plan that ended the day before
    # counts them (`extended_end`), so a start on 29 Feb runs to 28 Feb, not 27 Feb
    due = extended_end(start - ONE_DAY, remaining)
    return _deadline(
        period,
        key,
        due,
        "DEADLINE_PLAN_END",
        months=months_words(remaining, "partitive"),
        start_on=start,
    )


def extended_end(plan_ends_on: date, months: int) -> date:
    """The plan's new last day after an extension of ``months``: the same day ``months``
    later (the last day of a shorter month when that day is missing: 30 Jan + 1 → 28 Feb),
    and a plan that ends on a month's last day ends on the last day of that later month
    (28 Feb + 1 → 31 Mar, not 28 Mar; 30 Apr + 1 → 31 May)."""
    if (plan_ends_on + ONE_DAY).day == 1:
        return add_months(plan_ends_on + ONE_DAY, months) - ONE_DAY
    return add_months(plan_ends_on, months)


def extension_limit(plan_ends_on: date, extension_months_used: int = 0) -> Deadline:
    """The last day an extension for specific reasons may run to (assumed: 12 months),
    counted from the day after ``plan_ends_on`` (the plan's last day); ``plan_ends_on``
    selects the parameter period."""
    if extension_months_used < 0:
        raise ValueError("extension_months_used must be >= 0")
    period = period_on(plan_ends_on)
    months = max(period.value("plan_extension_max_months") - extension_months_used, 0)
    due = extended_end(plan_ends_on, months)  # as the extension itself is counted
    return _deadline(
        period,
        "plan_extension_max_months",
        due,
        "DEADLINE_EXTENSION_END",
        months=months_words(months, "partitive"),
        start_on=plan_ends_on,
    )
