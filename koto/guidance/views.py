"""Guidance screens: the contact log (three clicks), a contact, the report."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from koto.core import clock
from koto.core.errors import DomainError, NotFound, PermissionDenied
from koto.core.forms import apply_domain_errors
from koto.core.params import query_choice, query_value
from koto.core.spreadsheets import csv_writer
from koto.guidance import selectors, services
from koto.guidance.forms import ContactForm, ReportForm, default_dates
from koto.guidance.permissions import can_log_contacts, can_read_report


def _saved_message(request, contact) -> None:
    """The message after saving: for a contact dated another day, which today's list does
    not show, the day it was saved for and a link to that day's list."""
    if contact.contacted_on == clock.today():
        messages.success(request, _("Contact saved."))
        return
    url = f"{reverse('guidance:log')}?day={contact.contacted_on.isoformat()}"
    date = formats.date_format(contact.contacted_on, "SHORT_DATE_FORMAT")
    messages.success(
        request,
        format_html(
            '{} <a href="{}">{}</a>',
            _("Contact saved for %(date)s: today's list does not show it.") % {"date": date},
            url,
            _("Show my contacts of %(date)s") % {"date": date},
        ),
    )


@login_required
def log(request):
    """Log a contact; stay on the page with today's contacts so the next one is immediate.
    `?day=YYYY-MM-DD` lists the adviser's contacts of another day (where a contact logged
    for an earlier day went)."""
    if not can_log_contacts(request.user):
        raise DjangoPermissionDenied
    today = clock.today()
    day = query_value(request, "day", forms.DateField(required=False, input_formats=["%Y-%m-%d"]))
    day = day or today
    reasons = selectors.active_reasons()
    if not reasons:
        services.reasons_ensure()
        reasons = selectors.active_reasons()
    last = {} if request.method == "POST" else selectors.last_used_for(user=request.user)
    form = ContactForm(
        request.POST or None,
        reasons=reasons,
        language_label=get_language(),
        initial={"channel": last.get("channel"), "language": last.get("language", "")},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            contact = services.contact_log(
                actor=request.user, channel=d["channel"], reasons=d["reasons"],
                partner_type=d["partner_type"], language=d["language"],
                interpreter_used=d["interpreter_used"], minutes=d["minutes"],
                outcome=d["outcome"], referred_to=d["referred_to"],
                referred_to_organisation=d["referred_to_organisation"],
                client_identifier=d["client_identifier"], contacted_on=d["contacted_on"],
            )  # fmt: skip
        except DomainError as e:
            apply_domain_errors(form, e)
        else:
            _saved_message(request, contact)
            return redirect("guidance:log")
    contacts = selectors.contacts_today_for(user=request.user, on=day)
    labels = selectors.reason_labels(get_language())
    for c in contacts:
        c.reason_labels = [labels.get(code, code) for code in c.reason_codes]
    return render(
        request,
        "guidance/log.html",
        {
            "form": form,
            "contacts": contacts,
            "today_count": selectors.contacts_today_count_for(user=request.user, on=day),
            "today": today,
            "day": day,
            "can_report": can_read_report(request.user),
        },
    )


@login_required
def detail(request, contact_id: int):
    try:
        contact = selectors.contact_get_for(user=request.user, contact_id=contact_id)
    except NotFound as e:
        raise Http404 from e
    labels = selectors.reason_labels(get_language())
    contact.reason_labels = [labels.get(code, code) for code in contact.reason_codes]
    return render(request, "guidance/detail.html", {"contact": contact})


@login_required
def report(request):
    if getattr(request.user, "active_membership", None) is None:
        raise Http404
    if not selectors.can_read_report(request.user):
        raise DjangoPermissionDenied
    csv_wanted = query_choice(request, "format", ["csv"]) == "csv"
    start, end = default_dates(clock.today())
    form = ReportForm(request.GET or None, defaults=(start, end))
    if form.is_bound and not form.is_valid():
        # no figures (nor a CSV) for another period than the one asked for
        return render(request, "guidance/report.html", {"form": form, "report": None}, status=400)
    if form.is_bound:
        start = form.cleaned_data["date_from"] or start
        end = form.cleaned_data["date_to"] or end
    try:
        data = selectors.report_for(user=request.user, date_from=start, date_to=end)
    except NotFound as e:
        raise Http404 from e
    except PermissionDenied as e:
        raise DjangoPermissionDenied from e
    if csv_wanted:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"guidance_{start.isoformat()}_{end.isoformat()}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response.write("\ufeff")  # a byte-order mark: Excel reads UTF-8 only with one
        csv_writer(response).writerows(data.csv_rows())
        services.report_exported(actor=request.user, report=data, file_format="csv")
        return response
    return render(
        request,
        "guidance/report.html",
        {"form": form, "report": data, "date_from": start, "date_to": end},
    )
