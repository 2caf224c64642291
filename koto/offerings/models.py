"""Programme services (civic orientation, integration training, literacy training, final
language tests, other services), enrolments with a waiting list, attendance and language
test results."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from koto.assessments.scales import Level, Skill, TargetLanguage
from koto.core import clock
from koto.core.models import TimeStampedModel


class ServiceKind(models.TextChoices):
    CIVIC_ORIENTATION = "civic_orientation", _("Multilingual civic orientation")
    INTEGRATION_TRAINING = "integration_training", _("Integration training")
    LITERACY_TRAINING = "literacy_training", _("Literacy training")
    LANGUAGE_TEST = "language_test", _("Final language test")
    OTHER = "other", _("Other service")


KIND_THEME = {
    ServiceKind.CIVIC_ORIENTATION: "participation",
    ServiceKind.INTEGRATION_TRAINING: "education",
    ServiceKind.LITERACY_TRAINING: "education",
    ServiceKind.LANGUAGE_TEST: "education",
    ServiceKind.OTHER: "employment",
}


class CivicTopic(models.TextChoices):
    """Topics of civic orientation (decree 576/2024)."""

    VALUES_LAW = "values_law", _("Finnish values and law")
    RIGHTS_EQUALITY = "rights_equality", _("Rights and equality")
    GENDER_EQUALITY = "gender_equality", _("Gender equality")
    SERVICES = "services", _("Integration services")
    WORK = "work", _("Work and entrepreneurship")
    STUDIES = "studies", _("Studies")
    CIVIL_SOCIETY = "civil_society", _("Civil society")
    HOUSEHOLD = "household", _("Household economy")
    HISTORY_CULTURE = "history_culture", _("History and culture")


class Track(models.TextChoices):
    STANDARD = "standard", _("Standard track")
    FAST = "fast", _("Fast track")
    SLOW = "slow", _("Slow track")
    LITERACY = "literacy", _("Literacy track")


# Bounds of a service's size: far above any real course (integration training is at most
# some 1 600 hours), and within every database's integer.
MAX_CAPACITY = 10_000
MAX_HOURS = 10_000


class Service(TimeStampedModel):
    producer = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="services",
        verbose_name=_("producer"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=ServiceKind.choices)
    theme = models.CharField(max_length=20, editable=False)
    name_fi = models.CharField(_("name in Finnish"), max_length=200)
    name_sv = models.CharField(_("name in Swedish"), max_length=200, blank=True)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    description_fi = models.TextField(_("description in Finnish"), blank=True)
    description_sv = models.TextField(_("description in Swedish"), blank=True)
    description_en = models.TextField(_("description in English"), blank=True)
    language = models.CharField(_("language of instruction"), max_length=3, blank=True)
    hours = models.PositiveIntegerField(_("hours"), null=True, blank=True)
    topics = models.JSONField(_("topics"), default=list, blank=True)
    track = models.CharField(_("track"), max_length=20, choices=Track.choices, blank=True)
    target_level = models.CharField(
        _("target level"), max_length=4, choices=Level.choices, blank=True
    )
    on_the_job_learning = models.BooleanField(_("on-the-job learning"), default=False)
    capacity = models.PositiveIntegerField(_("capacity"))
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    remote = models.BooleanField(_("remote"), default=False)
    served_municipalities = models.ManyToManyField(
        "organisations.Organisation",
        blank=True,
        related_name="+",
        verbose_name=_("serves municipalities"),
    )
    agreement = models.ForeignKey(
        "organisations.ServiceAgreement", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("under agreement"),
    )  # fmt: skip
    active = models.BooleanField(_("open for enrolment"), default=True)
    # Seats held (offered, accepted, started) and the waiting list's length, recounted by
    # the services under the service row's lock whenever an enrolment changes, so that a
    # catalogue page reads them with the services (`koto.offerings.services.seats_recount`).
    taken = models.PositiveIntegerField(_("places taken"), default=0, db_default=0, editable=False)
    waiting = models.PositiveIntegerField(_("waiting"), default=0, db_default=0, editable=False)
    # Bumped by every change: an edit started from an older version is refused, not written
    # over another manager's change (`services.service_update`).
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)

    class Meta:
        ordering = ["starts_on", "name_fi"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="service_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        lang = (get_language() or "fi")[:2]
        return getattr(self, f"name_{lang}", "") or self.name_fi

    @property
    def description(self) -> str:
        lang = (get_language() or "fi")[:2]
        return getattr(self, f"description_{lang}", "") or self.description_fi


class EnrolmentStatus(models.TextChoices):
    WAITING = "waiting", _("On the waiting list")
    OFFERED = "offered", _("Place offered")
    ACCEPTED = "accepted", _("Place accepted")
    STARTED = "started", _("Attending")
    INTERRUPTED = "interrupted", _("Interrupted")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


SEAT_HOLDING = (EnrolmentStatus.OFFERED, EnrolmentStatus.ACCEPTED, EnrolmentStatus.STARTED)


class Enrolment(TimeStampedModel):
    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = (
        "organisation_id", "service__name", "status", "requested_at", "offered_on", "accepted_on",
        "started_on", "ended_on", "interruption_reason",
    )  # fmt: skip
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="enrolments")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="enrolments"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    plan_action = models.ForeignKey(
        "plans.Action", on_delete=models.SET_NULL, null=True, blank=True, related_name="enrolments"
    )
    status = models.CharField(_("status"), max_length=20, choices=EnrolmentStatus.choices)
    requested_at = models.DateTimeField(default=clock.now)
    offered_on = models.DateField(null=True, blank=True)
    accepted_on = models.DateField(null=True, blank=True)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    interruption_reason = models.CharField(_("reason"), max_length=300, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["requested_at", "id"]
        indexes = [
            models.Index(
                fields=["service", "status", "requested_at"], name="enrolment_service_idx"
            ),
            models.Index(fields=["client", "status"], name="enrolment_client_idx"),
            # the participants in enrolment order, keyset-paged (the service page and its
            # API): a range read of the page, not a sort of all of a big course's enrolments
            models.Index(
                fields=["service", "requested_at", "id"], name="enrolment_participants_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "client"],
                condition=Q(status__in=["waiting", "offered", "accepted", "started"]),
                name="enrolment_one_open_per_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} @ {self.service_id} ({self.status})"

    @property
    def hours_attended(self):
        return sum((a.hours for a in self.attendance.all()), 0)


class Attendance(models.Model):
    """Hours attended on a day, or in a month (`on` = the first day, `monthly` = True)."""

    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("on", "monthly", "hours")

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="attendance")
    on = models.DateField(_("date"))
    monthly = models.BooleanField(_("whole month"), default=False)
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=2)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["on"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "on", "monthly"], name="attendance_unique_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.on} {self.hours}"


class LanguageTestResult(models.Model):
    """A result of the final language test (or another test) per skill, kept on the client."""

    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("taken_on", "language", "skill", "level")

    client = models.ForeignKey(
        "clients.Client", on_delete=models.CASCADE, related_name="language_results"
    )
    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    taken_on = models.DateField(_("taken on"))
    language = models.CharField(_("language"), max_length=2, choices=TargetLanguage.choices)
    skill = models.CharField(_("skill"), max_length=20, choices=Skill.choices)
    level = models.CharField(_("level"), max_length=4, choices=Level.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-taken_on", "language", "skill"]
        indexes = [models.Index(fields=["client", "-taken_on"], name="langresult_client_idx")]
        constraints = [
            # one level per skill of a language in a test day: a level given again corrects
            # the one recorded (`services.language_result_record`), also when two recordings
            # of it arrive at the same moment
            models.UniqueConstraint(
                fields=["client", "taken_on", "language", "skill"],
                name="langresult_one_per_skill_and_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.language} {self.skill} {self.level}"
