"""Sign-in events the pages do not see: a failed sign-in (any form: the sign-in page, the
admin site), a sign-in and a sign-out through the admin site. All are audited, as the sign-in
page's own sign-in and sign-out are."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from koto.accounts.models import User
from koto.audit.services import audit_record


@receiver(user_login_failed)
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # The username typed is not kept (a password typed into it by mistake would be): the
    # user it names, when one does, and whether one did.
    # The tries past the one that locked the username out are refused unchecked (django-axes
    # counts them, before this receiver: its app comes first): not one chained audit event
    # more at every try, which anyone could send without end.
    if getattr(request, "axes_failures_since_start", 0) > settings.AXES_FAILURE_LIMIT:
        return
    username = (credentials or {}).get("username") or ""
    user = User.objects.filter(username__iexact=username).only("id").first() if username else None
    audit_record(
        actor=None, action="login_failed", object_type="user",
        object_id=user.id if user else "", changes={"known_user": user is not None},
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
