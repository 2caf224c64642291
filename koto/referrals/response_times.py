"""How soon the recipient should answer a referral (accept, decline or return it), per type.

These are agreed practice between the organisations, not numbers of the Integration Act, so
they live here as data with their basis. All are ASSUMED until the organisations confirm them
(docs/referrals.md). Days are working days: Monday to Friday, not Finnish public holidays.
"""

import datetime as dt
from dataclasses import dataclass

from koto.law import add_working_days
from koto.referrals.models import ReferralKind


@dataclass(frozen=True)
class ResponseTime:
    working_days: int
    basis: str
    assumed: bool = True


RESPONSE_TIMES: dict[str, ResponseTime] = {
    ReferralKind.ASSESSMENT_CONTACT_9: ResponseTime(
        10, "9 § contact: the receiver decides on starting the assessment (agreed practice)"
    ),
    ReferralKind.EMPLOYMENT_SERVICES: ResponseTime(
        5, "As the initial interview of a jobseeker, 5 working days (380/2023)"
    ),
    ReferralKind.WELFARE_SERVICES: ResponseTime(
        7, "As a social-services need assessment, by the 7th working day (1301/2014 36 §)"
    ),
    ReferralKind.INTEGRATION_TRAINING: ResponseTime(10, "Agreed practice"),
    ReferralKind.GUIDANCE: ResponseTime(5, "Agreed practice"),
    ReferralKind.OTHER: ResponseTime(10, "Agreed practice"),
    ReferralKind.TRANSFER: ResponseTime(
        10, "Agreed practice: the new municipality takes the client over after the move"
    ),
}


def response_due_on(kind: str, sent_on: dt.date) -> dt.date:
    """The last day for the answer to a referral of `kind` sent on `sent_on`."""
    return add_working_days(sent_on, RESPONSE_TIMES[kind].working_days)
