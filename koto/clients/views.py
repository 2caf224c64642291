"""Client screens: parse, authorise, call one selector or service, render."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from koto.clients import selectors, services
from koto.clients.forms import (
    BreakGlassForm,
    ClientForm,
    ConsentForm,
    CounsellorForm,
    FamilyLinkForm,
    MeetingForm,
    SearchForm,
    WithdrawConsentForm,
)
from koto.clients.law import FactsError, MissingFacts, decision_for
from koto.clients.models import NameKind
from koto.clients.permissions import (
    can_assign_counsellor,
    can_create_client,
    can_edit_client,
    can_export_client,
    can_view_audit,
)
from koto.core import clock
from koto.core.errors import DomainError, NotFound
from koto.core.forms import apply_domain_errors
from koto.core.pagination import page_at


@login_required
def my_clients(request):
    page = page_at(
        selectors.client_search_for, request.GET.get("cursor"), user=request.user, mine=True
    )
    return render(
        request,
        "clients/my_clients.html",
        {"page": page, "can_create": can_create_client(request.user)},
    )


def _fits_an_address(query: str) -> bool:
    """A query shown in an address: a name. Anything with a digit (an identity code, whole
    or in part, among other words or with punctuation round it) or a temporary id's prefix
    is answered where it was posted."""
    return not re.search(r"\d", query) and not query.strip().upper().startswith("TMP")


@login_required
def search(request):
    """The search form is posted: an identity code searched is never in an address (the
    browser's history, a proxy's log, a referrer). A name is sent on to the results'
    address (`?q=`: bookmarked, paged, back and forth). An address with an identity code
    (an older bookmark) still answers."""
    if request.method == "POST":
        form = SearchForm(request.POST)
        query = form.cleaned_data["q"] if form.is_valid() else ""
        if query and _fits_an_address(query):
            return HttpResponseRedirect(
                f"{reverse('clients:search')}?{urlencode({'q': query})}", status=303
            )
        page = None
        if query:
            page = selectors.client_search_for(user=request.user, query=query)
        return _search_results(request, form, page, query, push=False)
    form = SearchForm(request.GET or None)
    page = None
    if form.is_valid() and form.cleaned_data["q"]:
        page = page_at(selectors.client_search_for, request.GET.get("cursor"),
                       user=request.user, query=form.cleaned_data["q"])  # fmt: skip
    query = request.GET.get("q", "")
    return _search_results(request, form, page, query, push=_fits_an_address(query))


def _search_results(request, form, page, query: str, *, push: bool):
    # htmx asks for the whole page when it restores one its history does not hold
    part = request.htmx and not request.htmx.history_restore_request
    template = "clients/_results.html" if part else "clients/search.html"
    response = render(request, template, {"form": form, "page": page, "q": query})
    if part:
        # the results' address (followed from a posted name) becomes the page's; an
        # identity code searched stays out of the history (the audit trail masks it)
        response["HX-Push-Url"] = request.get_full_path() if push else "false"
    return response


# The client page shows the latest few; the timeline and meetings pages page through all.
DETAIL_EVENTS = 20
DETAIL_MEETINGS = 10
TIMELINE_PAGE = 100
MEETINGS_PAGE = 50


@login_required
def detail(request, client_id: int):
    client = selectors.client_get_for(user=request.user, client_id=client_id, purpose="view")
    # The services table: each enrolment's service and attendance in one query each.
    prefetch_related_objects([client], "enrolments__service", "enrolments__attendance")
    return render(
        request,
        "clients/detail.html",
        {
            "client": client,
            "names": client.names.exclude(kind=NameKind.OFFICIAL),
            "languages": client.languages.all(),
            "family": selectors.family_of(user=request.user, client=client),
            "consents": client.consents.select_related("organisation"),
            "responsibility": selectors.responsibility_changes(client),
            "timeline": selectors.client_timeline_page(client=client, limit=DETAIL_EVENTS),
            "meetings": selectors.client_meeting_page(client=client, limit=DETAIL_MEETINGS),
            "can_edit": can_edit_client(request.user, client),
            "can_assign_counsellor": can_assign_counsellor(request.user, client),
            "can_view_audit": can_view_audit(request.user),
            "can_export": can_export_client(request.user, client),
            **_law_context(client),
        },
    )


def _law_context(client) -> dict:
    try:
        return {"law": decision_for(client, clock.today())}
    except MissingFacts:
        return {"law_error": _("Record the residence basis to see what the law says.")}
    except FactsError as e:
        # the engine's message is English and names its own fields: the page names the
        # form's field in the user's language
        if e.field == "first_permit_on" and client.first_permit_on is None:
            return {"law_error": _("Record the date of the first residence permit or "
                                   "registration to see what the law says.")}  # fmt: skip
        field = ClientForm.base_fields.get(e.field or "")
        return {
            "law_error": _("The recorded facts are inconsistent: check “%(field)s”.")
            % {"field": field.label if field else _("Residence basis")}
        }


@login_required
def create(request):
    if not can_create_client(request.user):
        raise Http404
    form = ClientForm(request.POST or None)
    duplicates = []
    if request.method == "POST" and form.is_valid():
        try:
            client = services.client_create(
                actor=request.user,
                data=form.service_data(),
                confirm_duplicate=form.cleaned_data["confirm_duplicate"],
                facts_valid_from=form.cleaned_data["facts_valid_from"],
            )
        except services.PossibleDuplicate as e:
            duplicates = e.duplicates
            apply_domain_errors(form, e)
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Client created."))
            return redirect("clients:detail", client_id=client.id)
    return render(
        request, "clients/form.html", {"form": form, "duplicates": duplicates, "creating": True}
    )


def _initial(client) -> dict:
    data = {f: getattr(client, f) for f in ClientForm.base_fields if hasattr(client, f)}
    data["home_municipality_code"] = (
        client.home_municipality.municipality_code if client.home_municipality else ""
    )
    data["other_languages"] = [lang.language for lang in client.languages.all()]
    data["transliterated_names"] = "\n".join(
        services.name_form_line(n.first_name, n.last_name)
        for n in client.names.filter(kind=NameKind.TRANSLITERATED).order_by("id")
    )
    data["version"] = client.version
    return data


@login_required
def edit(request, client_id: int):
    client = selectors.client_get_for(user=request.user, client_id=client_id, purpose="edit")
    if not can_edit_client(request.user, client):
        raise Http404
    form = ClientForm(request.POST or None, initial=_initial(client), editing=True)
    form.fields.pop("confirm_duplicate")
    if request.method == "POST" and form.is_valid():
        try:
            services.client_update(
                actor=request.user,
                client=client,
                data=form.service_data(),
                expected_version=form.cleaned_data["version"],
                facts_valid_from=form.cleaned_data["facts_valid_from"],
                municipality_corrected=form.cleaned_data["municipality_corrected"],
            )
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("clients:detail", client_id=client.id)
    return render(request, "clients/form.html", {"form": form, "client": client, "creating": False})


@login_required
def audit_trail(request, client_id: int):
    if not can_view_audit(request.user):
        raise Http404
    client = selectors.client_get_for(user=request.user, client_id=client_id, purpose="audit")
    return render(
        request,
        "clients/audit.html",
        {
            "client": client,
            "page": page_at(
                selectors.client_audit_page,
                request.GET.get("cursor"),
                user=request.user,
                client_id=client.id,
            ),
        },
    )


@login_required
def timeline(request, client_id: int):
    """The client's whole timeline, a page at a time (an audited read of the client)."""
    client = selectors.client_get_for(user=request.user, client_id=client_id, purpose="timeline")
    page = page_at(
        selectors.client_timeline_page, request.GET.get("cursor"), client=client,
        limit=TIMELINE_PAGE,
    )  # fmt: skip
    return render(request, "clients/timeline.html", {"client": client, "page": page})


@login_required
def meetings(request, client_id: int):
    """Every meeting with the client, a page at a time (an audited read of the client)."""
    client = selectors.client_get_for(user=request.user, client_id=client_id, purpose="meetings")
    page = page_at(
        selectors.client_meeting_page, request.GET.get("cursor"), client=client,
        limit=MEETINGS_PAGE,
    )  # fmt: skip
    return render(
        request,
        "clients/meetings.html",
        {
            "client": client,
            "page": page,
            "can_edit": can_edit_client(request.user, client),
            "today": clock.today(),
        },
    )


@login_required
def break_glass(request, client_id: int):
    try:
        selectors.client_get_for(user=request.user, client_id=client_id, audit=False)
    except NotFound:
        pass
    else:
        return redirect("clients:detail", client_id=client_id)
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.break_glass_open(
                actor=request.user, client_id=client_id, reason=form.cleaned_data["reason"]
            )
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            return redirect("clients:detail", client_id=client_id)
    return render(request, "clients/break_glass.html", {"form": form, "client_id": client_id})


def _editable(request, client_id: int, purpose: str):
    client = selectors.client_get_for(user=request.user, client_id=client_id, purpose=purpose)
    if not can_edit_client(request.user, client):
        raise Http404
    return client


@login_required
def counsellor(request, client_id: int):
    """Choose the client's counsellor (a colleague, oneself, or nobody)."""
    client = _editable(request, client_id, "counsellor")
    if not can_assign_counsellor(request.user, client):
        raise Http404
    candidates = selectors.counsellor_candidates(
        organisation_id=request.user.active_membership.organisation_id
    )
    form = CounsellorForm(
        request.POST or None, candidates=candidates,
        initial={"counsellor": str(client.counsellor_id or ""), "version": client.version},
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            services.client_assign_counsellor(
                actor=request.user, client=client, counsellor=form.chosen(),
                expected_version=form.cleaned_data["version"],
            )  # fmt: skip
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Counsellor changed."))
            return redirect("clients:detail", client_id=client.id)
    return render(request, "clients/counsellor_form.html", {"form": form, "client": client})


@login_required
def consent_add(request, client_id: int):
    client = _editable(request, client_id, "consent")
    form = ConsentForm(request.POST or None, initial={"given_on": clock.today()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            services.consent_record(
                actor=request.user, client=client, organisation=d["organisation"], scope=d["scope"],
                given_on=d["given_on"], note=d["note"],
            )  # fmt: skip
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Consent recorded."))
            return redirect("clients:detail", client_id=client.id)
    return render(request, "clients/consent_form.html", {"form": form, "client": client})


@login_required
def consent_withdraw(request, client_id: int, consent_id: int):
    client = _editable(request, client_id, "consent")
    consent = client.consents.filter(id=consent_id).first()
    if consent is None:
        raise Http404
    form = WithdrawConsentForm(request.POST or None, initial={"withdrawn_on": clock.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.consent_withdraw(
                actor=request.user,
                client=client,
                consent=consent,
                withdrawn_on=form.cleaned_data["withdrawn_on"],
            )
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Consent withdrawn."))
            return redirect("clients:detail", client_id=client.id)
    return render(
        request,
        "clients/consent_withdraw.html",
        {"form": form, "client": client, "consent": consent},
    )


@login_required
def family_add(request, client_id: int):
    client = _editable(request, client_id, "family")
    form = FamilyLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            relative = selectors.client_by_identifier_for(
                user=request.user, identifier=form.cleaned_data["relative"]
            )
            services.family_link_add(
                actor=request.user,
                client=client,
                relative=relative,
                relation=form.cleaned_data["relation"],
            )
        except NotFound:
            form.add_error("relative", _("No client with this identifier is visible to you."))
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Family member linked."))
            return redirect("clients:detail", client_id=client.id)
    return render(request, "clients/family_form.html", {"form": form, "client": client})


@login_required
def meeting_add(request, client_id: int):
    client = _editable(request, client_id, "meeting")
    form = MeetingForm(request.POST or None, initial={"held_on": clock.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.meeting_record(actor=request.user, client=client, data=form.cleaned_data)
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            messages.success(request, _("Meeting recorded."))
            return redirect("clients:detail", client_id=client.id)
    return render(
        request,
        "_form_page.html",
        {"form": form, "title": _("Record a meeting: %(name)s") % {"name": client.full_name},
         "cancel_url": reverse("clients:detail", args=[client.id])},
    )  # fmt: skip
