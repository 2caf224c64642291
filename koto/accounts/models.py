"""Users, their memberships in organisations (with a role), and API tokens for systems."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from koto.core import clock
from koto.core.models import TimeStampedModel
from koto.core.roles import Role, role_has


class User(AbstractUser):
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=5,
        choices=[("fi", _("Finnish")), ("sv", _("Swedish")), ("en", _("English"))],
        default="fi",
    )
    is_system = models.BooleanField(_("system account"), default=False)
    # Set when an administrator chose the password (a new member): the user changes it at
    # the next sign-in, so the administrator does not go on knowing it.
    must_change_password = models.BooleanField(_("must change password"), default=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    # Set per request by ActiveMembershipMiddleware or the API's token authentication.
    active_membership = None

    def has_perm_in_org(self, perm: str) -> bool:
        m = self.active_membership
        return m is not None and role_has(m.role, perm)


class Membership(TimeStampedModel):
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=40, choices=Role.choices)
    office = models.ForeignKey(
        "organisations.Office",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("office"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["organisation__name_fi", "role"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.get_role_display()})"

    def has_perm(self, perm: str) -> bool:
        return self.is_active and role_has(self.role, perm)


class ApiToken(models.Model):
    """A per-organisation token for a system; the secret is shown once and stored hashed."""

    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("organisation"),
    )
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="api_token")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    # Four eyes: the administrator who makes a token cannot read clients; the token can, so
    # it works only once a manager of the organisation (not its maker) approves it.
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # A token works for a year from its approval (`TOKEN_LIFETIME`), then is refused as a
    # revoked one is: a key copied somewhere years ago does not work for ever. Renewing is
    # making a new token (approved anew) and revoking the old one.
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= clock.now()
