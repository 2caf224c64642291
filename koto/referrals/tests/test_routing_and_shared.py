"""A contact asking for an assessment (9 §) checked against the responsible authority that
koto.law gives; the recipient seeing the copy of the client's details the referral shared
when sent, not the live record; the navigation badge on the page that opens a referral."""

import datetime as dt
import json

import pytest

from koto.audit.models import AuditEvent
from koto.clients.models import Client
from koto.core.errors import ValidationFailed
from koto.core.roles import Role
from koto.organisations.models import EmploymentArea, OrganisationKind, ServiceAgreement
from koto.referrals import services
from koto.referrals.models import Referral
from tests.factories import OrganisationFactory, make_client, member

BIRTH = dt.date(1990, 5, 17)  # pinned: the hetu and the law's facts depend on it


@pytest.fixture
def employment_area(org):
    """Lahti's employment area: the authority and its member municipality Lahti."""
    authority = OrganisationFactory(
        code="ea-paijat-hame",
        kind=OrganisationKind.EMPLOYMENT_AUTHORITY,
        name_fi="Päijät-Hämeen työllisyysalue",
        name_en="Päijät-Häme employment area",
    )
    area = EmploymentArea.objects.create(authority=authority, responsible_municipality=org)
    area.members.add(org)
    return authority


@pytest.fixture
def employment_counsellor(employment_area):
    return member(employment_area, Role.EMPLOYMENT_COUNSELLOR, username="te")


@pytest.fixture
def jobseeker(counsellor, org):
    c = make_client(
        counsellor,
        birth_date=BIRTH,
        unemployed_jobseeker=True,
        home_municipality_code=org.municipality_code,
        home_municipality_on=dt.date(2025, 4, 1),
    )
    c.access = "full"
    return c


@pytest.fixture
def resident(counsellor, org):
    """A Lahti resident, not a jobseeker: the municipality's (asylum: international
    protection)."""
    c = make_client(
        counsellor,
        birth_date=BIRTH,
        home_municipality_code=org.municipality_code,
        home_municipality_on=dt.date(2025, 4, 1),
    )
    c.access = "full"
    return c


def _contact(counsellor, client, to, **kw):
    kw.setdefault("confirm_recipient", False)  # as the page asks
    return services.referral_send(
        actor=counsellor, client=client, kind="assessment_contact_9",
        message="Please assess.", to_organisation=to, **kw,
    )  # fmt: skip


# --------------------------------------------------------------------------- 9 § routing


def test_referral_send__9_contact_for_jobseeker_to_municipality__refused_naming_where(
    counsellor, jobseeker, other_org, employment_area
):
    # when the municipality of Tampere is sent a 9 § contact about an unemployed jobseeker
    with pytest.raises(ValidationFailed) as e:
        _contact(counsellor, jobseeker, other_org)
    # then it is refused, naming the field and the employment authority the law gives
    assert set(e.value.fields) == {"to_organisation", "confirm_recipient"}
    text = " ".join(e.value.fields["to_organisation"])
    assert "employment authority" in text
    assert employment_area.name in text
    assert Referral.objects.count() == 0


def test_referral_send__9_contact_confirmed__sent_keeping_where_the_law_routes_it(
    counsellor, jobseeker, other_org, employment_area
):
    r = _contact(counsellor, jobseeker, other_org, confirm_recipient=True)
    assert (r.law_authority, r.law_organisation) == ("employment_authority", employment_area)
    audit = AuditEvent.objects.get(object_type="referral", action="create", object_id=r.id)
    assert audit.changes["recipient_confirmed"] is True
    assert audit.changes["law_organisation"] == employment_area.code


def test_referral_send__9_contact_to_the_responsible_employment_authority__sent_plain(
    counsellor, jobseeker, employment_area
):
    r = _contact(counsellor, jobseeker, employment_area)
    assert (r.law_authority, r.law_organisation) == ("", None)


def test_referral_send__9_contact_to_another_municipality__refused_naming_home_municipality(
    counsellor, resident, other_org, org
):
    # a Lahti resident, not a jobseeker: Lahti assesses, not Tampere
    with pytest.raises(ValidationFailed) as e:
        _contact(counsellor, resident, other_org)
    assert org.name in " ".join(e.value.fields["to_organisation"])


def test_referral_send__9_contact_to_the_municipality_serving_the_home_one__sent(resident, org):
    # Hollola's resident, and Lahti produces Hollola's integration services
    hollola = OrganisationFactory(code="098", name_fi="Hollola")
    sender = member(hollola, Role.INTEGRATION_COUNSELLOR, username="hollola")
    Client.objects.filter(pk=resident.pk).update(home_municipality=hollola)
    resident.refresh_from_db()
    resident.access = "full"
    ServiceAgreement.objects.create(
        producer=org, purchaser=hollola, scope="integration_services",
        valid_from=dt.date(2025, 1, 1),
    )  # fmt: skip
    r = _contact(sender, resident, org)
    assert r.law_authority == ""


def test_referral_send__9_contact_to_employment_authority_for_non_jobseeker__refused(
    counsellor, resident, employment_area, org
):
    with pytest.raises(ValidationFailed) as e:
        _contact(counsellor, resident, employment_area)
    text = " ".join(e.value.fields["to_organisation"])
    assert "not an unemployed jobseeker" in text
    assert org.name in text


def test_referral_send__other_kinds__not_checked_against_the_law(counsellor, jobseeker, other_org):
    r = services.referral_send(
        actor=counsellor, client=jobseeker, kind="guidance", message="x",
        to_organisation=other_org,
    )  # fmt: skip
    assert r.law_authority == ""


def test_referral_send__9_contact_unasked__sent_noting_where_the_law_routes_it(
    counsellor, jobseeker, other_org, employment_area
):
    # an API client or an import that does not ask to be checked: sent, and noted
    r = _contact(counsellor, jobseeker, other_org, confirm_recipient=None)
    assert (r.law_authority, r.law_organisation) == ("employment_authority", employment_area)
    audit = AuditEvent.objects.get(object_type="referral", action="create", object_id=r.id)
    assert audit.changes["recipient_confirmed"] is False


def test_referral_reopen__9_contact_now_routed_elsewhere__notes_where(
    counsellor, resident, org, employment_area, employment_counsellor
):
    # given a 9 § contact to Lahti's employment authority, confirmed, then returned
    r = _contact(counsellor, resident, employment_area, confirm_recipient=True)
    assert r.law_authority == "municipality"
    services.referral_return(actor=employment_counsellor, referral=r, reason="Not ours.")
    # when the client has become a jobseeker and the sender reopens it
    Client.objects.filter(pk=resident.pk).update(unemployed_jobseeker=True)
    r.refresh_from_db()
    r = services.referral_reopen(actor=counsellor, referral=r, comment="Jobseeker now.")
    # then the law agrees with the recipient: nothing noted
    assert (r.law_authority, r.law_organisation_id) == ("", None)


def test_create_page__9_mismatch__offers_the_confirmation_and_sends_with_it(
    web, counsellor, jobseeker, other_org, employment_area
):
    http = web(counsellor)
    url = f"/referrals/new/{jobseeker.id}/"
    page = http.get(url)
    assert "confirm_recipient" not in page.content.decode()
    assert employment_area.name in page.content.decode()  # the intro says where
    data = {"kind": "assessment_contact_9", "to_organisation": other_org.id,
            "scope": "none", "message": "Please assess."}  # fmt: skip
    refused = http.post(url, data)
    assert refused.status_code == 200
    form = refused.context["form"]
    assert "confirm_recipient" in form.fields
    assert employment_area.name in " ".join(form.errors["to_organisation"])
    assert Referral.objects.count() == 0
    sent = http.post(url, {**data, "confirm_recipient": "on"})
    assert sent.status_code == 302
    r = Referral.objects.get()
    assert r.law_authority == "employment_authority"
    detail = http.get(f"/referrals/{r.id}/").content.decode()
    assert "Sent to another authority than the law" in detail


def test_api_send__9_mismatch__422_naming_to_organisation_code(
    web, counsellor, jobseeker, other_org, employment_area
):
    body = {"client_id": jobseeker.id, "kind": "assessment_contact_9", "message": "x",
            "to_organisation_code": other_org.code, "confirm_recipient": False}  # fmt: skip
    http = web(counsellor)
    r = http.post("/api/v1/referrals", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 422
    assert set(r.json()["fields"]) == {"to_organisation_code", "confirm_recipient"}
    body["confirm_recipient"] = True
    r = http.post("/api/v1/referrals", data=json.dumps(body), content_type="application/json")
    assert r.status_code == 201
    assert r.json()["law_authority"] == "employment_authority"
    assert r.json()["law_organisation_code"] == employment_area.code


# --------------------------------------------------------------------------- shared copy


@pytest.fixture
def shared_referral(send, client_):
    Client.objects.filter(pk=client_.pk).update(
        street_address="Aleksanterinkatu 1", postal_code="15110", post_office="Lahti"
    )
    client_.refresh_from_db()
    client_.access = "full"
    return send(client=client_, include_identity_code=True, include_contact_details=True)


def test_referral_read__record_changed_after_sending__receiver_sees_the_copy(
    web, receiver, client_, shared_referral
):
    # given the client's record changes after the referral was sent
    old_hetu, old_name = client_.hetu, client_.full_name
    Client.objects.filter(pk=client_.pk).update(
        phone="+358409999999", street_address="Secret street 9", first_name="Renamed",
        hetu=None, temporary_id="T-1",
    )  # fmt: skip
    # when the receiving organisation reads the referral
    body = web(receiver).get(f"/api/v1/referrals/{shared_referral.id}").json()
    page = web(receiver).get(f"/referrals/{shared_referral.id}/").content.decode()
    # then it sees what was shared when sent, not the live record
    assert body["client_identity_code"] == old_hetu
    assert body["client_contact"]["phone"] == "+358401234567"
    assert body["client_contact"]["street_address"] == "Aleksanterinkatu 1"
    assert body["client_name"] == old_name
    assert "+358401234567" in page and "+358409999999" not in page
    assert "Secret street" not in page and "Renamed" not in page


def test_referral_shared__nothing_but_name_birth_date_and_interpreting(send, client_):
    r = send()
    assert set(r.shared) == {"first_name", "last_name", "birth_date", "interpreter_language"}


def test_referral_decline__receiver_no_longer_sees_included_details(web, receiver, shared_referral):
    services.referral_decline(actor=receiver, referral=shared_referral, reason="Full.")
    body = web(receiver).get(f"/api/v1/referrals/{shared_referral.id}").json()
    page = web(receiver).get(f"/referrals/{shared_referral.id}/").content.decode()
    assert (body["client_identity_code"], body["client_contact"]) == (None, None)
    assert "+358401234567" not in page and "Aleksanterinkatu" not in page


def test_referral_decline__included_details_removed_from_the_copy_and_audited(
    receiver, shared_referral
):
    # not only hidden: the identity code and contact details are no longer kept on it
    services.referral_decline(actor=receiver, referral=shared_referral, reason="Full.")
    shared_referral.refresh_from_db()
    assert set(shared_referral.shared) == {
        "first_name", "last_name", "birth_date", "interpreter_language"
    }  # fmt: skip
    event = AuditEvent.objects.filter(object_type="referral").order_by("-id").first()
    assert event.changes["shared"] == sorted(shared_referral.shared)


def test_referral_reopen__sender_keeping_the_record__shares_the_details_anew(
    counsellor, receiver, client_, shared_referral
):
    services.referral_decline(actor=receiver, referral=shared_referral, reason="Full.")
    Client.objects.filter(pk=client_.pk).update(phone="+358405555555")
    shared_referral.refresh_from_db()
    r = services.referral_reopen(actor=counsellor, referral=shared_referral, comment="Again.")
    assert r.shared["contact"]["phone"] == "+358405555555"


def test_inbox__lists_the_shared_name_without_reading_client_rows(
    web, receiver, client_, shared_referral
):
    Client.objects.filter(pk=client_.pk).update(last_name="Changedname")
    page = web(receiver).get("/referrals/").content.decode()
    assert client_.last_name in page
    assert "Changedname" not in page


# --------------------------------------------------------------------------- badge


def test_detail__receiver_opens_the_only_new_referral__badge_on_that_page_is_gone(
    web, receiver, send
):
    r = send()
    response = web(receiver).get(f"/referrals/{r.id}/")
    assert response.context["referrals_new_count"] == 0


# --------------------------------------------------------------------------- filters


@pytest.fixture
def three(send, receiver, counsellor):
    """An overdue one (sent two weeks ago), a declined one and a fresh one, to Tampere."""
    from koto.core import clock

    from .conftest import TODAY

    with clock.frozen(TODAY - dt.timedelta(days=14)):
        old = send(kind="guidance")
    declined = send(kind="other")
    services.referral_decline(actor=receiver, referral=declined, reason="No.")
    fresh = send(kind="welfare_services")
    return old, declined, fresh


@pytest.mark.parametrize(
    ("status", "expected"),
    [("", [2, 1, 0]), ("open", [2, 0]), ("overdue", [0]), ("declined", [1])],
)
def test_api_list__status_filter__keeps_those(web, receiver, three, status, expected):
    url = "/api/v1/referrals?box=incoming" + (f"&status={status}" if status else "")
    items = web(receiver).get(url).json()["items"]
    assert [i["id"] for i in items] == [three[n].id for n in expected]


def test_api_list__unknown_status__422_naming_status(web, receiver):
    r = web(receiver).get("/api/v1/referrals?status=lost")
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["status"]


def test_inbox__status_filter__lists_only_those(web, receiver, three):
    page = web(receiver).get("/referrals/?status=overdue")
    assert [r.id for r in page.context["incoming"]] == [three[0].id]
    assert web(receiver).get("/referrals/?status=bogus").status_code == 200
