"""Referrals between organisations (the duty to refer; contacts under 9 § that ask for an
assessment): sent → received → accepted | declined → completed, or returned; reopened with a
comment. A referral to an organisation that is not on Koto names an external recipient and is
printed. Every step is kept in `ReferralStep`, so a referral is never lost between two
organisations."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from koto.core import clock
from koto.core.models import TimeStampedModel

CONTACT_KEYS = ("phone", "email", "street_address", "postal_code", "post_office")


def shared_copy(client, *, include_identity_code: bool, include_contact_details: bool) -> dict:
    """The client's details a referral shares, as they are now: name, birth date and the
    interpreting language (when the client needs an interpreter), plus the identity code and
    contact details only when the sender includes them. Nothing else of the record."""
    copy = {
        "first_name": client.first_name,
        "last_name": client.last_name,
        "birth_date": client.birth_date.isoformat() if client.birth_date else None,
        "interpreter_language": (
            (client.interpreter_language or client.mother_tongue or "")
            if client.interpreter_needed
            else ""
        ),
    }
    if include_identity_code:
        copy["identity_code"] = client.identifier or ""
    if include_contact_details:
        copy["contact"] = {key: getattr(client, key) or "" for key in CONTACT_KEYS}
    return copy


class ReferralKind(models.TextChoices):
    ASSESSMENT_CONTACT_9 = (
        "assessment_contact_9",
        _("Contact asking for an assessment (9 §)"),
    )
    EMPLOYMENT_SERVICES = "employment_services", _("Employment services")
    WELFARE_SERVICES = "welfare_services", _("Social and health services")
    INTEGRATION_TRAINING = "integration_training", _("Integration training")
    GUIDANCE = "guidance", _("Guidance and counselling")
    OTHER = "other", _("Other")
    # the client moved: on acceptance the receiving organisation takes the client over
    TRANSFER = "transfer", _("Transfer of the client (moved)")


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    RECEIVED = "received", _("Received")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    RETURNED = "returned", _("Returned")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AccessScope(models.TextChoices):
    """What the receiving organisation may do with the client once it accepts."""

    NONE = "none", _("No access to the client's records")
    READ = "read", _("Read the client's records")
    FULL = "full", _("Read and write the client's records")


class Referral(TimeStampedModel):
    # Personal data catalogue (see clients.Client): the message and reasons may hold any detail.
    # `shared` is the copy of the client's details the recipient sees (see `shared_copy`).
    SENSITIVE_FIELDS = ("message", "decision_reason", "external_contact", "shared")
    EXPORT_FIELDS = (
        "kind", "scope", "status", "from_organisation_id", "to_organisation_id", "external_name",
        "message", "shared", "sent_at", "due_on", "received_at", "accepted_at", "declined_at",
        "returned_at", "completed_at", "reopened_at", "withdrawn_at", "decision_reason",
        "transferred_from_id",
    )  # fmt: skip

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="referrals")
    from_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("referring organisation"),
    )
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("receiving organisation"),
    )
    external_name = models.CharField(_("recipient not on Koto"), max_length=200, blank=True)
    external_contact = models.TextField(_("recipient's address and contact details"), blank=True)
    kind = models.CharField(_("type"), max_length=30, choices=ReferralKind.choices)
    scope = models.CharField(
        _("access on acceptance"),
        max_length=10,
        choices=AccessScope.choices,
        default=AccessScope.NONE,
    )
    message = models.TextField(_("message"))
    include_identity_code = models.BooleanField(_("include the identity code"), default=False)
    include_contact_details = models.BooleanField(_("include contact details"), default=False)
    # What the referral shares of the client, copied when it is sent (`shared_copy`): the
    # recipient sees this, never the live record (a later address, a corrected identity
    # code are the record keeper's to pass on, by a new referral).
    shared = models.JSONField(_("details shared"), default=dict, blank=True, editable=False)
    # A contact asking for an assessment (9 §) sent on purpose to another authority than the
    # one koto.law makes responsible: where the law routed it, for both sides to see.
    law_authority = models.CharField(
        _("responsible authority under the law"), max_length=30, blank=True, editable=False
    )
    law_organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("responsible organisation under the law"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    sent_at = models.DateTimeField(_("sent"), default=clock.now)
    due_on = models.DateField(_("answer due"))
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined"), null=True, blank=True)
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    reopened_at = models.DateTimeField(_("reopened"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handled by"),
    )
    decision_reason = models.TextField(_("reason"), blank=True)
    # An accepted transfer: the organisation responsible for the client until then (the
    # sender, or the one whose records the sender kept). The dashboards count the client's
    # months before the move there (`koto.insights.rollups`).
    transferred_from = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("responsible organisation before the transfer"),
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            models.Index(fields=["to_organisation", "-id"], name="referral_to_idx"),
            models.Index(fields=["from_organisation", "-id"], name="referral_from_idx"),
            models.Index(fields=["to_organisation", "status"], name="referral_to_status_idx"),
            # the accepted transfers, the clients' history of responsibility the rollups read
            models.Index(
                fields=["client", "accepted_at"],
                condition=models.Q(kind="transfer", accepted_at__isnull=False),
                name="referral_transfer_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_organisation__isnull=False) | ~Q(external_name=""),
                name="referral_has_recipient",
            ),
            models.CheckConstraint(
                condition=Q(to_organisation__isnull=True) | Q(external_name=""),
                name="referral_one_recipient",
            ),
            models.CheckConstraint(
                condition=Q(to_organisation__isnull=False) | Q(scope="none"),
                name="referral_external_no_access",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.kind} → {self.recipient_label}"

    @property
    def is_external(self) -> bool:
        return self.to_organisation_id is None

    @property
    def recipient_label(self) -> str:
        return self.to_organisation.name if self.to_organisation_id else self.external_name

    @property
    def is_open(self) -> bool:
        """Waiting for the recipient's answer (accept, decline or return)."""
        return self.status in (ReferralStatus.SENT, ReferralStatus.RECEIVED)

    @property
    def shows_included_details(self) -> bool:
        """The identity code and contact details the sender included are shown while the
        referral is in hand (sent, received, accepted); once it is declined, returned,
        completed or withdrawn the recipient no longer sees them."""
        return self.status in (
            ReferralStatus.SENT,
            ReferralStatus.RECEIVED,
            ReferralStatus.ACCEPTED,
        )

    # What the recipient sees of the client: the copy taken when the referral was sent.

    @property
    def shared_name(self) -> str:
        return " ".join(
            p for p in (self.shared.get("first_name"), self.shared.get("last_name")) if p
        )

    @property
    def shared_last_first(self) -> str:
        return ", ".join(
            p for p in (self.shared.get("last_name"), self.shared.get("first_name")) if p
        )

    @property
    def shared_birth_date(self) -> dt.date | None:
        value = self.shared.get("birth_date")
        return dt.date.fromisoformat(value) if value else None

    @property
    def shared_interpreter_language(self) -> str:
        """The language to interpret in when the client needs an interpreter, else ""."""
        return self.shared.get("interpreter_language") or ""

    @property
    def shared_identity_code(self) -> str | None:
        """The identity code the sender included, while the referral is in hand."""
        if self.include_identity_code and self.shows_included_details:
            return self.shared.get("identity_code") or ""
        return None

    @property
    def shared_contact(self) -> dict | None:
        """The contact details the sender included, while the referral is in hand."""
        if self.include_contact_details and self.shows_included_details:
            contact = self.shared.get("contact") or {}
            return {key: contact.get(key, "") for key in CONTACT_KEYS}
        return None

    @property
    def overdue(self) -> bool:
        return self.is_open and clock.today() > self.due_on

    @property
    def is_new(self) -> bool:
        return self.status == ReferralStatus.SENT


class ReferralStep(models.Model):
    """One step of a referral's life, with who took it and why: the referral's own history."""

    # Personal data catalogue (see clients.Client): what a data-subject export holds.
    EXPORT_FIELDS = ("at", "organisation_id", "to_status", "note")

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField(default=clock.now)
    operation = models.CharField(max_length=20)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=ReferralStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("referral step")
        verbose_name_plural = _("referral steps")

    def __str__(self) -> str:
        return f"{self.referral_id} {self.operation} → {self.to_status}"
