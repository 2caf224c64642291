"""Guidance forms: shape only; the rules are in services."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from koto.clients import codes
from koto.core import clock
from koto.core.forms import DateField, Form
from koto.core.widgets import ListSelect
from koto.guidance.models import Channel, Outcome, PartnerType
from koto.organisations.selectors import all_organisations


class ContactForm(Form):
    """Three clicks: a channel, one or more reasons, Save. Everything else has a default."""

    channel = forms.ChoiceField(
        label=_("Channel"), choices=Channel.choices, widget=forms.RadioSelect
    )
    reasons = forms.MultipleChoiceField(
        label=_("Reasons"), required=False, widget=forms.CheckboxSelectMultiple
    )
    language = forms.ChoiceField(label=_("Language"), required=False, widget=ListSelect)
    interpreter_used = forms.BooleanField(label=_("Interpreter used"), required=False)
    minutes = forms.IntegerField(label=_("Minutes"), required=False, min_value=1, max_value=1440)
    client_identifier = forms.CharField(
        label=_("Client's identity code or temporary id"),
        required=False,
        max_length=20,
        help_text=_("Leave empty for an anonymous contact: nothing that names a person is kept."),
    )
    partner_type = forms.ChoiceField(
        label=_("Partner contact"),
        required=False,
        choices=[("", _("No, a client contact")), *PartnerType.choices],
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=Outcome.choices, initial=Outcome.ANSWERED
    )
    referred_to_organisation = forms.ChoiceField(
        label=_("Referred to (organisation)"), required=False, widget=ListSelect
    )
    referred_to = forms.CharField(
        label=_("Referred to (other)"), required=False, max_length=200,
        help_text=_("A service or body not in the list, e.g. a church or a sports club."),
    )  # fmt: skip
    contacted_on = DateField(
        label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, reasons, language_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reasons"].choices = [(r.code, r.label(language_label)) for r in reasons]
        self.fields["language"].choices = [("", "–"), *codes.language_choices()]
        today = clock.today()  # organisations that exist now (not the ended ELY centres)
        self.orgs = {str(o.id): o for o in all_organisations() if o.is_valid_on(today)}
        self.fields["referred_to_organisation"].choices = [
            ("", "–"),
            *((k, o.name) for k, o in self.orgs.items()),
        ]

    def clean_referred_to_organisation(self):
        value = self.cleaned_data.get("referred_to_organisation")
        return self.orgs.get(value) if value else None


def default_dates(today: dt.date) -> tuple[dt.date, dt.date]:
    return today.replace(month=1, day=1), today


class ReportForm(Form):
    date_from = DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, defaults: tuple | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.defaults = defaults or (None, None)

    def clean(self):
        d = super().clean()
        start = d.get("date_from") or self.defaults[0]
        end = d.get("date_to") or self.defaults[1]
        if start and end and start > end:
            # with one end left empty, its default (today, or the period's start) decides
            self.add_error(
                "date_to" if d.get("date_to") else "date_from",
                _("The end cannot be before the start."),
            )
        return d
