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


def prefix_range_q(field: str, key: str, *, vendor: str):
    """Rows whose `field` starts with `key`, as a range a default b-tree index (and one that
    leads with other columns) can seek and return in order, whatever the collation:
    `key <= field < key + U+10FFFF`, and on PostgreSQL also `LIKE 'key%'`, which rechecks the
    range under a linguistic collation (under C and C.UTF-8 the range alone is exact)."""
    from django.db.models import Q

    span = Q(**{f"{field}__gte": key, f"{field}__lt": key + "\U0010ffff"})
    if vendor == "sqlite":
        return span
    return span & Q(**{f"{field}__startswith": key})
