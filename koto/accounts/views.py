from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import LoginView
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from koto.accounts import services as account_services
from koto.accounts.forms import MemberAddForm, TokenAddForm
from koto.accounts.models import ApiToken, Membership
from koto.accounts.selectors import (
    active_membership_for,
    active_memberships_of,
    memberships_of_organisation,
)
from koto.accounts.services import (
    api_token_approve,
    api_token_create,
    api_token_revoke,
    membership_deactivate,
)
from koto.audit.services import audit_record
from koto.core.errors import DomainError
from koto.core.roles import Perm
from koto.core.text import as_id


class KotoLoginView(LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        self.request.koto_login_audited = True  # recorded below (`accounts.signals`)
        response = super().form_valid(form)
        user = self.request.user
        user.active_membership = active_membership_for(user=user, membership_id=None)
        if user.active_membership:
            self.request.session["membership_id"] = user.active_membership.id
        audit_record(actor=user, action="login", object_type="user", object_id=user.id)
        return response


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        audit_record(
            actor=request.user, action="logout", object_type="user", object_id=request.user.id
        )
        request.koto_logout_audited = True  # not again by `accounts.signals`
    logout(request)
    return redirect("accounts:login")


@login_required
@require_POST
def membership_switch(request):
    # one of the memberships the request acts through may be chosen: active, of an
    # organisation that has not ended
    chosen = as_id(request.POST.get("membership_id"))
    memberships = getattr(request.user, "active_memberships", None)
    if memberships is None:
        memberships = active_memberships_of(user_id=request.user.id)
    m = next((x for x in memberships if x.id == chosen), None)
    if m is None:
        raise Http404
    request.session["membership_id"] = m.id
    return redirect("clients:my_clients")


def _membership_with(request, perm: str) -> Membership:
    """The request's membership when it has `perm`; 404 otherwise (as for a page that is not)."""
    m = request.user.active_membership
    if m is None or not m.has_perm(perm):
        raise Http404
    return m


def _org_admin_membership(request) -> Membership:
    return _membership_with(request, Perm.ORG_ADMIN)


@login_required
def organisation_admin(request):
    m = _org_admin_membership(request)
    return render(
        request,
        "accounts/organisation_admin.html",
        {
            "organisation": m.organisation,
            "members": memberships_of_organisation(organisation_id=m.organisation_id).filter(
                user__is_system=False
            ),
            "tokens": ApiToken.objects.filter(organisation=m.organisation),
            "member_form": MemberAddForm(kind=m.organisation.kind),
            "token_form": TokenAddForm(),
        },
    )


@login_required
@sensitive_post_parameters("password")
def member_add(request):
    m = _org_admin_membership(request)
    form = MemberAddForm(request.POST or None, kind=m.organisation.kind)
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        existing = d.pop("user_kind")
        try:
            membership = account_services.member_add(
                actor=request.user, organisation=m.organisation, existing=existing, **d
            )
        except DomainError as e:
            for name, msgs in e.fields.items():
                for msg in msgs:
                    form.add_error(name if name in form.fields else None, msg)
        else:
            if existing:
                user = membership.user
                messages.success(
                    request,
                    _("Role %(role)s given to %(name)s (%(username)s).")
                    % {"role": membership.get_role_display(), "username": user.username,
                       "name": user.get_full_name() or user.username},
                )  # fmt: skip
            else:
                messages.success(request, _("Member added."))
            return redirect("accounts:organisation_admin")
    return render(
        request, "accounts/member_add.html", {"form": form, "organisation": m.organisation}
    )


@login_required
@require_POST
def member_deactivate(request, membership_id: int):
    m = _org_admin_membership(request)
    target = get_object_or_404(Membership, id=membership_id, organisation=m.organisation)
    try:
        membership_deactivate(actor=request.user, membership=target)
    except DomainError as e:
        messages.error(request, e.message if not e.fields else " ".join(sum(e.fields.values(), [])))
    else:
        messages.success(request, _("Membership ended."))
    return redirect("accounts:organisation_admin")


@login_required
def token_add(request):
    m = _org_admin_membership(request)
    form = TokenAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, key = api_token_create(
                actor=request.user, organisation=m.organisation, name=form.cleaned_data["name"]
            )
        except DomainError as e:
            for name, msgs in e.fields.items():
                for msg in msgs:
                    form.add_error(name if name in form.fields else None, msg)
        else:
            return render(request, "accounts/token_created.html", {"token": token, "key": key})
    return render(request, "accounts/token_add.html", {"form": form})


def _token_approver_membership(request) -> Membership:
    return _membership_with(request, Perm.API_TOKEN_APPROVE)


@login_required
def tokens(request):
    """A manager's view of the organisation's API tokens: approve those waiting, revoke any."""
    m = _token_approver_membership(request)
    return render(
        request,
        "accounts/tokens.html",
        {
            "organisation": m.organisation,
            "tokens": ApiToken.objects.filter(organisation=m.organisation).select_related(
                "created_by", "approved_by"
            ),
        },
    )


@login_required
@require_POST
def token_approve(request, token_id: int):
    m = _token_approver_membership(request)
    token = get_object_or_404(ApiToken, id=token_id, organisation=m.organisation)
    try:
        api_token_approve(actor=request.user, token=token)
    except DomainError as e:
        messages.error(request, " ".join(sum(e.fields.values(), [])) or e.message)
    else:
        messages.success(request, _("Token approved: it works from now on."))
    return redirect("accounts:tokens")


@login_required
@require_POST
def token_revoke(request, token_id: int):
    m = request.user.active_membership
    if m is None or not (m.has_perm(Perm.ORG_ADMIN) or m.has_perm(Perm.API_TOKEN_APPROVE)):
        raise Http404
    token = get_object_or_404(ApiToken, id=token_id, organisation=m.organisation)
    api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("Token revoked."))
    return redirect(
        "accounts:organisation_admin" if m.has_perm(Perm.ORG_ADMIN) else "accounts:tokens"
    )


@login_required
@sensitive_post_parameters()
def password_change(request):
    """The user's own password: the old one, then the new one twice. A member whose
    password an administrator chose is sent here until they change it."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.password_change(
                user=request.user, new_password=form.cleaned_data["new_password1"]
            )
        except DomainError as e:
            for name, msgs in e.fields.items():
                for msg in msgs:
                    form.add_error(name if name in form.fields else None, msg)
        else:
            update_session_auth_hash(request, request.user)  # stays signed in here
            messages.success(request, _("Password changed."))
            return redirect("clients:my_clients")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "required": request.user.must_change_password},
    )
