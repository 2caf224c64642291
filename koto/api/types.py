"""Types the API's input schemas share."""

import datetime as dt
from typing import Annotated

from pydantic import Field

from koto.core.forms import FIRST_DATE, LAST_DATE

# A date given to the API: within the years the pages' forms take (1900–2100), so a year
# typed short or wrong ("0202", "20026") is a 422 naming the field, not a stored date.
Day = Annotated[dt.date, Field(ge=FIRST_DATE, le=LAST_DATE)]
