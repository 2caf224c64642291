"""National code lists used in the registry: countries (ISO 3166, with Kosovo and stateless)
and languages (ISO 639), from pycountry, with names in the user's language."""

import gettext
from functools import cache

import pycountry
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from koto.core.text import sort_key

# ISO 639-3 languages common among immigrants to Finland that have no two-letter code.
EXTRA_LANGUAGES = ("prs", "ckb", "kmr", "pbu", "aii", "rom")


def _translator(domain: str, lang: str):
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[lang], fallback=True)


# Citizenships a residence permit records that ISO 3166 has no code for: Kosovo (the
# user-assigned code the EU and Statistics Finland use) and stateless persons (ICAO 9303's
# code on permits and travel documents). Without them a stateless refugee's citizenship
# could only be left blank, which reads as "not known".
EXTRA_COUNTRIES = {"XK": _("Kosovo"), "XXA": _("Stateless")}


def is_country(code: str, *, stateless: bool = False) -> bool:
    """An ISO 3166 code or Kosovo's; with `stateless` (a citizenship), that too."""
    code = code.upper()
    return bool(code) and (
        (code in EXTRA_COUNTRIES and (stateless or code != "XXA"))
        or pycountry.countries.get(alpha_2=code) is not None
        or pycountry.countries.get(alpha_3=code) is not None
    )


def language_record(code: str):
    code = code.lower()
    if len(code) == 2:
        return pycountry.languages.get(alpha_2=code)
    if len(code) == 3:
        return pycountry.languages.get(alpha_3=code)
    return None


def is_language(code: str) -> bool:
    return bool(code) and language_record(code) is not None


def normalise_language(code: str) -> str:
    """The two-letter ISO 639-1 code where one exists, else the three-letter code."""
    record = language_record(code)
    if record is None:
        return code.lower()
    return getattr(record, "alpha_2", None) or record.alpha_3


def normalise_country(code: str) -> str:
    """The two-letter ISO 3166-1 code."""
    code = code.upper()
    if code in EXTRA_COUNTRIES:
        return code
    record = pycountry.countries.get(alpha_2=code) or pycountry.countries.get(alpha_3=code)
    return record.alpha_2 if record else code


@cache
def _country_choices(lang: str) -> list[tuple[str, str]]:
    t = _translator("iso3166-1", lang)
    rows = [(c.alpha_2, t.gettext(c.name)) for c in pycountry.countries]
    rows += [(code, str(name)) for code, name in EXTRA_COUNTRIES.items()]  # (lang is active)
    return sorted(rows, key=lambda x: sort_key(x[1], lang))


@cache
def _language_choices(lang: str) -> list[tuple[str, str]]:
    t = _translator("iso639-3", lang)
    rows = [
        (lg.alpha_2, t.gettext(lg.name)) for lg in pycountry.languages if hasattr(lg, "alpha_2")
    ]
    rows += [(c, t.gettext(pycountry.languages.get(alpha_3=c).name)) for c in EXTRA_LANGUAGES]
    return sorted(rows, key=lambda x: sort_key(x[1], lang))


def country_choices(*, stateless: bool = False) -> list[tuple[str, str]]:
    """Countries in the reader's language; with `stateless`, for a citizenship, that too."""
    rows = _country_choices((get_language() or "fi")[:2])
    return rows if stateless else [row for row in rows if row[0] != "XXA"]


def language_choices(also=()) -> list[tuple[str, str]]:
    """The languages to choose from, in the reader's language: those with a two-letter code
    and `EXTRA_LANGUAGES`, and any other ISO 639 code in `also` (a value already stored)."""
    lang = (get_language() or "fi")[:2]
    rows = _language_choices(lang)
    known = {c for c, _n in rows}
    more = [normalise_language(c) for c in also if is_language(c)]
    more = [c for c in dict.fromkeys(more) if c not in known]
    if not more:
        return rows
    t = _translator("iso639-3", lang)
    extra = [(c, t.gettext(language_record(c).name)) for c in more]
    return sorted([*rows, *extra], key=lambda x: sort_key(x[1], lang))


def country_name(code: str) -> str:
    return dict(country_choices(stateless=True)).get(code.upper(), code) if code else ""


def language_name(code: str) -> str:
    if not code:
        return ""
    record = language_record(code)
    if record is None:
        return code
    return _translator("iso639-3", (get_language() or "fi")[:2]).gettext(record.name)
