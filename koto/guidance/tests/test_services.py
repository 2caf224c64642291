"""Logging contacts: anonymous, known client, partner; validation names the field."""

import datetime as dt

import pytest

from koto.audit.models import AuditEvent
from koto.core.errors import PermissionDenied, ValidationFailed
from koto.core.roles import Role
from koto.guidance import services
from koto.guidance.models import Contact, ContactReason, ReasonCode
from tests.factories import make_client, member

from .conftest import TODAY


def test_reasons_seed__twice__eight_codes_once(db):
    assert services.reasons_seed() == 8
    assert services.reasons_seed() == 0
    assert ReasonCode.objects.count() == 8
    assert set(ReasonCode.objects.values_list("theme", flat=True)) <= {
        "employment", "education", "wellbeing", "participation", "two_way", "housing",
    }  # fmt: skip


def test_reasons_ensure__empty_table__seeds(db):
    services.reasons_ensure()
    assert ReasonCode.objects.filter(code="job_search").exists() is True


def test_contact_log__anonymous__stores_no_person_link(adviser):
    # when
    contact = services.contact_log(
        actor=adviser, channel="walk_in", reasons=["job_search", "benefits"], language="ar"
    )
    # then
    contact.refresh_from_db()
    assert contact.client_id is None
    assert contact.anonymous is True
    assert contact.kind == "client"
    assert contact.contacted_on == TODAY
    assert contact.ura_channel == "36"
    assert sorted(ContactReason.objects.filter(contact=contact).values_list("reason__code", flat=True)) == ["benefits", "job_search"]  # fmt: skip
    event = AuditEvent.objects.get(object_type="guidance_contact", object_id=str(contact.id))
    assert event.action == "create"
    assert event.client_id is None
    assert event.changes["anonymous"] is True


def test_contact_log__known_client__linked_and_audited(adviser):
    client = make_client(adviser)
    contact = services.contact_log(
        actor=adviser, channel="phone", reasons=["housing_family_school"],
        client_identifier=client.hetu.lower(),
    )  # fmt: skip
    assert contact.client_id == client.id
    event = AuditEvent.objects.get(object_type="guidance_contact", object_id=str(contact.id))
    assert event.client_id == client.id


def test_contact_log__other_organisations_client__field_error(adviser, other_org):
    stranger = make_client(member(other_org, Role.INTEGRATION_COUNSELLOR))
    with pytest.raises(ValidationFailed) as e:
        services.contact_log(
            actor=adviser, channel="phone", reasons=["benefits"], client_identifier=stranger.hetu
        )
    assert list(e.value.fields) == ["client_identifier"]
    assert Contact.objects.count() == 0


def test_contact_log__no_reason__reasons_error(adviser):
    with pytest.raises(ValidationFailed) as e:
        services.contact_log(actor=adviser, channel="phone", reasons=[])
    assert e.value.fields == {"reasons": ["Choose at least one reason."]}


def test_contact_log__bad_fields__each_named(adviser):
    with pytest.raises(ValidationFailed) as e:
        services.contact_log(
            actor=adviser, channel="fax", reasons=["nope"], language="xx", minutes=0,
            contacted_on=TODAY + dt.timedelta(days=1),
        )  # fmt: skip
    assert set(e.value.fields) == {"channel", "reasons", "language", "minutes", "contacted_on"}


def test_contact_log__referred_without_target__error(adviser):
    with pytest.raises(ValidationFailed) as e:
        services.contact_log(actor=adviser, channel="phone", reasons=["other"], outcome="referred")
    assert list(e.value.fields) == ["referred_to"]


def test_contact_log__referred_to_organisation__stored(adviser, other_org):
    contact = services.contact_log(
        actor=adviser, channel="walk_in", reasons=["health_social"], outcome="referred",
        referred_to_organisation=other_org,
    )  # fmt: skip
    assert contact.referred_to_organisation_id == other_org.id


def test_contact_log__partner__no_reason_needed(adviser):
    contact = services.contact_log(
        actor=adviser, channel="email", reasons=[], partner_type="employer"
    )
    assert contact.kind == "partner"
    assert contact.partner_type == "employer"
    assert contact.anonymous is False


def test_contact_log__partner_with_client__error(adviser):
    client = make_client(adviser)
    with pytest.raises(ValidationFailed) as e:
        services.contact_log(
            actor=adviser, channel="email", reasons=[], partner_type="trainer",
            client_identifier=client.hetu,
        )  # fmt: skip
    assert list(e.value.fields) == ["client_identifier"]  # the field the form and API have


def test_contact_log__earlier_date__noon_that_day(adviser):
    contact = services.contact_log(
        actor=adviser, channel="chat", reasons=["other"], contacted_on=dt.date(2026, 3, 2)
    )
    assert contact.contacted_on == dt.date(2026, 3, 2)
    assert contact.contacted_at.hour == 12


def test_contact_log__role_without_log_permission__denied(org, reasons):
    manager = member(org, Role.MANAGER)
    with pytest.raises(PermissionDenied):
        services.contact_log(actor=manager, channel="phone", reasons=["other"])


def test_reason_code_create__admin__added_after_defaults(org, reasons):
    admin = member(org, Role.ORG_ADMIN)
    reason = services.reason_code_create(
        actor=admin, code="digital_services", theme="participation", label_fi="Digipalvelut"
    )
    assert reason.position == 90
    assert AuditEvent.objects.filter(object_type="guidance_reason").count() == 1


def test_reason_code_create__duplicate_or_not_admin__refused(org, adviser):
    admin = member(org, Role.ORG_ADMIN)
    with pytest.raises(ValidationFailed) as e:
        services.reason_code_create(actor=admin, code="benefits", theme="x", label_fi="")
    assert set(e.value.fields) == {"code", "theme", "label_fi"}
    with pytest.raises(PermissionDenied):
        services.reason_code_create(actor=adviser, code="new", theme="housing", label_fi="U")
    # ASCII and the column's length: "työ" passed, 41 characters was a DataError on PostgreSQL
    for code in ("työ", "x" * 41):
        with pytest.raises(ValidationFailed) as e:
            services.reason_code_create(actor=admin, code=code, theme="housing", label_fi="U")
        assert list(e.value.fields) == ["code"]


def test_contact_log__referred_to_an_ended_organisation__refused_naming_it(adviser):
    # the ELY centres ended with 2025: a referral to one dated in 2026 was stored
    from tests.factories import OrganisationFactory

    ely = OrganisationFactory(code="ely-x", name_fi="ELY-keskus", kind="regional_state_authority",
                              valid_to=dt.date(2025, 12, 31))  # fmt: skip
    with pytest.raises(ValidationFailed) as e:
        services.contact_log(actor=adviser, channel="walk_in", reasons=["job_search"],
                             outcome="referred", referred_to_organisation=ely)  # fmt: skip
    assert list(e.value.fields) == ["referred_to_organisation"]
    # on a day it existed, it is taken
    contact = services.contact_log(actor=adviser, channel="walk_in", reasons=["job_search"],
                                   outcome="referred", referred_to_organisation=ely,
                                   contacted_on=dt.date(2025, 12, 30))  # fmt: skip
    assert contact.referred_to_organisation == ely
