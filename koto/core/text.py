"""Normalising names for search: case- and accent-insensitive keys; sorting names as a
Finnish, Swedish or English reader expects."""

import unicodedata

# In a name key a hyphen is a space ("Al-Hassan" is found by "al hassan", and "al-hassan"
# by either) and an apostrophe is nothing ("N'Diaye" by "ndiaye"): how a name is spelt
# varies between documents and the one who types it.
NAME_HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\uff0d"
NAME_APOSTROPHES = "'\u2019\u02bc\u2018`\u00b4\uff07"
_NAME_PUNCTUATION = str.maketrans(
    dict.fromkeys(NAME_HYPHENS, " ") | dict.fromkeys(NAME_APOSTROPHES, "")
)


def search_key(value: str) -> str:
    """Lower-case, accents removed, hyphens as spaces, apostrophes dropped, spaces
    collapsed: 'Ääkköñen  Al-Ali' -> 'aakkonen al ali', "N'Diaye" -> 'ndiaye'."""
    # (before the decomposition too: it turns an acute accent "´" into a space and a mark)
    decomposed = unicodedata.normalize("NFKD", value.casefold().translate(_NAME_PUNCTUATION))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.translate(_NAME_PUNCTUATION).split())


# Finnish and Swedish end their alphabets with å, ä, ö (in that order, after z); other
# accented letters sort with their base letter (é with e, ü with y is not attempted).
_NORDIC_TAIL = str.maketrans({"å": "\x7b", "ä": "\x7c", "ö": "\x7d", "ø": "\x7d", "æ": "\x7c"})


def sort_key(value: str, language: str = "fi") -> str:
    """A key that orders names for a reader of `language`: 'Åbo' before 'Äänekoski' in
    Finnish and Swedish (after 'Z'), 'Äänekoski' among the A's in English. Python's
    `sorted` alone orders by code point (ä before å)."""
    folded = value.casefold()
    if language[:2] in ("fi", "sv"):
        folded = folded.translate(_NORDIC_TAIL)
    return search_key(folded)


def as_id(value: str | None) -> int | None:
    """A row id typed in an address ("?action=12"): ASCII digits within PostgreSQL's bigint,
    else None. `str.isdigit` alone lets "²" through, on which `int` fails."""
    if value and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


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


# Characters a name never holds: control characters, and the bidirectional embeddings,
# overrides and isolates that make "Ali‮ofni" read otherwise than it is stored (the
# joiners U+200C/U+200D and the marks U+200E/U+200F stay: Persian and Arabic names use them).
_NOT_IN_NAMES = {
    *(chr(c) for c in range(0x20)), *(chr(c) for c in range(0x7F, 0xA0)),
    *(chr(c) for c in range(0x202A, 0x202F)), *(chr(c) for c in range(0x2066, 0x206A)),
}  # fmt: skip


def has_control_characters(value: str) -> bool:
    """Whether a name (a person's, a user's) holds a character no name holds."""
    return not _NOT_IN_NAMES.isdisjoint(value)


# Characters free text (notes, goals, reasons) never needs: the control characters other
# than tab, line feed and carriage return. Pasted from a PDF or a terminal they are
# invisible on the page and can break what reads the text later (an XLSX export refuses
# most of them). U+0000 is refused earlier still (`core.middleware.NullCharacterMiddleware`).
_NOT_IN_TEXT = {
    *(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"), *(chr(c) for c in range(0x7F, 0xA0)),
}  # fmt: skip


def has_text_control_characters(value: str) -> bool:
    """Whether free text holds a control character other than tab and line breaks."""
    return not _NOT_IN_TEXT.isdisjoint(value)


# Dashes a word processor or a phone puts in place of the hyphen-minus.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")


def normalise_identity_code(value: str) -> str:
    """An identity code as typed or pasted: upper case, without spaces, any dash a hyphen
    ("240892–005U", with an en dash, was refused, and not found by a search)."""
    return "".join(value.translate(_DASHES).split()).upper()
