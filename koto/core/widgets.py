"""Select widgets for long option lists (countries, languages, municipalities, services).

Django renders every option through its own template (`select_option.html` with
`attrs.html`): for the client form's five lists, about 1 100 options, that was three
quarters of the request at national scale (docs/performance.md). These widgets keep
Django's option building (`get_context`: choices, selection, optgroups, attributes) and write
the same markup as Django's `select.html` with Python string joins."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe


def _options(optgroups) -> str:
    parts = []
    for group_name, group_choices, _index in optgroups:
        if group_name:
            parts.append(format_html('<optgroup label="{}">', group_name))
        for option in group_choices:
            parts.append(
                f'<option value="{conditional_escape(str(option["value"]))}"'
                f"{flatatt(option['attrs'])}>{conditional_escape(option['label'])}</option>"
            )
        if group_name:
            parts.append("</optgroup>")
    return "".join(parts)


class _ListRendering:
    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        return mark_safe(  # noqa: S308 - every value and label above is escaped
            f'<select name="{conditional_escape(widget["name"])}"{flatatt(widget["attrs"])}>'
            f"{_options(widget['optgroups'])}</select>"
        )


class ListSelect(_ListRendering, forms.Select):
    """`forms.Select`, rendered without a template per option."""


class ListSelectMultiple(_ListRendering, forms.SelectMultiple):
    """`forms.SelectMultiple`, rendered without a template per option."""
