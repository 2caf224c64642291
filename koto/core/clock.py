"""The one clock of Koto: the only place that reads "now".

Everything else asks `now()` (an aware datetime) or `today()` (the date in Helsinki).
Tests move time with `frozen(...)`.
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current moment, timezone-aware (UTC)."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today's date in Helsinki."""
    return now().astimezone(HELSINKI).date()


@contextmanager
def frozen(at: dt.datetime | dt.date) -> Iterator[None]:
    """Freeze the clock (tests and deterministic data generation)."""
    global _frozen
    if isinstance(at, dt.date) and not isinstance(at, dt.datetime):
        at = dt.datetime.combine(at, dt.time(12, 0), tzinfo=HELSINKI)
    previous, _frozen = _frozen, at
    try:
        yield
    finally:
        _frozen = previous
