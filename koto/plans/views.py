"""Integration plan screens and "my work"."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse
from django.middleware.csp import get_nonce
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from koto.assessments.services import responsible_authority_warning
from koto.clients.permissions import can_edit_client
from koto.clients.selectors import client_get_for
from koto.core import clock
from koto.core.errors import DomainError
from koto.core.forms import apply_domain_errors
from koto.core.pagination import page_at
from koto.core.params import query_choice
from koto.plans import forms, pdfs, selectors, services
from koto.plans.document_build import languages_for, plan_document
from koto.plans.documents import render_plan_html
from koto.plans.models import Action, Goal, PlanStatus


def _form_page(request, form, title, cancel_url, **extra):
    return render(
        request,
        "_form_page.html",
        {"form": form, "title": title, "cancel_url": cancel_url, **extra},
    )


def _editable_plan(request, plan_id: int):
    plan = selectors.plan_get_for(user=request.user, plan_id=plan_id, purpose="edit")
    if not can_edit_client(request.user, plan.client):
        raise Http404
    return plan


def _run(request, form, call, success: str, plan_id: int):
    """Call a service with the form's data; on a domain error show it on the form."""
    try:
        call()
    except DomainError as e:
        apply_domain_errors(form, e)
        return None
    messages.success(request, success)
    return redirect("plans:detail", plan_id=plan_id)


@login_required
def create(request, client_id: int):
    client = client_get_for(user=request.user, client_id=client_id, purpose="plan")
    if not can_edit_client(request.user, client):
        raise Http404
    assessment = selectors.plan_basis(client)
    kind = assessment.kind if assessment else "basic"
    form = forms.PlanForm(request.POST or None, initial={"kind": kind, "starts_on": clock.today()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            plan = services.plan_create(
                actor=request.user, client=client, kind=d["kind"], assessment=assessment,
                starts_on=d["starts_on"], ends_on=d["ends_on"],
            )  # fmt: skip
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            return redirect("plans:detail", plan_id=plan.id)
    return _form_page(
        request, form, _("New integration plan: %(name)s") % {"name": client.full_name},
        reverse("clients:detail", args=[client.id]),
        intro=_plan_intro(request.user, client, assessment),
    )  # fmt: skip


def _plan_intro(user, client, assessment=None) -> str:
    """The durations the law gives this client's plans (the old Act's for plans begun
    under it), for a first plan a warning when the window for one has ended, a warning
    when the law gives the plan to the other authority, and the assessment the plan is
    based on (or that its latest assessment found no plan needed: the plan is refused)."""
    rules = services.new_plan_rules(client, clock.today())
    intro = _(
        "The first plan lasts at most %(first)s months and all plans together at most "
        "%(total)s months; Koto checks the dates against the law."
    ) % {"first": rules.first_max_months, "total": rules.total_max_months}
    if rules.window_ended_on:
        intro += " " + _(
            "The client's window for a first plan ended on %(end)s: a plan begun now is "
            "outside the entitlement."
        ) % {"end": formats.date_format(rules.window_ended_on, "SHORT_DATE_FORMAT")}
    if other := responsible_authority_warning(
        client, clock.today(), user.active_membership.organisation
    ):
        intro += " " + other
    if assessment is not None:
        completed = formats.date_format(assessment.completed_on, "SHORT_DATE_FORMAT")
        if assessment.plan_needed is True:
            intro += " " + _("The plan is based on the assessment completed on %(date)s.") % {
                "date": completed
            }
        else:
            intro += " " + _(
                "The client's latest assessment, completed on %(date)s, concluded that no "
                "integration plan is needed: a plan needs an assessment that finds one needed."
            ) % {"date": completed}
    return intro


@login_required
def detail(request, plan_id: int):
    plan = selectors.plan_get_for(user=request.user, plan_id=plan_id)
    full = selectors.plan_with_contents(plan)
    full.client = plan.client
    prefetch_related_objects([plan.client], "enrolments__service", "enrolments__attendance")
    return render(
        request,
        "plans/detail.html",
        {
            "plan": full,
            "client": plan.client,
            "can_edit": can_edit_client(request.user, plan.client)
            and plan.status in (PlanStatus.DRAFT, PlanStatus.ACTIVE),
            "pdfs": plan.pdfs.defer("content")[:5],
            "doc_languages": languages_for(plan),
        },
    )


@login_required
def edit(request, plan_id: int):
    plan = _editable_plan(request, plan_id)
    form = forms.PlanForm(
        request.POST or None,
        editing=True,
        initial={
            "kind": plan.kind,
            "starts_on": plan.starts_on,
            "ends_on": plan.ends_on,
            "version": plan.version,
        },
    )
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        version = d.pop("version")
        done = _run(
            request,
            form,
            lambda: services.plan_update(
                actor=request.user, plan=plan, data=d, expected_version=version
            ),
            _("Changes saved."),
            plan.id,
        )
        if done:
            return done
    return _form_page(
        request, form, _("Plan dates and kind"), reverse("plans:detail", args=[plan.id])
    )


@login_required
def goal_add(request, plan_id: int):
    plan = _editable_plan(request, plan_id)
    form = forms.GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _run(
            request,
            form,
            lambda: services.goal_add(actor=request.user, plan=plan, **form.cleaned_data),
            _("Goal added."),
            plan.id,
        )
        if done:
            return done
    return _form_page(request, form, _("Add a goal"), reverse("plans:detail", args=[plan.id]))


@login_required
def action_add(request, plan_id: int, goal_id: int):
    plan = _editable_plan(request, plan_id)
    goal = Goal.objects.filter(plan=plan, pk=goal_id).first()
    if goal is None:
        raise Http404
    goal.plan = plan
    form = forms.ActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _run(
            request,
            form,
            lambda: services.action_add(actor=request.user, goal=goal, **form.cleaned_data),
            _("Action added."),
            plan.id,
        )
        if done:
            return done
    return _form_page(
        request,
        form,
        _("Add an action: %(goal)s") % {"goal": goal.description[:60]},
        reverse("plans:detail", args=[plan.id]),
    )


@login_required
def action_done(request, plan_id: int, action_id: int):
    plan = _editable_plan(request, plan_id)
    action = Action.objects.filter(goal__plan=plan, pk=action_id).select_related("goal").first()
    if action is None:
        raise Http404
    action.goal.plan = plan
    form = forms.DoneForm(request.POST or None, initial={"done_on": clock.today()})
    if request.method == "POST" and form.is_valid():
        done = _run(
            request,
            form,
            lambda: services.action_mark_done(
                actor=request.user, action=action, **form.cleaned_data
            ),
            _("Marked done."),
            plan.id,
        )
        if done:
            return done
    return _form_page(
        request,
        form,
        _("Mark done: %(what)s") % {"what": action.what},
        reverse("plans:detail", args=[plan.id]),
    )


def _simple(request, plan_id, form_class, initial, title, call, success, submit=None):
    plan = _editable_plan(request, plan_id)
    form = form_class(request.POST or None, initial={**initial, "version": plan.version})
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        version = d.pop("version", None)
        done = _run(request, form, lambda: call(plan, d, version), success, plan.id)
        if done:
            return done
    return _form_page(
        request, form, title, reverse("plans:detail", args=[plan.id]), submit_label=submit
    )


@login_required
def activate(request, plan_id: int):
    return _simple(
        request, plan_id, forms.ActivateForm, {"agreed_on": clock.today()}, _("Agree the plan with the client"),
        lambda plan, d, v: services.plan_activate(actor=request.user, plan=plan, expected_version=v, **d),
        _("The plan is in force."), _("Put the plan in force"),
    )  # fmt: skip


@login_required
def acknowledge(request, plan_id: int):
    return _simple(
        request, plan_id, forms.AcknowledgeForm, {"acknowledged_on": clock.today()}, _("Client's acknowledgement"),
        lambda plan, d, v: services.plan_acknowledge(actor=request.user, plan=plan, expected_version=v, **d),
        _("Acknowledgement recorded."),
    )  # fmt: skip


@login_required
def cancel(request, plan_id: int):
    """Cancel a draft started by mistake (it was possible only through the API): the client
    can then have the right plan drafted; a cancelled plan counts no months."""
    return _simple(
        request, plan_id, forms.CancelForm, {}, _("Cancel the draft plan"),
        lambda plan, d, v: services.plan_cancel(actor=request.user, plan=plan, expected_version=v),
        _("The draft plan was cancelled."), _("Cancel the draft plan"),
    )  # fmt: skip


@login_required
def extend(request, plan_id: int):
    return _simple(
        request, plan_id, forms.ExtendForm, {"decided_on": clock.today()}, _("Extend the plan"),
        lambda plan, d, v: services.plan_extend(actor=request.user, plan=plan, expected_version=v, **d), _("The plan was extended."),
    )  # fmt: skip


@login_required
def review(request, plan_id: int):
    return _simple(
        request, plan_id, forms.ReviewForm, {"reviewed_on": clock.today()}, _("Review the plan"),
        lambda plan, d, v: services.plan_review(actor=request.user, plan=plan, **d), _("Review recorded."),
    )  # fmt: skip


@login_required
def end(request, plan_id: int):
    return _simple(
        request, plan_id, forms.EndForm, {"ended_on": clock.today()}, _("End the plan"),
        lambda plan, d, v: services.plan_end(actor=request.user, plan=plan, expected_version=v, **d), _("The plan has ended."),
    )  # fmt: skip


@login_required
def document(request, plan_id: int):
    """The plan the client holds, as an accessible page in the client's language and Finnish."""
    plan = selectors.plan_get_for(user=request.user, plan_id=plan_id, purpose="document")
    if plan.status == PlanStatus.CANCELLED:  # never agreed: the client holds no such plan
        raise Http404
    nonce = get_nonce(request)  # for the page's own <style> (settings.SECURE_CSP); a lazy
    nonce = "" if nonce is None else str(nonce)  # one is false until read, so no `or`
    return HttpResponse(render_plan_html(plan_document(plan), languages_for(plan), nonce))


@login_required
def pdf_request(request, plan_id: int):
    if request.method != "POST":
        raise Http404
    plan = _editable_plan(request, plan_id)
    pdfs.pdf_request(actor=request.user, plan=plan)
    messages.success(request, _("The PDF is being generated."))
    return redirect("plans:detail", plan_id=plan.id)


@login_required
def pdf_download(request, plan_id: int, pdf_id: int):
    plan = selectors.plan_get_for(user=request.user, plan_id=plan_id, purpose="pdf")
    pdf = pdfs.pdf_get_for_download(user=request.user, plan=plan, pdf_id=pdf_id)
    if pdf is None:
        raise Http404
    response = HttpResponse(bytes(pdf.content), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="kotoutumissuunnitelma-{plan.id}-{pdf.languages.replace(",", "-")}.pdf"'
    )
    return response


@login_required
def my_work(request):
    team = query_choice(request, "view", ["team"]) == "team"
    group = query_choice(request, "group", selectors.TASK_GROUPS)
    if group:
        page = page_at(
            selectors.task_group_page_for, request.GET.get("cursor"),
            user=request.user, group=group, team=team,
        )  # fmt: skip
        return render(request, "plans/my_work_group.html", {"page": page, "team": team})
    work = selectors.my_work_for(user=request.user, team=team)
    return render(request, "plans/my_work.html", {"work": work, "team": team})
