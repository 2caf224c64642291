"""The missed-appointment fee (681/2023 32 a §): a client who does not come to an appointment
for which an interpreter was booked, without an acceptable reason, may be charged."""

from koto.law.models import Reason

SECTION = "681/2023 32 a §"


def missed_appointment_chargeable(
    *, no_show: bool, interpreter_booked: bool, reason_accepted: bool
) -> Reason | None:
    """The reason a fee may be charged, or None when it may not."""
    if not (no_show and interpreter_booked and not reason_accepted):
        return None
    return Reason(
        code="MISSED_APPOINTMENT_FEE",
        section=SECTION,
        text_fi="Asiakas ei saapunut tapaamiseen, johon oli varattu tulkki, eikä esittänyt hyväksyttävää syytä: "
        "häneltä voidaan periä maksu aiheutuneista tulkkauskustannuksista.",
        text_sv="Kunden kom inte till ett möte där tolk var bokad och uppgav inget godtagbart skäl: "
        "en avgift för tolkningskostnaderna kan tas ut.",
        text_en="The client missed an appointment for which an interpreter was booked, without an acceptable "
        "reason: a fee for the interpreting costs may be charged.",
    )
