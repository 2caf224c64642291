"""The guidance API refuses wrong types and oversized values naming the field, and names
the request's own fields in the service's errors."""

import datetime as dt
import json

import pytest

from koto.guidance.models import Contact
from koto.organisations.models import OrganisationKind
from tests.factories import OrganisationFactory


def _post(http, data):
    return http.post("/api/v1/guidance/contacts", json.dumps(data), content_type="application/json")


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"minutes": True}, "minutes"),  # was stored as 1 minute
        ({"minutes": "15"}, "minutes"),
        ({"interpreter_used": "yes"}, "interpreter_used"),  # was stored as true
        ({"interpreter_used": 1}, "interpreter_used"),
    ],
)
def test_contact_create__wrong_type__422_names_field_nothing_stored(web, adviser, extra, field):
    response = _post(web(adviser), {"channel": "chat", "reasons": ["benefits"], **extra})
    assert response.status_code == 422
    assert list(response.json()["fields"]) == [field]
    assert Contact.objects.count() == 0


def test_contact_create__huge_reason_code__422_without_echoing_it(web, adviser):
    response = _post(web(adviser), {"channel": "chat", "reasons": ["x" * 100_000]})
    assert response.status_code == 422
    assert len(response.content) < 1000
    assert Contact.objects.count() == 0


def test_contact_create__referred_to_organisation_ended__422_names_the_code_field(web, adviser):
    # given an ELY centre that ended with 2025
    OrganisationFactory(
        code="ELY-X",
        kind=OrganisationKind.REGIONAL_STATE_AUTHORITY,
        name_fi="ELY X",
        valid_to=dt.date(2025, 12, 31),
    )
    # when a contact of today is referred there
    response = _post(
        web(adviser),
        {
            "channel": "chat",
            "reasons": ["benefits"],
            "outcome": "referred",
            "referred_to_organisation_code": "ELY-X",
        },
    )
    # then the error names the field the request sent
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["referred_to_organisation_code"]
    assert Contact.objects.count() == 0


def test_contact_create__minutes_and_interpreter_of_right_type__201(web, adviser):
    response = _post(
        web(adviser),
        {"channel": "chat", "reasons": ["benefits"], "minutes": 15, "interpreter_used": True},
    )
    assert response.status_code == 201
    assert (response.json()["minutes"], response.json()["interpreter_used"]) == (15, True)
