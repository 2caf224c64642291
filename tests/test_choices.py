"""Every choice field's `get_FOO_display` answers as Django's own `_get_FIELD_display` does,
for each of its values, one outside them and none, in each language: only faster
(`koto.core.choices`)."""

from functools import partialmethod

import pytest
from django.apps import apps
from django.db.models import Model
from django.test.utils import isolate_apps
from django.utils import translation

from koto.core.choices import use_stored_choice_labels


def _choice_fields():
    for model in apps.get_models():
        if not model.__module__.startswith("koto."):
            continue
        for field in model._meta.get_fields():
            if getattr(field, "choices", None) and not callable(field.choices):
                yield model, field


def test_stored_labels__installed_on_every_choice_field():
    fields = list(_choice_fields())
    assert len(fields) > 40
    for model, field in fields:
        method = getattr(model, f"get_{field.name}_display")
        assert not isinstance(method, partialmethod), (model, field.name)
        assert method.__name__ == f"get_{field.name}_display"


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_stored_labels__the_same_as_django_s(language):
    checked = 0
    with translation.override(language):
        for model, field in _choice_fields():
            for value in [v for v, _label in field.flatchoices] + ["no-such-value", None]:
                instance = model()
                setattr(instance, field.attname, value)
                ours = getattr(instance, f"get_{field.name}_display")()
                django = Model._get_FIELD_display(instance, field)
                assert ours == django and type(ours) is type(django), (model, field.name, value)
                checked += 1
    assert checked > 300


@isolate_apps("koto.core")
def test_stored_labels__a_model_s_own_display_is_kept():
    from django.db import models

    class Own(models.Model):
        kind = models.CharField(max_length=5, choices=[("a", "A")])
        other = models.CharField(max_length=5, choices=[("b", "B")])

        class Meta:
            app_label = "core"

        def __str__(self) -> str:
            return self.kind

        def get_kind_display(self):
            return "mine"

    assert use_stored_choice_labels([Own]) == 1
    assert Own(kind="a").get_kind_display() == "mine"
    assert Own(other="b").get_other_display() == "B"
