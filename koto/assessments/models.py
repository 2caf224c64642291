"""The competence and integration service-needs assessment (osaamisen ja kotoutumisen
palvelutarpeen arviointi, 681/2023): initial interview, skills, background, conclusion."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from koto.assessments.scales import Level, Skill, TargetLanguage
from koto.core.models import TimeStampedModel


class Assessment(TimeStampedModel):
    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = (
        "organisation_id", "kind", "trigger", "trigger_note", "started_on", "status", "interview_on",
        "interview_language", "interpreter_used", "literacy", "education_level", "education_field",
        "education_years", "education_country", "recognition_needed", "occupation", "work_years",
        "goals", "family_situation", "childcare_needed", "housing", "welfare_needs_flag",
        "welfare_needs_details", "plan_needed", "conclusion", "completed_on",
    )  # fmt: skip

    class Kind(models.TextChoices):
        BASIC = "basic", _("Basic")
        MULTISECTORAL = "multisectoral", _("Multi-sectoral")

    class Trigger(models.TextChoices):
        CLIENT_REQUEST = "client_request", _("Client's request")
        INTAKE = "intake", _("Intake (client of the service)")
        AUTHORITY_CONTACT = "authority_contact", _("Contact from another authority (9 §)")

    class Status(models.TextChoices):
        STARTED = "started", _("Started")
        COMPLETED = "completed", _("Completed")

    class Literacy(models.TextChoices):
        LATIN = "latin", _("Reads and writes the Latin alphabet")
        OTHER_SCRIPT = "other_script", _("Reads and writes another script only")
        LIMITED = "limited", _("Limited literacy")
        NONE = "none", _("Not literate")
        UNKNOWN = "unknown", _("Not assessed")

    class EducationLevel(models.TextChoices):
        """National education level 2016 (= ISCED 2011), first digit."""

        NONE = "0", _("No formal education")
        PRIMARY = "1", _("Primary education")
        LOWER_SECONDARY = "2", _("Lower secondary")
        UPPER_SECONDARY = "3", _("Upper secondary")
        POST_SECONDARY = "4", _("Post-secondary non-tertiary")
        SHORT_TERTIARY = "5", _("Short-cycle tertiary")
        BACHELOR = "6", _("Bachelor's or equivalent")
        MASTER = "7", _("Master's or equivalent")
        DOCTORAL = "8", _("Doctoral or equivalent")
        UNKNOWN = "9", _("Not known")

    # Personal data catalogue (see architecture: export and erasure are built from these).
    SENSITIVE_FIELDS = ("welfare_needs_details", "welfare_needs_flag")

    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="assessments"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.BASIC)
    law_proposed_multisectoral = models.BooleanField(
        _("the law proposes multi-sectoral"), default=False
    )
    trigger = models.CharField(_("started by"), max_length=30, choices=Trigger.choices)
    trigger_note = models.CharField(_("who made contact"), max_length=200, blank=True)
    started_on = models.DateField(_("started on"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.STARTED
    )
    interview_on = models.DateField(_("initial interview on"), null=True, blank=True)
    interview_language = models.CharField(_("interview language"), max_length=3, blank=True)
    interpreter_used = models.BooleanField(_("interpreter used"), default=False)
    literacy = models.CharField(
        _("literacy"), max_length=20, choices=Literacy.choices, default=Literacy.UNKNOWN
    )
    education_level = models.CharField(
        _("education level"),
        max_length=1,
        choices=EducationLevel.choices,
        default=EducationLevel.UNKNOWN,
    )
    education_field = models.CharField(_("field of education"), max_length=200, blank=True)
    education_years = models.PositiveSmallIntegerField(
        _("years of education"), null=True, blank=True
    )
    education_country = models.CharField(_("country of education"), max_length=2, blank=True)
    recognition_needed = models.BooleanField(
        _("recognition of qualifications needed"), default=False
    )
    occupation = models.CharField(_("occupation"), max_length=200, blank=True)
    work_years = models.PositiveSmallIntegerField(
        _("years of work experience"), null=True, blank=True
    )
    goals = models.TextField(_("client's goals"), blank=True)
    family_situation = models.TextField(_("family and childcare situation"), blank=True)
    childcare_needed = models.BooleanField(_("needs childcare"), default=False)
    housing = models.TextField(_("housing"), blank=True)
    welfare_needs_flag = models.BooleanField(_("health or social needs"), default=False)
    welfare_needs_details = models.TextField(
        _("health and social needs (welfare region only)"), blank=True
    )
    plan_needed = models.BooleanField(_("integration plan needed"), null=True, blank=True)
    conclusion = models.TextField(_("conclusion"), blank=True)
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-started_on", "-id"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        indexes = [
            models.Index(fields=["client", "-started_on"], name="assessment_client_idx"),
            models.Index(fields=["organisation", "status"], name="assessment_org_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_on}"


class LanguageSkill(models.Model):
    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("language", "skill", "level")
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="skills")
    language = models.CharField(_("language"), max_length=2, choices=TargetLanguage.choices)
    skill = models.CharField(_("skill"), max_length=20, choices=Skill.choices)
    level = models.CharField(_("level"), max_length=4, choices=Level.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "language", "skill"], name="skill_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.language} {self.skill} {self.level}"


class Measure(models.Model):
    """A further measure of the assessment (a test, a work try-out...)."""

    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("kind", "description", "planned_on", "done_on", "result")

    class Kind(models.TextChoices):
        LANGUAGE_TEST = "language_test", _("Language test")
        SKILLS_TEST = "skills_test", _("Skills assessment")
        WORK_TRYOUT = "work_tryout", _("Work try-out")
        OTHER = "other", _("Other")

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="measures")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    description = models.CharField(_("description"), max_length=300)
    planned_on = models.DateField(_("planned on"), null=True, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=300, blank=True)

    class Meta:
        ordering = ["planned_on", "id"]

    def __str__(self) -> str:
        return self.description
