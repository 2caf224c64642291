"""The plan the client holds: an accessible HTML view and a PDF of an integration plan.

The document is printed in the client's language followed by a Finnish copy (the official
version). Fixed texts come from :mod:`koto.plans.document_texts`; what counsellors wrote
(goals, actions, names, contact details) is printed as written and never translated.

This module knows nothing about the plans app's models: callers build a
:class:`PlanDocument` (plain frozen dataclasses) and call :func:`render_plan_html` or
:func:`render_plan_pdf` with the languages from :func:`document_languages`.
See docs/plan-document.md.
"""

import gettext
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.template.loader import render_to_string
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

from koto.plans.document_texts import EN_MONTHS, TEXTS

SUPPORTED_LANGUAGES: tuple[str, ...] = ("fi", "sv", "en", "ar", "ru", "uk", "so", "fa")
RTL_LANGUAGES: frozenset[str] = frozenset({"ar", "fa"})
OFFICIAL_LANGUAGE = "fi"
FALLBACK_LANGUAGE = "en"

AREAS: tuple[str, ...] = (
    "language",
    "work",
    "studies",
    "everyday_life",
    "parenting",
    "health",
    "participation",
)
RESPONSIBLES: tuple[str, ...] = ("client", "counsellor", "other_organisation")
KINDS: tuple[str, ...] = ("basic", "multisectoral")
STATUSES: tuple[str, ...] = ("draft", "active", "ended")
ACKNOWLEDGEMENT_METHODS: tuple[str, ...] = ("", "signature", "oral", "electronic")

TEMPLATE = "plans/document.html"

# ISO 639-2/639-3 codes (and a few individual languages of a macrolanguage) that map onto a
# supported ISO 639-1 language. Dari (prs) is written in Persian script: it gets the fa texts.
_LANGUAGE_ALIASES: dict[str, str] = {
    "fin": "fi",
    "swe": "sv",
    "eng": "en",
    "ara": "ar",
    "arb": "ar",
    "rus": "ru",
    "ukr": "uk",
    "som": "so",
    "fas": "fa",
    "per": "fa",
    "pes": "fa",
    "prs": "fa",
}


@dataclass(frozen=True)
class ActionLine:
    what: str  # free text
    responsible: str  # code: "client" | "counsellor" | "other_organisation"
    responsible_name: str  # free text, e.g. the counsellor's or organisation's name
    planned_on: date | None
    done_on: date | None
    service: str = ""  # free text name of a linked service, may be empty


@dataclass(frozen=True)
class GoalLine:
    # code: "language" | "work" | "studies" | "everyday_life" | "parenting" | "health"
    # | "participation"
    area: str
    description: str  # free text
    actions: tuple[ActionLine, ...]


@dataclass(frozen=True)
class PlanDocument:
    client_name: str
    client_birth_date: date
    client_identifier: str  # hetu or temporary id
    organisation_name: str
    counsellor_name: str
    counsellor_contact: str  # phone / e-mail, free text
    kind: str  # "basic" | "multisectoral"
    status: str  # "draft" | "active" | "ended"
    starts_on: date | None
    ends_on: date | None
    next_review_on: date | None
    goals: tuple[GoalLine, ...]
    acknowledged_on: date | None
    acknowledgement_method: str  # "" | "signature" | "oral" | "electronic"
    interpreter_language: str  # ISO 639-1 code or ""
    generated_on: date


def normalise_language(code: str | None) -> str:
    """``"ar-SY"``, ``"ARA"``, ``"prs"`` → ``"ar"``, ``"ar"``, ``"fa"``; unknown codes are
    returned lower-cased (primary subtag only); ``None`` → ``""``."""
    primary = (code or "").strip().replace("_", "-").split("-")[0].lower()
    return _LANGUAGE_ALIASES.get(primary, primary)


def document_languages(client_language: str) -> list[str]:
    """The client's language (if supported and not Finnish) followed by Finnish; unsupported →
    English then Finnish; Finnish → just ["fi"]. Accept ISO 639-1 codes and common 639-3
    ("ara"→ar, "rus"→ru, "ukr"→uk, "som"→so, "fas"/"per"/"prs" → fa (Dari is written in
    Persian script; use fa texts))."""
    code = normalise_language(client_language)
    if code == OFFICIAL_LANGUAGE:
        return [OFFICIAL_LANGUAGE]
    if code in SUPPORTED_LANGUAGES:
        return [code, OFFICIAL_LANGUAGE]
    return [FALLBACK_LANGUAGE, OFFICIAL_LANGUAGE]


def text_direction(lang: str) -> str:
    """``"rtl"`` for Arabic and Persian, otherwise ``"ltr"``."""
    return "rtl" if lang in RTL_LANGUAGES else "ltr"


def format_date(value: date, lang: str) -> str:
    """A date as people reading ``lang`` expect it, always in Western digits:
    fi/sv ``5.3.2025``, en ``5 March 2025``, others ``05.03.2025``."""
    if lang in ("fi", "sv"):
        return f"{value.day}.{value.month}.{value.year:04d}"
    if lang == "en":
        return f"{value.day} {EN_MONTHS[value.month - 1]} {value.year:04d}"
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


def render_plan_html(doc: PlanDocument, languages: list[str], csp_nonce: str = "") -> str:
    """A complete, accessible HTML document (lang on <html> = first language; one
    <section lang=.. dir=..> per language with its own headings), usable both as a web page
    and as WeasyPrint input. As a web page its <style> carries the response's CSP nonce."""
    languages = _checked_languages(languages)
    _check_codes(doc)
    return render_to_string(TEMPLATE, {**_context(doc, languages), "csp_nonce": csp_nonce})


def render_plan_pdf(doc: PlanDocument, languages: list[str]) -> bytes:
    """WeasyPrint PDF of render_plan_html; A4; page numbers; document title metadata; fonts
    from the system (Noto)."""
    from weasyprint import HTML  # imported here: loading Pango is not needed for HTML

    html = render_plan_html(doc, languages)
    # PDF/UA-1 variant: a tagged PDF (headings, tables, lists in the structure tree), the
    # document language, and the title shown instead of the file name.
    return HTML(string=html, url_fetcher=_no_fetcher()).write_pdf(pdf_variant="pdf/ua-1")


# --- building the template context -------------------------------------------------------


@dataclass(frozen=True)
class _Value:
    """One printed value. Free text (``free=True``) gets ``dir="auto"`` so that, e.g., a
    Latin-script goal inside an Arabic section reads left to right. WeasyPrint does not
    implement ``dir="auto"``, so the direction found by the same first-strong-character
    rule is also given as ``data-text-dir`` (the stylesheet turns it into ``direction``)."""

    text: str
    free: bool = False
    iso: str = ""  # set for dates: printed inside <time datetime="...">

    @property
    def attrs(self) -> SafeString:
        if not self.free:
            return SafeString("")
        direction = _first_strong_direction(self.text)
        if direction is None:
            return SafeString(' dir="auto"')
        return format_html(' dir="auto" data-text-dir="{}"', direction)

    def __str__(self) -> str:
        if self.iso:
            return format_html('<time datetime="{}">{}</time>', self.iso, self.text)
        return conditional_escape(self.text)


def _first_strong_direction(text: str) -> str | None:
    """The direction of the first strongly directional character (what ``dir="auto"``
    does), or None when there is none (digits, punctuation, empty)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return None


def _checked_languages(languages: list[str]) -> list[str]:
    unique = list(dict.fromkeys(languages))
    unsupported = [lang for lang in unique if lang not in SUPPORTED_LANGUAGES]
    if unsupported:
        raise ValueError(f"unsupported document language(s): {unsupported!r}")
    if OFFICIAL_LANGUAGE not in unique:
        raise ValueError("the languages must include 'fi': the Finnish copy is the official one")
    return unique


def _check_codes(doc: PlanDocument) -> None:
    problems = []
    if doc.kind not in KINDS:
        problems.append(f"kind {doc.kind!r}")
    if doc.status not in STATUSES:
        problems.append(f"status {doc.status!r}")
    if doc.acknowledgement_method not in ACKNOWLEDGEMENT_METHODS:
        problems.append(f"acknowledgement_method {doc.acknowledgement_method!r}")
    for goal in doc.goals:
        if goal.area not in AREAS:
            problems.append(f"goal area {goal.area!r}")
        problems.extend(
            f"action responsible {action.responsible!r}"
            for action in goal.actions
            if action.responsible not in RESPONSIBLES
        )
    if problems:
        raise ValueError("unknown code(s) in plan document: " + ", ".join(problems))


def _date(value: date | None, lang: str, missing_key: str = "not_set") -> _Value:
    if value is None:
        return _Value(TEXTS[lang][missing_key])
    return _Value(format_date(value, lang), iso=value.isoformat())


def _free(text: str | None) -> _Value:
    return _Value(text or "", free=True)  # None from a nullable column prints as nothing


@lru_cache(maxsize=16)
def _iso639_translation(lang: str) -> gettext.NullTranslations:
    import pycountry

    return gettext.translation("iso639-3", pycountry.LOCALES_DIR, languages=[lang], fallback=True)


def _language_name(code: str, lang: str) -> str:
    """The name of language ``code`` in ``lang``: our own texts for the supported languages,
    pycountry's ISO 639 names (translated where pycountry has a translation) otherwise."""
    normalised = normalise_language(code)
    own = TEXTS[lang].get(f"language_{normalised}")
    if own:
        return own
    import pycountry

    record = pycountry.languages.get(alpha_2=normalised) or pycountry.languages.get(
        alpha_3=normalised
    )
    if record is None:
        return code
    return _iso639_translation(lang).gettext(record.name)


def _section(doc: PlanDocument, lang: str) -> dict:
    t = TEXTS[lang]
    details = [
        (t["name"], _free(doc.client_name)),
        (t["birth_date"], _date(doc.client_birth_date, lang)),
        (t["identifier"], _free(doc.client_identifier)),
    ]
    plan = [
        (t["kind"], _Value(t[f"kind_{doc.kind}"])),
        (t["status"], _Value(t[f"status_{doc.status}"])),
        (t["organisation"], _free(doc.organisation_name)),
        (t["counsellor"], _free(doc.counsellor_name)),
        (t["counsellor_contact"], _free(doc.counsellor_contact)),
        (t["starts_on"], _date(doc.starts_on, lang)),
        (t["ends_on"], _date(doc.ends_on, lang)),
        (t["next_review"], _date(doc.next_review_on, lang)),
    ]
    goals = []
    for number, goal in enumerate(doc.goals, start=1):
        goals.append(
            {
                "heading": t["goal_heading"].format(n=number, area=t[f"area_{goal.area}"]),
                "description": _free(goal.description),
                "caption": t["actions_caption"].format(n=number),
                "actions": [
                    {
                        "what": _free(action.what),
                        "responsible": t[f"responsible_{action.responsible}"],
                        "responsible_name": _free(action.responsible_name),
                        "planned": _date(action.planned_on, lang),
                        "done": _date(action.done_on, lang, "not_done"),
                        "service": (
                            _free(action.service) if action.service else _Value(t["no_service"])
                        ),
                    }
                    for action in goal.actions
                ],
            }
        )
    if doc.acknowledged_on is None:
        acknowledgement = [(t["acknowledged_on"], _Value(t["not_acknowledged"]))]
    else:
        acknowledgement = [(t["acknowledged_on"], _date(doc.acknowledged_on, lang))]
    if doc.acknowledgement_method:
        acknowledgement.append(
            (t["acknowledgement_method"], _Value(t[f"method_{doc.acknowledgement_method}"]))
        )
    interpreter = (
        _language_name(doc.interpreter_language, lang)
        if doc.interpreter_language
        else t["interpreter_none"]
    )
    acknowledgement += [
        (t["interpreter"], _Value(interpreter)),
        (t["generated_on"], _date(doc.generated_on, lang)),
    ]
    return {
        "lang": lang,
        "dir": text_direction(lang),
        "t": t,
        "translation_note": lang != OFFICIAL_LANGUAGE,
        "details": details,
        "plan": plan,
        "goals": goals,
        "acknowledgement": acknowledgement,
    }


def _context(doc: PlanDocument, languages: list[str]) -> dict:
    first = languages[0]
    titles = [TEXTS[lang]["title"] for lang in languages]
    return {
        "lang": first,
        "dir": text_direction(first),
        "page_title": " / ".join(titles) + " – " + doc.client_name,
        "title_parts": [
            {"lang": lang, "dir": text_direction(lang), "text": TEXTS[lang]["title"]}
            for lang in languages
        ],
        "nav_label": TEXTS[first]["languages_nav"],
        "nav": [
            {"lang": lang, "dir": text_direction(lang), "name": TEXTS[lang]["lang_name"]}
            for lang in languages
        ]
        if len(languages) > 1
        else [],
        "organisation": _free(doc.organisation_name),
        "client": _free(doc.client_name),
        "draft": doc.status == "draft",
        "created_iso": doc.generated_on.isoformat(),
        "sections": [_section(doc, lang) for lang in languages],
    }


def _no_fetcher():
    """A WeasyPrint URL fetcher that fetches nothing: the document is self-contained (inline
    CSS, system fonts), so no file, network or data URL is ever read while rendering."""
    from weasyprint.urls import URLFetcher

    class NoFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            raise ValueError(f"external resources are disabled in plan documents: {url}")

    return NoFetcher()
