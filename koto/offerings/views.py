"""Service catalogue, enrolments, attendance and language test results."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from koto.clients.permissions import can_edit_client
from koto.clients.selectors import client_by_identifier_for, client_get_for
from koto.core import clock
from koto.core.errors import DomainError, NotFound
from koto.core.forms import apply_domain_errors
from koto.core.pagination import page_at
from koto.core.params import query_choice
from koto.core.roles import Perm
from koto.core.text import as_id
from koto.offerings import selectors, services
from koto.offerings.forms import (
    AttendanceForm,
    EnrolByIdentifierForm,
    EnrolForm,
    LanguageResultForm,
    ServiceEditForm,
    ServiceForm,
    TransitionForm,
)
from koto.offerings.models import ServiceKind
from koto.organisations.models import Organisation
from koto.plans.selectors import action_of_client

OPERATIONS = {
    "accept": gettext_lazy("Accept the place"),
    "start": gettext_lazy("Started"),
    "interrupt": gettext_lazy("Interrupt"),
    "complete": gettext_lazy("Completed"),
    "decline": gettext_lazy("Decline the place"),
    "cancel": gettext_lazy("Cancel the enrolment"),
}


def _page(request, form, title, cancel_url, **extra):
    return render(
        request,
        "_form_page.html",
        {"form": form, "title": title, "cancel_url": cancel_url, **extra},
    )


@login_required
def catalogue(request):
    kind = query_choice(request, "kind", ServiceKind.values)
    page = page_at(
        selectors.service_page_for,
        request.GET.get("cursor"),
        user=request.user,
        kind=kind,
        limit=50,
    )
    return render(
        request,
        "offerings/catalogue.html",
        {"services": page.items, "page": page, "kinds": ServiceKind.choices, "kind": kind,
         "can_manage": request.user.has_perm_in_org(Perm.OFFERINGS_MANAGE)},
    )  # fmt: skip


def _service_data(form) -> tuple[dict, list]:
    d = dict(form.cleaned_data)
    served = Organisation.objects.filter(id__in=[int(x) for x in d.pop("served_municipalities")])
    return d, list(served)


@login_required
def service_create(request):
    if not request.user.has_perm_in_org(Perm.OFFERINGS_MANAGE):
        raise Http404
    form = ServiceForm(request.POST or None, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        data, served = _service_data(form)
        try:
            s = services.service_create(actor=request.user, data=data, served_municipalities=served)
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            return redirect("offerings:detail", service_id=s.id)
    return _page(request, form, _("New service"), reverse("offerings:catalogue"))


@login_required
def service_edit(request, service_id: int):
    service = selectors.service_get(service_id=service_id)
    if not selectors.can_manage_service(request.user, service):
        raise Http404
    initial = {
        f: getattr(service, f)
        for f in ServiceForm.base_fields
        if hasattr(service, f) and f != "served_municipalities"
    }
    initial["served_municipalities"] = [
        str(i) for i in service.served_municipalities.values_list("id", flat=True)
    ]
    initial["version"] = service.version
    form = ServiceEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data, served = _service_data(form)
        version = data.pop("version")
        try:
            services.service_update(
                actor=request.user,
                service=service,
                data=data,
                served_municipalities=served,
                expected_version=version,
            )
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("offerings:detail", service_id=service.id)
    return _page(
        request, form, _("Edit the service"), reverse("offerings:detail", args=[service.id])
    )


@login_required
def service_detail(request, service_id: int):
    service = selectors.service_get(service_id=service_id)
    form = EnrolByIdentifierForm(request.POST or None)
    can_enrol = request.user.has_perm_in_org(Perm.ENROL)
    if request.method == "POST" and can_enrol and form.is_valid():
        try:
            client = client_by_identifier_for(
                user=request.user, identifier=form.cleaned_data["identifier"]
            )
            client = client_get_for(
                user=request.user, client_id=client.id, purpose="enrol", audit=False
            )
            e = services.enrolment_create(actor=request.user, client=client, service=service)
        except NotFound:
            form.add_error("identifier", _("No client with this identifier is visible to you."))
        except DomainError as err:
            apply_domain_errors(form, err)
        else:
            messages.success(
                request, _("Enrolled: %(status)s.") % {"status": e.get_status_display()}
            )
            return redirect("offerings:detail", service_id=service.id)
    page = page_at(
        selectors.enrolment_page_of_service_for, request.GET.get("cursor"),
        user=request.user, service=service,
    )  # fmt: skip
    return render(
        request,
        "offerings/detail.html",
        {"service": service, "enrolments": page.items, "page": page,
         "form": form, "can_enrol": can_enrol, "producer": selectors.can_manage_service(request.user, service),
         # the rows whose enrolment the viewer may move on (a read grant shows the row only)
         "handled": {e.id for e in page.items if selectors.can_handle_enrolment(request.user, e)}},
    )  # fmt: skip


@login_required
def enrol_client(request, client_id: int):
    """Enrol a client from their page or from a plan action (?action=ID)."""
    client = client_get_for(user=request.user, client_id=client_id, purpose="enrol")
    if not can_edit_client(request.user, client):
        raise Http404
    action = None
    if request.GET.get("action"):
        action = action_of_client(client=client, action_id=as_id(request.GET["action"]))
    everything = query_choice(request, "all", ["1"]) == "1"
    org_id = request.user.active_membership.organisation_id
    choices = (
        selectors.catalogue()
        if everything
        else selectors.services_near(client=client, organisation_id=org_id)
    )
    form = EnrolForm(request.POST or None, services=choices)
    if request.method == "POST" and form.is_valid():
        try:
            services.enrolment_create(
                actor=request.user,
                client=client,
                service=form.cleaned_data["service"],
                plan_action=action,
            )
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Enrolled."))
            if action:
                return redirect("plans:detail", plan_id=action.goal.plan_id)
            return redirect("clients:detail", client_id=client.id)
    title = _("Enrol %(name)s in a service") % {"name": client.full_name}
    if everything:
        extra = {"intro": _("Every active service in the national catalogue is listed.")}
    else:
        query = request.GET.copy()
        query["all"] = "1"
        extra = {
            "intro": _(
                "Listed: the services of your organisation and of the client's municipality, "
                "and those serving the municipality."
            ),
            "more_url": f"{request.path}?{query.urlencode()}",
            "more_label": _("List the whole national catalogue"),
        }
    return _page(request, form, title, reverse("clients:detail", args=[client.id]), **extra)


@login_required
def enrolment_operation(request, enrolment_id: int, operation: str):
    if operation not in OPERATIONS:
        raise Http404
    e = selectors.enrolment_get_for(user=request.user, enrolment_id=enrolment_id)
    if not selectors.can_handle_enrolment(request.user, e):
        raise DjangoPermissionDenied  # seen through a read grant: the form would only refuse
    form = TransitionForm(request.POST or None, initial={"on": clock.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.enrolment_transition(
                actor=request.user,
                enrolment=e,
                operation=operation,
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as err:
            apply_domain_errors(form, err)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("offerings:detail", service_id=e.service_id)
    title = f"{OPERATIONS[operation]}: {e.client.full_name}"
    return _page(request, form, title, reverse("offerings:detail", args=[e.service_id]))


@login_required
def attendance(request, enrolment_id: int):
    e = selectors.enrolment_get_for(user=request.user, enrolment_id=enrolment_id)
    if not selectors.can_handle_enrolment(request.user, e):
        raise DjangoPermissionDenied
    form = AttendanceForm(request.POST or None, initial={"on": clock.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.attendance_record(actor=request.user, enrolment=e, **form.cleaned_data)
        except DomainError as err:
            apply_domain_errors(form, err)
        else:
            messages.success(request, _("Attendance recorded."))
            return redirect("offerings:detail", service_id=e.service_id)
    title = _("Attendance: %(name)s") % {"name": e.client.full_name}
    return render(
        request,
        "offerings/attendance.html",
        {
            "form": form,
            "title": title,
            "cancel_url": reverse("offerings:detail", args=[e.service_id]),
            "rows": e.attendance.order_by("-on", "-monthly"),  # what is there, to correct
        },
    )


@login_required
def language_result(request, client_id: int):
    client = client_get_for(user=request.user, client_id=client_id, purpose="language_result")
    if not can_edit_client(request.user, client):
        raise Http404
    form = LanguageResultForm(
        request.POST or None,
        initial={"taken_on": clock.today(), "language": "fi"},
        enrolments=selectors.language_test_enrolments_of(client=client),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.language_result_record(
                actor=request.user,
                client=client,
                taken_on=form.cleaned_data["taken_on"],
                results=form.results(),
                enrolment=form.cleaned_data["enrolment"],
            )
        except DomainError as err:
            apply_domain_errors(form, err)
        else:
            messages.success(request, _("Results recorded."))
            return redirect("clients:detail", client_id=client.id)
    return _page(
        request,
        form,
        _("Language test results: %(name)s") % {"name": client.full_name},
        reverse("clients:detail", args=[client.id]),
    )
