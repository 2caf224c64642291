"""The pages' shared form pieces (koto.core.forms)."""

import datetime as dt

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from koto.core.errors import DomainError, ValidationFailed
from koto.core.forms import DateField, Form, apply_domain_errors


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"])
def test_date_field__outside_1900_to_2100__refused(value):
    field = DateField(required=False)
    with pytest.raises(ValidationError) as e:
        field.clean(value)
    assert e.value.messages == ["Give a date from 1.1.1900 to 31.12.2100."]


@pytest.mark.parametrize("value", ["1900-01-01", "2026-12-06", "2100-12-31"])
def test_date_field__within__kept(value):
    assert DateField().clean(value) == dt.date.fromisoformat(value)


def test_date_field__empty_and_optional__none():
    assert DateField(required=False).clean("") is None


class _Form(forms.Form):
    name = forms.CharField()
    version = forms.IntegerField(widget=forms.HiddenInput)


def _shown(error: DomainError) -> tuple[list, list]:
    form = _Form({"name": "x", "version": "1"})
    form.is_valid()
    apply_domain_errors(form, error)
    return list(form.errors.get("name", [])), list(form.non_field_errors())


def test_apply_domain_errors__each_message_where_the_reader_finds_it():
    # on its visible field
    assert _shown(ValidationFailed({"name": "Too long."})) == (["Too long."], [])
    # a hidden field's: the error's own message (a conflict says what happened)
    conflict = DomainError("conflict", "Someone else changed this.", fields={"version": "Reload."})
    assert _shown(conflict) == ([], ["Someone else changed this."])
    # a field the form does not have: the rule's own words (was the generic message)
    assert _shown(ValidationFailed({"interview_on": "Record the interview first."})) == (
        [], ["Record the interview first."],
    )  # fmt: skip
    # ... after the error's message when that names whom it is about
    arrival = ValidationFailed(
        {"persons.7.mother_tongue": "Unknown language code.", "persons.7.phone": "Too long."},
        message="Ali Rahimi cannot be made a client.",
    )
    assert _shown(arrival) == (
        [], ["Ali Rahimi cannot be made a client.", "Unknown language code.", "Too long."],
    )  # fmt: skip
    # no field at all: the message
    assert _shown(DomainError("plan_closed", "An ended plan cannot be changed.")) == (
        [], ["An ended plan cannot be changed."],
    )  # fmt: skip


def test_bad_address_page__only_for_a_bad_value_in_the_address(rf):
    # a ValidationFailed no form caught is not the address's fault; a bad parameter is,
    # whatever the method
    from koto.core.middleware import DomainErrorMiddleware
    from koto.core.params import BadQueryParameter

    middleware = DomainErrorMiddleware(lambda request: None)
    other = ValidationFailed({"status": "Select a valid choice."})
    assert middleware.process_exception(rf.get("/placement/"), other) is None
    bad = BadQueryParameter({"all": "Select a valid choice."})
    for request in (rf.get("/placement/"), rf.post("/services/clients/1/enrol/?all=x")):
        request.user = AnonymousUser()
        assert middleware.process_exception(request, bad).status_code == 400
    assert middleware.process_exception(rf.get("/api/v1/clients/"), bad) is None


class _Text(Form):
    note = forms.CharField(widget=forms.Textarea, required=False)
    email = forms.EmailField(required=False)
    kind = forms.ChoiceField(choices=[("a", "A")], required=False)


@pytest.mark.parametrize("bad", ["\x07", "\x08", "\x0c", "\x1f", "\x7f", "\x9b"])
def test_form__control_characters_in_text__refused_naming_the_field(bad):
    form = _Text({"note": f"A{bad}li", "email": f"a{bad}@example.fi"})
    assert not form.is_valid()
    message = "Remove the control characters (invisible characters) from the text."
    assert message in form.errors["note"] and message in form.errors["email"]


def test_form__tab_and_line_breaks_and_joiners__kept():
    text = "Tavoite:\r\n\t– suomen kieli A2\nمحمد\u200cرضا"
    form = _Text({"note": text, "kind": "a"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["note"] == text


def test_form__each_instance_adds_the_check_once():
    for _ in range(3):
        _Text()
    assert _Text().fields["note"].validators.count(_Text().fields["note"].validators[-1]) == 1
    assert len(_Text.base_fields["note"].validators) == len(forms.CharField().validators)


def test_field_template__choice_group__fieldset_with_legend_and_its_error_tied_to_it():
    """A radio or checkbox group is a fieldset named by its legend (a <label for=""> named
    nothing), and the group's error is tied to it; help text that is a list stays whole."""
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe

    class Choose(Form):
        needed = forms.ChoiceField(
            label="Is a plan needed?", choices=[("yes", "Yes"), ("no", "No")],
            widget=forms.RadioSelect,
        )  # fmt: skip
        name = forms.CharField(  # as Django's password rules are given
            label="Name", help_text=mark_safe("<ul><li>one</li><li>two</li></ul>")
        )

    form = Choose(data={"name": "x"})
    assert not form.is_valid()
    html = render_to_string("_field.html", {"field": form["needed"]})
    assert '<fieldset class="field has-error" aria-describedby="id_needed_error"' in html
    assert "<legend>Is a plan needed?" in html and '<label for="">' not in html
    assert '<ul class="error" id="id_needed_error">' in html
    html = render_to_string("_field.html", {"field": form["name"]})
    assert '<div class="help" id="id_name_helptext"><ul><li>one</li>' in html


def test_error_summary__links_each_error_to_its_field():
    from django.template.loader import render_to_string

    class Choose(Form):
        needed = forms.ChoiceField(
            label="Is a plan needed?", choices=[("yes", "Yes")], widget=forms.RadioSelect
        )
        name = forms.CharField(label="Name")

    form = Choose(data={})
    assert not form.is_valid()
    html = render_to_string("_error_summary.html", {"form": form})
    assert 'tabindex="-1"' in html  # koto.js moves the focus here
    assert '<a href="#id_needed_0">Is a plan needed?: This field is required.</a>' in html
    assert '<a href="#id_name">Name: This field is required.</a>' in html


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_date_field__finnish_day_month_year__taken_in_every_language(language):
    from django.utils import translation

    with translation.override(language):
        assert DateField().clean("1.2.2024") == dt.date(2024, 2, 1)
        assert DateField().clean("2024-02-01") == dt.date(2024, 2, 1)
