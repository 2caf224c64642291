"""Form pieces the pages share: the base form, a service's domain errors on a form, and a
bounded date field."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from koto.core.errors import DomainError
from koto.core.text import has_text_control_characters

GENERIC = "Check the highlighted fields."  # ValidationFailed's message when it has none


def refuse_control_characters(value) -> None:
    """A text field's validator: control characters other than tab and line breaks are
    refused, naming the field (Django's own fields refuse only U+0000)."""
    if isinstance(value, str) and has_text_control_characters(value):
        raise ValidationError(
            _("Remove the control characters (invisible characters) from the text."),
            code="control_characters",
        )


class Form(forms.Form):
    """Every page's form: Django's, with each text field refusing control characters."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(refuse_control_characters)

    def full_clean(self):
        """A hidden field's error (the version) is the form's: no field shows it."""
        super().full_clean()
        for name, field in self.fields.items():
            if field.widget.is_hidden and name in (self._errors or {}):
                for error in self._errors.pop(name).as_data():
                    self.add_error(None, error)


# A list that takes several choices: how to add one without dropping the others (an arrow
# key alone chooses one and drops the rest).
MULTIPLE_CHOICE_HELP = gettext_lazy(
    "To choose more than one, hold Ctrl (⌘ on a Mac) while clicking; with the keyboard, move "
    "with Ctrl and the arrow keys and add the option with Ctrl+Space."
)


class VersionField(forms.IntegerField):
    """The version of the record an edit started from (a hidden field): the service refuses
    the edit when someone else has changed the record since. Required, so that a form sent
    without it (a page that forgot to render it, a hand-made post) cannot skip that check."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault(
            "error_messages",
            {
                "required": gettext_lazy(
                    "The form lacks the version of the record: reload the page."
                )
            },
        )
        super().__init__(**kwargs)


def apply_domain_errors(form, error: DomainError) -> None:
    """Each message on its named visible field, else at the top of the form: for a hidden
    field (the version an edit started from) the error's own message ("Someone else
    changed…"); for a rule about something the form does not have (the interview not yet
    recorded, a plan without goals) the rule's message, after the error's own when that says
    more than the generic one (it names the person a `persons.<id>.…` field is about). Until
    2026-12-06 those read "Check the highlighted fields" with nothing highlighted."""
    on_top: list[str] = []
    specific = error.message != _(GENERIC)
    for name, msgs in error.fields.items():
        visible = name in form.fields and not form.fields[name].widget.is_hidden
        for msg in msgs:
            if visible:
                form.add_error(name, msg)
            elif name in form.fields:
                on_top.append(error.message)
            else:
                on_top += [error.message, msg] if specific else [msg]
    if not error.fields:
        on_top.append(error.message)
    for msg in dict.fromkeys(on_top):
        form.add_error(None, msg)


# The dates a page's form takes: a year typed short or wrong ("0202", "20026") is refused
# instead of stored. Birth dates reach back to 1900; later bounds are the services' own.
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2100, 12, 31)


def _day(d: dt.date) -> str:
    return f"{d.day}.{d.month}.{d.year}"


class _DateInputFormats:
    """The page language's date formats, then d.m.yyyy and ISO whatever the language: where
    the browser shows a text box instead of a date picker, "1.2.2024" typed on a Swedish or
    English page was refused as "Enter a valid date"."""

    def __iter__(self):
        yield from formats.get_format("DATE_INPUT_FORMATS")
        yield from ("%d.%m.%Y", "%Y-%m-%d")


class DateField(forms.DateField):
    """Django's date field, refusing dates outside `FIRST_DATE`..`LAST_DATE`, taking the
    Finnish d.m.yyyy in every language."""

    input_formats = _DateInputFormats()

    def validate(self, value):
        super().validate(value)
        if value and not FIRST_DATE <= value <= LAST_DATE:
            raise ValidationError(
                _("Give a date from %(first)s to %(last)s.")
                % {"first": _day(FIRST_DATE), "last": _day(LAST_DATE)},
                code="out_of_range",
            )
