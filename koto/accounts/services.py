"""Writes of users, memberships and API tokens. Every write is audited."""

import datetime as dt
import hashlib
import secrets
import unicodedata

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from koto.accounts.models import ApiToken, Membership, User
from koto.accounts.selectors import active_memberships_of
from koto.audit.services import audit_record
from koto.core import clock
from koto.core.errors import NotFound, PermissionDenied, ValidationFailed
from koto.core.roles import KIND_ROLES, Perm, Role, api_tokens_allowed
from koto.core.text import has_control_characters


def _require_org_admin(actor: User, organisation_id: int) -> None:
    m = actor.active_membership
    if m is None or m.organisation_id != organisation_id:
        raise NotFound("organisation")
    if not m.has_perm(Perm.ORG_ADMIN):
        raise PermissionDenied()


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    username: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    preferred_language: str = "fi",
) -> User:
    errors: dict[str, list[str]] = {}
    username = username.strip()
    if not username:
        errors["username"] = [_("This field is required.")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("A user with this username already exists.")]
    # The model's own checks: lengths, the e-mail's form, and a username of letters, digits
    # and @.+-_ only; names without control or text-direction characters (all were accepted).
    for name, value in (("username", username), ("first_name", first_name),
                        ("last_name", last_name), ("email", email)):  # fmt: skip
        if name in errors:
            continue
        try:
            User._meta.get_field(name).clean(value, None)
        except ValidationError as e:
            errors[name] = list(e.messages)
        else:
            if name in ("first_name", "last_name") and has_control_characters(value):
                errors[name] = [_("Names cannot hold control or text-direction characters.")]
    try:
        validate_password(
            password, User(username=username, first_name=first_name, last_name=last_name)
        )
    except ValidationError as e:
        errors["password"] = list(e.messages)
    if errors:
        raise ValidationFailed(errors)
    user = User(
        username=username,
        first_name=first_name,
        last_name=last_name,
        email=email,
        preferred_language=preferred_language,
        # an administrator chose it: changed at the first sign-in
        must_change_password=actor is not None,
    )
    user.set_password(password)
    user.save()
    audit_record(
        actor=actor,
        action="create",
        object_type="user",
        object_id=user.id,
        changes={"username": username},
    )
    return user


@transaction.atomic
def membership_add(
    *, actor: User | None, user: User, organisation, role: str, check: bool = True
) -> Membership:
    if check:
        _require_org_admin(actor, organisation.id)
        if user.id == actor.id:
            # Duties stay separate: an administrator who could give themselves a casework
            # role could open any client in the country (emergency access).
            raise ValidationFailed(
                {"username": _("You cannot give yourself a role: another administrator does.")}
            )
    if role not in Role.values:
        raise ValidationFailed({"role": _("Unknown role.")})
    if role not in KIND_ROLES.get(organisation.kind, ()):
        raise ValidationFailed({"role": _("An organisation of this kind cannot give this role.")})
    membership, created = Membership.objects.get_or_create(
        user=user, organisation=organisation, role=role, defaults={"is_active": True}
    )
    if not created and not membership.is_active:
        membership.is_active = True
        membership.updated_at = clock.now()
        membership.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        action="create" if created else "update",
        object_type="membership",
        object_id=membership.id,
        changes={
            "user": user.username,
            "organisation": organisation.code,
            "role": role,
            "is_active": True,
        },
    )
    return membership


def _same_name(recorded: str, typed: str) -> bool:
    return unicodedata.normalize("NFC", recorded.strip()).casefold() == (
        unicodedata.normalize("NFC", typed.strip()).casefold()
    )


@transaction.atomic
def member_add(
    *, actor: User, organisation, role: str, username: str, existing: bool = False,
    password: str = "", first_name: str = "", last_name: str = "", email: str = "",
) -> Membership:  # fmt: skip
    """Give a role in the organisation to a new user, created with the password the
    administrator chose (both are written or neither), or, when asked for (`existing`), to a
    user Koto already has: a colleague of another organisation or unit, named by username
    and last name as recorded (not a user with none recorded). The username alone attached anyone
    in the country, threw away the names and password typed, and showed any administrator
    whom a username belonged to; now an existing user's name is not shown to one who does
    not know it (that a username is taken, the new user's form has to say)."""
    _require_org_admin(actor, organisation.id)
    username = username.strip()
    if existing:
        typed = {"first_name": first_name, "email": email, "password": password}
        not_for_existing = [name for name, value in typed.items() if value]
        if not_for_existing:
            raise ValidationFailed(
                {name: [_("Leave this empty for an existing user: they keep their own details "
                          "and password.")] for name in not_for_existing}
            )  # fmt: skip
        user = User.objects.filter(username__iexact=username, is_system=False).first()
        # (a user with no last name recorded, such as an account made on the command line,
        # is not given a role by username alone: the same answer as an unknown one)
        if user is None or not user.last_name.strip() or not _same_name(user.last_name, last_name):
            raise ValidationFailed({"username": [_("No user has this username and last name.")]})
        return membership_add(actor=actor, user=user, organisation=organisation, role=role)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed(
            {"username": [_("A user with this username already exists: to give them a role, "
                            "choose “An existing user” and give their last name.")]}
        )  # fmt: skip
    user = user_create(
        actor=actor, username=username, password=password, first_name=first_name,
        last_name=last_name, email=email,
    )  # fmt: skip
    return membership_add(actor=actor, user=user, organisation=organisation, role=role)


@transaction.atomic
def membership_deactivate(*, actor: User, membership: Membership) -> Membership:
    _require_org_admin(actor, membership.organisation_id)
    if membership.user_id == actor.id and membership.role == Role.ORG_ADMIN:
        raise ValidationFailed({"membership": _("You cannot remove your own administrator role.")})
    membership.is_active = False
    membership.updated_at = clock.now()
    membership.save(update_fields=["is_active", "updated_at"])
    audit_record(
        actor=actor,
        action="update",
        object_type="membership",
        object_id=membership.id,
        changes={"is_active": False},
    )
    return membership


@transaction.atomic
def api_token_create(
    *, actor: User, organisation, name: str, role: str = Role.SYSTEM
) -> tuple[ApiToken, str]:
    """Create a token; returns it and the secret, which is shown once and never stored.
    The token works once a manager of the organisation approves it (`api_token_approve`):
    its maker, an administrator, may not read clients, and the token may."""
    _require_org_admin(actor, organisation.id)
    if not api_tokens_allowed(organisation.kind):
        raise ValidationFailed(
            {"__all__": _("An organisation of this kind cannot have API tokens: a token reads, "
                          "creates and edits clients, which its members' roles may not.")}
        )  # fmt: skip
    if not name.strip():
        raise ValidationFailed({"name": _("This field is required.")})
    prefix = secrets.token_hex(4)
    key = f"koto_{prefix}_{secrets.token_urlsafe(32)}"
    system_user = User.objects.create(username=f"api-{organisation.code}-{prefix}", is_system=True)
    system_user.set_unusable_password()
    system_user.save(update_fields=["password"])
    Membership.objects.create(user=system_user, organisation=organisation, role=role)
    token = ApiToken.objects.create(
        organisation=organisation,
        user=system_user,
        name=name.strip(),
        prefix=prefix,
        key_hash=hash_token(key),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="create",
        object_type="api_token",
        object_id=token.id,
        changes={"name": token.name},
    )
    return token, key


# How long an approved token works (a year); then a new one is made and approved.
TOKEN_LIFETIME = dt.timedelta(days=365)


@transaction.atomic
def api_token_approve(*, actor: User, token: ApiToken) -> ApiToken:
    """A manager of the token's organisation, other than the administrator who made it,
    lets the token work: the second pair of eyes on a credential that reads clients."""
    m = actor.active_membership
    if m is None or m.organisation_id != token.organisation_id:
        raise NotFound("token")
    if not m.has_perm(Perm.API_TOKEN_APPROVE):
        raise PermissionDenied()
    locked = ApiToken.objects.select_for_update().get(id=token.id)
    if not api_tokens_allowed(m.organisation.kind):
        # a token made before the rule, in an organisation whose roles may not edit clients
        raise ValidationFailed({"token": _("An organisation of this kind cannot have API "
                                           "tokens; revoke it.")})  # fmt: skip
    if locked.revoked_at is not None:
        raise ValidationFailed({"token": _("The token has been revoked.")})
    if locked.approved_at is not None:
        raise ValidationFailed({"token": _("The token has already been approved.")})
    if locked.created_by_id == actor.id:
        raise ValidationFailed({"token": _("Someone other than the token's maker approves it.")})
    locked.approved_at, locked.approved_by = clock.now(), actor
    locked.expires_at = locked.approved_at + TOKEN_LIFETIME
    locked.save(update_fields=["approved_at", "approved_by", "expires_at"])
    audit_record(
        actor=actor,
        action="update",
        object_type="api_token",
        object_id=locked.id,
        changes={"approved": True, "expires_at": locked.expires_at.isoformat()},
    )
    return locked


@transaction.atomic
def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    """An administrator, or a manager who approves tokens, stops a token for good."""
    m = actor.active_membership
    if m is None or m.organisation_id != token.organisation_id:
        raise NotFound("token")
    if not (m.has_perm(Perm.ORG_ADMIN) or m.has_perm(Perm.API_TOKEN_APPROVE)):
        raise PermissionDenied()
    token.revoked_at = clock.now()
    token.save(update_fields=["revoked_at"])
    Membership.objects.filter(user=token.user).update(is_active=False)
    audit_record(
        actor=actor,
        action="update",
        object_type="api_token",
        object_id=token.id,
        changes={"revoked": True},
    )
    return token


# "Last used" is kept to the minute: a system calling many times a second would otherwise
# write the token's row (and queue on its lock) on every request.
TOKEN_USE_RESOLUTION = dt.timedelta(minutes=1)


def api_token_authenticate(key: str) -> User | None:
    """The system user behind a valid, approved, unrevoked, unexpired token, with its
    membership attached."""
    try:
        _, prefix, _rest = key.split("_", 2)
    except ValueError:
        return None
    now = clock.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(
            prefix=prefix, revoked_at__isnull=True, approved_at__isnull=False, expires_at__gt=now
        )
        .first()
    )
    if token is None or not secrets.compare_digest(token.key_hash, hash_token(key)):
        return None
    user = token.user
    if not user.is_active:  # as the sign-in page refuses an inactive user
        return None
    # the token's system user has one membership, in the token's organisation; read with
    # its organisation and reach (one query)
    memberships = [
        m for m in active_memberships_of(user_id=user.id) if m.organisation_id == token.organisation_id
    ]  # fmt: skip
    if not memberships or not api_tokens_allowed(memberships[0].organisation.kind):
        return None  # (the latter: a token made before the rule, in an NGO, say)
    for m in memberships:
        m.user = user
    user.active_memberships = memberships
    user.active_membership = memberships[0]
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION:
        ApiToken.objects.filter(id=token.id).update(last_used_at=now)
    return user


def password_change_check(*, user: User, new_password: str) -> None:
    """The rules of a user's own new password: the password validators, and not the one
    they have (a member whose password an administrator chose kept it by typing it again,
    and the administrator went on knowing it). Raises `ValidationFailed` naming
    `new_password1`."""
    if user.check_password(new_password):
        raise ValidationFailed(
            {"new_password1": [_("Choose a new password, not the one you have now.")]}
        )
    try:
        validate_password(new_password, user)
    except ValidationError as e:
        raise ValidationFailed({"new_password1": list(e.messages)}) from e


@transaction.atomic
def password_change(*, user: User, new_password: str, reason: str = "") -> User:
    """The user's own new password (the old one checked by the caller's form), checked by
    `password_change_check`; the "must change" mark goes. Audited without the password
    (`reason` "admin" through the admin site)."""
    password_change_check(user=user, new_password=new_password)
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    audit_record(
        actor=user, action="update", object_type="user", object_id=user.id,
        reason=reason, changes={"password": "changed"},
    )  # fmt: skip
    return user


@transaction.atomic
def password_set(*, actor: User | None, user: User, new_password: str) -> User:
    """A password chosen for the user by someone else (`manage.py changepassword`: `actor`
    None, the operating-system user named): validated, audited without the password, and
    the user changes it at the next sign-in, as a new member does."""
    try:
        validate_password(new_password, user)
    except ValidationError as e:
        raise ValidationFailed({"password": list(e.messages)}) from e
    user.set_password(new_password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    audit_record(
        actor=actor, action="update", object_type="user", object_id=user.id,
        changes={"password": "set", "must_change_password": True},
    )  # fmt: skip
    return user
