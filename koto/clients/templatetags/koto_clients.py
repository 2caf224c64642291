from functools import lru_cache

from django import template
from django.urls import reverse
from django.utils.translation import get_language, gettext, gettext_noop

from koto.clients import codes
from koto.clients.law import LABELS

register = template.Library()


@register.filter
def reason_text(reason) -> str:
    """A law reason in the page's language (fi, sv or en)."""
    lang = (get_language() or "fi")[:2]
    return getattr(reason, f"text_{lang}", None) or reason.text_fi


@register.filter
def law_label(code) -> str:
    return str(LABELS.get(str(code), code)) if code is not None else ""


@register.filter
def country_name(code: str) -> str:
    return codes.country_name(code)


@register.filter
def language_name(code: str) -> str:
    return codes.language_name(code)


@register.filter
def task_reason(task) -> str:
    """Why a deadline task exists, in the page's language."""
    lang = (get_language() or "fi")[:2]
    return getattr(task, f"reason_{lang}", "") or task.reason_fi


# The section a task stores for a deadline agreed in practice rather than set by law
# (koto.plans.deadlines_sweep): shown in the page's language.
AGREED_PRACTICE = gettext_noop("agreed practice")


@register.filter
def rule_section(section: str) -> str:
    """A task's legal section as stored ("681/2023 15 §"), or "agreed practice" translated."""
    return gettext(AGREED_PRACTICE) if section == AGREED_PRACTICE else section


@lru_cache(maxsize=32)
def _url_pattern(name: str) -> str:
    return reverse(name, args=[999999999]).replace("999999999", "{}")


@register.filter
def detail_url(pk, name: str) -> str:
    """`reverse(name, args=[pk])` for lists of many rows: the pattern is resolved once."""
    return _url_pattern(name).format(int(pk))
