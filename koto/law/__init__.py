"""The rules of the Integration Act (681/2023) as one pure package.

Public API (stable; see docs/law.md):

- ``evaluate(facts: Facts) -> Decision``: the rules for one person on one date.
- ``parse_facts(data: dict | str | bytes) -> Facts``: validated facts or ``FactsError``.
- ``Facts``, ``Decision``, ``FactsError``, ``ResidenceBasis``, ``TargetGroup``, ``Authority``.
- ``koto.law.deadlines``: ``to_helsinki_date``, ``add_working_days``, ``add_months`` and the
  deadline functions, each returning a ``Deadline`` (date, reason, parameter period id).
- ``koto.law.params``: the parameter periods (``period_on``, ``annual_amount``, ...).

No Django, no clock, no I/O in the rules.
"""

from koto.law.deadlines import (
    Deadline,
    add_months,
    add_working_days,
    assessment_start_due,
    extended_end,
    extension_limit,
    guidance_to_service_due,
    is_working_day,
    jobseeker_initial_interview_due,
    plan_end_limit,
    plan_preparation_start_due,
    plan_review_due,
    to_helsinki_date,
)
from koto.law.engine import evaluate, parse_facts
from koto.law.models import (
    Authority,
    Decision,
    Facts,
    FactsError,
    Reason,
    ResidenceBasis,
    TargetGroup,
)

__all__ = [
    "Authority",
    "Deadline",
    "Decision",
    "Facts",
    "FactsError",
    "Reason",
    "ResidenceBasis",
    "TargetGroup",
    "add_months",
    "add_working_days",
    "assessment_start_due",
    "evaluate",
    "extended_end",
    "extension_limit",
    "guidance_to_service_due",
    "is_working_day",
    "jobseeker_initial_interview_due",
    "parse_facts",
    "plan_end_limit",
    "plan_preparation_start_due",
    "plan_review_due",
    "to_helsinki_date",
]
