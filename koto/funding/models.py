"""State compensation: the yearly amounts an administrator keeps (calculated compensation
from 2025) and actual-cost claims (64, 65, 68, 69 §) with their lines and attachments."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from koto.core.models import TimeStampedModel


class Recipient(models.TextChoices):
    MUNICIPALITY = "municipality", _("Municipality")
    MUNICIPALITY_ALAND = "municipality_aland", _("Åland municipality")
    WELFARE_REGION = "welfare_region", _("Welfare region (and Helsinki)")


class AgeBandCode(models.TextChoices):
    UNDER_7 = "under_7", _("under 7 years")
    SEVEN_OR_OVER = "7_or_over", _("7 years or over")


UNCONFIRMED_SOURCE = "not confirmed — set by government decree; enter the source"


class CompensationRate(TimeStampedModel):
    """Calculated compensation per person per year, for years whose amounts `koto.law`'s
    parameters do not hold (2025 onwards). Unconfirmed until an administrator enters the
    source and ticks `confirmed`."""

    year = models.PositiveSmallIntegerField(_("year"))
    recipient = models.CharField(_("recipient"), max_length=30, choices=Recipient.choices)
    age_band = models.CharField(_("age band"), max_length=20, choices=AgeBandCode.choices)
    annual_amount = models.DecimalField(_("annual amount (€)"), max_digits=10, decimal_places=2)
    source = models.CharField(_("source"), max_length=500, default=UNCONFIRMED_SOURCE)
    confirmed = models.BooleanField(
        _("confirmed"),
        default=False,
        help_text=_("Tick only when the amount has been checked against the source entered."),
    )

    class Meta:
        ordering = ["year", "recipient", "age_band"]
        verbose_name = _("compensation rate")
        verbose_name_plural = _("compensation rates")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "recipient", "age_band"], name="funding_rate_unique"
            ),
            models.CheckConstraint(
                condition=Q(annual_amount__gte=0), name="funding_rate_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.recipient} {self.age_band}: {self.annual_amount}"


class ClaimSection(models.TextChoices):
    RECEPTION_PREPAREDNESS = "64", _("64 § Reception preparedness")
    SPECIAL_COSTS = "65", _("65 § Special costs")
    TRAFFICKING_VICTIMS = "68", _("68 § Services for victims of human trafficking")
    UNACCOMPANIED_MINORS = "69", _("69 § Housing and support of unaccompanied minors")


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    DECIDED = "decided", _("Decided")
    PAID = "paid", _("Paid")


class Claim(TimeStampedModel):
    """A claim for actual costs, decided by the regional State authority (ELY centre, from
    2026 the vitality centre) and paid by KEHA."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="funding_claims",
        verbose_name=_("claimant"),
    )
    authority = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="funding_claims_to_decide",
        verbose_name=_("regional State authority"),
    )
    section = models.CharField(_("section"), max_length=2, choices=ClaimSection.choices)
    period_start = models.DateField(_("period starts"))
    period_end = models.DateField(_("period ends"))
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT
    )
    submitted_on = models.DateField(_("submitted on"), null=True, blank=True)
    approved_amount = models.DecimalField(
        _("approved amount (€)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(_("decision note"), blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-period_start", "-id"]
        verbose_name = _("actual-cost claim")
        verbose_name_plural = _("actual-cost claims")
        indexes = [
            models.Index(fields=["organisation", "status"], name="claim_org_status_idx"),
            models.Index(fields=["authority", "status"], name="claim_authority_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="claim_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_section_display()} {self.period_start}–{self.period_end}"


class ClaimLine(models.Model):
    """One cost. Personal data: the client link (sensitive: says the person was served)."""

    SENSITIVE_FIELDS = ("client_id",)
    EXPORT_FIELDS = ("description", "amount", "occurred_on")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(_("description"), max_length=300)
    amount = models.DecimalField(_("amount (€)"), max_digits=12, decimal_places=2)
    occurred_on = models.DateField(_("date"), null=True, blank=True)
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("client"),
    )
    meeting = models.ForeignKey(
        "clients.Meeting", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["occurred_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "meeting"],
                condition=Q(meeting__isnull=False),
                name="claim_line_meeting_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.description} {self.amount}"


class ClaimAttachment(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    data = models.BinaryField()
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class StoredFigures(models.Model):
    """Calculated compensation of one organisation (a municipality or a welfare region) as
    the last rollup refresh computed it (`koto.insights`, run by the task worker), so that
    pages read these instead of streaming every candidate client on each request.
    `rates_key` fingerprints the amounts and rules used, `organisation_key` the
    municipalities paying into the organisation, so a changed amount or a programme
    switched off makes the stored figures stale at once."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    year = models.PositiveSmallIntegerField()
    persons = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    rates_key = models.CharField(max_length=64)
    organisation_key = models.CharField(max_length=64)
    computed_at = models.DateTimeField()

    class Meta:
        abstract = True


class ExpectedMonth(StoredFigures):
    """One month's (the overview, the API's months)."""

    month = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["organisation", "year", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year", "month"], name="funding_expected_month_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.year}-{self.month:02d}: {self.amount}"


class ExpectedPeriod(StoredFigures):
    """A whole year's (`quarter` 0) or one of its quarters' (the report, the API), beside
    the months; `persons` are the persons paid in the period, not the sum of the months'."""

    quarter = models.PositiveSmallIntegerField()  # 0: the whole year
    kind = models.CharField(max_length=24)  # the recipient kind of the report's row

    class Meta:
        ordering = ["organisation", "year", "quarter"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "year", "quarter"], name="funding_expected_period_once"
            ),
            models.CheckConstraint(
                condition=models.Q(quarter__lte=4), name="funding_expected_period_quarter"
            ),
        ]
        indexes = [models.Index(fields=["year", "quarter"], name="funding_period_year_q")]

    def __str__(self) -> str:
        return f"{self.organisation_id} {self.year} Q{self.quarter}: {self.amount}"
