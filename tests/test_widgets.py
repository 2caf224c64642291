"""The long-list select widgets write the markup Django's own templates write (compared as
parsed HTML: the same elements, attributes, selection and escaped text)."""

import pytest
from django import forms
from django.test.html import parse_html
from django.utils.functional import lazystr
from django.utils.safestring import mark_safe

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


# ---------------------------------------------------------------------------------------------
# The form renderer: character for character what Django's templates write
# ---------------------------------------------------------------------------------------------

TRICKY = "Ä & <b>\"x\"</b> 'y'"


class Every(forms.Form):
    text = forms.CharField(
        widget=forms.TextInput(
            attrs={
                "placeholder": TRICKY,
                "autofocus": True,
                "hidden": False,
                "size": 10,
                "aria-describedby": lazystr("help-text"),  # a lazy string
            }  # fmt: skip
        )
    )
    email = forms.EmailField(required=False)
    number = forms.DecimalField(required=False, localize=True)
    integer = forms.IntegerField(required=False, min_value=0)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    moment = forms.DateTimeField(required=False)
    at = forms.TimeField(required=False)
    url = forms.URLField(required=False)
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    tick = forms.BooleanField(required=False)
    search = forms.CharField(required=False, widget=forms.SearchInput)
    phone = forms.CharField(required=False, widget=forms.TelInput)
    colour = forms.CharField(required=False, widget=forms.ColorInput)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    kind = forms.ChoiceField(
        choices=[("", "—"), ("a", TRICKY), (3, 1234567), ('G "1"', [("b", "B"), ("c", "C")])],
        required=False,
    )
    kinds = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", mark_safe("<i>B</i>"))], required=False
    )
    radio = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    boxes = forms.MultipleChoiceField(
        choices=[("a", "A")], widget=forms.CheckboxSelectMultiple, required=False
    )
    when = forms.DateField(widget=forms.SelectDateWidget(years=[2026]), required=False)
    upload = forms.FileField(required=False)
    null = forms.NullBooleanField(required=False)


EVERY_DATA = [
    None,
    {
        "text": TRICKY,
        "email": "a@b",
        "number": "1234,5",
        "integer": "-1",
        "day": "2026-12-07",
        "moment": "2026-12-07 10:00",
        "at": "10:00",
        "url": "x",
        "secret": TRICKY,
        "hidden": mark_safe("<raw>"),
        "tick": "on",
        "search": "q",
        "phone": "+358",
        "colour": "#fff",
        "notes": f"line 1\n{TRICKY}",
        "kind": "3",
        "kinds": ["a", "b"],
        "radio": "b",
        "boxes": ["a"],
        "null": "true",
    },  # fmt: skip
    {"text": "", "notes": "", "kind": "zz"},
]


@pytest.mark.parametrize("data", EVERY_DATA)
@pytest.mark.parametrize("language", ["fi", "en"])
def test_form_renderer__writes_what_django_s_templates_write(data, language):
    from django.forms.renderers import DjangoTemplates
    from django.utils import translation

    from koto.core.widgets import FormRenderer

    with translation.override(language):
        plain = Every(data, renderer=DjangoTemplates())
        fast = Every(data, renderer=FormRenderer())
        if data is not None:
            plain.is_valid(), fast.is_valid()
        for name in Every.base_fields:
            assert str(fast[name]) == str(plain[name]), name
        assert str(fast) == str(plain)


def test_form_renderer__is_the_setting_and_takes_the_fast_path(monkeypatch):
    from django.forms.renderers import get_default_renderer

    from koto.core.widgets import FormRenderer

    renderer = get_default_renderer()
    assert isinstance(renderer, FormRenderer)
    assert renderer._own >= {"django/forms/widgets/text.html", "django/forms/widgets/select.html"}
    loaded = []
    monkeypatch.setattr(renderer, "get_template", lambda name: loaded.append(name))
    str(Every()["text"]), str(Every()["notes"]), str(Every()["kind"])
    assert loaded == []  # no template read for these


def test_form_renderer__an_overridden_template_is_used(tmp_path, settings):
    from django.forms.renderers import DjangoTemplates

    from koto.core.widgets import FormRenderer

    override = tmp_path / "django" / "forms" / "widgets"
    override.mkdir(parents=True)
    (override / "text.html").write_text("<b>mine</b>")

    class Mine(FormRenderer):
        @property
        def engine(self):
            return DjangoTemplates.backend(
                {
                    "APP_DIRS": True,
                    "DIRS": [tmp_path, *FormRenderer().engine.dirs],
                    "NAME": "mine",
                    "OPTIONS": {},
                }  # fmt: skip
            )

    renderer = Mine()
    assert "django/forms/widgets/text.html" not in renderer._own
    assert str(Every(renderer=renderer)["text"]) == "<b>mine</b>"
    assert str(Every(renderer=renderer)["email"]).startswith('<input type="email"')
