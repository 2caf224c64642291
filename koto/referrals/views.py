"""Referral screens: the inbox (incoming and outgoing), a new referral from a client, the
referral with the actions its state allows, and a printable referral."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from koto.clients.selectors import client_get_for
from koto.core.errors import DomainError
from koto.core.forms import apply_domain_errors
from koto.core.pagination import page_at
from koto.referrals import forms, selectors, services


def _manager_org(request) -> int:
    org_id = selectors.referral_org_of(request.user)
    if org_id is None:
        raise Http404
    return org_id


INBOX_PAGE = 50


@login_required
def inbox(request):
    """Both boxes, newest first, each paged on its own (`in` and `out` hold their cursors), so
    no referral is out of reach however many there are."""
    _manager_org(request)
    cursors = {"in": request.GET.get("in"), "out": request.GET.get("out")}
    read = selectors.referral_list_for
    incoming = page_at(read, cursors["in"], user=request.user, box="incoming", limit=INBOX_PAGE)
    outgoing = page_at(read, cursors["out"], user=request.user, box="outgoing", limit=INBOX_PAGE)

    def next_url(box: str, cursor: str | None) -> str | None:
        if not cursor:
            return None
        query = {k: v for k, v in cursors.items() if v and k != box}
        return "?" + urlencode({**query, box: cursor})

    return render(
        request,
        "referrals/inbox.html",
        {
            "incoming": incoming.items,
            "outgoing": outgoing.items,
            "incoming_next": next_url("in", incoming.next_cursor),
            "outgoing_next": next_url("out", outgoing.next_cursor),
            "new_count": selectors.incoming_new_count(request.user),
        },
    )


@login_required
def create(request, client_id: int):
    org_id = _manager_org(request)
    client = client_get_for(user=request.user, client_id=client_id, purpose="referral")
    form = forms.ReferralForm(request.POST or None, exclude_organisation_id=org_id)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.referral_send(
                actor=request.user, client=client, **form.cleaned_data
            )
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("The referral was sent."))
            return redirect("referrals:detail", referral_id=referral.id)
    return render(
        request,
        "_form_page.html",
        {
            "form": form,
            "title": _("Refer %(name)s") % {"name": client.full_name},
            "cancel_url": reverse("clients:detail", args=[client.id]),
            "intro": _(
                "Refer the client to another organisation (the duty to refer), or ask it to "
                "assess the client (9 §). The recipient must answer by the response time of the "
                "type; you see the answer in the referral inbox."
            ),
            "submit_label": _("Send the referral"),
        },
    )


@login_required
def detail(request, referral_id: int):
    referral = selectors.referral_get_for(user=request.user, referral_id=referral_id)
    if selectors.is_receiver(request.user, referral) and referral.is_new:
        referral = services.referral_receive(actor=request.user, referral=referral)
    actions = [
        op for op in ("accept", "decline", "return", "complete", "reopen", "withdraw")
        if services.can_do(request.user, referral, op)
    ]  # fmt: skip
    return render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "client": referral.client,
            "steps": selectors.referral_steps(referral),
            "actions": actions,
            "is_receiver": selectors.is_receiver(request.user, referral),
        },
    )


ACTION_FORMS = {
    "accept": (forms.AcceptForm, "note", lambda: _("Accept the referral")),
    "decline": (forms.ReasonForm, "reason", lambda: _("Decline the referral")),
    "return": (forms.ReasonForm, "reason", lambda: _("Return the referral")),
    "complete": (forms.CompleteForm, "note", lambda: _("Mark the referral completed")),
    "reopen": (forms.ReopenForm, "comment", lambda: _("Reopen the referral")),
    "withdraw": (forms.ReasonForm, "reason", lambda: _("Withdraw the referral")),
}
DONE = {
    "accept": lambda: _("The referral was accepted."),
    "decline": lambda: _("The referral was declined."),
    "return": lambda: _("The referral was returned."),
    "complete": lambda: _("The referral was completed."),
    "reopen": lambda: _("The referral was reopened and sent again."),
    "withdraw": lambda: _("The referral was withdrawn."),
}


@login_required
def act(request, referral_id: int, operation: str):
    if operation not in ACTION_FORMS:
        raise Http404
    referral = selectors.referral_get_for(
        user=request.user, referral_id=referral_id, purpose=operation
    )
    form_class, text_field, title = ACTION_FORMS[operation]
    form = form_class(request.POST or None, initial={"version": referral.version})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.OPERATIONS[operation](
                actor=request.user,
                referral=referral,
                expected_version=d.get("version"),
                **{text_field: d.get(text_field, "")},
            )
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, DONE[operation]())
            return redirect("referrals:detail", referral_id=referral.id)
    intro = None
    if operation == "accept" and referral.scope != "none":
        intro = _("Your organisation will get this access to the client: %(scope)s.") % {
            "scope": referral.get_scope_display()
        }
    return render(
        request,
        "_form_page.html",
        {
            "form": form,
            "title": title(),
            "intro": intro,
            "cancel_url": reverse("referrals:detail", args=[referral.id]),
            "submit_label": title(),
        },
    )


@login_required
def printable(request, referral_id: int):
    referral = selectors.referral_get_for(
        user=request.user, referral_id=referral_id, purpose="print"
    )
    if not selectors.is_sender(request.user, referral):
        raise Http404
    return render(
        request, "referrals/print.html", {"referral": referral, "client": referral.client}
    )
