"""Types the API's input schemas share."""

import datetime as dt
from contextlib import contextmanager
from typing import Annotated

from django.utils.translation import gettext
from ninja import Schema
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from koto.core.errors import DomainError
from koto.core.forms import FIRST_DATE, LAST_DATE
from koto.core.text import has_text_control_characters

# A date given to the API: within the years the pages' forms take (1900–2100), so a year
# typed short or wrong ("0202", "20026") is a 422 naming the field, not a stored date.
Day = Annotated[dt.date, Field(ge=FIRST_DATE, le=LAST_DATE)]


def _refuse_control_characters(value):
    """Any string in `value` (also within lists, mappings and nested schemas) holding a
    control character other than tab and line breaks is refused."""
    if isinstance(value, str):
        if has_text_control_characters(value):
            raise PydanticCustomError(  # a ValueError's message would start "Value error, "
                "control_characters",
                gettext("Remove the control characters (invisible characters) from the text."),
            )
    elif isinstance(value, list | tuple | set):
        for item in value:
            _refuse_control_characters(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_control_characters(key)
            _refuse_control_characters(item)
    elif isinstance(value, BaseModel):
        for item in value.__dict__.values():
            _refuse_control_characters(item)
    return value


# A text given in the query string (a search word): control characters refused with a 422
# naming the parameter, as in a body (`In`); its length is the parameter's own `max_length`.
QueryText = Annotated[str, AfterValidator(lambda value: _refuse_control_characters(value))]


# A filter given empty (`?kind=`) means no filter, as it did when filters were plain text.
EmptyIsNone = BeforeValidator(lambda value: None if value == "" else value)


class In(Schema):
    """An input schema: every text it takes refuses control characters with a 422 naming
    the field, as the pages' forms do (`koto.core.forms.Form`). Output schemas do not
    inherit it, so an answer never fails on what is stored. A field it does not know is
    refused too, naming it: `{"home_municipality": "091"}` for `home_municipality_code`
    answered 200 and changed nothing."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value):
        return _refuse_control_characters(value)


@contextmanager
def fields_named(**names: str):
    """A service's errors under the request's own field names (the service's `municipality`
    is the API's `municipality_code`), so a 422 names a field the client sent."""
    try:
        yield
    except DomainError as e:
        e.fields = {names.get(k, k): v for k, v in e.fields.items()}
        raise
