"""State compensation screens: expected compensation, the report, KEHA reconciliation and
actual-cost claims. Thin: parse, authorise, call one service or selector, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from koto.audit.services import audit_record
from koto.core import clock
from koto.core.errors import DomainError
from koto.core.forms import apply_domain_errors
from koto.core.pagination import page_at
from koto.core.params import query_choice
from koto.core.text import as_id
from koto.funding import forms, permissions, selectors, services
from koto.funding.compensation import Span
from koto.funding.models import ClaimSection, ClaimStatus
from koto.funding.reconciliation import parse_statement, read_statement, reconcile


def _require(check) -> None:
    if not check:
        raise Http404


def _page(request, template: str, context: dict, *, status: int = 200):
    """A page of the section, with the links of its navigation the viewer may open."""
    user = request.user
    nav = {
        "overview": permissions.can_view_funding(user),
        "report": permissions.can_view_compensation_report(user),
        "reconcile": permissions.can_manage_funding(user),
        "claims": permissions.can_view_funding(user),
    }
    return render(request, template, {**context, "nav": nav}, status=status)


def _chart(months) -> dict:
    """Bars of a simple SVG chart: heights relative to the largest month."""
    top = max((m.amount for m in months), default=0) or 1
    bars = []
    for n, m in enumerate(months):
        h = int(160 * m.amount / top)
        bars.append({"x": 10 + n * 45, "y": 170 - h, "h": h, "m": m})
    return {"bars": bars, "width": 10 + len(months) * 45}


@login_required
def overview(request):
    _require(permissions.can_view_funding(request.user))
    year = clock.today().year
    context = {"year": year, "report": None}
    if permissions.can_manage_funding(request.user):
        # The months the rollup refresh stored, unless asked to compute them now (or none
        # are stored, or they were computed with other amounts): live, Helsinki takes 1.5 s.
        live = query_choice(request, "live", ["1"]) == "1"
        try:
            stored = None if live else selectors.stored_expected_for(user=request.user, year=year)
            if stored is not None:
                report, months = stored, stored.months
            else:
                report = selectors.expected_compensation_for(user=request.user, year=year)
                months = report.months.get(request.user.active_membership.organisation_id, [])
        except DomainError as e:
            context["error"] = e.message
        else:
            context.update(
                report=report,
                months=months,
                chart=_chart(months),
                as_of=stored.computed_at if stored is not None else None,
            )
    return _page(request, "funding/overview.html", context)


@login_required
def report(request):
    _require(permissions.can_view_compensation_report(request.user))
    form = forms.PeriodForm(request.GET or {"year": clock.today().year})
    result = error = None
    if form.is_valid():
        span = Span.of(form.cleaned_data["year"], quarter=form.cleaned_data["quarter"])
        # stored by the rollup refresh unless asked to compute now: live, Helsinki 1.6 s
        live = query_choice(request, "live", ["1"]) == "1"
        try:
            result = selectors.compensation_for(user=request.user, span=span, live=live)
        except DomainError as e:
            error = e.message
    live_query = urlencode(
        {"year": form.data.get("year", ""), "quarter": form.data.get("quarter") or "", "live": 1}
    )
    return _page(
        request,
        "funding/report.html",
        {"form": form, "report": result, "error": error, "live_query": live_query},
    )


@login_required
def reconcile_view(request):
    _require(permissions.can_manage_funding(request.user))
    org = request.user.active_membership.organisation
    form = forms.ReconcileForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            statement = parse_statement(read_statement(form.cleaned_data["file"]))
            result = reconcile(
                organisation=org, year=form.cleaned_data["year"], statement=statement
            )
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            audit_record(
                actor=request.user, action="export", object_type="keha_reconciliation",
                object_id=f"{org.code}-{form.cleaned_data['year']}", listed=result.client_ids(),
            )  # fmt: skip
    return _page(request, "funding/reconcile.html", {"form": form, "result": result})


@login_required
def claim_list(request):
    _require(permissions.can_view_funding(request.user))
    page = page_at(selectors.claim_page_for, request.GET.get("cursor"), user=request.user)
    return _page(
        request,
        "funding/claims.html",
        {"page": page, "can_create": permissions.can_manage_funding(request.user)},
    )


@login_required
def claim_create(request):
    _require(permissions.can_manage_funding(request.user))
    form = forms.ClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            claim = services.claim_create(actor=request.user, **form.cleaned_data)
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            return redirect("funding:claim_detail", claim_id=claim.id)
    return render(
        request,
        "_form_page.html",
        {
            "form": form,
            "title": _("New actual-cost claim"),
            "cancel_url": reverse("funding:claims"),
        },
    )


def _detail_context(request, claim, **forms_):
    lines = selectors.claim_lines_for(user=request.user, claim=claim)
    return {
        "claim": claim,
        "lines": lines,
        "total": sum((ln.amount for ln in lines), 0),
        "attachments": selectors.claim_attachments(claim),
        "can_edit": permissions.can_edit_claim(request.user, claim)
        and claim.status == ClaimStatus.DRAFT,
        "can_decide": permissions.can_decide_claim(request.user, claim)
        and claim.status == ClaimStatus.SUBMITTED,
        "can_mark_paid": permissions.can_edit_claim(request.user, claim)
        and claim.status == ClaimStatus.DECIDED,
        # interpreting costs go on a 65 § claim only (services.claim_gather_interpreting)
        "can_gather": claim.section == ClaimSection.SPECIAL_COSTS,
        "interpreting_warning": services.interpreting_warning(claim),
        "line_form": forms_.get("line_form") or forms.LineForm(),
        "attachment_form": forms_.get("attachment_form") or forms.AttachmentForm(),
        "decision_form": forms_.get("decision_form")
        or forms.DecisionForm(initial={"decided_on": clock.today()}),
        "paid_form": forms_.get("paid_form") or forms.PaidForm(initial={"paid_on": clock.today()}),
    }


@login_required
def claim_detail(request, claim_id: int):
    claim = selectors.claim_get_for(user=request.user, claim_id=claim_id)
    return _page(request, "funding/claim_detail.html", _detail_context(request, claim))


OPERATIONS = {
    "add-line",
    "remove-line",
    "attach",
    "gather-interpreting",
    "submit",
    "decide",
    "paid",
}


@login_required
@require_POST
def claim_act(request, claim_id: int, operation: str):
    if operation not in OPERATIONS:
        raise Http404
    claim = selectors.claim_get_for(user=request.user, claim_id=claim_id)
    actor = request.user
    bound = {}
    try:
        if operation == "add-line":
            form = bound["line_form"] = forms.LineForm(request.POST)
            if form.is_valid():
                services.claim_line_add(actor=actor, claim=claim, **form.cleaned_data)
                messages.success(request, _("Cost line added."))
        elif operation == "remove-line":
            services.claim_line_remove(
                actor=actor, claim=claim, line_id=as_id(request.POST.get("line_id")) or 0
            )
            messages.success(request, _("Cost line removed."))
        elif operation == "attach":
            form = bound["attachment_form"] = forms.AttachmentForm(request.POST, request.FILES)
            if form.is_valid():
                f = form.cleaned_data["file"]
                services.claim_attachment_add(
                    actor=actor, claim=claim, name=f.name,
                    content_type=f.content_type or "", data=services.read_attachment(f),
                )  # fmt: skip
                messages.success(request, _("Attachment added."))
        elif operation == "gather-interpreting":
            n = services.claim_gather_interpreting(actor=actor, claim=claim)
            messages.success(request, _("Interpreting costs added: %(n)s lines.") % {"n": n})
            warning = services.interpreting_warning(claim)
            if warning:
                messages.warning(request, warning)
        elif operation == "submit":
            services.claim_submit(actor=actor, claim=claim)
            messages.success(request, _("The claim was submitted."))
        elif operation == "decide":
            form = bound["decision_form"] = forms.DecisionForm(request.POST)
            if form.is_valid():
                d = form.cleaned_data
                services.claim_decide(
                    actor=actor, claim=claim, approved_amount=d["approved_amount"],
                    decided_on=d["decided_on"], note=d["note"],
                )  # fmt: skip
                messages.success(request, _("The decision was recorded."))
        elif operation == "paid":
            form = bound["paid_form"] = forms.PaidForm(request.POST)
            if form.is_valid():
                services.claim_mark_paid(
                    actor=actor, claim=claim, paid_on=form.cleaned_data["paid_on"]
                )
                messages.success(request, _("The claim was marked paid."))
    except DomainError as e:
        form = next(iter(bound.values()), None)
        if form is None:
            messages.error(request, e.message)
        else:
            apply_domain_errors(form, e)
    if any(f.errors for f in bound.values()):
        claim = selectors.claim_get_for(user=request.user, claim_id=claim_id)
        context = _detail_context(request, claim, **bound)
        _say_errors_of_forms_not_shown(request, claim, bound, context)
        return _page(request, "funding/claim_detail.html", context, status=422)
    return redirect("funding:claim_detail", claim_id=claim.id)


# which flag of `_detail_context` shows each form on the claim's page
FORM_SHOWN_BY = {
    "line_form": "can_edit",
    "attachment_form": "can_edit",
    "decision_form": "can_decide",
    "paid_form": "can_mark_paid",
}


def _say_errors_of_forms_not_shown(request, claim, bound: dict, context: dict) -> None:
    """A form with errors the page given again does not show (the claim was submitted or
    decided meanwhile, in another tab): its errors as messages at the top of the page,
    where they are seen (a form shown says them in its own error summary)."""
    for name, form in bound.items():
        if not form.errors or context[FORM_SHOWN_BY[name]]:
            continue
        said = list(form.non_field_errors())
        if not said:  # only the form's own fields were wrong: say why the form is gone
            said = [
                _("The claim is now “%(status)s”: nothing was saved.")
                % {"status": claim.get_status_display()}
            ]
        for message in said:
            messages.error(request, message)


@login_required
def claim_export(request, claim_id: int):
    claim = selectors.claim_get_for(user=request.user, claim_id=claim_id)
    body = selectors.claim_export_csv(user=request.user, claim=claim)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="claim-{claim.id}.csv"'
    return response


@login_required
def attachment_download(request, claim_id: int, attachment_id: int):
    att = selectors.claim_attachment_get_for(
        user=request.user, claim_id=claim_id, attachment_id=attachment_id
    )
    response = HttpResponse(bytes(att.data), content_type=att.content_type)
    # the name as uploaded, quoted (a `"` or `;` in it broke the header)
    response["Content-Disposition"] = content_disposition_header(True, att.name)
    return response
