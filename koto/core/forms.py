"""Showing a service's domain errors on a Django form."""

from koto.core.errors import DomainError


def apply_domain_errors(form, error: DomainError) -> None:
    """Each message on its named visible field, else at the top of the form."""
    for name, msgs in error.fields.items():
        visible = name in form.fields and not form.fields[name].widget.is_hidden
        for msg in msgs:
            form.add_error(name if visible else None, msg if visible else error.message)
    if not error.fields:
        form.add_error(None, error.message)
