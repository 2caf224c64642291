"""Select widgets for long option lists (countries, languages, municipalities, services).

Django renders every option through its own template (`select_option.html` with
`attrs.html`) after building a context dict per option: for the client form's five lists,
about 1 100 options, that was three quarters of the request at national scale
(docs/performance.md). These widgets write the same markup as Django's `select.html`
(tested as parsed HTML) straight from the choices: the same attributes, the same selection
rule (a single select marks the first matching option only), labels escaped with the
standard library's `html.escape`, which Django's own `escape` calls (without its lazy-string
wrapper, a third of this widget's time)."""

from html import escape

from django import forms
from django.forms.utils import flatatt
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
