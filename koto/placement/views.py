"""Placement screens: agreements (places agreed vs. used), placements by status with the
actions their state allows, the welfare region's statements, and unaccompanied minors."""

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from koto.core import clock
from koto.core.errors import DomainError
from koto.core.forms import apply_domain_errors
from koto.core.pagination import DEFAULT_LIMIT, page_at
from koto.core.params import query_choice, query_value
from koto.placement import forms, permissions, selectors, services
from koto.placement.models import PlacementStatus
from koto.placement.states import (
    AUTHORITY_OPERATIONS,
    MUNICIPALITY_OPERATIONS,
    OPEN,
    allowed_operations,
)


def _form_page(request, form, title, cancel_url, **extra):
    return render(
        request,
        "_form_page.html",
        {"form": form, "title": title, "cancel_url": cancel_url, **extra},
    )


def _require_role(request) -> None:
    if not permissions.has_placement_role(request.user):
        raise Http404


PAGE_SIZE = DEFAULT_LIMIT


def _page(request, read, **kwargs):
    """A keyset page of `read` at the request's cursor; a cursor edited by hand gives the
    first page."""
    return page_at(read, request.GET.get("cursor"), user=request.user, limit=PAGE_SIZE, **kwargs)


def _try(form, call) -> bool:
    """Call a service; on a domain error show it on the form."""
    try:
        call()
    except DomainError as e:
        apply_domain_errors(form, e)
        return False
    return True


# ---------------------------------------------------------------- agreements


@login_required
def agreement_list(request):
    _require_role(request)
    year = query_value(
        request, "year", django_forms.IntegerField(required=False, min_value=2000, max_value=2100)
    )
    return render(
        request,
        "placement/agreement_list.html",
        {
            "page": _page(request, selectors.agreement_page_for, year=year),
            "year": year,
            "can_create": permissions.authority_of(request.user) is not None,
        },
    )


@login_required
def agreement_create(request):
    if permissions.authority_of(request.user) is None:
        raise Http404
    form = forms.AgreementCreateForm(request.POST or None, initial={"year": clock.today().year + 1})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        result = {}

        def call():
            result["a"] = services.agreement_create(
                actor=request.user, municipality=d["municipality"], year=d["year"],
                places=form.places(), note=d["note"],
            )  # fmt: skip

        if _try(form, call):
            messages.success(request, _("Agreement drafted."))
            return redirect("placement:agreement_detail", agreement_id=result["a"].id)
    return _form_page(
        request, form, _("New placement agreement"), reverse("placement:agreements"),
        intro=_("Consult the welfare region before the agreement is signed."),
    )  # fmt: skip


@login_required
def agreement_detail(request, agreement_id: int):
    agreement = selectors.agreement_get_for(user=request.user, agreement_id=agreement_id)
    manage = permissions.can_manage_agreement(request.user, agreement)
    return render(
        request,
        "placement/agreement_detail.html",
        {
            "agreement": agreement,
            "can_manage": manage,
            "can_consult": permissions.can_consult_on_agreement(request.user, agreement),
            "current_consultation": selectors.consultation_current(agreement),
            "page": _page(
                request,
                selectors.placement_page_for,
                year=agreement.year,
                municipality_id=agreement.municipality_id,
            ),
        },
    )


def _managed_agreement(request, agreement_id: int):
    agreement = selectors.agreement_get_for(user=request.user, agreement_id=agreement_id)
    if not permissions.can_manage_agreement(request.user, agreement):
        raise Http404
    return agreement


def _places_initial(agreement) -> dict:
    return {
        "places_quota_refugee": agreement.places_quota_refugee,
        "places_international_protection": agreement.places_international_protection,
        "places_unaccompanied_minor": agreement.places_unaccompanied_minor,
        "note": agreement.note,
        "version": agreement.version,
    }


@login_required
def agreement_edit(request, agreement_id: int):
    agreement = _managed_agreement(request, agreement_id)
    form = forms.PlacesForm(request.POST or None, initial=_places_initial(agreement))
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if _try(form, lambda: services.agreement_update(
            actor=request.user, agreement=agreement, places=form.places(), note=d["note"],
            expected_version=d["version"],
        )):  # fmt: skip
            messages.success(request, _("Changes saved."))
            return redirect("placement:agreement_detail", agreement_id=agreement.id)
    return _form_page(
        request, form, _("Places agreed"),
        reverse("placement:agreement_detail", args=[agreement.id]),
    )  # fmt: skip


@login_required
def agreement_revise(request, agreement_id: int):
    agreement = _managed_agreement(request, agreement_id)
    form = forms.AgreementReviseForm(
        request.POST or None, initial={**_places_initial(agreement), "revised_on": clock.today()}
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if _try(form, lambda: services.agreement_revise(
            actor=request.user, agreement=agreement, places=form.places(),
            revised_on=d["revised_on"], note=d["note"], expected_version=d["version"],
        )):  # fmt: skip
            messages.success(request, _("Agreement revised."))
            return redirect("placement:agreement_detail", agreement_id=agreement.id)
    return _form_page(
        request, form, _("Revise the agreement"),
        reverse("placement:agreement_detail", args=[agreement.id]),
        intro=_("The welfare region's statement must be recorded after the last change."),
    )  # fmt: skip


@login_required
def agreement_sign(request, agreement_id: int):
    agreement = _managed_agreement(request, agreement_id)
    form = forms.SignForm(
        request.POST or None, initial={"signed_on": clock.today(), "version": agreement.version}
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if _try(form, lambda: services.agreement_sign(
            actor=request.user, agreement=agreement, signed_on=d["signed_on"],
            expected_version=d["version"],
        )):  # fmt: skip
            messages.success(request, _("Agreement signed."))
            return redirect("placement:agreement_detail", agreement_id=agreement.id)
    return _form_page(
        request, form, _("Sign the agreement"),
        reverse("placement:agreement_detail", args=[agreement.id]), submit_label=_("Sign"),
    )  # fmt: skip


@login_required
def agreement_consult(request, agreement_id: int):
    agreement = selectors.agreement_get_for(user=request.user, agreement_id=agreement_id)
    if not permissions.can_consult_on_agreement(request.user, agreement):
        raise Http404
    form = forms.ConsultationForm(request.POST or None, initial={"consulted_on": clock.today()})
    if request.method == "POST" and form.is_valid():
        if _try(form, lambda: services.agreement_consult(
            actor=request.user, agreement=agreement, **form.cleaned_data
        )):  # fmt: skip
            messages.success(request, _("The welfare region's statement was recorded."))
            return redirect("placement:agreement_detail", agreement_id=agreement.id)
    return _form_page(
        request, form, _("Welfare region's statement on the agreement"),
        reverse("placement:agreement_detail", args=[agreement.id]),
    )  # fmt: skip


# ---------------------------------------------------------------- placements


@login_required
def placement_list(request):
    _require_role(request)
    status = query_choice(request, "status", PlacementStatus.values)
    counts = selectors.placement_counts_by_status(user=request.user)
    page = _page(request, selectors.placement_page_for, status=status or None)
    return render(
        request,
        "placement/list.html",
        {
            "placements": page.items,
            "page": page,
            "status": status,
            "statuses": [(s.value, s.label, counts.get(s.value, 0)) for s in PlacementStatus],
            "total": sum(counts.values()),
            "can_propose": permissions.authority_of(request.user) is not None,
        },
    )


def _person_errors(error: DomainError, filled: list) -> None:
    """The service's errors on `persons.<n>.<field>` put on the field of the n-th person's
    row filled in (empty rows are not sent), and taken out of `error`."""
    for name in list(error.fields):
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "persons" and parts[1].isdigit():
            i, field = int(parts[1]), parts[2]
            if i < len(filled) and field in filled[i].fields:
                for msg in error.fields.pop(name):
                    filled[i].add_error(field, msg)


@login_required
def propose(request):
    if permissions.authority_of(request.user) is None:
        raise Http404
    form = forms.ProposeForm(request.POST or None, initial={"year": clock.today().year})
    persons = forms.PersonFormSet(request.POST or None, prefix="persons")
    if request.method == "POST" and form.is_valid() and persons.is_valid():
        filled = [p for p in persons.forms if p.cleaned_data]  # the service numbers these
        try:
            placement = services.placement_propose(
                actor=request.user, persons=[p.cleaned_data for p in filled], **form.cleaned_data
            )
        except DomainError as e:
            _person_errors(e, filled)
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Placement proposed to the municipality."))
            for warning in placement.warnings:
                messages.warning(request, warning)
            return redirect("placement:detail", placement_id=placement.id)
    return render(
        request,
        "placement/propose.html",
        {"form": form, "persons": persons, "cancel_url": reverse("placement:list")},
    )


ACTION_OPS = {
    "accept": (forms.DecideForm, gettext_lazy("Accept the placement")),
    "decline": (forms.DeclineForm, gettext_lazy("Decline the placement")),
    "reserve_housing": (forms.ReserveHousingForm, gettext_lazy("Reserve housing")),
    "request_supported_housing": (
        forms.SupportedHousingForm,
        gettext_lazy("Request supported housing"),
    ),
    "arrive": (forms.ArriveForm, gettext_lazy("Record arrival")),
    "cancel": (forms.CancelForm, gettext_lazy("Cancel the placement")),
}


def actions_for(user, placement) -> list[tuple[str, str]]:
    """The operations this viewer may do on the placement now, with their labels."""
    out = []
    for op in allowed_operations(placement.status):
        if op in MUNICIPALITY_OPERATIONS and permissions.can_respond_to_placement(user, placement):
            out.append((op, ACTION_OPS[op][1]))
        elif op in AUTHORITY_OPERATIONS and permissions.can_manage_placement(user, placement):
            out.append((op, ACTION_OPS[op][1]))
    return out


@login_required
def detail(request, placement_id: int):
    placement = selectors.placement_get_for(user=request.user, placement_id=placement_id)
    health = getattr(placement, "health_check", None) if placement.status == "arrived" else None
    consult = permissions.can_consult_on_placement(request.user, placement)
    # the places agreed vs used, while the placement is still open
    places = selectors.places_check(placement) if placement.status in OPEN else None
    return render(
        request,
        "placement/detail.html",
        {
            "placement": placement,
            "actions": actions_for(request.user, placement),
            "can_consult": consult
            and placement.status in (PlacementStatus.PROPOSED, PlacementStatus.ACCEPTED),
            "can_health_check": consult and health is not None and health.status == "sent",
            "health_check": health,
            "agreement": selectors.agreement_for_placement(placement),
            "places": places,
            "places_warning": places.warning(
                with_proposals=placement.status == PlacementStatus.PROPOSED
            )
            if places
            else None,
        },
    )


def _initial_for(operation: str, placement) -> dict:
    today = clock.today()
    initial = {"version": placement.version}
    if operation in ("accept", "decline"):
        initial["decided_on"] = today
    elif operation == "arrive":
        initial["arrived_on"] = today
    elif operation == "cancel":
        initial["cancelled_on"] = today
    elif operation == "reserve_housing":
        initial.update(address=placement.housing_address, housing_on=placement.housing_on)
    return initial


@login_required
def act(request, placement_id: int, operation: str):
    if operation not in ACTION_OPS:
        raise Http404
    placement = selectors.placement_get_for(
        user=request.user, placement_id=placement_id, purpose=operation
    )
    if operation not in dict(actions_for(request.user, placement)):
        raise Http404
    form_class, title = ACTION_OPS[operation]
    form = form_class(request.POST or None, initial=_initial_for(operation, placement))
    if request.method == "POST" and form.is_valid():
        d = dict(form.cleaned_data)
        version = d.pop("version", None)
        result = {}

        def call():
            result["p"] = services.OPERATIONS[operation](
                actor=request.user, placement=placement, expected_version=version, **d
            )

        if _try(form, call):
            messages.success(request, _("Saved: %(action)s.") % {"action": title})
            for warning in getattr(result["p"], "warnings", []):
                messages.warning(request, warning)
            return redirect("placement:detail", placement_id=placement.id)
    intro = None
    if operation == "accept" and placement.evident_welfare_needs:
        intro = _("The proposal has evident social or health care needs: the welfare region's statement is needed before accepting.")  # fmt: skip
    if operation == "accept":
        warning = selectors.places_check(placement).warning(with_proposals=False)
        intro = " ".join(t for t in (intro, warning) if t) or None
    elif operation == "arrive":
        intro = _("The people become clients of the municipality with it as their municipality of residence from the arrival date, and the welfare region gets the initial health check.")  # fmt: skip
    return _form_page(
        request, form, title, reverse("placement:detail", args=[placement.id]), intro=intro,
        submit_label=title,
    )  # fmt: skip


@login_required
def consult(request, placement_id: int):
    placement = selectors.placement_get_for(
        user=request.user, placement_id=placement_id, purpose="consult"
    )
    if not permissions.can_consult_on_placement(request.user, placement):
        raise Http404
    form = forms.ConsultationForm(request.POST or None, initial={"consulted_on": clock.today()})
    if request.method == "POST" and form.is_valid():
        if _try(form, lambda: services.placement_consult(
            actor=request.user, placement=placement, **form.cleaned_data
        )):  # fmt: skip
            messages.success(request, _("The welfare region's statement was recorded."))
            return redirect("placement:detail", placement_id=placement.id)
    return _form_page(
        request, form, _("Welfare region's statement on the placement"),
        reverse("placement:detail", args=[placement.id]),
    )  # fmt: skip


@login_required
def health_check(request, placement_id: int):
    placement = selectors.placement_get_for(
        user=request.user, placement_id=placement_id, purpose="health_check"
    )
    if not permissions.can_consult_on_placement(request.user, placement):
        raise Http404
    form = forms.HealthCheckForm(request.POST or None, initial={"done_on": clock.today()})
    if request.method == "POST" and form.is_valid():
        if _try(form, lambda: services.health_check_done(
            actor=request.user, placement=placement, **form.cleaned_data
        )):  # fmt: skip
            messages.success(request, _("Initial health check recorded."))
            return redirect("placement:detail", placement_id=placement.id)
    return _form_page(
        request, form, _("Initial health check"),
        reverse("placement:detail", args=[placement.id]),
    )  # fmt: skip


# ---------------------------------------------------------------- unaccompanied minors


@login_required
def minor_list(request):
    _require_role(request)
    return render(
        request,
        "placement/minor_list.html",
        {"page": _page(request, selectors.minor_care_page_for)},
    )


@login_required
def minor_detail(request, care_id: int):
    care = selectors.minor_care_get_for(user=request.user, care_id=care_id)
    can_edit = permissions.can_edit_minor_care(request.user, care.client)
    form = None
    if can_edit:
        initial = {f: getattr(care, f) for f in services.MINOR_CARE_FIELDS}
        form = forms.MinorCareForm(
            request.POST or None, initial={**initial, "version": care.version}
        )
        if request.method == "POST" and form.is_valid():
            d = dict(form.cleaned_data)
            version = d.pop("version", None)
            if _try(form, lambda: services.minor_care_update(
                actor=request.user, care=care, data=d, expected_version=version
            )):  # fmt: skip
                messages.success(request, _("Changes saved."))
                return redirect("placement:minor_detail", care_id=care.id)
    elif request.method == "POST":
        raise Http404
    tasks = care.client.tasks.filter(source_type="minor_care", source_id=care.id)
    return render(
        request,
        "placement/minor_detail.html",
        {"care": care, "client": care.client, "form": form, "tasks": tasks},
    )
