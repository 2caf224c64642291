"""Filters that pages read from their query string, checked as a form field checks them.

A page's filters are links, not a form, so a bad value comes from an address edited by hand
or kept from an older version. It is refused with the page's 400 naming the parameter
(`ValidationFailed`, shown by `DomainErrorMiddleware`) instead of being dropped silently,
which showed every row under a filter the reader thought was applied."""

from django import forms
from django.core.exceptions import ValidationError

from koto.core.errors import ValidationFailed


class BadQueryParameter(ValidationFailed):
    """A value in the page's address that the page does not take (whatever the method: a
    form posted to `…/enrol/?all=x` is refused for its address too)."""


def query_value(request, name: str, field: forms.Field):
    """`field.clean()` of the query parameter `name`; its messages, under `name`, if bad."""
    try:
        return field.clean(request.GET.get(name, ""))
    except ValidationError as e:
        raise BadQueryParameter({name: e.messages}) from e


def query_choice(request, name: str, choices) -> str:
    """The parameter if it is one of `choices` (values, or (value, label) pairs), or ""."""
    values = [c[0] if isinstance(c, (tuple, list)) else c for c in choices]
    return query_value(
        request, name, forms.ChoiceField(choices=[(v, v) for v in values], required=False)
    )
