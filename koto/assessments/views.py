"""Assessment screens: start, initial interview, measures, completion."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from koto.assessments import selectors, services
from koto.assessments.forms import (
    CompleteForm,
    InterviewForm,
    MeasureForm,
    MeasureResultForm,
    StartForm,
)
from koto.clients.permissions import can_edit_client, can_read_welfare_details
from koto.clients.selectors import client_get_for
from koto.core import clock
from koto.core.errors import DomainError
from koto.core.forms import apply_domain_errors


def _form_page(request, form, title, cancel_url, **extra):
    return render(
        request,
        "_form_page.html",
        {"form": form, "title": title, "cancel_url": cancel_url, **extra},
    )


@login_required
def start(request, client_id: int):
    client = client_get_for(user=request.user, client_id=client_id, purpose="assessment")
    if not can_edit_client(request.user, client):
        raise Http404
    proposed = services.law_proposes_multisectoral(client, clock.today())
    form = StartForm(
        request.POST or None,
        initial={
            "started_on": clock.today(),
            "kind": "multisectoral" if proposed else "basic",
            "trigger": "intake",
        },
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            a = services.assessment_start(
                actor=request.user, client=client, trigger=d["trigger"], started_on=d["started_on"],
                kind=d["kind"], trigger_note=d["trigger_note"],
            )  # fmt: skip
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            return redirect("assessments:detail", assessment_id=a.id)
    intro = " ".join(
        filter(None, [
            services.law_entitlement_warning(client, clock.today()),
            services.responsible_authority_warning(
                client, clock.today(), request.user.active_membership.organisation
            ),
            _("The law proposes a multi-sectoral assessment: the welfare region takes part.")
            if proposed else "",
        ])
    )  # fmt: skip
    return _form_page(
        request, form, _("Start an assessment: %(name)s") % {"name": client.full_name},
        reverse("clients:detail", args=[client.id]), intro=intro,
    )  # fmt: skip


@login_required
def detail(request, assessment_id: int):
    a = selectors.assessment_get_for(user=request.user, assessment_id=assessment_id)
    return render(
        request,
        "assessments/detail.html",
        {
            "a": a,
            "client": a.client,
            "skills": a.skills.all(),
            "measures": a.measures.all(),
            "can_edit": can_edit_client(request.user, a.client) and a.status == "started",
            "welfare_reader": can_read_welfare_details(request.user),
            "outside_entitlement": services.law_entitlement_warning(a.client, a.started_on),
            "interpreting_warning": services.interpreting_warning(a),
        },
    )


@login_required
def interview(request, assessment_id: int):
    a = selectors.assessment_get_for(user=request.user, assessment_id=assessment_id, purpose="edit")
    if not can_edit_client(request.user, a.client):
        raise Http404
    welfare = can_read_welfare_details(request.user)
    initial = {f: getattr(a, f) for f in InterviewForm.base_fields if hasattr(a, f)}
    initial["version"] = a.version
    if a.interview_on is None and not a.interview_language:
        # not yet recorded: the language offered is the one the client's record gives (the
        # interview is held in the client's language or through an interpreter)
        initial["interview_language"] = (
            a.client.interpreter_language if a.client.interpreter_needed else ""
        ) or a.client.mother_tongue
    for s in a.skills.all():
        initial[f"skill_{s.language}_{s.skill}"] = s.level
    form = InterviewForm(request.POST or None, initial=initial, welfare_reader=welfare)
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_record_interview(
                actor=request.user,
                assessment=a,
                data=form.service_data(),
                expected_version=form.cleaned_data["version"],
            )
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("assessments:detail", assessment_id=a.id)
    return render(request, "assessments/interview.html", {"form": form, "a": a, "client": a.client})


@login_required
def complete(request, assessment_id: int):
    a = selectors.assessment_get_for(user=request.user, assessment_id=assessment_id, purpose="edit")
    if not can_edit_client(request.user, a.client):
        raise Http404
    form = CompleteForm(
        request.POST or None, initial={"completed_on": clock.today(), "version": a.version}
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.assessment_complete(
                actor=request.user, assessment=a, plan_needed=d["plan_needed"], completed_on=d["completed_on"],
                conclusion=d["conclusion"], expected_version=d["version"],
            )  # fmt: skip
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Assessment completed."))
            return redirect("assessments:detail", assessment_id=a.id)
    return _form_page(
        request, form, _("Complete the assessment"), reverse("assessments:detail", args=[a.id])
    )


@login_required
def measure_add(request, assessment_id: int):
    a = selectors.assessment_get_for(user=request.user, assessment_id=assessment_id, purpose="edit")
    if not can_edit_client(request.user, a.client):
        raise Http404
    form = MeasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.measure_add(actor=request.user, assessment=a, **form.cleaned_data)
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            return redirect("assessments:detail", assessment_id=a.id)
    return _form_page(
        request, form, _("Add a further measure"), reverse("assessments:detail", args=[a.id])
    )


@login_required
def measure_result(request, assessment_id: int, measure_id: int):
    """Record what a further measure showed (a test's level, how a work try-out went)."""
    a = selectors.assessment_get_for(user=request.user, assessment_id=assessment_id, purpose="edit")
    if not can_edit_client(request.user, a.client):
        raise Http404
    measure = get_object_or_404(a.measures, pk=measure_id)
    form = MeasureResultForm(
        request.POST or None,
        initial={"done_on": measure.done_on or clock.today(), "result": measure.result},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.measure_record_result(
                actor=request.user, assessment=a, measure=measure, **form.cleaned_data
            )
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Result recorded."))
            return redirect("assessments:detail", assessment_id=a.id)
    return _form_page(
        request, form, _("Result of the measure: %(m)s") % {"m": measure.description},
        reverse("assessments:detail", args=[a.id]),
    )  # fmt: skip


@login_required
def measure_remove(request, assessment_id: int, measure_id: int):
    """Confirm, then remove a further measure added by mistake (one without a result)."""
    a = selectors.assessment_get_for(user=request.user, assessment_id=assessment_id, purpose="edit")
    if not can_edit_client(request.user, a.client):
        raise Http404
    measure = get_object_or_404(a.measures, pk=measure_id)
    form = forms.Form(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.measure_remove(actor=request.user, assessment=a, measure=measure)
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Measure removed."))
            return redirect("assessments:detail", assessment_id=a.id)
    return _form_page(
        request, form, _("Remove the measure: %(m)s") % {"m": measure.description},
        reverse("assessments:detail", args=[a.id]),
        intro=_("Remove a measure only when it was added by mistake. The removal is recorded."),
        submit_label=_("Remove"),
    )  # fmt: skip
