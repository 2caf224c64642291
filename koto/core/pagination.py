"""Keyset pages for organisation-wide lists.

A page is the rows after the cursor in a fixed total order of a model's own non-null
fields ending with the primary key, e.g. `("-id",)` or `("name_fi", "id")`. It is read with
one query of `limit + 1` rows: the extra row only says whether there is a next page.

The cursor is opaque to the caller: for an order by the id alone it is the last row's id,
for a compound order the last row's key as URL-safe base64 of a JSON list of strings. A
cursor that cannot be read raises `ValidationFailed` naming `cursor` (422 in the API)."""

import base64
import datetime as dt
import json
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

from django.core.exceptions import ValidationError
from django.db.models import Field, Model, Q, QuerySet
from django.utils.translation import gettext

from koto.core.errors import ValidationFailed

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Longer than any cursor written (a key of 200 four-byte characters, or the client search's
# 310-character name key escaped as JSON, comes to about 2 500); a longer one is refused
# unread (a cursor of 1 500 "[" made `json.loads` recurse past Python's limit: a 500).
MAX_CURSOR_LENGTH = 4096


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    next_cursor: str | None


def _fields(model: type[Model], order: Sequence[str]) -> list[Field]:
    fields = [model._meta.get_field(name.removeprefix("-")) for name in order]
    if not fields or not fields[-1].primary_key:
        raise ValueError(f"a keyset order must end with the primary key: {order}")
    if any(f.null or f.many_to_many or f.one_to_many for f in fields):
        raise ValueError(f"a keyset order takes the model's own non-null fields: {order}")
    return fields


def encode_cursor(row: Model, fields: Sequence[Field]) -> str:
    if len(fields) == 1:
        return str(fields[0].value_from_object(row))
    values = [f.value_to_string(row) for f in fields]
    raw = json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, fields: Sequence[Field]) -> list:
    """The key values of the cursor, or `ValidationFailed` naming `cursor`."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("cursor too long")
        if len(fields) == 1:
            raw = [cursor]
        else:
            raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(fields):
            raise ValueError("cursor length")
        values = []
        for field, text in zip(fields, raw, strict=True):
            if not isinstance(text, str):
                raise ValueError("cursor value")
            # a NUL or a lone surrogate the database cannot take (PostgreSQL: DataError)
            text.encode("utf-8")
            if "\x00" in text:
                raise ValueError("cursor value")
            value = field.to_python(text)
            field.run_validators(value)
            if isinstance(value, dt.datetime) and value.utcoffset() is None:
                raise ValueError("a cursor's moment carries its offset")
            if isinstance(value, dt.datetime):
                value.astimezone(dt.UTC)  # out of range for the database: OverflowError
            values.append(value)
    except (ValueError, TypeError, OverflowError, RecursionError, ValidationError):
        raise ValidationFailed(
            {"cursor": gettext("Invalid cursor: use the next_cursor of the previous page.")}
        ) from None
    return values


def _after(order: Sequence[str], fields: Sequence[Field], values: Sequence) -> Q:
    """Rows after the key `values` in `order`: (a > x) or (a = x and b > y) or …"""
    terms = []
    for i, name in enumerate(order):
        lookup = "lt" if name.startswith("-") else "gt"
        same = {f.attname: v for f, v in zip(fields[:i], values[:i], strict=True)}
        terms.append(Q(**same, **{f"{fields[i].attname}__{lookup}": values[i]}))
    return reduce(operator.or_, terms)


def keyset_page(
    qs: QuerySet, *, order: Sequence[str], cursor: str | None, limit: int = DEFAULT_LIMIT
) -> Page:
    """The page of `qs` after `cursor` in `order` (at most `limit` rows, 1–MAX_LIMIT)."""
    fields = _fields(qs.model, order)
    if cursor:
        qs = qs.filter(_after(order, fields, decode_cursor(cursor, fields)))
    limit = max(1, min(limit, MAX_LIMIT))
    rows = list(qs.order_by(*order)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1], fields) if more else None)


def page_at(read, cursor: str | None, **kwargs) -> Page:
    """`read(cursor=cursor, **kwargs)` for an HTML page: a cursor edited by hand (the
    `ValidationFailed` naming `cursor`) gives the first page instead of an error."""
    try:
        return read(cursor=cursor, **kwargs)
    except ValidationFailed as e:
        if "cursor" not in e.fields:
            raise
        return read(**kwargs)
