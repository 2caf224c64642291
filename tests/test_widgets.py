"""The long-list select widgets write the markup Django's own templates write (compared as
parsed HTML: the same elements, attributes, selection and escaped text)."""

import pytest
from django import forms
from django.test.html import parse_html

from koto.core.widgets import ListSelect, ListSelectMultiple

CHOICES = [
    ("", "—"),
    ("fi", "suomi"),
    ("sv", "ruotsi & <muu>"),
    ('Ryhmä "x"', [("ar", "arabia"), ("so", "somali")]),
]


class Plain(forms.Form):
    one = forms.ChoiceField(choices=CHOICES, required=False)
    many = forms.MultipleChoiceField(
        choices=CHOICES, widget=forms.SelectMultiple(attrs={"size": 4})
    )


class Fast(forms.Form):
    one = forms.ChoiceField(choices=CHOICES, required=False, widget=ListSelect)
    many = forms.MultipleChoiceField(choices=CHOICES, widget=ListSelectMultiple(attrs={"size": 4}))


@pytest.mark.parametrize(
    "data", [None, {"one": "sv", "many": ["fi", "so"]}, {"one": "zz", "many": []}]
)
def test_list_widgets__same_html_as_django(data):
    plain, fast = Plain(data), Fast(data)
    if data is not None:
        plain.is_valid(), fast.is_valid()
    for name in ("one", "many"):
        # the same elements, attributes and text (attribute order and whitespace aside)
        assert parse_html(str(fast[name])) == parse_html(str(plain[name]))


def test_list_widgets__selection_kept():
    form = Fast({"one": "sv", "many": ["fi", "so"]})
    assert '<option value="sv" selected>' in str(form["one"])
    assert str(form["many"]).count(" selected>") == 2


def test_list_select__model_choices_and_duplicates_like_django(db):
    from koto.organisations.models import Organisation
    from tests.factories import OrganisationFactory

    OrganisationFactory(code="091"), OrganisationFactory(code="398")
    dup = [("a", "A"), ("a", "A again"), ("b", "B")]

    class P(forms.Form):
        org = forms.ModelChoiceField(queryset=Organisation.objects.order_by("code"))
        one = forms.ChoiceField(choices=dup)

    class F(forms.Form):
        org = forms.ModelChoiceField(
            queryset=Organisation.objects.order_by("code"), widget=ListSelect
        )
        one = forms.ChoiceField(choices=dup, widget=ListSelect)

    pick = Organisation.objects.order_by("code").last().pk
    for data in (None, {"org": pick, "one": "a"}):
        p, f = P(data), F(data)
        for name in ("org", "one"):
            assert parse_html(str(f[name])) == parse_html(str(p[name]))
