"""`get_FOO_display` without rebuilding the choices on every call.

Django's `Model._get_FIELD_display` makes a dict of the field's flattened choices each time
it is called (44 µs for a referral's type on this project's machines); a list of 50
referrals asks it twice a row, a work list once a task. `use_stored_choice_labels` gives
each of our models' choice fields a `get_FOO_display` that builds the dict once per field
and does the rest as Django does: the labels stay lazy, so each call answers in the
language active then, and a value outside the choices answers as itself. A model that
defines its own `get_FOO_display`, or a field whose choices are a callable (which may
change), keeps Django's."""

from functools import partialmethod

from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


def _display(field):
    labels = dict(make_hashable(field.flatchoices))
    attname = field.attname

    def get_display(self):
        value = getattr(self, attname)
        return force_str(labels.get(make_hashable(value), value), strings_only=True)

    get_display.__name__ = f"get_{field.name}_display"
    return get_display


def use_stored_choice_labels(models) -> int:
    """Install the stored-label `get_FOO_display` on these models; returns how many."""
    installed = 0
    for model in models:
        for field in model._meta.get_fields():
            if not getattr(field, "choices", None) or callable(field.choices):
                continue
            name = f"get_{field.name}_display"
            if not isinstance(model.__dict__.get(name), partialmethod):
                continue  # the model's own, or none (a field of a parent, installed there)
            setattr(model, name, _display(field))
            installed += 1
    return installed
