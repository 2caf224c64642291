"""The guidance contact log: reason codes, contacts (also anonymous) and partner contacts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from koto.core import clock


class Theme(models.TextChoices):
    """National monitoring themes (docs: vocabularies, "Monitoring themes")."""

    EMPLOYMENT = "employment", _("Employment")
    EDUCATION = "education", _("Education")
    WELLBEING = "wellbeing", _("Health and wellbeing")
    PARTICIPATION = "participation", _("Participation")
    TWO_WAY = "two_way", _("Two-way integration")
    HOUSING = "housing", _("Housing")


class Channel(models.TextChoices):
    VISIT_APPOINTMENT = "visit_appointment", _("Visit by appointment")
    WALK_IN = "walk_in", _("Walk-in visit")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("E-mail")
    OUTREACH = "outreach", _("Outreach")
    VIDEO = "video", _("Video meeting")
    OTHER = "other", _("Other")


# Our channel -> the national (legacy URA) contact-channel code. A phone contact is counted
# as the client's call (31) and an e-mail as the client's e-mail (34): the guidance service
# answers; outreach work has no national code of its own (95 other).
URA_CHANNEL = {
    Channel.VISIT_APPOINTMENT: "35",
    Channel.WALK_IN: "36",
    Channel.PHONE: "31",
    Channel.CHAT: "97",
    Channel.EMAIL: "34",
    Channel.OUTREACH: "95",
    Channel.VIDEO: "20",
    Channel.OTHER: "95",
}


class ContactKind(models.TextChoices):
    CLIENT = "client", _("Client contact")
    PARTNER = "partner", _("Partner contact")


class PartnerType(models.TextChoices):
    AUTHORITY = "authority", _("Authority")
    TRAINER = "trainer", _("Trainer")
    THIRD_SECTOR = "third_sector", _("Third sector")
    EMPLOYER = "employer", _("Company or employer")


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    REFERRED = "referred", _("Referred")


class ReasonCode(models.Model):
    """A reason for contacting the guidance service. The defaults come from
    `koto.guidance.services.DEFAULT_REASONS`; an administrator may add more."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label_fi = models.CharField(_("label in Finnish"), max_length=200)
    label_sv = models.CharField(_("label in Swedish"), max_length=200, blank=True)
    label_en = models.CharField(_("label in English"), max_length=200, blank=True)
    theme = models.CharField(_("monitoring theme"), max_length=20, choices=Theme.choices)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("guidance reason")
        verbose_name_plural = _("guidance reasons")

    def __str__(self) -> str:
        return self.code

    def label(self, language: str | None) -> str:
        lang = (language or "fi")[:2]
        return getattr(self, f"label_{lang}", "") or self.label_fi


class Contact(models.Model):
    """One guidance contact. A client contact is anonymous when `client` is empty: an
    anonymous contact never holds a link to a person (no client, no name, no identifier).
    A partner contact (an authority, trainer, NGO or employer) has a `partner_type`."""

    # Personal data catalogue: which fields are sensitive and which a data-subject export holds.
    SENSITIVE_FIELDS = ()
    # The export holds what the client's own contact was: its date (and its time, which only
    # `time_recorded` makes a real one), the organisation contacted, how and why (the reasons,
    # a many-to-many field) and what came of it. Who logged it and the import key are the
    # organisation's bookkeeping.
    EXPORT_FIELDS = (
        "organisation_id", "contacted_on", "contacted_at", "channel", "language",
        "interpreter_used", "minutes", "reasons", "outcome", "referred_to",
        "referred_to_organisation_id",
    )  # fmt: skip

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    office = models.ForeignKey(
        "organisations.Office", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    logged_at = models.DateTimeField(default=clock.now)
    contacted_at = models.DateTimeField(_("contacted at"), default=clock.now)
    contacted_on = models.DateField(_("date"))
    kind = models.CharField(
        _("kind"), max_length=10, choices=ContactKind.choices, default=ContactKind.CLIENT
    )
    partner_type = models.CharField(
        _("partner type"), max_length=20, choices=PartnerType.choices, blank=True
    )
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="guidance_contacts",
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=3, blank=True)
    interpreter_used = models.BooleanField(_("interpreter used"), default=False)
    minutes = models.PositiveSmallIntegerField(_("minutes"), null=True, blank=True)
    reasons = models.ManyToManyField(ReasonCode, through="ContactReason", related_name="+")
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.ANSWERED
    )
    referred_to_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    referred_to = models.CharField(_("referred to"), max_length=200, blank=True)
    # Idempotent imports: a stable key of the imported row (see koto.guidance.importing).
    import_key = models.CharField(max_length=80, blank=True, default="")

    class Meta:
        ordering = ["-contacted_at", "-id"]
        indexes = [
            models.Index(fields=["organisation", "contacted_on"], name="guidance_contact_org_on"),
            models.Index(fields=["logged_by", "-id"], name="guidance_contact_logger"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="client") & Q(partner_type=""))
                | (Q(kind="partner") & ~Q(partner_type="") & Q(client__isnull=True)),
                name="guidance_contact_kind_partner",
            ),
            models.UniqueConstraint(
                fields=["organisation", "import_key"],
                condition=~Q(import_key=""),
                name="guidance_contact_import_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contacted_on} {self.channel}"

    @property
    def anonymous(self) -> bool:
        return self.kind == ContactKind.CLIENT and self.client_id is None

    @property
    def ura_channel(self) -> str:
        return URA_CHANNEL[self.channel]

    @property
    def time_recorded(self) -> bool:
        """Whether `contacted_at` holds the time of the contact. Only a contact logged on its
        own day is stamped with the time (`services.contact_log`); one logged for an earlier
        day, and every imported one (`import_key`: a file gives dates only), is stamped at
        noon of its date, a time nobody gave."""
        logged_on = self.logged_at.astimezone(clock.HELSINKI).date()
        return not self.import_key and self.contacted_on == logged_on


class ContactReason(models.Model):
    """A reason of a contact, with the contact's organisation, date and kind copied in so
    the report counts reasons from this table alone (one index range, no join)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="reason_rows")
    reason = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, related_name="+")
    organisation_id = models.BigIntegerField()
    contacted_on = models.DateField()
    kind = models.CharField(max_length=10, choices=ContactKind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["contact", "reason"], name="guidance_reason_once")
        ]
        indexes = [
            models.Index(
                fields=["organisation_id", "contacted_on", "reason", "kind"],
                name="guidance_reason_report",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} {self.reason_id}"


class ContactDay(models.Model):
    """Contacts of one organisation on one day with the same kind, partner type, channel
    and anonymity, and their minutes: what the report counts instead of the contacts. Kept
    by `koto.guidance.summary` in the transaction of every contact written; contacts are
    never edited or deleted, so the counts stay exact. The language is counted apart
    (`LanguageDay`): the report shows each breakdown alone, and together they would make
    nearly a row per contact of a mid-size city's day."""

    organisation_id = models.BigIntegerField()
    day = models.DateField()
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    partner_type = models.CharField(max_length=20, blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    anonymous = models.BooleanField()
    contacts = models.PositiveIntegerField()
    minutes = models.PositiveBigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "organisation_id",
                    "day",
                    "kind",
                    "partner_type",
                    "channel",
                    "anonymous",
                ],  # fmt: skip
                name="guidance_contactday_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.day} {self.channel}: {self.contacts}"


class LanguageDay(models.Model):
    """Contacts of one organisation on one day per kind and language. Kept with
    `ContactDay`."""

    organisation_id = models.BigIntegerField()
    day = models.DateField()
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    language = models.CharField(max_length=3, blank=True)
    contacts = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation_id", "day", "kind", "language"],
                name="guidance_languageday_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.day} {self.language}: {self.contacts}"


class ReasonDay(models.Model):
    """Reason mentions of one organisation on one day per reason and kind (a contact with
    two reasons counts under both). Kept with `ContactDay`."""

    organisation_id = models.BigIntegerField()
    day = models.DateField()
    reason = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    contacts = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation_id", "day", "reason", "kind"], name="guidance_reasonday_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.day} {self.reason_id}: {self.contacts}"
