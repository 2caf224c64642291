"""The pages' shared form pieces (koto.core.forms)."""

import datetime as dt

import pytest

from koto.core.forms import DateField


@pytest.mark.parametrize("value", ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"])
def test_date_field__outside_1900_to_2100__refused(value):
    field = DateField(required=False)
    with pytest.raises(Exception) as e:
        field.clean(value)
    assert e.value.messages == ["Give a date from 1.1.1900 to 31.12.2100."]


@pytest.mark.parametrize("value", ["1900-01-01", "2026-12-06", "2100-12-31"])
def test_date_field__within__kept(value):
    assert DateField().clean(value) == dt.date.fromisoformat(value)


def test_date_field__empty_and_optional__none():
    assert DateField(required=False).clean("") is None
