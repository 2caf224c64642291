"""Municipal placement (kuntaan ohjaaminen): the yearly agreements on places between a
municipality and the regional State authority (ELY centre until 2025, vitality centre from
2026), the individual placements from proposal to arrival, the welfare region's statements,
the initial health-check referral and the care of unaccompanied minors."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from koto.clients.models import Relation, ResidenceBasis
from koto.core import clock
from koto.core.models import TimeStampedModel


class PlaceCategory(models.TextChoices):
    QUOTA_REFUGEE = "quota_refugee", _("Quota refugees")
    INTERNATIONAL_PROTECTION = (
        "international_protection",
        _("Other beneficiaries of international protection"),
    )
    UNACCOMPANIED_MINOR = "unaccompanied_minor", _("Unaccompanied minors")


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")
    REVISED = "revised", _("Revised")


class PlacementAgreement(TimeStampedModel):
    """The places a municipality agrees with the regional State authority for one year.
    `version` grows at every change (places, signing, revision): signing or revising needs a
    welfare-region consultation recorded on the current version, i.e. after the last change."""

    municipality = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="placement_agreements",
        verbose_name=_("municipality"),
    )
    authority = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("regional State authority"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    places_quota_refugee = models.PositiveIntegerField(_("places for quota refugees"), default=0)
    places_international_protection = models.PositiveIntegerField(
        _("places for other beneficiaries of international protection"), default=0
    )
    places_unaccompanied_minor = models.PositiveIntegerField(
        _("places for unaccompanied minors"), default=0
    )
    status = models.CharField(
        _("status"), max_length=10, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    revised_on = models.DateField(_("revised on"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-year", "municipality__name_fi"]
        verbose_name = _("placement agreement")
        verbose_name_plural = _("placement agreements")
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "year"], name="placement_agreement_one_per_year"
            ),
        ]
        indexes = [
            models.Index(fields=["authority", "year"], name="placement_agr_authority_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.municipality} {self.year}"

    def places_for(self, category: str) -> int:
        return getattr(self, f"places_{category}")


class WelfareConsultation(models.Model):
    """The welfare region's statement, on an agreement (before signing or revising it) or on
    one placement with evident social or health needs (before accepting it)."""

    agreement = models.ForeignKey(
        PlacementAgreement,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="consultations",
    )
    agreement_version = models.PositiveIntegerField(null=True, blank=True)
    placement = models.ForeignKey(
        "Placement",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="consultations",
    )
    welfare_region = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("welfare region"),
    )
    consulted_on = models.DateField(_("consulted on"))
    statement = models.TextField(_("statement"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name = _("welfare-region consultation")
        verbose_name_plural = _("welfare-region consultations")
        constraints = [
            models.CheckConstraint(
                condition=(Q(agreement__isnull=False) & Q(placement__isnull=True))
                | (Q(agreement__isnull=True) & Q(placement__isnull=False)),
                name="consultation_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.welfare_region_id} {self.consulted_on}"


class PlacementSource(models.TextChoices):
    RECEPTION_CENTRE = "reception_centre", _("Reception centre")
    QUOTA = "quota", _("Refugee quota")


class PlacementStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    HOUSING_RESERVED = "housing_reserved", _("Housing reserved")
    SUPPORTED_HOUSING_REQUESTED = (
        "supported_housing_requested",
        _("Supported housing requested"),
    )
    ARRIVED = "arrived", _("Arrived")
    CANCELLED = "cancelled", _("Cancelled")


class Placement(TimeStampedModel):
    """One proposal of a person or a family to a municipality, through to their arrival."""

    SENSITIVE_FIELDS = ("evident_welfare_needs", "welfare_needs_note")

    authority = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("regional State authority"),
    )
    municipality = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="placements",
        verbose_name=_("municipality"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    category = models.CharField(_("category"), max_length=30, choices=PlaceCategory.choices)
    source = models.CharField(_("coming from"), max_length=20, choices=PlacementSource.choices)
    source_detail = models.CharField(
        _("reception centre or quota selection"), max_length=200, blank=True
    )
    status = models.CharField(
        _("status"),
        max_length=30,
        choices=PlacementStatus.choices,
        default=PlacementStatus.PROPOSED,
    )
    proposed_on = models.DateField(_("proposed on"))
    evident_welfare_needs = models.BooleanField(
        _("evident social or health care needs"), default=False
    )
    welfare_needs_note = models.TextField(_("about the needs"), blank=True)
    decided_on = models.DateField(_("answered on"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    housing_address = models.CharField(_("housing address"), max_length=200, blank=True)
    housing_on = models.DateField(_("housing available from"), null=True, blank=True)
    supported_housing_note = models.TextField(_("supported housing needed"), blank=True)
    arrived_on = models.DateField(_("arrived on"), null=True, blank=True)
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-proposed_on", "-id"]
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        indexes = [
            models.Index(fields=["authority", "status", "-id"], name="placement_authority_idx"),
            models.Index(
                fields=["municipality", "status", "-id"], name="placement_municipality_idx"
            ),
            models.Index(fields=["municipality", "year", "category"], name="placement_year_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.municipality_id} {self.year} {self.category} #{self.id}"


class PlacementPerson(models.Model):
    """A person in a placement: they become a client of the municipality on arrival."""

    SENSITIVE_FIELDS = ()
    EXPORT_FIELDS = (
        "first_name", "last_name", "birth_date", "gender", "residence_basis", "first_permit_on",
        "mother_tongue", "relation", "placement__municipality_id", "placement__status",
        "placement__proposed_on", "placement__decided_on", "placement__decline_reason",
        "placement__housing_address", "placement__housing_on", "placement__arrived_on",
        "placement__evident_welfare_needs", "placement__welfare_needs_note",
    )  # fmt: skip

    class Role(models.TextChoices):
        MAIN = "main", _("Main person")
        SPOUSE = Relation.SPOUSE.value, Relation.SPOUSE.label
        CHILD = Relation.CHILD.value, Relation.CHILD.label
        PARENT = Relation.PARENT.value, Relation.PARENT.label
        SIBLING = Relation.SIBLING.value, Relation.SIBLING.label
        OTHER = Relation.OTHER.value, Relation.OTHER.label

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="persons")
    first_name = models.CharField(_("first names"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    birth_date = models.DateField(_("birth date"))
    gender = models.CharField(_("gender"), max_length=10, default="unknown")
    residence_basis = models.CharField(
        _("residence basis"), max_length=40, choices=ResidenceBasis.choices
    )
    first_permit_on = models.DateField(_("residence permit granted on"), null=True, blank=True)
    mother_tongue = models.CharField(_("mother tongue"), max_length=3, blank=True)
    relation = models.CharField(
        _("relation to the main person"), max_length=20, choices=Role.choices, default=Role.MAIN
    )
    client = models.OneToOneField(
        "clients.Client",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="placement_person",
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("person in a placement")
        verbose_name_plural = _("persons in a placement")

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name}"


class HealthCheckReferral(models.Model):
    """The initial health check the welfare region does after arrival (a simple record here;
    cross-organisation referrals live in `koto.referrals`)."""

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        DONE = "done", _("Done")

    placement = models.OneToOneField(
        Placement, on_delete=models.CASCADE, related_name="health_check"
    )
    welfare_region = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("welfare region"),
    )
    sent_on = models.DateField(_("sent on"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SENT
    )
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        verbose_name = _("initial health-check referral")
        verbose_name_plural = _("initial health-check referrals")

    def __str__(self) -> str:
        return f"{self.placement_id} → {self.welfare_region_id}"


class HousingForm(models.TextChoices):
    FAMILY_GROUP_HOME = "family_group_home", _("Family group home")
    SUPPORTED_HOUSING = "supported_housing", _("Supported housing")
    FAMILY_CARE = "family_care", _("Family care")
    PRIVATE_ACCOMMODATION = (
        "private_accommodation",
        _("Private accommodation checked by the welfare region"),
    )


class MinorCare(TimeStampedModel):
    """An unaccompanied minor's housing, representative and support for adulthood. The
    representative acts until 18; the support for adulthood ends on the date `koto.law` gives."""

    SENSITIVE_FIELDS = ()
    EXPORT_FIELDS = (
        "housing_form", "representative_name", "representative_contact", "representative_from",
        "representative_to", "after_care_plan_on", "after_care_plan_ends_on", "support_ends_on",
    )  # fmt: skip

    client = models.OneToOneField(
        "clients.Client", on_delete=models.CASCADE, related_name="minor_care"
    )
    placement = models.ForeignKey(
        Placement, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    housing_form = models.CharField(
        _("form of housing"), max_length=30, choices=HousingForm.choices, blank=True
    )
    representative_name = models.CharField(_("representative"), max_length=200, blank=True)
    representative_contact = models.CharField(
        _("representative's contact details"), max_length=200, blank=True
    )
    representative_from = models.DateField(_("representative from"), null=True, blank=True)
    representative_to = models.DateField(_("representative until"), null=True, blank=True)
    after_care_plan_on = models.DateField(
        _("adulthood-support plan made on"), null=True, blank=True
    )
    after_care_plan_ends_on = models.DateField(
        _("adulthood-support plan ends on"), null=True, blank=True
    )
    support_ends_on = models.DateField(_("support for adulthood ends on"), null=True, blank=True)
    turns_18_on = models.DateField(_("turns 18 on"))
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["turns_18_on", "id"]
        verbose_name = _("unaccompanied minor's care")
        verbose_name_plural = _("unaccompanied minors' care")

    def __str__(self) -> str:
        return f"{self.client_id}"
