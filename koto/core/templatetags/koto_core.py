from django import template
from django.forms import BaseForm
from django.forms.formsets import BaseFormSet
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag(takes_context=True)
def page_has_form_errors(context) -> bool:
    """Whether any form or formset the page shows came back with errors, whatever its name
    in the context (a claim's page has four): the title then begins with "Error:", the first
    thing a screen reader says of the page given again."""
    for value in context.flatten().values():
        if isinstance(value, BaseForm) and value.is_bound and value.errors:
            return True
        if isinstance(value, BaseFormSet) and value.is_bound and not value.is_valid():
            return True
    return False


@register.inclusion_tag("_pager.html", takes_context=True)
def pager(context, next_cursor, next_label=None, first_label=None, param: str = "cursor"):
    """A keyset list's links: the next page (this address with the next cursor) and, past the
    first page, the first (this address without a cursor), keeping the list's other
    parameters (a search's words, a filter)."""
    request = context["request"]
    first_url = next_url = None
    if request.GET.get(param):
        rest = request.GET.copy()
        rest.pop(param)
        first_url = f"?{rest.urlencode()}" if rest else request.path
    if next_cursor:
        params = request.GET.copy()
        params[param] = next_cursor
        next_url = f"?{params.urlencode()}"
    return {
        "first_url": first_url,
        "next_url": next_url,
        "next_label": next_label or _("Next page"),
        "first_label": first_label or _("First page"),
    }
