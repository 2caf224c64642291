"""The integration plan (kotoutumissuunnitelma): goals with agreed actions, reviews,
extensions with a stated reason, the client's acknowledgement, and its end."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from koto.core import clock
from koto.core.models import TimeStampedModel


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("In force")
    ENDED = "ended", _("Ended")
    CANCELLED = "cancelled", _("Cancelled")


class Outcome(models.TextChoices):
    EMPLOYED = "employed", _("Employed")
    STUDYING = "studying", _("Studying")
    EMPLOYMENT_PLAN = "employment_plan", _("Continues with an employment plan")
    MOVED_AWAY = "moved_away", _("Moved away")
    OTHER = "other", _("Other")


class GoalArea(models.TextChoices):
    LANGUAGE = "language", _("Language")
    WORK = "work", _("Work")
    STUDIES = "studies", _("Studies")
    EVERYDAY_LIFE = "everyday_life", _("Everyday life")
    PARENTING = "parenting", _("Parenting")
    HEALTH = "health", _("Health")
    PARTICIPATION = "participation", _("Participation")


# Every goal area is tagged with a national monitoring theme (vocabularies.md).
AREA_THEME = {
    GoalArea.LANGUAGE: "education",
    GoalArea.WORK: "employment",
    GoalArea.STUDIES: "education",
    GoalArea.EVERYDAY_LIFE: "housing",
    GoalArea.PARENTING: "wellbeing",
    GoalArea.HEALTH: "wellbeing",
    GoalArea.PARTICIPATION: "participation",
}


class Responsible(models.TextChoices):
    CLIENT = "client", _("Client")
    COUNSELLOR = "counsellor", _("Counsellor")
    OTHER_ORGANISATION = "other_organisation", _("Another organisation")


class AckMethod(models.TextChoices):
    SIGNATURE = "signature", _("Signature")
    ORAL = "oral", _("Orally, recorded by the counsellor")
    ELECTRONIC = "electronic", _("Electronically")


class ExtensionReason(models.TextChoices):
    ILLITERACY = "illiteracy", _("Illiteracy or limited literacy")
    PARENTAL_LEAVE = "parental_leave", _("Parental leave")
    ILLNESS = "illness", _("Illness")
    MILITARY_SERVICE = "military_service", _("Military or non-military service")
    OTHER = "other", _("Other special reason")


class IntegrationPlan(TimeStampedModel):
    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = (
        "organisation_id", "kind", "status", "starts_on", "ends_on", "agreed_on", "end_limit_on",
        "acknowledged_on", "acknowledgement_method", "ended_on", "outcome", "outcome_note",
        "handover_summary",
    )  # fmt: skip

    class Kind(models.TextChoices):
        BASIC = "basic", _("Basic")
        MULTISECTORAL = "multisectoral", _("Multi-sectoral")

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="plans")
    assessment = models.ForeignKey(
        "assessments.Assessment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plans",
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.BASIC)
    status = models.CharField(
        _("status"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    is_first = models.BooleanField(_("first plan"), default=True)
    months_used_before = models.PositiveSmallIntegerField(_("months of earlier plans"), default=0)
    first_plan_started_on = models.DateField(_("first plan started on"), null=True, blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    agreed_on = models.DateField(_("agreed on"), null=True, blank=True)
    end_limit_on = models.DateField(_("latest end by law"), null=True, blank=True)
    acknowledged_on = models.DateField(_("acknowledged on"), null=True, blank=True)
    acknowledgement_method = models.CharField(
        _("acknowledgement method"), max_length=20, choices=AckMethod.choices, blank=True
    )
    acknowledgement_interpreter_language = models.CharField(
        _("interpreting language at acknowledgement"), max_length=3, blank=True
    )
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("outcome note"), blank=True)
    handover_summary = models.TextField(_("summary for the employment plan"), blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("integration plan")
        verbose_name_plural = _("integration plans")
        indexes = [
            models.Index(fields=["client", "status"], name="plan_client_status_idx"),
            models.Index(fields=["organisation", "status"], name="plan_org_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_on or ''}"

    @property
    def extension_months(self) -> int:
        return sum(e.months for e in self.extensions.all())


class Goal(models.Model):
    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("area", "description")
    plan = models.ForeignKey(IntegrationPlan, on_delete=models.CASCADE, related_name="goals")
    area = models.CharField(_("area"), max_length=20, choices=GoalArea.choices)
    theme = models.CharField(max_length=20, editable=False)
    description = models.TextField(_("goal"))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description[:60]


class Action(models.Model):
    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = (
        "what", "responsible", "responsible_organisation_id", "service_name", "planned_on",
        "done_on",
    )  # fmt: skip
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="actions")
    what = models.CharField(_("what"), max_length=300)
    responsible = models.CharField(
        _("who is responsible"), max_length=20, choices=Responsible.choices
    )
    responsible_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    planned_on = models.DateField(_("planned for"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    service_name = models.CharField(_("linked service"), max_length=200, blank=True)

    class Meta:
        ordering = ["planned_on", "id"]

    def __str__(self) -> str:
        return self.what


class Extension(models.Model):
    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = (
        "months", "reason", "reason_note", "previous_ends_on", "new_ends_on", "decided_on",
    )  # fmt: skip
    plan = models.ForeignKey(IntegrationPlan, on_delete=models.CASCADE, related_name="extensions")
    months = models.PositiveSmallIntegerField(_("months"))
    reason = models.CharField(_("reason"), max_length=20, choices=ExtensionReason.choices)
    reason_note = models.TextField(_("explanation"))
    previous_ends_on = models.DateField()
    new_ends_on = models.DateField()
    decided_on = models.DateField(_("decided on"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["decided_on", "id"]

    def __str__(self) -> str:
        return f"+{self.months} ({self.reason})"


class Review(models.Model):
    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("reviewed_on", "notes", "welfare_region_took_part")
    plan = models.ForeignKey(IntegrationPlan, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField(_("reviewed on"))
    notes = models.TextField(_("notes"))
    welfare_region_took_part = models.BooleanField(_("the welfare region took part"), default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.reviewed_on}"


class PlanPdf(models.Model):
    """A PDF of the plan for the client, rendered by the task worker; its download is
    audited as a read."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being generated")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    plan = models.ForeignKey(IntegrationPlan, on_delete=models.CASCADE, related_name="pdfs")
    languages = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    content = models.BinaryField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=clock.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.languages} {self.status}"
