"""The client's recorded facts as `koto.law` facts, and the decision for a date."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from koto.clients.models import Client, ClientFactChange, LawFact
from koto.core import clock
from koto.law import Decision, Facts, FactsError, evaluate, parse_facts


class MissingFacts(Exception):
    """The client lacks a fact the rules need (e.g. the residence basis)."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def facts_on(client: Client, on: dt.date) -> Facts:
    """Facts as recorded on `on`: the booleans from the dated fact history when one exists
    for a past date, else the current values."""
    if not client.residence_basis:
        raise MissingFacts("residence_basis")
    values = {fact: getattr(client, fact) for fact in LawFact.values}
    if on < clock.today():
        history = ClientFactChange.objects.filter(client=client, valid_from__lte=on).order_by(
            "valid_from", "id"
        )
        recorded = {fact: False for fact in LawFact.values}
        for change in history:
            recorded[change.fact] = change.value
        values = recorded
    data = {
        "on": on,
        "birth_date": client.birth_date,
        "residence_basis": client.residence_basis,
        "first_permit_on": client.first_permit_on,
        "home_municipality_on": client.first_home_municipality_on or client.home_municipality_on,
        **values,
    }
    return parse_facts(data)


def decision_for(client: Client, on: dt.date) -> Decision:
    """Raises MissingFacts, or FactsError when the record is inconsistent."""
    return evaluate(facts_on(client, on))


__all__ = ["LABELS", "FactsError", "MissingFacts", "decision_for", "facts_on"]


LABELS = {
    "unemployed_jobseeker": _("Unemployed jobseeker"),
    "social_assistance": _("Long-term social assistance recipient"),
    "child_home_care_allowance": _("Child home care allowance recipient"),
    "international_protection": _("Beneficiary of international protection or family member"),
    "unaccompanied_minor": _("Arrived as an unaccompanied minor"),
    "trafficking_victim": _("Victim of human trafficking"),
    "other_need": _("Other identified need"),
    "employment_authority": _("Employment authority"),
    "municipality": _("Municipality"),
    "under_7": _("under 7 years"),
    "7_or_over": _("7 years or over"),
}
