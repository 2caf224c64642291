"""Organisations that take part in integration work, their offices, employment areas and
service agreements."""

import datetime as dt

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from koto.core.models import TimeStampedModel


class OrganisationKind(models.TextChoices):
    MUNICIPALITY = "municipality", _("Municipality")
    EMPLOYMENT_AUTHORITY = "employment_authority", _("Employment authority")
    WELFARE_REGION = "welfare_region", _("Welfare region")
    REGIONAL_STATE_AUTHORITY = "regional_state_authority", _("Regional State authority")
    KEHA = "keha", _("KEHA centre")
    KELA = "kela", _("Kela")
    MIGRI = "migri", _("Finnish Immigration Service")
    NGO = "ngo", _("NGO")
    EDUCATIONAL_INSTITUTION = "educational_institution", _("Educational institution")
    OTHER = "other", _("Other")


#: The State's authorities, whose staff see the whole country's figures (dashboards, the
#: compensation report): the ELY / vitality centres and KEHA.
NATIONAL_KINDS = (OrganisationKind.REGIONAL_STATE_AUTHORITY, OrganisationKind.KEHA)
# Who assesses the competence and integration service needs and draws up the integration plan
# (681/2023: the municipality, or the employment authority for a jobseeker); the welfare
# region takes part in a multi-sectoral one, others are referred to.
ASSESSING_KINDS = (OrganisationKind.MUNICIPALITY, OrganisationKind.EMPLOYMENT_AUTHORITY)


class Organisation(TimeStampedModel):
    """An authority or other body. A municipality carries its official 3-digit code and its
    welfare region; a regional State authority is an ELY centre until 2025 and a vitality
    centre from 2026 (`valid_from`/`valid_to`, `successors`)."""

    code = models.CharField(_("code"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=40, choices=OrganisationKind.choices)
    name_fi = models.CharField(_("name in Finnish"), max_length=200)
    name_sv = models.CharField(_("name in Swedish"), max_length=200, blank=True)
    name_en = models.CharField(_("name in English"), max_length=200, blank=True)
    municipality_code = models.CharField(
        _("municipality code"),
        max_length=3,
        blank=True,
        help_text=_("Official 3-digit code"),
        # "91" is not Helsinki's "091": the national lists and the Koto-AJ export key on it
        validators=[RegexValidator(r"^[0-9]{3}$", _("Enter the official 3-digit code, e.g. 091."))],
    )
    welfare_region = models.ForeignKey(
        "self",
        verbose_name=_("welfare region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="member_municipalities",
        limit_choices_to={"kind": OrganisationKind.WELFARE_REGION},
    )
    region_code = models.CharField(_("region (maakunta) code"), max_length=2, blank=True)
    regional_state_authority = models.ForeignKey(
        "self",
        verbose_name=_("regional State authority"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    successors = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="predecessors"
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    has_integration_programme = models.BooleanField(
        _("has an integration programme (13 §)"), default=True
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    # Referrals sent to the organisation that nobody there has opened yet: kept by
    # koto.referrals (recounted on every change), read by the navigation badge with the
    # membership's organisation, so a page pays no query for it.
    referrals_waiting = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["kind", "name_fi"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="municipality") | ~Q(municipality_code=""),
                name="municipality_has_code",
            ),
        ]
        indexes = [models.Index(fields=["kind", "municipality_code"], name="org_kind_code_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        lang = (get_language() or "fi")[:2]
        return getattr(self, f"name_{lang}", "") or self.name_fi

    def is_valid_on(self, on: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on <= self.valid_to
        )


class Office(TimeStampedModel):
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="offices",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=200)
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    municipality = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality"),
        limit_choices_to={"kind": OrganisationKind.MUNICIPALITY},
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("office")
        verbose_name_plural = _("offices")

    def __str__(self) -> str:
        return self.name


class EmploymentArea(TimeStampedModel):
    """A cooperation area of municipalities organising public employment services
    (työllisyysalue): the authority, its responsible municipality and its members."""

    authority = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        related_name="employment_area",
        verbose_name=_("employment authority"),
        limit_choices_to={"kind": OrganisationKind.EMPLOYMENT_AUTHORITY},
    )
    responsible_municipality = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responsible_for_areas",
        verbose_name=_("responsible municipality"),
    )
    members = models.ManyToManyField(
        Organisation, related_name="employment_areas", verbose_name=_("member municipalities")
    )
    status = models.CharField(_("data status"), max_length=60, blank=True)
    source = models.CharField(_("source"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("employment area")
        verbose_name_plural = _("employment areas")

    def __str__(self) -> str:
        return self.authority.name


class AgreementScope(models.TextChoices):
    INTEGRATION_SERVICES = "integration_services", _("Integration services")
    GUIDANCE = "guidance", _("Guidance and counselling")
    EMPLOYMENT_SERVICES = "employment_services", _("Employment services")


class ServiceAgreement(TimeStampedModel):
    """`producer` produces services of `scope` for `purchaser`'s residents, e.g. Lahti produces
    integration services for the other Päijät-Häme municipalities. The producer then sees the
    purchaser's clients."""

    producer = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="agreements_as_producer",
        verbose_name=_("producer"),
    )
    purchaser = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="agreements_as_purchaser",
        verbose_name=_("purchaser"),
    )
    scope = models.CharField(_("scope"), max_length=40, choices=AgreementScope.choices)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["producer__name_fi", "purchaser__name_fi"]
        verbose_name = _("service agreement")
        verbose_name_plural = _("service agreements")
        constraints = [
            models.CheckConstraint(
                condition=~Q(producer=models.F("purchaser")), name="agreement_two_parties"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="agreement_dates_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.producer} → {self.purchaser} ({self.get_scope_display()})"
