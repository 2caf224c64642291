"""Rendering form widgets without a template per widget: select widgets for long option lists
(countries, languages, municipalities, services), and the form renderer (`FormRenderer`) for
the commonest widgets of every form.

Django renders every option through its own template (`select_option.html` with
`attrs.html`) after building a context dict per option: for the client form's five lists,
about 1 100 options, that was three quarters of the request at national scale
(docs/performance.md). These widgets write the same markup as Django's `select.html`
(tested as parsed HTML) straight from the choices: the same attributes, the same selection
rule (a single select marks the first matching option only), labels escaped with the
standard library's `html.escape`, which Django's own `escape` calls (without its lazy-string
wrapper, a third of this widget's time)."""

from html import escape
from pathlib import Path

from django import forms
from django.forms.renderers import DjangoTemplates
from django.forms.utils import flatatt
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.functional import cached_property
from django.utils.safestring import SafeData, mark_safe


class _ListRendering:
    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            attrs["multiple"] = True
        multiple, found = self.allow_multiple_selected, False
        parts = [f'<select name="{escape(name)}"{flatatt(attrs)}>']
        for option_value, option_label in self.choices:
            if isinstance(option_label, (list, tuple)):
                parts.append(f'<optgroup label="{escape(str(option_value))}">')
                group = option_label
            else:
                group = ((option_value, option_label),)
            for sub_value, sub_label in group:
                text = "" if sub_value is None else str(sub_value)
                selected = (multiple or not found) and text in chosen
                found |= selected
                mark = " selected" if selected else ""
                label = sub_label if isinstance(sub_label, SafeData) else escape(str(sub_label))
                parts.append(f'<option value="{escape(text)}"{mark}>{label}</option>')
            if group is option_label:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every name, value and label is escaped


class ListSelect(_ListRendering, forms.Select):
    """`forms.Select`, rendered without a template per option."""


class ListSelectMultiple(_ListRendering, forms.SelectMultiple):
    """`forms.SelectMultiple`, rendered without a template per option."""


# ---------------------------------------------------------------------------------------------
# The form renderer
# ---------------------------------------------------------------------------------------------

_WIDGETS = "django/forms/widgets/"
# Django's templates that are `input.html` alone (`{% include %}` of it and nothing else)
_INPUTS = frozenset(
    f"{_WIDGETS}{name}.html"
    for name in (
        "input", "text", "email", "date", "datetime", "time", "number", "url", "password",
        "hidden", "checkbox", "search", "tel", "color",
    )
)  # fmt: skip
_TEXTAREA = f"{_WIDGETS}textarea.html"
_SELECT = f"{_WIDGETS}select.html"
_OPTION = f"{_WIDGETS}select_option.html"
_DJANGO_FORMS = Path(forms.__file__).resolve().parent / "templates"
_PLAIN = Context()  # autoescape on, localisation and time zone as settings say


def _value(value) -> str:
    """`{{ value }}` in an autoescaped template (`render_value_in_context`)."""
    return render_value_in_context(value, _PLAIN)


def _formatted(value) -> str:
    """`{{ value|stringformat:'s' }}` (`"%s" % value`, a tuple as `str`: both `str(value)`):
    the filter keeps a safe string safe (it is `is_safe`), so only an unsafe one is escaped."""
    text = str(value)
    return text if isinstance(value, SafeData) else escape(text)


def _attrs(attrs: dict) -> str:
    """`django/forms/widgets/attrs.html`."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(
            f" {_value(name)}" if value is True else f' {_value(name)}="{_formatted(value)}"'
        )
    return "".join(out)


class FormRenderer(DjangoTemplates):
    """Django's form renderer (`FORM_RENDERER`), writing the commonest widgets (the inputs,
    the textarea and the select with Django's own options) straight from the widget's
    context instead of through Django's templates, character for character as those
    templates would (tested against them, `tests/test_widgets.py`). Every other template,
    and these too when an app overrides them, goes through the templates as usual.

    Why: a form's inputs are rendered through two templates each (`text.html` includes
    `input.html`, which includes `attrs.html`); the client form's 27 inputs were a fifth of
    its page's server time (docs/performance.md)."""

    @cached_property
    def _own(self) -> frozenset[str]:
        """The fast templates that resolve to Django's own files here (not overridden)."""
        own = set()
        for name in (*_INPUTS, _TEXTAREA, _SELECT, _OPTION):
            origin = Path(self.get_template(name).origin.name).resolve()
            if origin.is_relative_to(_DJANGO_FORMS):
                own.add(name)
        return frozenset(own)

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        if widget is not None and template_name in self._own:
            if template_name in _INPUTS:
                return self._input(widget).strip()
            if template_name == _TEXTAREA:
                return self._textarea(widget).strip()
            if template_name == _SELECT and _OPTION in self._own:
                html = self._select(widget)
                if html is not None:
                    return html.strip()
        return super().render(template_name, context, request=request)

    @staticmethod
    def _input(w: dict) -> str:
        value = "" if w["value"] is None else f' value="{_formatted(w["value"])}"'
        return f'<input type="{_value(w["type"])}" name="{_value(w["name"])}"{value}{_attrs(w["attrs"])}>'  # noqa: E501

    @staticmethod
    def _textarea(w: dict) -> str:
        value = _value(w["value"]) if w["value"] else ""
        return f'<textarea name="{_value(w["name"])}"{_attrs(w["attrs"])}>\n{value}</textarea>'

    @staticmethod
    def _select(w: dict) -> str | None:
        parts = [f'<select name="{_value(w["name"])}"{_attrs(w["attrs"])}>']
        for group_name, options, _index in w["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{_value(group_name)}">')
            for o in options:
                if o["template_name"] != _OPTION:
                    return None  # an option template of its own: Django renders it all
                parts.append(
                    f'\n  <option value="{_formatted(o["value"])}"{_attrs(o["attrs"])}>'
                    f"{_value(o['label'])}</option>\n"  # the option template's last line ends
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return "".join(parts)
