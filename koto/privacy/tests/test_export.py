import datetime as dt
import json

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.text import capfirst

from koto.assessments.models import Assessment
from koto.assessments.services import assessment_record_interview, assessment_start
from koto.audit.models import AuditEvent
from koto.clients.models import AccessGrant
from koto.clients.models import Client as ClientRecord
from koto.clients.selectors import client_get_for
from koto.core.errors import NotFound
from koto.core.roles import Role
from koto.guidance.services import contact_log, reasons_seed
from koto.privacy import selectors
from koto.privacy.catalogue import EXCLUDED, PARTS
from tests.factories import approved_token, make_client, member


def _models_about_clients() -> set:
    """Every model of the project with a relation to a client, or to a row the catalogue
    exports (a plan's goals, a contact's reasons)."""
    exported = {p.model for p in PARTS}
    found = set()
    for model in apps.get_app_config("clients").apps.get_models():
        if not model.__module__.startswith("koto."):
            continue
        for f in model._meta.concrete_fields:
            if f.is_relation and (f.related_model is ClientRecord or f.related_model in exported):
                found.add(model)
    return found


def test_catalogue__every_model_about_a_client_exported_or_excluded_with_a_reason():
    exported = {p.model._meta.label for p in PARTS}
    about = {m._meta.label for m in _models_about_clients()}
    assert sorted(about - exported - set(EXCLUDED)) == []
    # and nothing is excluded that does not exist or is exported after all
    labels = {m._meta.label for m in apps.get_models()}
    assert sorted(set(EXCLUDED) - labels) == []
    assert sorted(set(EXCLUDED) & exported) == []


def test_catalogue__every_export_field_names_a_field_or_a_path_to_one():
    for part in PARTS:
        for name in part.fields:
            label = selectors._label(part.model, name)
            assert label and label != name.split("__")[-1], (part.key, name)


@pytest.fixture
def lahti_client(counsellor):
    reasons_seed()
    return make_client(
        counsellor,
        first_name="Amina",
        last_name="Yusuf",
        mother_tongue="so",
        residence_basis="asylum",
        first_permit_on=dt.date(2026, 1, 10),
    )


def _assessment(actor, client, welfare: str = ""):
    client = client_get_for(user=actor, client_id=client.id, audit=False)
    a = assessment_start(actor=actor, client=client, trigger="client_request")
    return assessment_record_interview(
        actor=actor,
        assessment=a,
        data={"occupation": "Nurse", **({"welfare_needs_details": welfare} if welfare else {})},
    )


def test_export__the_organisation_s_records_shown_another_s_only_counted(
    counsellor, lahti_client, other_org, outsider
):
    # given Lahti's assessment and contact, and Tampere's contact under a full grant
    _assessment(counsellor, lahti_client)
    contact_log(
        actor=counsellor, channel="phone", reasons=["benefits"],
        client_identifier=lahti_client.hetu,
    )  # fmt: skip
    AccessGrant.objects.create(
        client=lahti_client, organisation=other_org, scope="full", source="referral",
        valid_from=dt.date(2020, 1, 1),
    )  # fmt: skip
    contact_log(
        actor=outsider,
        channel="walk_in",
        reasons=["job_search"],
        client_identifier=lahti_client.hetu,
    )
    # when Lahti's counsellor makes the export
    export = selectors.subject_export_for(user=counsellor, client_id=lahti_client.id, fmt="html")
    # then it holds the client's record and Lahti's rows only
    parts = {s.key: s for s in export.sections}
    assert parts["client"].rows[0]["hetu"] == lahti_client.hetu
    assert parts["client"].rows[0]["last_name"] == "Yusuf"
    assert len(parts["contacts"].rows) == 1
    assert parts["contacts"].rows[0]["channel"] == "phone"
    assert (
        parts["contacts"].rows[0]["organisation_id"]
        == counsellor.active_membership.organisation.name
    )
    assert parts["assessments"].rows[0]["occupation"] == "Nurse"
    # and Tampere's contact is counted, not shown
    assert export.elsewhere == [(other_org.name, "Guidance contacts", 1)]


def test_export__welfare_details_withheld_from_a_counsellor_shown_to_a_social_worker(
    counsellor, lahti_client, org
):
    social = member(org, Role.SOCIAL_WORKER, username="sw")
    _assessment(social, lahti_client, welfare="Sleep problems")
    by_counsellor = selectors.subject_export_for(
        user=counsellor, client_id=lahti_client.id, fmt="html"
    )
    by_social = selectors.subject_export_for(user=social, client_id=lahti_client.id, fmt="html")
    a1 = next(s for s in by_counsellor.sections if s.key == "assessments")
    a2 = next(s for s in by_social.sections if s.key == "assessments")
    assert "welfare_needs_details" not in a1.rows[0]
    labels = [str(Assessment._meta.get_field(f).verbose_name) for f in Assessment.EXPORT_FIELDS]
    assert a1.withheld == [capfirst(label) for label in labels if "health" in label.lower()]
    assert len(a1.withheld) == 2
    assert a2.rows[0]["welfare_needs_details"] == "Sleep problems"
    assert a2.withheld == []


def test_export__audited_as_an_export_with_the_rows_counted(counsellor, lahti_client):
    selectors.subject_export_for(user=counsellor, client_id=lahti_client.id, fmt="json")
    event = AuditEvent.objects.filter(action="export").get()
    assert event.client_id == lahti_client.id
    assert event.reason == "data_subject_export"
    assert event.changes["format"] == "json"
    assert event.changes["rows"]["client"] == 1


def test_export__read_only_grant_emergency_access_or_no_permission__not_found(
    counsellor, lahti_client, other_org, outsider, org
):
    AccessGrant.objects.create(
        client=lahti_client, organisation=other_org, scope="read", source="referral",
        valid_from=dt.date(2020, 1, 1),
    )  # fmt: skip
    adviser = member(org, Role.GUIDANCE_ADVISER, username="adviser")
    manager = member(org, Role.MANAGER, username="manager")
    for user in (outsider, adviser, manager):
        with pytest.raises(NotFound):
            selectors.subject_export_for(user=user, client_id=lahti_client.id, fmt="html")
    assert AuditEvent.objects.filter(action="export").count() == 0


def test_export_page__in_the_language_asked_for_and_by_default_the_client_s(
    web, counsellor, lahti_client
):
    swede = make_client(counsellor, mother_tongue="sv")
    c = web(counsellor)
    finnish = c.get(reverse("privacy:export", args=[lahti_client.id]) + "?lang=fi")
    assert finnish.status_code == 200
    assert 'lang="fi"' in finnish.content.decode()
    default = c.get(reverse("privacy:export", args=[swede.id]))
    assert default.status_code == 200
    assert 'lang="sv"' in default.content.decode()
    # a Somali speaker's export defaults to the language the user reads Koto in
    english = c.get(reverse("privacy:export", args=[lahti_client.id]))
    assert 'lang="en"' in english.content.decode()
    assert "Data held about Amina Yusuf" in english.content.decode()
    assert c.get(reverse("privacy:export", args=[lahti_client.id]) + "?lang=de").status_code == (
        404
    )


def test_export_json__a_file_of_codes_and_iso_dates(web, counsellor, lahti_client):
    response = web(counsellor).get(reverse("privacy:export_json", args=[lahti_client.id]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="koto-')
    body = json.loads(response.content)
    row = body["parts"]["client"]["rows"][0]
    assert row["birth_date"] == lahti_client.birth_date.isoformat()
    assert row["residence_basis"] == "asylum"
    assert body["parts"]["client"]["fields"]["hetu"] == "Personal identity code"


def test_export__other_organisation_and_anonymous(client, web, outsider, lahti_client):
    url = reverse("privacy:export", args=[lahti_client.id])
    assert client.get(url).status_code == 302
    assert web(outsider).get(url).status_code == 404
    assert web(outsider).get(url + "?lang=fi").status_code == 404
    assert web(outsider).get(
        reverse("privacy:export_json", args=[lahti_client.id])
    ).status_code == (404)


def test_client_page__export_button_only_for_those_who_may(web, counsellor, lahti_client, org):
    url = reverse("clients:detail", args=[lahti_client.id])
    export = reverse("privacy:export", args=[lahti_client.id])
    assert export in web(counsellor).get(url).content.decode()
    manager = member(org, Role.MANAGER, username="manager")
    assert export not in web(manager).get(url).content.decode()


def test_export__queries_do_not_grow_with_the_rows(counsellor, lahti_client):
    contact_log(
        actor=counsellor, channel="phone", reasons=["benefits"], client_identifier=lahti_client.hetu
    )
    with CaptureQueriesContext(connection) as one:
        selectors.subject_export_for(user=counsellor, client_id=lahti_client.id, fmt="html")
    for _ in range(3):
        contact_log(
            actor=counsellor, channel="walk_in", reasons=["job_search", "benefits"],
            client_identifier=lahti_client.hetu,
        )  # fmt: skip
    _assessment(counsellor, lahti_client)
    with CaptureQueriesContext(connection) as four:
        selectors.subject_export_for(user=counsellor, client_id=lahti_client.id, fmt="html")
    assert len(four) == len(one)


def test_api_export__labels_in_the_language_asked_rows_as_stored(web, counsellor, lahti_client):
    response = web(counsellor).get(f"/api/v1/clients/{lahti_client.id}/export?lang=sv")
    assert response.status_code == 200
    body = response.json()
    assert body["language"] == "sv"
    assert body["parts"]["client"]["rows"][0]["hetu"] == lahti_client.hetu
    assert body["parts"]["contacts"]["rows"] == []
    assert AuditEvent.objects.filter(action="export", changes__format="api").count() == 1


def test_api_export__anonymous_token_other_organisation_or_unknown_language(
    web, counsellor, lahti_client, outsider, org
):
    url = f"/api/v1/clients/{lahti_client.id}/export"
    assert Client().get(url).status_code == 401
    # an integration's token (which may read clients) does not answer data-subject requests
    admin = member(org, Role.ORG_ADMIN, username="admin")
    _token, secret = approved_token(admin, org)
    assert Client().get(url, HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 404
    assert web(outsider).get(url).status_code == 404
    assert web(counsellor).get(url + "?lang=de").status_code == 422
