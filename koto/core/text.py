"""Normalising names for search: case- and accent-insensitive keys."""

import unicodedata


def search_key(value: str) -> str:
    """Lower-case, accents removed, spaces collapsed: 'Ääkköñen  Ali' -> 'aakkonen ali'."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.split())


def prefix_q(field: str, key: str, *, vendor: str):
    """A Q object matching rows whose `field` starts with `key`, using the field's b-tree index
    on either database: PostgreSQL's `LIKE 'key%'` with a pattern-ops index, SQLite's
    byte-order range (its LIKE is case-insensitive and cannot use a binary index)."""
    from django.db.models import Q

    if vendor == "sqlite":
        return Q(**{f"{field}__gte": key, f"{field}__lt": key + "\U0010ffff"})
    return Q(**{f"{field}__startswith": key})


def prefix_range_q(field: str, key: str):
    """`key <= field < key + U+10FFFF`: the rows starting with `key` as a range that a default
    b-tree index, also one led by other columns, can seek and return in order. Exact under
    C, C.UTF-8 and SQLite's binary order; under a linguistic collation it may also hold rows
    that do not start with `key`, so the caller checks `str.startswith` on what it reads (a
    `LIKE` here made PostgreSQL's planner AND two bitmaps and sort: 83 ms instead of 0.5)."""
    from django.db.models import Q

    return Q(**{f"{field}__gte": key, f"{field}__lt": key + "\U0010ffff"})
