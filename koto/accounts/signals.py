"""Sign-in events the pages do not see: a failed sign-in (any form: the sign-in page, the
admin site), a sign-in and a sign-out through the admin site. All are audited, as the sign-in
page's own sign-in and sign-out are."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from koto.accounts.models import User
from koto.accounts.throttling import unknown_username_failures
from koto.audit.services import audit_record


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # The username typed is not kept (a password typed into it by mistake would be): the
    # user it names, when one does, and whether one did.
    # A try refused by a limit reached before it (`accounts.throttling`) is refused
    # unchecked and not recorded: not one chained audit event more at every try, which
    # anyone could send without end. django-axes has counted it (its receiver runs first: its
    # app comes first).
    if request is not None and getattr(request, "koto_login_refused", False):
        return
    username = (credentials or {}).get("username") or ""
    user = User.objects.filter(username__iexact=username).only("id").first() if username else None
    changes = {"known_user": user is not None}
    if user is None and request is not None and hasattr(request, "axes_ip_address"):
        # Usernames nobody has are recorded one by one up to a few from an address within
        # the window; the next one says the rest are not (anyone could otherwise grow the
        # trail without end by typing ever new usernames). Tries at a real user are recorded.
        unknown = unknown_username_failures(request)
        limit = settings.LOGIN_UNKNOWN_USERNAME_AUDITS
        if unknown > limit + 1:
            return
        if unknown == limit + 1:
            changes["further_unknown_not_recorded"] = True
    audit_record(
        actor=None, action="login_failed", object_type="user",
        object_id=user.id if user else "", changes=changes,
    )  # fmt: skip


@receiver(user_logged_in)
def audit_other_login(sender, request, user, **kwargs):
    if request is not None and getattr(request, "koto_login_audited", False):
        return  # the sign-in page records it, with the membership chosen
    audit_record(actor=user, action="login", object_type="user", object_id=user.id)


@receiver(user_logged_out)
def audit_other_logout(sender, request, user, **kwargs):
    if user is None or (request is not None and getattr(request, "koto_logout_audited", False)):
        return  # no one was signed in, or the sign-out page recorded it
    audit_record(actor=user, action="logout", object_type="user", object_id=user.id)
