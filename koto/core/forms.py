"""Form pieces the pages share: a service's domain errors on a form, and a bounded date field."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from koto.core.errors import DomainError


def apply_domain_errors(form, error: DomainError) -> None:
    """Each message on its named visible field, else at the top of the form: for a hidden
    field (the version an edit started from) the error's own message ("Someone else
    changed…"); for a rule about something the form does not have (the interview not yet
    recorded, a plan without goals) the rule's message. Until 2026-12-06 those read "Check
    the highlighted fields" with nothing highlighted."""
    shown_on_top = set()
    for name, msgs in error.fields.items():
        visible = name in form.fields and not form.fields[name].widget.is_hidden
        for msg in msgs:
            if visible:
                form.add_error(name, msg)
                continue
            top = error.message if name in form.fields else msg
            if top not in shown_on_top:
                shown_on_top.add(top)
                form.add_error(None, top)
    if not error.fields:
        form.add_error(None, error.message)


# The dates a page's form takes: a year typed short or wrong ("0202", "20026") is refused
# instead of stored. Birth dates reach back to 1900; later bounds are the services' own.
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2100, 12, 31)


def _day(d: dt.date) -> str:
    return f"{d.day}.{d.month}.{d.year}"


class DateField(forms.DateField):
    """Django's date field, refusing dates outside `FIRST_DATE`..`LAST_DATE`."""

    def validate(self, value):
        super().validate(value)
        if value and not FIRST_DATE <= value <= LAST_DATE:
            raise ValidationError(
                _("Give a date from %(first)s to %(last)s.")
                % {"first": _day(FIRST_DATE), "last": _day(LAST_DATE)},
                code="out_of_range",
            )
