from django import template
from django.forms import BaseForm
from django.forms.formsets import BaseFormSet

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
