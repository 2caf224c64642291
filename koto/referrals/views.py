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
from koto.core import clock
from koto.core.errors import DomainError
from koto.core.forms import apply_domain_errors
from koto.core.pagination import page_at
from koto.referrals import forms, selectors, services
from koto.referrals.models import ReferralKind, ReferralStatus
from koto.referrals.routing import LawRecipient, law_recipient_for, law_recipient_text


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
    choices = _status_choices()
    status = request.GET.get("status") or ""
    if status not in dict(choices):
        status = ""  # a filter edited by hand shows every referral
    cursors = {"in": request.GET.get("in"), "out": request.GET.get("out")}
    read = selectors.referral_list_for
    common = {"user": request.user, "limit": INBOX_PAGE, "status": status or None}
    incoming = page_at(read, cursors["in"], box="incoming", **common)
    outgoing = page_at(read, cursors["out"], box="outgoing", **common)

    def next_url(box: str, cursor: str | None) -> str | None:
        if not cursor:
            return None
        query = {k: v for k, v in cursors.items() if v and k != box}
        if status:
            query["status"] = status
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
            "status": status,
            "status_choices": choices,
        },
    )


def _status_choices() -> list[tuple[str, str]]:
    return [
        ("", _("All")),
        ("open", _("Waiting for an answer")),
        ("overdue", _("Answer overdue")),
        *ReferralStatus.choices,
    ]


@login_required
def create(request, client_id: int):
    org_id = _manager_org(request)
    client = client_get_for(user=request.user, client_id=client_id, purpose="referral")
    # the client page's "Transfer to another municipality" opens this page with the kind
    asked = request.GET.get("kind")
    form = forms.ReferralForm(
        request.POST or None,
        exclude_organisation_id=org_id,
        offer_confirm="confirm_recipient" in request.POST,
        initial={"kind": asked} if asked in ReferralKind.values else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            data = form.cleaned_data
            # the page asks before sending a 9 § contact where the law does not route it
            data["confirm_recipient"] = bool(data.get("confirm_recipient"))
            referral = services.referral_send(actor=request.user, client=client, **data)
        except DomainError as e:
            if "confirm_recipient" in e.fields:
                form.offer_confirmation()
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("The referral was sent."))
            return redirect("referrals:detail", referral_id=referral.id)
    intro = _(
        "Refer the client to another organisation (the duty to refer), or ask it to "
        "assess the client (9 §). The recipient must answer by the response time of the "
        "type; you see the answer in the referral inbox."
    )
    if law := law_recipient_for(client, clock.today()):
        intro += (
            " " + _("A contact asking for an assessment (9 §):") + " " + law_recipient_text(law)
        )
    return render(
        request,
        "_form_page.html",
        {
            "form": form,
            "title": _("Refer %(name)s") % {"name": client.full_name},
            "cancel_url": reverse("clients:detail", args=[client.id]),
            "intro": intro,
            "submit_label": _("Send the referral"),
        },
    )


@login_required
def detail(request, referral_id: int):
    referral = selectors.referral_get_for(user=request.user, referral_id=referral_id)
    if selectors.is_receiver(request.user, referral) and referral.is_new:
        referral = services.referral_receive(actor=request.user, referral=referral)
        # the navigation badge on this very page counts the referral just opened no more
        request.user.active_membership.organisation.refresh_from_db(fields=["referrals_waiting"])
    actions = [
        op for op in ("accept", "decline", "return", "complete", "reopen", "withdraw")
        if services.can_do(request.user, referral, op)
    ]  # fmt: skip
    return render(
        request,
        "referrals/detail.html",
        {
            "referral": referral,
            "steps": selectors.referral_steps(referral),
            "actions": actions,
            "is_receiver": selectors.is_receiver(request.user, referral),
            "took_over": selectors.took_over(request.user, referral),
            "law_note": _law_note(referral),
        },
    )


def _law_note(referral) -> str:
    """Where the law routes a 9 § contact that was sent elsewhere on purpose, or ""."""
    if not referral.law_authority:
        return ""
    return law_recipient_text(LawRecipient(referral.law_authority, referral.law_organisation))


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
            done = services.OPERATIONS[operation](
                actor=request.user,
                referral=referral,
                expected_version=d.get("version"),
                **{text_field: d.get(text_field, "")},
            )
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, DONE[operation]())
            if operation == "reopen" and (note := _law_note(done)):
                messages.warning(request, note)
            return redirect("referrals:detail", referral_id=referral.id)
    intro = None
    if operation == "accept" and referral.kind == "transfer":
        intro = _(
            "Accepting makes the client your organisation's, with you as the counsellor: "
            "their open assessment, plans and deadlines come with them."
        )
    elif operation == "accept" and referral.scope != "none":
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
    return render(request, "referrals/print.html", {"referral": referral})
