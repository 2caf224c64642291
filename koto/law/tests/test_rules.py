"""Table of rule cases: each case names the rule it checks (id = "rule__scenario").

Default facts (see conftest.facts): on 2025-06-01, born 1990-01-01, basis ``work``, first
permit 2024-01-15, no municipality of residence, all booleans false.
"""

from __future__ import annotations

from typing import Any

import pytest

from koto.law import FactsError
from koto.law.tests.conftest import d, decide

IP = "international_protection"
NO = ...  # drop the key from the facts

PROTECTION = [
    "quota_refugee",
    "family_of_quota_refugee",
    "asylum",
    "subsidiary_protection",
    "humanitarian",
    "trafficking_victim_permit",
    "removal_barrier",
    "family_of_protected",
]
NON_PROTECTION_PERMITS = ["work", "study", "family", "eu_registration", "nordic", "other_permit"]


def get(decision: Any, path: str) -> Any:
    value = decision
    for part in path.split("."):
        value = getattr(value, part)
    if hasattr(value, "value"):  # enums
        return value.value
    if isinstance(value, list):
        return [getattr(v, "value", v) for v in value]
    return value


def _basis_cases() -> list[Any]:
    cases = []
    home = {"home_municipality_on": "2025-02-01"}
    for basis in PROTECTION:
        quota = basis in ("quota_refugee", "family_of_quota_refugee")
        trafficking = basis == "trafficking_victim_permit"
        groups = [IP, "trafficking_victim"] if trafficking else [IP]
        cases.append(
            pytest.param(
                {"residence_basis": basis, **home},
                {
                    "covered": True,
                    "target_groups": groups,
                    "responsible_authority": "municipality",
                    "assessment.entitled": True,
                    "assessment.window_ends_on": None if trafficking else d("2027-01-15"),
                    "compensation.eligible": True,
                    "compensation.period_years": 3 if quota else 2,
                    "compensation.starts_on": d("2025-02-01"),
                    "compensation.ends_on": d("2028-01-31") if quota else d("2027-01-31"),
                },
                id=f"basis__{basis}",
            )
        )
    cases.append(
        pytest.param(
            {"residence_basis": "temporary_protection", **home},
            {
                "covered": True,
                "target_groups": [IP],
                "responsible_authority": "municipality",
                "compensation.eligible": True,
                "compensation.period_years": 2,
                "compensation.ends_on": d("2027-01-31"),
            },
            id="basis__temporary_protection",
        )
    )
    for basis in NON_PROTECTION_PERMITS:
        cases.append(
            pytest.param(
                {"residence_basis": basis, **home},
                {
                    "covered": True,
                    "target_groups": [],
                    "responsible_authority": None,
                    "assessment.entitled": False,
                    "assessment.window_ends_on": d("2027-01-15"),
                    "compensation.eligible": False,
                    "compensation.period_years": None,
                    "compensation.ends_on": None,
                },
                id=f"basis__{basis}",
            )
        )
    cases.append(
        pytest.param(
            {"residence_basis": "asylum_seeker", "first_permit_on": None},
            {
                "covered": False,
                "target_groups": [],
                "responsible_authority": None,
                "assessment.entitled": False,
                "assessment.window_ends_on": None,
                "compensation.eligible": False,
            },
            id="basis__asylum_seeker",
        )
    )
    return cases


CASES = [
    *_basis_cases(),
    # ---------------------------------------------------------------- target groups
    pytest.param(
        {"unemployed_jobseeker": True},
        {
            "target_groups": ["unemployed_jobseeker"],
            "responsible_authority": "employment_authority",
            "assessment.entitled": True,
        },
        id="target_group__unemployed_jobseeker",
    ),
    pytest.param(
        {"social_assistance_long_term": True},
        {"target_groups": ["social_assistance"], "responsible_authority": "municipality"},
        id="target_group__social_assistance",
    ),
    pytest.param(
        {"child_home_care_allowance": True},
        {"target_groups": ["child_home_care_allowance"], "responsible_authority": "municipality"},
        id="target_group__child_home_care_allowance",
    ),
    pytest.param(
        {"residence_basis": "asylum"},
        {"target_groups": [IP], "responsible_authority": "municipality"},
        id="target_group__international_protection",
    ),
    pytest.param(
        {"arrived_as_unaccompanied_minor": True, "birth_date": "2008-01-01"},
        {
            "target_groups": ["unaccompanied_minor"],
            "responsible_authority": "municipality",
            "assessment.multisectoral": True,
        },
        id="target_group__unaccompanied_minor",
    ),
    pytest.param(
        {"trafficking_victim": True},
        {
            "target_groups": ["trafficking_victim"],
            "assessment.window_ends_on": None,
            "assessment.exempt_from_window": True,
            "assessment.entitled": True,
        },
        id="target_group__trafficking_victim_flag",
    ),
    pytest.param(
        {"residence_basis": "trafficking_victim_permit", "trafficking_victim": True},
        {"target_groups": [IP, "trafficking_victim"]},
        id="target_group__trafficking_victim_listed_once",
    ),
    pytest.param(
        {"other_need_identified": True},
        {"target_groups": ["other_need"], "responsible_authority": "municipality"},
        id="target_group__other_need",
    ),
    pytest.param(
        {"welfare_service_needs": True},
        {
            "target_groups": [],
            "responsible_authority": None,
            "assessment.multisectoral": True,
            "assessment.entitled": False,
        },
        id="target_group__welfare_needs_alone_is_no_group",
    ),
    pytest.param(
        {
            "residence_basis": "asylum",
            "unemployed_jobseeker": True,
            "social_assistance_long_term": True,
            "child_home_care_allowance": True,
            "arrived_as_unaccompanied_minor": True,
            "trafficking_victim": True,
            "other_need_identified": True,
        },
        {
            "target_groups": [
                "unemployed_jobseeker",
                "social_assistance",
                "child_home_care_allowance",
                IP,
                "unaccompanied_minor",
                "trafficking_victim",
                "other_need",
            ],
            "responsible_authority": "employment_authority",
        },
        id="target_group__all_groups_in_contract_order",
    ),
    pytest.param(
        {"residence_basis": "asylum_seeker", "first_permit_on": None, "unemployed_jobseeker": True},
        {"target_groups": [], "responsible_authority": None, "assessment.entitled": False},
        id="target_group__none_when_not_covered_asylum_seeker",
    ),
    pytest.param(
        {
            "residence_basis": "asylum",
            "first_permit_on": "2025-07-01",
            "unemployed_jobseeker": True,
        },
        {
            "covered": False,
            "target_groups": [],
            "responsible_authority": None,
            "assessment.window_ends_on": None,
        },
        id="coverage__permit_after_on_not_covered",
    ),
    pytest.param(
        {"residence_basis": "asylum", "first_permit_on": "2025-06-01"},
        {"covered": True, "target_groups": [IP], "assessment.window_ends_on": d("2028-06-01")},
        id="coverage__permit_on_the_day_covered",
    ),
    # ---------------------------------------------------------------- authority
    pytest.param(
        {"residence_basis": "asylum", "unemployed_jobseeker": True},
        {"responsible_authority": "employment_authority"},
        id="authority__jobseeker_moves_protection_client_to_employment",
    ),
    pytest.param(
        {"residence_basis": "asylum", "unemployed_jobseeker": False},
        {"responsible_authority": "municipality"},
        id="authority__no_longer_jobseeker_back_to_municipality",
    ),
    pytest.param(
        {
            "residence_basis": "quota_refugee",
            "unemployed_jobseeker": True,
            "social_assistance_long_term": True,
        },
        {"responsible_authority": "employment_authority"},
        id="authority__jobseeker_wins_over_social_assistance",
    ),
    pytest.param(
        {"unemployed_jobseeker": True, "first_permit_on": "2015-01-01"},
        {"responsible_authority": "employment_authority", "assessment.entitled": False},
        id="authority__jobseeker_outside_window_still_employment_authority",
    ),
    # ---------------------------------------------------------------- window
    pytest.param(
        {"residence_basis": "asylum", "first_permit_on": "2022-03-10", "on": "2025-03-09"},
        {"assessment.entitled": True, "assessment.window_ends_on": d("2025-03-10")},
        id="window__day_before_third_anniversary",
    ),
    pytest.param(
        {"residence_basis": "asylum", "first_permit_on": "2022-03-10", "on": "2025-03-10"},
        {"assessment.entitled": True, "assessment.window_ends_on": d("2025-03-10")},
        id="window__on_third_anniversary",
    ),
    pytest.param(
        {"residence_basis": "asylum", "first_permit_on": "2022-03-10", "on": "2025-03-11"},
        {"assessment.entitled": False, "assessment.window_ends_on": d("2025-03-10")},
        id="window__day_after_third_anniversary",
    ),
    pytest.param(
        {"residence_basis": "asylum", "first_permit_on": "2024-02-29", "on": "2027-02-28"},
        {"assessment.entitled": True, "assessment.window_ends_on": d("2027-02-28")},
        id="window__leap_day_permit_ends_28_feb",
    ),
    pytest.param(
        {"residence_basis": "asylum", "first_permit_on": "2024-02-29", "on": "2027-03-01"},
        {"assessment.entitled": False, "assessment.window_ends_on": d("2027-02-28")},
        id="window__leap_day_permit_closed_1_march",
    ),
    pytest.param(
        {"residence_basis": "asylum", "first_permit_on": "2020-02-29", "on": "2023-02-28"},
        {"assessment.entitled": True, "assessment.window_ends_on": d("2023-02-28")},
        id="window__leap_day_permit_old_act",
    ),
    pytest.param(
        {"unemployed_jobseeker": True, "first_permit_on": "2021-01-15", "on": "2024-01-15"},
        {"assessment.entitled": True, "assessment.window_ends_on": d("2024-01-15")},
        id="window__jobseeker_on_anniversary",
    ),
    pytest.param(
        {"trafficking_victim": True, "first_permit_on": "2015-01-01"},
        {
            "assessment.entitled": True,
            "assessment.window_ends_on": None,
            "assessment.exempt_from_window": True,
        },
        id="window__trafficking_victim_exempt_after_ten_years",
    ),
    pytest.param(
        {"residence_basis": "trafficking_victim_permit", "first_permit_on": "2016-05-05"},
        {"assessment.entitled": True, "assessment.window_ends_on": None},
        id="window__trafficking_permit_exempt",
    ),
    pytest.param(
        {"residence_basis": "asylum", "first_permit_on": "2016-05-05"},
        {"assessment.entitled": False, "assessment.window_ends_on": d("2019-05-05")},
        id="window__protection_outside_window_not_entitled",
    ),
    pytest.param(
        {"trafficking_victim": True, "residence_basis": "asylum_seeker", "first_permit_on": None},
        {"assessment.entitled": False, "assessment.window_ends_on": None, "target_groups": []},
        id="window__exemption_needs_coverage",
    ),
    # ---------------------------------------------------------------- temporary protection
    pytest.param(
        {"residence_basis": "temporary_protection", "home_municipality_on": "2025-02-01"},
        {
            "target_groups": [IP],
            "compensation.eligible": True,
            "compensation.ends_on": d("2027-01-31"),
            "assumptions": [
                "temporary_protection_with_home_municipality_is_protection_group",
                "plan_extension_max_months",
            ],
        },
        id="temporary_protection__with_home_municipality",
    ),
    pytest.param(
        {"residence_basis": "temporary_protection"},
        {
            "target_groups": [],
            "responsible_authority": None,
            "compensation.eligible": False,
            "assumptions": [],
        },
        id="temporary_protection__without_home_municipality",
    ),
    pytest.param(
        {"residence_basis": "temporary_protection", "home_municipality_on": "2025-08-01"},
        {
            "target_groups": [],
            "compensation.eligible": True,
            "compensation.starts_on": d("2025-08-01"),
            "compensation.ends_on": d("2027-07-31"),
            "compensation.in_period_on": False,
        },
        id="temporary_protection__home_municipality_later_than_on",
    ),
    pytest.param(
        {
            "residence_basis": "temporary_protection",
            "home_municipality_on": "2025-02-01",
            "unemployed_jobseeker": True,
        },
        {
            "target_groups": ["unemployed_jobseeker", IP],
            "responsible_authority": "employment_authority",
        },
        id="temporary_protection__jobseeker",
    ),
    # ---------------------------------------------------------------- compensation 2025-
    pytest.param(
        {"residence_basis": "quota_refugee", "home_municipality_on": "2025-03-15"},
        {
            "compensation.period_years": 3,
            "compensation.ends_on": d("2028-03-14"),
            "compensation.transition_applied": False,
        },
        id="compensation__quota_three_years",
    ),
    pytest.param(
        {"residence_basis": "family_of_quota_refugee", "home_municipality_on": "2025-03-15"},
        {"compensation.period_years": 3, "compensation.ends_on": d("2028-03-14")},
        id="compensation__family_of_quota_three_years",
    ),
    pytest.param(
        {"residence_basis": "asylum", "home_municipality_on": "2025-03-15"},
        {"compensation.period_years": 2, "compensation.ends_on": d("2027-03-14")},
        id="compensation__other_protection_two_years",
    ),
    pytest.param(
        {"residence_basis": "family_of_protected", "home_municipality_on": "2025-01-01"},
        {"compensation.period_years": 2, "compensation.ends_on": d("2026-12-31")},
        id="compensation__starts_new_years_day",
    ),
    pytest.param(
        {"residence_basis": "asylum"},
        {
            "compensation.eligible": False,
            "compensation.period_years": None,
            "compensation.starts_on": None,
            "compensation.age_band": None,
        },
        id="compensation__no_home_municipality",
    ),
    pytest.param(
        {"residence_basis": "work", "home_municipality_on": "2024-03-01"},
        {"compensation.eligible": False, "compensation.age_band": None},
        id="compensation__work_permit_not_special_group",
    ),
    pytest.param(
        {"residence_basis": "asylum", "home_municipality_on": "2025-03-15", "on": "2025-03-15"},
        {"compensation.in_period_on": True},
        id="compensation__in_period_on_first_day",
    ),
    pytest.param(
        {"residence_basis": "asylum", "home_municipality_on": "2025-03-15", "on": "2027-03-15"},
        {"compensation.in_period_on": False, "compensation.ends_on": d("2027-03-14")},
        id="compensation__not_in_period_after_end",
    ),
    # ---------------------------------------------------------------- straddling 1.1.2025
    pytest.param(
        {"residence_basis": "asylum", "home_municipality_on": "2023-06-01"},
        {
            "compensation.period_years": 3,
            "compensation.ends_on": d("2025-05-31"),
            "compensation.transition_applied": True,
            "compensation.in_period_on": False,
        },
        id="transition__other_2023_new_length_from_original_start",
    ),
    pytest.param(
        {"residence_basis": "asylum", "home_municipality_on": "2022-06-01"},
        {"compensation.ends_on": d("2024-12-31"), "compensation.transition_applied": True},
        id="transition__other_2022_ends_at_old_act",
    ),
    pytest.param(
        {"residence_basis": "quota_refugee", "home_municipality_on": "2022-06-01"},
        {
            "compensation.period_years": 4,
            "compensation.ends_on": d("2025-05-31"),
            "compensation.transition_applied": True,
        },
        id="transition__quota_2022_three_years_from_start",
    ),
    pytest.param(
        {"residence_basis": "quota_refugee", "home_municipality_on": "2021-01-01"},
        {
            "compensation.period_years": 4,
            "compensation.ends_on": d("2024-12-31"),
            "compensation.transition_applied": False,
        },
        id="transition__quota_ending_before_2025_untouched",
    ),
    pytest.param(
        {"residence_basis": "asylum", "home_municipality_on": "2021-06-01"},
        {"compensation.ends_on": d("2024-05-31"), "compensation.transition_applied": False},
        id="transition__other_ended_before_2025_untouched",
    ),
    pytest.param(
        {"residence_basis": "asylum", "home_municipality_on": "2024-12-31"},
        {
            "compensation.period_years": 3,
            "compensation.ends_on": d("2026-12-30"),
            "compensation.transition_applied": True,
        },
        id="transition__started_last_day_of_old_act",
    ),
    pytest.param(
        {"residence_basis": "quota_refugee", "home_municipality_on": "2025-01-01"},
        {
            "compensation.period_years": 3,
            "compensation.ends_on": d("2027-12-31"),
            "compensation.transition_applied": False,
        },
        id="transition__started_first_day_of_new_act",
    ),
    pytest.param(
        {"residence_basis": "family_of_quota_refugee", "home_municipality_on": "2023-01-10"},
        {"compensation.period_years": 4, "compensation.ends_on": d("2026-01-09")},
        id="transition__family_of_quota_2023",
    ),
    pytest.param(
        {"residence_basis": "temporary_protection", "home_municipality_on": "2024-03-01"},
        {
            "compensation.period_years": 3,
            "compensation.ends_on": d("2026-02-28"),
            "compensation.transition_applied": True,
        },
        id="transition__temporary_protection_2024",
    ),
    pytest.param(
        {"residence_basis": "asylum", "home_municipality_on": "2024-02-29"},
        {"compensation.ends_on": d("2026-02-27"), "compensation.transition_applied": True},
        id="transition__leap_day_start",
    ),
    # ---------------------------------------------------------------- temporary protection
    pytest.param(
        # compensated only from 1.3.2023 (1083/2022): a kotikunta entered before then is not
        {"residence_basis": "temporary_protection", "home_municipality_on": "2023-02-28"},
        {
            "compensation.eligible": False,
            "compensation.ends_on": None,
            "parameters_used.compensation_period": "2011-09-01",
            # the split's values are seen: only the target-group reading and the extension
            "assumptions": [
                "temporary_protection_with_home_municipality_is_protection_group",
                "plan_extension_max_months",
            ],
        },
        id="temporary_protection__kotikunta_before_1_march_2023_not_compensated",
    ),
    pytest.param(
        {"residence_basis": "temporary_protection", "home_municipality_on": "2023-03-01"},
        {
            "compensation.eligible": True,
            "compensation.period_years": 3,
            "compensation.ends_on": d("2025-02-28"),
            "compensation.transition_applied": True,
            "parameters_used.compensation_period": "2023-03-01",
        },
        id="temporary_protection__kotikunta_from_1_march_2023_compensated",
    ),
    pytest.param(
        {"residence_basis": "asylum", "home_municipality_on": "2023-02-28"},
        {"compensation.eligible": True, "compensation.ends_on": d("2025-02-27")},
        id="temporary_protection__split_leaves_protection_bases_alone",
    ),
    pytest.param(
        {"residence_basis": "asylum", "home_municipality_on": "2023-06-01"},
        {
            "assumptions": ["plan_extension_max_months", "compensation_transition"],
            "parameters_used.compensation_period": "2023-03-01",
            "parameters_used.compensation_transition": "2025-01-01",
        },
        id="transition__marked_assumed",
    ),
    # ---------------------------------------------------------------- age band
    pytest.param(
        {
            "residence_basis": "asylum",
            "birth_date": "2018-06-01",
            "home_municipality_on": "2025-02-01",
            "first_permit_on": "2024-01-15",
            "on": "2025-05-31",
        },
        {"compensation.age_band": "under_7"},
        id="age_band__day_before_7th_birthday",
    ),
    pytest.param(
        {
            "residence_basis": "asylum",
            "birth_date": "2018-06-01",
            "home_municipality_on": "2025-02-01",
            "on": "2025-06-01",
        },
        {"compensation.age_band": "7_or_over"},
        id="age_band__on_7th_birthday",
    ),
    pytest.param(
        {
            "residence_basis": "asylum",
            "birth_date": "2018-06-01",
            "home_municipality_on": "2025-02-01",
            "on": "2025-06-02",
        },
        {"compensation.age_band": "7_or_over"},
        id="age_band__day_after_7th_birthday",
    ),
    pytest.param(
        {
            "residence_basis": "asylum",
            "birth_date": "2016-02-29",
            "first_permit_on": "2022-01-01",
            "home_municipality_on": "2022-02-01",
            "on": "2023-02-28",
        },
        {"compensation.age_band": "7_or_over"},
        id="age_band__leap_day_child_7_on_28_feb",
    ),
    pytest.param(
        {
            "residence_basis": "asylum",
            "birth_date": "2016-02-29",
            "first_permit_on": "2022-01-01",
            "home_municipality_on": "2022-02-01",
            "on": "2023-02-27",
        },
        {"compensation.age_band": "under_7"},
        id="age_band__leap_day_child_under_7_on_27_feb",
    ),
    pytest.param(
        {
            "residence_basis": "quota_refugee",
            "birth_date": "2025-01-10",
            "first_permit_on": "2025-02-01",
            "home_municipality_on": "2025-02-10",
        },
        {"compensation.age_band": "under_7", "compensation.period_years": 3},
        id="age_band__baby",
    ),
    # ---------------------------------------------------------------- adulthood support
    pytest.param(
        {"arrived_as_unaccompanied_minor": True, "birth_date": "2005-03-10", "on": "2024-07-01"},
        {"unaccompanied_minor_support_ends_on": d("2028-03-09")},
        id="adulthood_support__23_from_1_july_2024",
    ),
    pytest.param(
        # the 23rd birthday falls after 1.7.2024: the age in force then (23) decides, asked
        # on any day (it said 25 when asked before 1.7.2024)
        {"arrived_as_unaccompanied_minor": True, "birth_date": "2005-03-10", "on": "2024-06-30"},
        {
            "unaccompanied_minor_support_ends_on": d("2028-03-09"),
            "parameters_used.adulthood_support": "2025-01-01",
        },
        id="adulthood_support__asked_before_1_july_2024_age_reached_under_23_rule",
    ),
    pytest.param(
        # born 2000-08-01: 23 on 1.8.2023 (under 25 then), so 23 already on 1.7.2024: the
        # support ends the day before the lower age took effect, not 31.7.2023 (retroactive)
        {"arrived_as_unaccompanied_minor": True, "birth_date": "2000-08-01", "on": "2024-07-01"},
        {
            "unaccompanied_minor_support_ends_on": d("2024-06-30"),
            "parameters_used.adulthood_support": "2024-07-01",
            "parameters_used.adulthood_support_transition": "2024-07-01",
            "assumptions": ["assessment_window_exempt_groups", "adulthood_support_transition"],
        },
        id="adulthood_support__aged_23_on_1_july_2024_ends_30_june_2024",
    ),
    pytest.param(
        {"arrived_as_unaccompanied_minor": True, "birth_date": "2000-08-01", "on": "2024-06-30"},
        {"unaccompanied_minor_support_ends_on": d("2024-06-30")},
        id="adulthood_support__aged_23_asked_before_1_july_2024_same_answer",
    ),
    pytest.param(
        {"arrived_as_unaccompanied_minor": True, "birth_date": "2000-08-01", "on": "2026-01-01"},
        {"unaccompanied_minor_support_ends_on": d("2024-06-30")},
        id="adulthood_support__aged_23_asked_under_new_act_same_answer",
    ),
    pytest.param(
        # 25 on 1.7.2024 itself: the 25-year limit ended the support the day before anyway
        {"arrived_as_unaccompanied_minor": True, "birth_date": "1999-07-01", "on": "2024-07-01"},
        {
            "unaccompanied_minor_support_ends_on": d("2024-06-30"),
            "parameters_used.adulthood_support": "2023-03-01",
            "assumptions": ["assessment_window_exempt_groups"],
        },
        id="adulthood_support__25th_birthday_on_1_july_2024",
    ),
    pytest.param(
        # 25 on 30.6.2024, under the 25-year limit: ended 29.6.2024
        {"arrived_as_unaccompanied_minor": True, "birth_date": "1999-06-30", "on": "2024-07-01"},
        {
            "unaccompanied_minor_support_ends_on": d("2024-06-29"),
            "assumptions": ["assessment_window_exempt_groups"],
        },
        id="adulthood_support__25_before_1_july_2024",
    ),
    pytest.param(
        # 23 on 1.7.2024 itself: the new rule, its own birthday (no transition needed)
        {"arrived_as_unaccompanied_minor": True, "birth_date": "2001-07-01", "on": "2024-07-01"},
        {
            "unaccompanied_minor_support_ends_on": d("2024-06-30"),
            "parameters_used.adulthood_support": "2024-07-01",
            "assumptions": ["assessment_window_exempt_groups"],
        },
        id="adulthood_support__23rd_birthday_on_1_july_2024",
    ),
    pytest.param(
        # 23 on 2.7.2024: ends the day before
        {"arrived_as_unaccompanied_minor": True, "birth_date": "2001-07-02", "on": "2024-06-01"},
        {"unaccompanied_minor_support_ends_on": d("2024-07-01")},
        id="adulthood_support__23rd_birthday_after_1_july_2024",
    ),
    pytest.param(
        {"arrived_as_unaccompanied_minor": True, "birth_date": "2005-03-10", "on": "2025-06-01"},
        {
            "unaccompanied_minor_support_ends_on": d("2028-03-09"),
            "parameters_used.adulthood_support": "2025-01-01",
        },
        id="adulthood_support__23_under_new_act",
    ),
    pytest.param(
        {
            "arrived_as_unaccompanied_minor": True,
            "birth_date": "2001-08-20",
            "first_permit_on": "2016-01-01",
            "on": "2020-01-01",
        },
        {
            # asked in 2020 (25 in force then): 23 is reached on 20.8.2024, under the
            # 23-year limit (it said 19.8.2026)
            "unaccompanied_minor_support_ends_on": d("2024-08-19"),
            "parameters_used.adulthood_support": "2024-07-01",
        },
        id="adulthood_support__asked_in_2020",
    ),
    pytest.param(
        {
            "arrived_as_unaccompanied_minor": True,
            "birth_date": "1995-08-20",
            "first_permit_on": "2012-01-01",
            "on": "2015-01-01",
        },
        {
            "unaccompanied_minor_support_ends_on": d("2020-08-19"),
            "parameters_used.adulthood_support": "2011-09-01",
        },
        id="adulthood_support__25_under_old_act",
    ),
    pytest.param(
        {"arrived_as_unaccompanied_minor": True, "birth_date": "2004-02-29"},
        {"unaccompanied_minor_support_ends_on": d("2027-02-27")},
        id="adulthood_support__leap_day_birth",
    ),
    pytest.param(
        {},
        {"unaccompanied_minor_support_ends_on": None},
        id="adulthood_support__not_unaccompanied",
    ),
    # ---------------------------------------------------------------- plan, parameters
    pytest.param(
        {"unemployed_jobseeker": True},
        {
            "plan.first_max_months": 12,
            "plan.total_max_months": 24,
            "plan.extension_max_months": 12,
            "parameters_used.plan": "2025-01-01",
        },
        id="plan__new_act_limits",
    ),
    pytest.param(
        {"unemployed_jobseeker": True, "on": "2024-12-31"},
        {
            "plan.first_max_months": 12,
            "plan.total_max_months": 36,
            "plan.extension_max_months": 24,
            "parameters_used.plan": "2024-07-01",
            # the old Act's durations are seen now (12 / 36 / 24)
            "assumptions": ["assessment_window_exempt_groups"],
        },
        id="plan__old_act_limits_last_day",
    ),
    pytest.param(
        {"unemployed_jobseeker": True, "on": "2025-01-01"},
        {"plan.first_max_months": 12, "parameters_used.plan": "2025-01-01"},
        id="plan__new_act_limits_first_day",
    ),
    pytest.param(
        {"unemployed_jobseeker": True},
        {"assumptions": ["plan_extension_max_months"]},
        id="assumptions__entitled_relies_on_extension",
    ),
    pytest.param(
        {},
        {"assumptions": []},
        id="assumptions__none_without_target_group",
    ),
    pytest.param(
        {"on": "2011-09-01", "birth_date": "1980-01-01", "first_permit_on": "2009-01-01"},
        {"parameters_used.plan": "2011-09-01", "plan.first_max_months": 12},
        id="parameters__first_day_of_first_period",
    ),
    # ---------------------------------------------------------------- multisectoral
    pytest.param(
        {"residence_basis": "quota_refugee", "welfare_service_needs": True},
        {"assessment.multisectoral": True},
        id="multisectoral__welfare_service_needs",
    ),
    pytest.param(
        {"arrived_as_unaccompanied_minor": True, "birth_date": "2008-01-01"},
        {"assessment.multisectoral": True},
        id="multisectoral__unaccompanied_minor",
    ),
    pytest.param(
        {"residence_basis": "quota_refugee"},
        {"assessment.multisectoral": False},
        id="multisectoral__not_by_default",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), CASES)
def test_evaluate__rule_table(overrides: dict[str, Any], expected: dict[str, Any]) -> None:
    parameters_used = {k: v for k, v in expected.items() if k.startswith("parameters_used.")}
    decision = decide(**overrides)
    for path, value in expected.items():
        if path in parameters_used:
            assert decision.parameters_used.get(path.split(".", 1)[1]) == value, path
        else:
            assert get(decision, path) == value, path
    # every decision explains itself
    assert decision.reasons
    assert all(r.text_fi and r.text_sv and r.text_en and r.section for r in decision.reasons)


def test_rule_table__has_at_least_80_cases() -> None:
    assert len(CASES) >= 80


def test_evaluate__kotikunta_before_the_first_period_uses_earliest_explained() -> None:
    decision = decide(
        residence_basis="asylum",
        birth_date="1980-01-01",
        first_permit_on="2009-01-01",
        home_municipality_on="2010-05-01",
        on="2012-01-01",
    )
    codes = [r.code for r in decision.reasons]
    assert "PARAMETERS_EARLIEST_PERIOD" in codes
    assert decision.parameters_used["compensation_period"] == "2011-09-01"
    assert decision.compensation.ends_on == d("2013-04-30")


@pytest.mark.parametrize("on", ["2010-01-01", "2011-08-31", "1990-06-01"])
def test_evaluate__on_before_the_first_period__facts_error_naming_on(on: str) -> None:
    # 1386/2010 was not in force before 1.9.2011: no rules are known for such a date
    with pytest.raises(FactsError) as e:
        decide(on=on, birth_date="1980-01-01", first_permit_on="1985-01-01")
    assert e.value.field == "on"
    assert "before the first parameter period 2011-09-01" in e.value.message


def test_evaluate__adulthood_support_lowered_age_is_explained() -> None:
    decision = decide(arrived_as_unaccompanied_minor=True, birth_date="2000-08-01", on="2024-07-01")
    reason = {r.code: r for r in decision.reasons}["ADULTHOOD_SUPPORT_ENDS_AGE_LOWERED"]
    assert "30.6.2024" in reason.text_fi and "1.7.2024" in reason.text_fi
    assert "30.6.2024" in reason.text_sv
    assert "2024-06-30" in reason.text_en and "Assumed" in reason.text_en
    assert reason.section == "1386/2010 (muutos 1.7.2024, voimaantulo)"


def test_evaluate__reasons_cite_sections_and_dates() -> None:
    decision = decide(residence_basis="asylum", home_municipality_on="2023-06-01")
    by_code = {r.code: r for r in decision.reasons}
    transition = by_code["COMPENSATION_TRANSITION"]
    assert "31.5.2025" in transition.text_fi
    assert "31.5.2025" in transition.text_sv
    assert "2025-05-31" in transition.text_en
    assert by_code["COVERED"].section == "681/2023 2 §"
    assert by_code["COMPENSATION_ELIGIBLE"].section == "1386/2010 45 §"
