"""Input and output of the rules: ``Facts`` in, ``Decision`` out (contract: docs/law.md).

Facts are strict: dates must be ISO ``YYYY-MM-DD`` strings in JSON (``datetime.date`` in
Python), booleans must be JSON booleans, unknown fields are rejected. ``residence_basis``
also accepts its code as a plain string in Python.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ResidenceBasis(StrEnum):
    """The 16 residence bases of the contract (integration-act.md section 9)."""

    QUOTA_REFUGEE = "quota_refugee"
    FAMILY_OF_QUOTA_REFUGEE = "family_of_quota_refugee"
    ASYLUM = "asylum"
    SUBSIDIARY_PROTECTION = "subsidiary_protection"
    HUMANITARIAN = "humanitarian"
    TRAFFICKING_VICTIM_PERMIT = "trafficking_victim_permit"
    REMOVAL_BARRIER = "removal_barrier"
    FAMILY_OF_PROTECTED = "family_of_protected"
    TEMPORARY_PROTECTION = "temporary_protection"
    WORK = "work"
    STUDY = "study"
    FAMILY = "family"
    EU_REGISTRATION = "eu_registration"
    NORDIC = "nordic"
    OTHER_PERMIT = "other_permit"
    ASYLUM_SEEKER = "asylum_seeker"


#: Bases of beneficiaries of international protection and their family members.
PROTECTION_BASES: frozenset[ResidenceBasis] = frozenset(
    {
        ResidenceBasis.QUOTA_REFUGEE,
        ResidenceBasis.FAMILY_OF_QUOTA_REFUGEE,
        ResidenceBasis.ASYLUM,
        ResidenceBasis.SUBSIDIARY_PROTECTION,
        ResidenceBasis.HUMANITARIAN,
        ResidenceBasis.TRAFFICKING_VICTIM_PERMIT,
        ResidenceBasis.REMOVAL_BARRIER,
        ResidenceBasis.FAMILY_OF_PROTECTED,
    }
)

#: Bases with the quota-refugee compensation period.
QUOTA_BASES: frozenset[ResidenceBasis] = frozenset(
    {ResidenceBasis.QUOTA_REFUGEE, ResidenceBasis.FAMILY_OF_QUOTA_REFUGEE}
)


class TargetGroup(StrEnum):
    UNEMPLOYED_JOBSEEKER = "unemployed_jobseeker"
    SOCIAL_ASSISTANCE = "social_assistance"
    CHILD_HOME_CARE_ALLOWANCE = "child_home_care_allowance"
    INTERNATIONAL_PROTECTION = "international_protection"
    UNACCOMPANIED_MINOR = "unaccompanied_minor"
    TRAFFICKING_VICTIM = "trafficking_victim"
    OTHER_NEED = "other_need"


class Authority(StrEnum):
    EMPLOYMENT_AUTHORITY = "employment_authority"
    MUNICIPALITY = "municipality"


class FactsError(ValueError):
    """Bad facts. ``field`` names the offending input field (None: the input as a whole)."""

    def __init__(
        self, field: str | None, message: str, errors: list[dict[str, str | None]] | None = None
    ) -> None:
        self.field = field
        self.message = message
        #: every problem found (pydantic reports several at once), first one = field/message
        self.errors = errors if errors is not None else [{"field": field, "message": message}]
        super().__init__(f"{field}: {message}" if field else message)

    def as_dict(self) -> dict[str, str | None]:
        return {"field": self.field, "message": self.message}


class Facts(BaseModel):
    """What is known about a person, and the date the question is asked for."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    on: date = Field(description="The date the question is asked for.")
    birth_date: date
    residence_basis: ResidenceBasis = Field(strict=False)
    first_permit_on: date | None = Field(
        default=None,
        description="First residence permit, card or registration; null for asylum seekers.",
    )
    home_municipality_on: date | None = Field(
        default=None, description="First entry of a municipality of residence (kotikunta)."
    )
    unemployed_jobseeker: bool = False
    social_assistance_long_term: bool = False
    child_home_care_allowance: bool = False
    arrived_as_unaccompanied_minor: bool = False
    trafficking_victim: bool = False
    other_need_identified: bool = False
    welfare_service_needs: bool = False


class Reason(BaseModel):
    """One conclusion, with the section of law it rests on, in Finnish, Swedish and English."""

    model_config = ConfigDict(frozen=True)

    code: str
    section: str
    text_fi: str
    text_sv: str
    text_en: str


class Assessment(BaseModel):
    entitled: bool
    window_ends_on: date | None
    multisectoral: bool
    exempt_from_window: bool = False


class Plan(BaseModel):
    first_max_months: int
    total_max_months: int
    extension_max_months: int


class Compensation(BaseModel):
    eligible: bool
    period_years: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    age_band: str | None = None
    transition_applied: bool = False
    in_period_on: bool = Field(
        default=False, description="True when `on` falls between starts_on and ends_on."
    )


class Decision(BaseModel):
    """The rules' answer for one person on one date (contract: docs/law.md)."""

    on: date
    covered: bool
    target_groups: list[TargetGroup]
    responsible_authority: Authority | None
    assessment: Assessment
    plan: Plan
    compensation: Compensation
    unaccompanied_minor_support_ends_on: date | None
    reasons: list[Reason]
    parameters_used: dict[str, str] = Field(
        description="Purpose -> id of the parameter period whose values were used for it."
    )
    assumptions: list[str] = Field(
        description="Keys of parameters with confidence 'assumed' that this decision rests on."
    )
