"""The client registry: who the client is, the facts the law needs (with history), family,
consent, access grants and the caseworker-visible timeline."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from koto.core import clock
from koto.core.models import TimeStampedModel
from koto.law.fees import missed_appointment_chargeable


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Not known")


class ResidenceBasis(models.TextChoices):
    """The residence bases of `koto.law` (contract, section 9)."""

    QUOTA_REFUGEE = "quota_refugee", _("Quota refugee")
    FAMILY_OF_QUOTA_REFUGEE = "family_of_quota_refugee", _("Family member of a quota refugee")
    ASYLUM = "asylum", _("Asylum (refugee status)")
    SUBSIDIARY_PROTECTION = "subsidiary_protection", _("Subsidiary protection")
    HUMANITARIAN = "humanitarian", _("Humanitarian grounds")
    TRAFFICKING_VICTIM_PERMIT = (
        "trafficking_victim_permit",
        _("Permit for a victim of human trafficking"),
    )
    REMOVAL_BARRIER = "removal_barrier", _("Barrier to removal")
    FAMILY_OF_PROTECTED = "family_of_protected", _("Family member of a beneficiary of protection")
    TEMPORARY_PROTECTION = "temporary_protection", _("Temporary protection")
    WORK = "work", _("Work")
    STUDY = "study", _("Study")
    FAMILY = "family", _("Family ties")
    EU_REGISTRATION = "eu_registration", _("Registered EU right of residence")
    NORDIC = "nordic", _("Nordic citizen")
    OTHER_PERMIT = "other_permit", _("Other residence permit")
    ASYLUM_SEEKER = "asylum_seeker", _("Asylum seeker (no permit yet)")


class LawFact(models.TextChoices):
    """Facts about the client that `koto.law` needs; every change is kept with its date."""

    UNEMPLOYED_JOBSEEKER = "unemployed_jobseeker", _("Unemployed jobseeker")
    SOCIAL_ASSISTANCE_LONG_TERM = "social_assistance_long_term", _("Long-term social assistance")
    CHILD_HOME_CARE_ALLOWANCE = "child_home_care_allowance", _("Child home care allowance")
    ARRIVED_AS_UNACCOMPANIED_MINOR = (
        "arrived_as_unaccompanied_minor",
        _("Arrived as an unaccompanied minor"),
    )
    TRAFFICKING_VICTIM = "trafficking_victim", _("Victim of human trafficking")
    OTHER_NEED_IDENTIFIED = "other_need_identified", _("Other identified need")
    WELFARE_SERVICE_NEEDS = "welfare_service_needs", _("Needs welfare-region services")


class Client(TimeStampedModel):
    # Personal data catalogue: which fields are sensitive and which a data-subject export holds.
    SENSITIVE_FIELDS = (
        "hetu",
        "trafficking_victim",
        "welfare_service_needs",
        "social_assistance_long_term",
    )
    EXPORT_FIELDS = (
        "first_name", "last_name", "birth_date", "hetu", "temporary_id", "gender", "citizenship",
        "mother_tongue", "interpreter_needed", "interpreter_language", "email", "phone",
        "street_address", "postal_code", "post_office", "residence_basis", "first_permit_on",
        "home_municipality_id", "home_municipality_on", "first_home_municipality_on",
        "migri_number", "unhcr_number", "responsible_organisation_id", "counsellor_id",
        *LawFact.values,
    )  # fmt: skip

    responsible_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="clients",
        verbose_name=_("responsible organisation"),
    )
    first_name = models.CharField(_("first names"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    sort_key = models.CharField(max_length=310, db_index=True, editable=False)
    birth_date = models.DateField(_("birth date"))
    hetu = models.CharField(
        _("personal identity code"), max_length=11, null=True, blank=True, unique=True
    )
    temporary_id = models.CharField(
        _("temporary identifier"), max_length=20, null=True, blank=True, unique=True
    )
    gender = models.CharField(
        _("gender"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN
    )
    citizenship = models.CharField(
        _("citizenship"), max_length=3, blank=True, help_text=_("ISO 3166 code")
    )
    mother_tongue = models.CharField(
        _("mother tongue"), max_length=3, blank=True, help_text=_("ISO 639 code")
    )
    interpreter_needed = models.BooleanField(_("needs an interpreter"), default=False)
    interpreter_language = models.CharField(_("interpreting language"), max_length=3, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    post_office = models.CharField(_("post office"), max_length=100, blank=True)
    residence_basis = models.CharField(
        _("residence basis"), max_length=40, choices=ResidenceBasis.choices, blank=True
    )
    first_permit_on = models.DateField(
        _("first residence permit or registration"), null=True, blank=True
    )
    home_municipality = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="residents",
        verbose_name=_("municipality of residence"),
    )
    home_municipality_on = models.DateField(
        _("municipality of residence since"), null=True, blank=True
    )
    first_home_municipality_on = models.DateField(
        _("first municipality of residence"), null=True, blank=True
    )
    migri_number = models.CharField(_("Migri customer number"), max_length=20, blank=True)
    unhcr_number = models.CharField(_("UNHCR registration number"), max_length=30, blank=True)
    unemployed_jobseeker = models.BooleanField(_("unemployed jobseeker"), default=False)
    social_assistance_long_term = models.BooleanField(
        _("long-term social assistance"), default=False
    )
    child_home_care_allowance = models.BooleanField(_("child home care allowance"), default=False)
    arrived_as_unaccompanied_minor = models.BooleanField(
        _("arrived as an unaccompanied minor"), default=False
    )
    trafficking_victim = models.BooleanField(_("victim of human trafficking"), default=False)
    other_need_identified = models.BooleanField(_("other identified need"), default=False)
    welfare_service_needs = models.BooleanField(_("needs welfare-region services"), default=False)
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="counselled_clients",
        verbose_name=_("counsellor"),
    )
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["sort_key", "id"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        indexes = [
            models.Index(
                fields=["responsible_organisation", "sort_key", "id"], name="client_org_sort_idx"
            ),
            models.Index(fields=["birth_date"], name="client_birth_idx"),
            models.Index(fields=["counsellor", "sort_key", "id"], name="client_counsellor_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(hetu__isnull=False) | Q(temporary_id__isnull=False),
                name="client_has_identifier",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def identifier(self) -> str:
        return self.hetu or self.temporary_id or ""


class InForceManager(models.Manager):
    """The residences not superseded by a correction."""

    def get_queryset(self):
        return super().get_queryset().filter(superseded_at__isnull=True)


class Residence(models.Model):
    """The client's municipality of residence (kotikunta) over time: State compensation is
    paid, month by month, to the municipality of residence on the first day of the month.

    A residence that a later-recorded move dated on or before its first day replaced is
    kept with `superseded_at` set: nothing that counts reads it (`Residence.in_force`), and
    the rollup refresh still sees which municipality's figures the correction changed."""

    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("municipality_id", "from_on", "to_on", "superseded_at")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="residences")
    municipality = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    from_on = models.DateField(_("from"))
    to_on = models.DateField(_("to"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("superseded"), null=True, blank=True, editable=False)

    objects = models.Manager()
    in_force = InForceManager()

    class Meta:
        ordering = ["from_on", "id"]
        indexes = [
            models.Index(fields=["client", "from_on"], name="residence_client_idx"),
            models.Index(fields=["municipality", "from_on"], name="residence_municipality_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_on__isnull=True) | Q(to_on__gte=models.F("from_on")),
                name="residence_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.municipality_id} {self.from_on}–{self.to_on or ''}"


class ResponsibilityChange(models.Model):
    """The client passed from one organisation's responsibility to another's: the history
    of `Client.responsible_organisation`, which changes no other way than by an accepted
    transfer (`koto.referrals`, which writes this with the hand-over). Kept here, below the
    apps that make records, so that they can tell whose client the client was when a record
    was made (the Koto-AJ export, `koto.plans.kotoaj`) without reading the referrals."""

    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("from_organisation_id", "to_organisation_id", "at")

    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="responsibility_changes"
    )
    from_organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+",
        verbose_name=_("responsible before"),
    )  # fmt: skip
    to_organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+",
        verbose_name=_("responsible after"),
    )  # fmt: skip
    at = models.DateTimeField(_("changed at"))
    # what changed it: ("referral", the transfer's id)
    source_type = models.CharField(max_length=30)
    source_id = models.BigIntegerField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["client", "at"], name="responsibility_client_idx"),
            models.Index(fields=["from_organisation"], name="responsibility_from_idx"),
            models.Index(fields=["to_organisation"], name="responsibility_to_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id"], name="responsibility_unique_source"
            ),
        ]
        verbose_name = _("change of responsible organisation")
        verbose_name_plural = _("changes of responsible organisation")

    def __str__(self) -> str:
        return f"{self.client_id} {self.from_organisation_id}→{self.to_organisation_id} {self.at}"


class HandedOverRecord(models.Model):
    """A record open at a transfer that passed to the organisation taking the client over
    with the client (an assessment started, a plan drafted or in force, an open deadline
    task: the referrals' and the plans' hand-over write it), so that who holds it now is known to be its holder by
    the hand-over, not by chance (a producer's record of an earlier service agreement)."""

    change = models.ForeignKey(
        ResponsibilityChange, on_delete=models.CASCADE, related_name="handed_over"
    )
    record_type = models.CharField(max_length=30)  # "assessment", "plan", "task"
    record_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["record_type", "record_id"], name="handed_over_record_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["change", "record_type", "record_id"], name="handed_over_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id} at change {self.change_id}"


class NameKind(models.TextChoices):
    OFFICIAL = "official", _("Official (as in the permit)")
    TRANSLITERATED = "transliterated", _("Other transliteration")
    ORIGINAL_SCRIPT = "original_script", _("Original script")
    PREVIOUS = "previous", _("Previous name")
    CALLED = "called", _("Name used")


class ClientName(models.Model):
    """Every recorded form of the client's name, searchable by either word order."""

    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("kind", "first_name", "last_name")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="names")
    # The client's responsible organisation, copied here so that a name search starts from
    # the viewer's own organisations' names (kept in step by the services).
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NameKind.choices)
    first_name = models.CharField(_("first names"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    # Collated "C" on PostgreSQL by migration clients.0009 (not in the model's state: SQLite
    # has no such collation); an AlterField of these two must collate them "C" again.
    key_last_first = models.CharField(max_length=310, editable=False)
    key_first_last = models.CharField(max_length=310, editable=False)

    class Meta:
        verbose_name = _("name")
        verbose_name_plural = _("names")
        indexes = [
            # A name search in the viewer's organisation: seek the prefix, read in key order.
            models.Index(
                fields=["organisation", "key_last_first", "client"], name="clientname_org_lf_idx"
            ),
            models.Index(
                fields=["organisation", "key_first_last", "client"], name="clientname_org_fl_idx"
            ),
            # The grant branch of a name search: the prefix across organisations in key
            # order, each name's client probed for a grant. A default b-tree, as the range
            # comparisons of `prefix_range_q` need (the pattern-ops ones below serve LIKE).
            models.Index(fields=["key_last_first", "client"], name="clientname_lf_client_idx"),
            models.Index(fields=["key_first_last", "client"], name="clientname_fl_client_idx"),
            # Across organisations (possible duplicates at registration).
            models.Index(
                fields=["key_last_first"],
                name="clientname_lf_idx",
                opclasses=["varchar_pattern_ops"],
            ),
            models.Index(
                fields=["key_first_last"],
                name="clientname_fl_idx",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class ClientLanguage(models.Model):
    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("language",)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="languages")
    language = models.CharField(_("language"), max_length=3, help_text=_("ISO 639 code"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "language"], name="client_language_unique")
        ]
        verbose_name = _("language")
        verbose_name_plural = _("languages")

    def __str__(self) -> str:
        return self.language


class ClientFactChange(models.Model):
    """One dated change of a law fact (kept forever: the law asks what was true when)."""

    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("fact", "value", "valid_from")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="fact_changes")
    fact = models.CharField(_("fact"), max_length=40, choices=LawFact.choices)
    value = models.BooleanField(_("value"))
    valid_from = models.DateField(_("valid from"))
    recorded_at = models.DateTimeField(default=clock.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["valid_from", "id"]
        indexes = [models.Index(fields=["client", "fact", "valid_from"], name="factchange_idx")]
        verbose_name = _("fact change")
        verbose_name_plural = _("fact changes")

    def __str__(self) -> str:
        return f"{self.fact}={self.value} from {self.valid_from}"


class Relation(models.TextChoices):
    SPOUSE = "spouse", _("Spouse or partner")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    SIBLING = "sibling", _("Sibling")
    OTHER = "other", _("Other relative")


INVERSE_RELATION = {
    Relation.SPOUSE: Relation.SPOUSE,
    Relation.CHILD: Relation.PARENT,
    Relation.PARENT: Relation.CHILD,
    Relation.SIBLING: Relation.SIBLING,
    Relation.OTHER: Relation.OTHER,
}


class FamilyLink(models.Model):
    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("relation", "relative__first_name", "relative__last_name")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="family_links")
    relative = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    relation = models.CharField(_("relation"), max_length=20, choices=Relation.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "relative"], name="family_link_unique"),
            models.CheckConstraint(
                condition=~Q(client=models.F("relative")), name="family_link_not_self"
            ),
        ]
        verbose_name = _("family link")
        verbose_name_plural = _("family links")

    def __str__(self) -> str:
        return f"{self.client_id} {self.relation} {self.relative_id}"


class ConsentScope(models.TextChoices):
    ALL = "all", _("All integration records")
    ASSESSMENT = "assessment", _("Assessment")
    PLAN = "plan", _("Integration plan")
    CONTACT_DETAILS = "contact_details", _("Contact details")


class Consent(models.Model):
    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("organisation_id", "scope", "given_on", "withdrawn_on", "note")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    scope = models.CharField(_("scope"), max_length=30, choices=ConsentScope.choices)
    given_on = models.DateField(_("given on"))
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-given_on", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"{self.client_id} → {self.organisation_id} ({self.scope})"


class AccessGrant(models.Model):
    """Access to a client for an organisation that is not responsible for them, e.g. through
    an accepted referral. Scope `read` or `full`."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        FULL = "full", _("Read and write")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="access_grants")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    source = models.CharField(max_length=40)  # e.g. "referral"
    source_id = models.CharField(max_length=40, blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organisation", "client"], name="grant_org_client_idx")]

    def __str__(self) -> str:
        return f"{self.organisation_id} → {self.client_id} ({self.scope})"


class BreakGlass(models.Model):
    """Emergency access by one user to one client outside their organisation's reach:
    a reason is required, the access expires and every use is audited."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="break_glass")
    reason = models.TextField()
    granted_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "client", "expires_at"], name="breakglass_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.client_id}"


class ClientEvent(models.Model):
    """The caseworker-visible timeline. `kind` plus `data` render a translated sentence."""

    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("at", "kind", "organisation_id")

    class Kind(models.TextChoices):
        CREATED = "created", _("Client created")
        UPDATED = "updated", _("Details updated")
        FACT_CHANGED = "fact_changed", _("Situation changed")
        NAME_ADDED = "name_added", _("Name form added")
        FAMILY_LINKED = "family_linked", _("Family member linked")
        CONSENT_GIVEN = "consent_given", _("Consent recorded")
        CONSENT_WITHDRAWN = "consent_withdrawn", _("Consent withdrawn")
        IMPORTED = "imported", _("Imported")
        BREAK_GLASS = "break_glass", _("Emergency access")
        ASSESSMENT_STARTED = "assessment_started", _("Assessment started")
        ASSESSMENT_COMPLETED = "assessment_completed", _("Assessment completed")
        PLAN_CREATED = "plan_created", _("Integration plan drafted")
        PLAN_ACTIVATED = "plan_activated", _("Integration plan agreed")
        PLAN_EXTENDED = "plan_extended", _("Integration plan extended")
        PLAN_REVIEWED = "plan_reviewed", _("Integration plan reviewed")
        PLAN_ENDED = "plan_ended", _("Integration plan ended")
        PLAN_CANCELLED = "plan_cancelled", _("Integration plan cancelled")
        PLAN_ACKNOWLEDGED = "plan_acknowledged", _("Plan acknowledged by the client")
        MEETING = "meeting", _("Meeting")
        DOCUMENT = "document", _("Document generated")
        REFERRAL_SENT = "referral_sent", _("Referred to another organisation")
        REFERRAL_ACCEPTED = "referral_accepted", _("Referral accepted")
        REFERRAL_DECLINED = "referral_declined", _("Referral declined")
        REFERRAL_RETURNED = "referral_returned", _("Referral returned")
        REFERRAL_COMPLETED = "referral_completed", _("Referral completed")
        REFERRAL_REOPENED = "referral_reopened", _("Referral reopened")
        REFERRAL_WITHDRAWN = "referral_withdrawn", _("Referral withdrawn")
        ENROLLED = "enrolled", _("Enrolled in a service")
        SERVICE_STARTED = "service_started", _("Started a service")
        SERVICE_ENDED = "service_ended", _("Service ended")
        SERVICE_PLACE_ENDED = "service_place_ended", _("Place in a service declined or cancelled")
        LANGUAGE_RESULT = "language_result", _("Language test result recorded")
        PLACEMENT_ARRIVED = "placement_arrived", _("Arrived in the municipality (placement)")
        MINOR_CARE_RECORDED = "minor_care_recorded", _("Unaccompanied minor's care recorded")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=clock.now)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, null=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["client", "-at"], name="clientevent_idx")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.kind}"


class Task(models.Model):
    """A deadline to act on, statutory or agreed. Tasks are computed from the casework
    records by the deadline sweep (`koto.plans.deadlines_sweep`); each carries the rule and
    the parameter period that set its date, so a counsellor sees why it exists."""

    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("kind", "due_on", "status", "rule_section")

    class Kind(models.TextChoices):
        ASSESSMENT_START = "assessment_start", _("Start the assessment")
        ASSESSMENT_COMPLETE = "assessment_complete", _("Complete the assessment")
        PLAN_DRAFT = "plan_draft", _("Start drawing up the integration plan")
        GUIDANCE_TO_SERVICE = "guidance_to_service", _("Guide the client to a service")
        PLAN_REVIEW = "plan_review", _("Review the plan")
        PLAN_END = "plan_end", _("The plan ends")
        EXTENSION_DECISION = "extension_decision", _("Decide on extending the plan")
        MINOR_TURNS_18 = "minor_turns_18", _("The minor turns 18: the representative's task ends")
        ADULTHOOD_SUPPORT_ENDING = (
            "adulthood_support_ending",
            _("Support for adulthood ends in three months"),
        )

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        # closed unmet: the deadline passed and what it asked for no longer applies (an
        # assessment never started before the client's entitlement ended); kept so that the
        # missed deadline stays on record
        LAPSED = "lapsed", _("Lapsed (no longer applies, not met)")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="tasks")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tasks",
    )
    kind = models.CharField(_("task"), max_length=30, choices=Kind.choices)
    source_type = models.CharField(max_length=30)
    source_id = models.BigIntegerField()
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    rule_code = models.CharField(max_length=60)
    rule_section = models.CharField(max_length=120, blank=True)
    reason_fi = models.TextField(blank=True)
    reason_sv = models.TextField(blank=True)
    reason_en = models.TextField(blank=True)
    period_id = models.CharField(max_length=20, blank=True)
    assumed = models.BooleanField(default=False)
    computed_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id", "kind"], name="task_unique_source_kind"
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_on"], name="task_assignee_idx"),
            models.Index(fields=["organisation", "status", "due_on"], name="task_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.due_on}"


class Meeting(models.Model):
    """A meeting with the client, with the interpreting used and no-shows (32 a §)."""

    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = (
        "organisation_id", "held_on", "purpose", "interpreter_language", "interpreter_mode",
        "interpreter_minutes", "interpreter_cost", "client_no_show", "no_show_reason_accepted",
        "notes",
    )  # fmt: skip

    class InterpreterMode(models.TextChoices):
        NONE = "", _("No interpreter")
        ON_SITE = "on_site", _("On site")
        REMOTE = "remote", _("Video")
        PHONE = "phone", _("Phone")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="meetings")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    held_on = models.DateField(_("date"))
    purpose = models.CharField(_("purpose"), max_length=200)
    interpreter_language = models.CharField(_("interpreting language"), max_length=3, blank=True)
    interpreter_mode = models.CharField(
        _("interpreting"), max_length=10, choices=InterpreterMode.choices, blank=True, default=""
    )
    interpreter_provider = models.CharField(_("interpreting provider"), max_length=200, blank=True)
    interpreter_minutes = models.PositiveIntegerField(
        _("interpreting minutes"), null=True, blank=True
    )
    interpreter_cost = models.DecimalField(
        _("interpreting cost (€)"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    client_no_show = models.BooleanField(_("the client did not come"), default=False)
    no_show_reason_accepted = models.BooleanField(
        _("acceptable reason for not coming"), default=False
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["client", "-held_on"], name="meeting_client_idx")]

    def __str__(self) -> str:
        return f"{self.held_on} {self.purpose}"

    @property
    def fee_reason(self):
        """Why a missed-appointment fee may be charged (32 a §), or None."""
        return missed_appointment_chargeable(
            no_show=self.client_no_show,
            interpreter_booked=bool(self.interpreter_mode),
            reason_accepted=self.no_show_reason_accepted,
        )
