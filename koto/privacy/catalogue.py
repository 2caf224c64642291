"""The personal data catalogue: every model that holds data about a client, how its rows are
reached from the client and which organisation holds each row. The data-subject export
(`koto.privacy.selectors.subject_export_for`) is built from it and nothing else, so a new
model that holds client data is either listed here or named in `EXCLUDED` with the reason; a
test walks every model of the project and fails on one that is neither
(`koto/privacy/tests/test_export.py`).

Which fields of a row the export holds is each model's own `EXPORT_FIELDS` (the architecture:
every model holding personal data declares it); which of those only a user who may read the
health and social details sees is `WELFARE_FIELDS` below."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from koto.assessments.models import Assessment, LanguageSkill, Measure
from koto.clients.models import (
    Client,
    ClientEvent,
    ClientFactChange,
    ClientLanguage,
    ClientName,
    Consent,
    FamilyLink,
    Meeting,
    Residence,
    ResponsibilityChange,
    Task,
)
from koto.core.roles import Perm
from koto.funding.models import ClaimLine
from koto.guidance.models import Contact
from koto.offerings.models import Attendance, Enrolment, LanguageTestResult
from koto.placement.models import MinorCare, PlacementPerson
from koto.plans.models import Action, Extension, Goal, IntegrationPlan, Review
from koto.referrals.models import Referral, ReferralStep


@dataclass(frozen=True)
class Part:
    key: str
    title: object  # a lazy translation
    model: type[models.Model]
    client: str  # the lookup from a row to its client's id
    # The lookups from a row to the organisations that hold it (a referral: its sender and
    # its recipient). Empty, or a row whose first holder is empty (a timeline event of the
    # system's): the row belongs to the client's record, kept for the organisation
    # responsible for the client.
    holders: tuple[str, ...] = ()
    order: tuple[str, ...] = ("id",)
    # The permissions of which a user needs one to see the rows (others get the fields named
    # as withheld): what the app's own pages ask for them.
    perms: tuple[str, ...] = ()
    # The lookup to when a row was made (a date or a time), for a part with holders: a row a
    # producer holds is the export of the organisation it kept the row for, the one whose
    # client the client was then (`clients.selectors.responsibility_periods`).
    made: str = ""
    # A row of a record that passes to the organisation taking the client over at a transfer
    # (`clients.HandedOverRecord`): its record type and the lookup to the record's id. Such a
    # record is its holder's now, whenever it was made.
    handed_over: tuple[str, str] = ()
    # A part whose rows belong to another part's rows (a plan's goals): that part's key and
    # the lookup to its row's id. Its rows are those of the parent's rows in the export, so
    # it holds what they do (its holders and times are the parent's, which a test checks).
    parent: tuple[str, str] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return self.model.EXPORT_FIELDS


PARTS: tuple[Part, ...] = (
    Part("client", _("Personal details"), Client, "id"),
    Part("names", _("Other forms of the name"), ClientName, "client_id"),
    Part("languages", _("Other languages"), ClientLanguage, "client_id"),
    Part("residences", _("Municipalities of residence"), Residence, "client_id", (), ("from_on", "id")),
    Part("facts", _("Facts recorded for the law"), ClientFactChange, "client_id", (), ("valid_from", "id")),
    Part("family", _("Family"), FamilyLink, "client_id"),
    Part("consents", _("Consents"), Consent, "client_id", ("organisation_id",), ("given_on", "id"), made="recorded_at"),
    Part("assessments", _("Assessments of competence and service needs"), Assessment, "client_id", ("organisation_id",), ("started_on", "id"), made="created_at", handed_over=("assessment", "id")),
    Part("language_skills", _("Language skills assessed"), LanguageSkill, "assessment__client_id", ("assessment__organisation_id",), made="assessment__created_at", handed_over=("assessment", "assessment_id"), parent=("assessments", "assessment_id")),
    Part("measures", _("Further measures of an assessment"), Measure, "assessment__client_id", ("assessment__organisation_id",), made="assessment__created_at", handed_over=("assessment", "assessment_id"), parent=("assessments", "assessment_id")),
    Part("plans", _("Integration plans"), IntegrationPlan, "client_id", ("organisation_id",), ("starts_on", "id"), made="created_at", handed_over=("plan", "id")),
    Part("goals", _("Goals of the plans"), Goal, "plan__client_id", ("plan__organisation_id",), ("plan_id", "position", "id"), made="plan__created_at", handed_over=("plan", "plan_id"), parent=("plans", "plan_id")),
    Part("actions", _("Actions of the plans"), Action, "goal__plan__client_id", ("goal__plan__organisation_id",), made="goal__plan__created_at", handed_over=("plan", "goal__plan_id"), parent=("goals", "goal_id")),
    Part("extensions", _("Extensions of the plans"), Extension, "plan__client_id", ("plan__organisation_id",), made="plan__created_at", handed_over=("plan", "plan_id"), parent=("plans", "plan_id")),
    Part("reviews", _("Follow-ups of the plans"), Review, "plan__client_id", ("plan__organisation_id",), made="plan__created_at", handed_over=("plan", "plan_id"), parent=("plans", "plan_id")),
    Part("meetings", _("Meetings"), Meeting, "client_id", ("organisation_id",), ("held_on", "id"), made="held_on"),
    Part("contacts", _("Guidance contacts"), Contact, "client_id", ("organisation_id",), ("contacted_on", "id"), made="logged_at"),
    Part("enrolments", _("Services"), Enrolment, "client_id", ("organisation_id",), made="created_at"),
    Part("attendance", _("Attendance in services"), Attendance, "enrolment__client_id", ("enrolment__organisation_id",), ("on", "id"), made="enrolment__created_at", parent=("enrolments", "enrolment_id")),
    Part("language_results", _("Language test results"), LanguageTestResult, "client_id", (), ("taken_on", "id")),
    Part("referrals", _("Referrals"), Referral, "client_id", ("from_organisation_id", "to_organisation_id"), made="created_at"),
    Part("referral_steps", _("Handling of the referrals"), ReferralStep, "referral__client_id", ("referral__from_organisation_id", "referral__to_organisation_id"), ("at", "id"), made="referral__created_at", parent=("referrals", "referral_id")),
    Part("responsibility", _("Responsible organisation over time"), ResponsibilityChange, "client_id", ("from_organisation_id", "to_organisation_id"), ("at", "id"), made="at"),
    Part("placements", _("Municipal placement"), PlacementPerson, "client_id", ("placement__municipality_id", "placement__authority_id"), made="placement__created_at"),
    Part("minor_care", _("Unaccompanied minor's care"), MinorCare, "client_id"),
    Part("tasks", _("Deadlines in the client's case"), Task, "client_id", ("organisation_id",), ("due_on", "id"), made="computed_at", handed_over=("task", "id")),
    Part("events", _("Timeline"), ClientEvent, "client_id", ("organisation_id",), ("at", "id"), made="at"),
    # a claim line's description can name health or social care costs (65 §) or the victim
    # of trafficking (68 §): the finance roles read claims, as on the funding pages
    Part("compensation", _("State compensation claimed"), ClaimLine, "client_id", ("claim__organisation_id",), ("occurred_on", "id"), (Perm.FUNDING_MANAGE, Perm.FUNDING_DECIDE), made="claim__created_at"),
)  # fmt: skip

#: Fields shown only to a user who may read the health and social details
#: (`Perm.CLIENT_VIEW_WELFARE`); for others the export says they are withheld.
WELFARE_FIELDS: dict[type[models.Model], frozenset[str]] = {
    Assessment: frozenset({"welfare_needs_flag", "welfare_needs_details"}),
    PlacementPerson: frozenset(
        {"placement__evident_welfare_needs", "placement__welfare_needs_note"}
    ),
}

#: Labels for fields named without a label of their own (Django's default is the field's
#: name with spaces), by "Model.name" or by name, in the export's language.
FIELD_LABELS: dict[str, object] = {
    "organisation": _("Organisation"),
    "municipality": _("Municipality"),
    "responsible_organisation": _("Responsible organisation"),
    "relative": _("Relative"),
    "counsellor": _("Counsellor"),
    "from_organisation": _("From"),
    "to_organisation": _("To"),
    "referred_to_organisation": _("Referred to organisation"),
    "reasons": _("Reasons"),
    "requested_at": _("Requested"),
    "offered_on": _("Offered on"),
    "accepted_on": _("Accepted on"),
    "started_on": _("Started on"),
    "ended_on": _("Ended on"),
    "previous_ends_on": _("Previous end date"),
    "new_ends_on": _("New end date"),
    "due_on": _("Due on"),
    "Referral.due_on": _("Please answer by"),
    "received_at": _("Received"),
    "reopened_at": _("Reopened"),
    "withdrawn_at": _("Withdrawn"),
    "superseded_at": _("Replaced by a correction"),
    "placement": _("Placement"),
    "service": _("Service"),
    "at": _("Time"),
    "kind": _("Kind"),
    "note": _("Note"),
    "to_status": _("Status"),
    "rule_section": _("Legal basis"),
}

#: Models that refer to a client but are not exported, and why.
EXCLUDED: dict[str, str] = {
    "clients.AccessGrant": "access control: which organisations may read the record",
    "clients.HandedOverRecord": "which assessments, plans and tasks passed to another organisation at "
    "a transfer: identifiers only; the records and the transfer are exported",
    "clients.BreakGlass": "access control; each emergency read is in the audit trail",
    "audit.AuditEvent": "the audit trail: who read and changed the record (its own page)",
    "audit.AuditListedClient": "an index of the audit trail",
    "guidance.ContactReason": "exported with its contact (`reasons`)",
    "plans.PlanPdf": "a rendering of the plan, whose contents are exported",
    "placement.WelfareConsultation": "the welfare region's statement on a placement (of a "
    "family or group, not one person), held and answered for by the welfare region",
    "placement.HealthCheckReferral": "the welfare region's health check of a placement, held "
    "and answered for by the welfare region",
}
