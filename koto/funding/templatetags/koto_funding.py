"""Codes of the compensation report in the page's language."""

from django import template
from django.utils.translation import gettext

from koto.funding.models import UNCONFIRMED_SOURCE, AgeBandCode, Recipient

register = template.Library()


@register.filter
def recipient_label(code: str) -> str:
    """ "municipality_aland" → "Åland municipality" (in the page's language)."""
    return str(Recipient(code).label) if code in Recipient.values else code


@register.filter
def age_band_label(code: str) -> str:
    return str(AgeBandCode(code).label) if code in AgeBandCode.values else code


@register.filter
def rate_source(source: str) -> str:
    """The source of an amount; the placeholder stored until an administrator enters one is
    shown in the page's language."""
    if source == UNCONFIRMED_SOURCE:
        return gettext("not confirmed: set by government decree, source not yet entered")
    return source
