"""Where the Integration Act routes a contact asking for an assessment (9 §).

`koto.law` decides the responsible authority (3 §, integration-act.md section 2): the
employment authority for an unemployed jobseeker, the municipality for the other target
groups. The organisation is then the client's municipality of residence, or the employment
authority whose area it belongs to; an organisation serving that one under a service
agreement in force (integration or employment services) answers for it too.

A recipient that disagrees is not refused outright: the jobseeker flag may be out of date.
The sender is told where the law routes the contact and sends it anyway only on purpose
(`confirm_recipient`); the referral then keeps where the law routed it, for both sides to
see."""

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _

from koto.clients.law import FactsError, MissingFacts, decision_for
from koto.clients.models import Client
from koto.organisations.models import (
    ASSESSING_KINDS,
    EmploymentArea,
    Organisation,
    OrganisationKind,
)
from koto.organisations.selectors import RECORD_SCOPES, agreements_in_force


@dataclass(frozen=True)
class LawRecipient:
    """The authority `koto.law` makes responsible for the client's assessment, and the
    organisation of that kind for the client's municipality of residence when it is known."""

    authority: str  # an OrganisationKind of ASSESSING_KINDS
    organisation: Organisation | None

    def accepts(self, recipient: Organisation, on: dt.date) -> bool:
        """Whether `recipient` is where the law routes the contact: the right kind, and the
        right organisation (or one serving it under an agreement) when that is known."""
        if recipient.kind != self.authority:
            return False
        if self.organisation is None or recipient.id == self.organisation.id:
            return True
        return (
            agreements_in_force(on)
            .filter(
                producer_id=recipient.id,
                purchaser_id=self.organisation.id,
                scope__in=RECORD_SCOPES,
            )
            .exists()
        )


def law_recipient_for(client: Client, on: dt.date) -> LawRecipient | None:
    """Where the law routes the client's assessment on `on`; None when it routes it nowhere
    (no target group recorded: a 9 § contact may be how the need is found) or the recorded
    facts do not say (the residence basis missing, the facts inconsistent)."""
    try:
        authority = decision_for(client, on).responsible_authority
    except (MissingFacts, FactsError):
        return None
    if authority is None or str(authority) not in ASSESSING_KINDS:
        return None
    authority = str(authority)
    home = client.home_municipality
    if home is None or not home.is_valid_on(on):
        return LawRecipient(authority, None)
    if authority == OrganisationKind.MUNICIPALITY:
        return LawRecipient(authority, home)
    area = (
        EmploymentArea.objects.select_related("authority")
        .filter(members=home)
        .order_by("authority_id")
        .first()
    )
    organisation = area.authority if area and area.authority.is_valid_on(on) else None
    return LawRecipient(authority, organisation)


def law_recipient_text(law: LawRecipient) -> str:
    """Where the law routes the contact, and why, in a sentence."""
    if law.authority == OrganisationKind.EMPLOYMENT_AUTHORITY:
        if law.organisation is not None:
            return _(
                "The client is an unemployed jobseeker: the Integration Act gives their "
                "assessment to the employment authority, %(organisation)s."
            ) % {"organisation": law.organisation.name}
        return _(
            "The client is an unemployed jobseeker: the Integration Act gives their "
            "assessment to the employment authority of their municipality of residence."
        )
    if law.organisation is not None:
        return _(
            "The client is not an unemployed jobseeker: the Integration Act gives their "
            "assessment to their municipality of residence, %(organisation)s."
        ) % {"organisation": law.organisation.name}
    return _(
        "The client is not an unemployed jobseeker: the Integration Act gives their "
        "assessment to their municipality of residence."
    )


def recipient_mismatch(client: Client, recipient: Organisation, on: dt.date) -> LawRecipient | None:
    """Where the law routes the client's 9 § contact when `recipient` is not it, else None."""
    law = law_recipient_for(client, on)
    if law is None or law.accepts(recipient, on):
        return None
    return law
