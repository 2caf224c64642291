import datetime as dt
import json

import pytest
from django.apps import apps
from django.db import connection, models
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst

from koto.assessments.models import Assessment
from koto.assessments.services import assessment_record_interview, assessment_start
from koto.audit.models import AuditEvent
from koto.clients.models import AccessGrant, FamilyLink, Task
from koto.clients.models import Client as ClientRecord
from koto.clients.selectors import client_get_for
from koto.clients.services import break_glass_open
from koto.core import clock
from koto.core.errors import NotFound
from koto.core.roles import Role
from koto.guidance.services import contact_log, reasons_seed
from koto.organisations.models import AgreementScope, Organisation, ServiceAgreement
from koto.privacy import selectors
from koto.privacy.catalogue import EXCLUDED, PARTS
from tests.factories import OrganisationFactory, approved_token, make_client, member, transfer


def _reached(model, name: str) -> list:
    """The models a catalogue field name (`placement__municipality_id`) walks through."""
    out = []
    for step in name.split("__")[:-1]:
        model = model._meta.get_field(step).related_model
        out.append(model)
    return out


def _models_about_clients() -> set:
    """Every model of the project that refers to a client: by a relation to a client, to a
    row the catalogue exports or reaches through a field (a placement), or by a plain
    `client_id` column."""
    exported = {p.model for p in PARTS}
    reached = {m for p in PARTS for f in p.fields for m in _reached(p.model, f)}
    targets = {ClientRecord} | exported | reached
    found = set()
    for model in apps.get_models():
        if not model.__module__.startswith("koto."):
            continue
        for f in model._meta.get_fields():
            if not getattr(f, "concrete", False) and not f.many_to_many:
                continue
            if f.is_relation and f.related_model in targets:
                found.add(model)
            elif not f.is_relation and f.name in ("client_id", "client"):
                found.add(model)
    return found - {ClientRecord}


def test_catalogue__every_model_about_a_client_exported_or_excluded_with_a_reason():
    exported = {p.model._meta.label for p in PARTS}
    about = {m._meta.label for m in _models_about_clients()}
    assert sorted(about - exported - set(EXCLUDED)) == []
    # the walk finds what it should: the models the catalogue lists and those it excludes
    assert {"plans.Goal", "guidance.Contact", "placement.HealthCheckReferral"} <= about
    # and nothing is excluded that does not exist or is exported after all
    labels = {m._meta.label for m in apps.get_models()}
    assert sorted(set(EXCLUDED) - labels) == []
    assert sorted(set(EXCLUDED) & exported) == []


def test_catalogue__every_export_field_names_a_field_at_each_step():
    for part in PARTS:
        for name in part.fields:
            fields, last = selectors._steps(part.model, name)
            target = fields[-1].related_model if fields else part.model
            field = selectors._field(target, last)
            # a property (a service's name in the language) only at the end of a path
            assert field is not None or (fields and hasattr(target, last)), (part.key, name)


def test_catalogue__every_part_with_holders_says_when_a_row_was_made():
    # a producer's row is the export of the organisation it was kept for at that time
    for part in PARTS:
        if not part.holders:
            continue
        fields, last = selectors._steps(part.model, part.made)
        target = fields[-1].related_model if fields else part.model
        assert isinstance(selectors._field(target, last), models.DateField), part.key


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


def test_export__the_organisation_s_records_shown_another_s_not(
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
    # and Tampere's contact is neither shown nor counted
    assert all(r["organisation_id"] == parts["contacts"].rows[0]["organisation_id"]
               for r in parts["contacts"].rows)  # fmt: skip
    assert other_org.name not in str(export.sections)


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
    swede = make_client(counsellor, mother_tongue="sv", first_name="Sven", last_name="Ek")
    c = web(counsellor)
    url = reverse("privacy:export", args=[lahti_client.id])
    finnish = c.get(url + "?lang=fi").content.decode()
    assert '<html lang="fi">' in finnish
    assert "Henkilötiedot" in finnish
    default = c.get(reverse("privacy:export", args=[swede.id]))
    assert '<html lang="sv">' in default.content.decode()
    assert default["Content-Language"] == "sv"
    # a Somali speaker's export defaults to the language the user reads Koto in
    english = c.get(url).content.decode()
    assert '<html lang="en">' in english
    assert 'Data held about <bdi dir="auto">Amina Yusuf</bdi>' in english
    # a language Koto has not: the address is refused, naming the parameter
    bad = c.get(url + "?lang=de")
    assert bad.status_code == 400
    assert "<code>lang</code>" in bad.content.decode()


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
    with CaptureQueriesContext(connection) as none:
        selectors.subject_export_for(user=counsellor, client_id=lahti_client.id, fmt="html")
    _assessment(counsellor, lahti_client)
    with CaptureQueriesContext(connection) as one:
        selectors.subject_export_for(user=counsellor, client_id=lahti_client.id, fmt="html")
    for _ in range(3):
        contact_log(
            actor=counsellor, channel="walk_in", reasons=["job_search", "benefits"],
            client_identifier=lahti_client.hetu,
        )  # fmt: skip
    with CaptureQueriesContext(connection) as four:
        selectors.subject_export_for(user=counsellor, client_id=lahti_client.id, fmt="html")
    assert len(four) == len(one)
    # a kind the client has no rows of is not read (one probe tells which have), nor are an
    # assessment's language skills and measures when there is none
    assert len(none) == len(one) - 3
    assert not [q for q in none if "assessments_" in q["sql"] and "EXISTS" not in q["sql"]]


def test_export__the_probe_leaves_out_only_kinds_without_rows(
    monkeypatch, org, counsellor, outsider
):
    """The probe (`_present`) reads no kind the client has rows of as empty: every export of
    a client who was assessed, guided and transferred (a referral, a change of responsible
    organisation, records handed over, timeline events) is the same as when every kind is
    read, for the taker, the sender and the sender's producer."""
    reasons_seed()
    hollola, hollola_worker = _hollola()
    _serves(org, hollola)
    with clock.frozen(dt.date(2026, 5, 4)):
        c = make_client(
            hollola_worker, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10)
        )
        _guide(counsellor, c)
        _assessment(hollola_worker, c)
    transfer(c, sender=hollola_worker, taker=outsider, on=dt.date(2026, 10, 20))
    with clock.frozen(dt.date(2026, 11, 3)):
        _guide(outsider, c)

    def exports() -> list[dict]:
        made = []
        with clock.frozen(dt.date(2026, 12, 1)):
            for user in (outsider, hollola_worker):
                e = selectors.subject_export_for(user=user, client_id=c.id, fmt="api").as_json()
                made.append({k: v for k, v in e.items() if k != "made_at"})
        return made

    probed = exports()
    found = selectors._present(c.id)
    assert {"assessments", "contacts", "referrals", "responsibility", "tasks"} <= found
    assert "placements" not in found and "compensation" not in found
    every = {p.key for p in PARTS}
    monkeypatch.setattr(selectors, "_present", lambda _client_id: every)
    assert exports() == probed
    assert all(e["parts"]["contacts"]["rows"] for e in probed)


def test_catalogue__a_part_of_another_s_rows_holds_what_they_do():
    """A part read by its parent's rows' ids (`Part.parent`) must have been held by them
    anyway: its holders, times and hand-over are the parent's, a step further."""
    by_key = {p.key: p for p in PARTS}
    for part in PARTS:
        if not part.parent:
            continue
        parent, lookup = part.parent
        up = lookup.removesuffix("_id")
        above = by_key[parent]
        assert part.holders == tuple(f"{up}__{h}" for h in above.holders), part.key
        assert part.made == f"{up}__{above.made}", part.key
        assert part.client == f"{up}__{above.client}", part.key
        if above.handed_over:
            assert part.handed_over[0] == above.handed_over[0], part.key


def test_api_export__labels_in_the_language_asked_rows_as_stored(web, counsellor, lahti_client):
    response = web(counsellor).get(f"/api/v1/clients/{lahti_client.id}/export?lang=sv")
    assert response.status_code == 200
    body = response.json()
    assert body["language"] == "sv"
    assert body["parts"]["client"]["fields"]["hetu"] == "Personbeteckning"
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


def test_export__relative_of_another_organisation__a_family_member_without_a_name(
    counsellor, lahti_client, outsider
):
    # given a family link to a client whose record another organisation keeps (moved there)
    theirs = make_client(outsider, first_name="Hidden", last_name="Relative")
    ours = make_client(counsellor, first_name="Visible", last_name="Sister")
    FamilyLink.objects.create(client=lahti_client, relative=theirs, relation="spouse")
    FamilyLink.objects.create(client=lahti_client, relative=ours, relation="sibling")
    export = selectors.subject_export_for(user=counsellor, client_id=lahti_client.id, fmt="html")
    family = next(s for s in export.sections if s.key == "family")
    names = sorted((r["relation"], r["relative__first_name"]) for r in family.rows)
    assert names == [("sibling", "Visible"), ("spouse", None)]
    assert "Hidden" not in str(family.shown)
    # the relative named is a read of them, audited as the client page's family list is
    event = AuditEvent.objects.get(action="export")
    assert event.changes["listed_clients"] == [ours.id]


def test_export__responsible_municipality__its_producer_s_records_included(org, counsellor):
    # given Hollola's client whose casework Lahti keeps under an agreement
    hollola, hollola_worker = _hollola()
    c = make_client(hollola_worker, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    ServiceAgreement.objects.create(
        producer=org, purchaser=hollola, scope=AgreementScope.INTEGRATION_SERVICES,
        valid_from=dt.date(2025, 1, 1),
    )  # fmt: skip
    _assessment(counsellor, c)  # Lahti's counsellor assesses Hollola's client
    # when each of them makes the export, both hold Lahti's assessment
    for user in (hollola_worker, counsellor):
        export = selectors.subject_export_for(user=user, client_id=c.id, fmt="html")
        assessments = next(s for s in export.sections if s.key == "assessments")
        assert [r["occupation"] for r in assessments.rows] == ["Nurse"]


def test_export__full_grant__the_record_and_the_grant_holder_s_own_rows(
    counsellor, lahti_client, other_org, outsider
):
    AccessGrant.objects.create(
        client=lahti_client, organisation=other_org, scope="full", source="referral",
        valid_from=dt.date(2020, 1, 1),
    )  # fmt: skip
    contact_log(
        actor=counsellor, channel="phone", reasons=["benefits"], client_identifier=lahti_client.hetu
    )
    theirs = _assessment(outsider, lahti_client)
    export = selectors.subject_export_for(user=outsider, client_id=lahti_client.id, fmt="html")
    parts = {s.key: s for s in export.sections}
    assert parts["client"].rows[0]["hetu"] == lahti_client.hetu
    assert len(parts["assessments"].rows) == 1
    assert theirs.organisation_id == other_org.id
    assert parts["contacts"].rows == []  # Lahti's


def test_export__emergency_access__not_found(counsellor, lahti_client, outsider):
    break_glass_open(
        actor=outsider, client_id=lahti_client.id, reason="Client at our office in acute crisis"
    )
    assert client_get_for(user=outsider, client_id=lahti_client.id).access == "read"
    with pytest.raises(NotFound):
        selectors.subject_export_for(user=outsider, client_id=lahti_client.id, fmt="html")


def test_export_json_and_api__welfare_details_withheld_named(web, counsellor, lahti_client, org):
    social = member(org, Role.SOCIAL_WORKER, username="sw")
    _assessment(social, lahti_client, welfare="Sleep problems")
    c = web(counsellor)
    file = json.loads(c.get(reverse("privacy:export_json", args=[lahti_client.id])).content)
    api_body = c.get(f"/api/v1/clients/{lahti_client.id}/export?lang=en").json()
    for body in (file, api_body):
        part = body["parts"]["assessments"]
        assert "welfare_needs_details" not in part["rows"][0]
        assert len(part["withheld"]) == 2
    assert (
        "Sleep problems"
        not in c.get(reverse("privacy:export", args=[lahti_client.id])).content.decode()
    )


def test_export__referral_names_both_organisations_and_the_shared_copy_readable(
    counsellor, lahti_client, other_org
):
    from koto.referrals.services import referral_send

    seen = client_get_for(user=counsellor, client_id=lahti_client.id, audit=False)
    referral_send(
        actor=counsellor, client=seen, to_organisation=other_org, kind="guidance",
        message="Please help with housing.", include_identity_code=True,
    )  # fmt: skip
    with translation.override("fi"):
        export = selectors.subject_export_for(
            user=counsellor, client_id=lahti_client.id, fmt="html"
        )
    part = next(s for s in export.sections if s.key == "referrals")
    row = part.rows[0]
    assert row["to_organisation_id"] == Organisation.objects.get(pk=other_org.pk).name_fi
    shown = dict(part.shown[0])
    assert f"Henkilötunnus: {lahti_client.hetu}" in shown["Jaetut tiedot"]
    assert lahti_client.birth_date.strftime("%-d.%-m.%Y") in shown["Jaetut tiedot"]


def test_export__compensation_claimed__withheld_from_casework_roles(web, counsellor, lahti_client):
    # a claim line can name health care costs (65 §) or a victim of trafficking (68 §):
    # the funding pages show claims to the finance roles only, and so does the export
    export = selectors.subject_export_for(user=counsellor, client_id=lahti_client.id, fmt="html")
    part = next(s for s in export.sections if s.key == "compensation")
    assert (part.rows, part.withheld_because) == ([], "finance")
    assert part.title not in export.empty
    html = web(counsellor).get(reverse("privacy:export", args=[lahti_client.id])).content.decode()
    assert "only the organisation's finance staff read State compensation claims" in html


def test_export__agreement_ended__the_producer_s_records_stay_the_purchaser_s(org, counsellor):
    hollola, hollola_worker = _hollola()
    c = make_client(hollola_worker, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    agreement = ServiceAgreement.objects.create(
        producer=org, purchaser=hollola, scope=AgreementScope.INTEGRATION_SERVICES,
        valid_from=dt.date(2025, 1, 1),
    )  # fmt: skip
    _assessment(counsellor, c)
    # Lahti exports Hollola's client: the controller named is Hollola
    with translation.override("fi"):
        by_lahti = selectors.subject_export_for(user=counsellor, client_id=c.id, fmt="html")
    assert by_lahti.organisation == "Hollola"
    # the agreement ends; what Lahti recorded for Hollola is still in Hollola's export
    agreement.valid_to = dt.date(2025, 12, 31)
    agreement.save()
    export = selectors.subject_export_for(user=hollola_worker, client_id=c.id, fmt="html")
    assessments = next(s for s in export.sections if s.key == "assessments")
    assert [r["occupation"] for r in assessments.rows] == ["Nurse"]


def test_export__no_assessment__listed_as_none_not_as_withheld(counsellor, lahti_client):
    # a kind with no rows said "health details not shown" to a counsellor, as if there were
    export = selectors.subject_export_for(user=counsellor, client_id=lahti_client.id, fmt="html")
    assessments = next(s for s in export.sections if s.key == "assessments")
    assert (assessments.rows, assessments.withheld, assessments.withheld_because) == ([], [], "")
    assert assessments.title in export.empty


def _serves(producer, *purchasers) -> None:
    """The producer keeps the purchasers' client records under an agreement from 2025."""
    for purchaser in purchasers:
        ServiceAgreement.objects.create(
            producer=producer, purchaser=purchaser, scope=AgreementScope.INTEGRATION_SERVICES,
            valid_from=dt.date(2025, 1, 1),
        )  # fmt: skip


def _guide(counsellor, c) -> None:
    """A guidance contact of the counsellor's organisation with the client, by phone."""
    contact_log(actor=counsellor, channel="phone", reasons=["benefits"], client_identifier=c.hetu)


def _contacts(user, c) -> list[str]:
    export = selectors.subject_export_for(user=user, client_id=c.id, fmt="html")
    return [r["contacted_on"] for r in next(s for s in export.sections if s.key == "contacts").rows]


def test_export__after_a_transfer__a_producer_s_rows_with_the_municipality_they_were_kept_for(
    org, counsellor, other_org, outsider
):
    """Lahti keeps client records for both Hollola and Tampere. It guides Hollola's client
    in May; the client moves to Tampere in October, and Lahti guides them in November. The
    May contact is Hollola's record and in Hollola's export (Hollola answers for the records
    it kept: its read grant of the transfer); the November one is Tampere's. Until
    2026-12-08 a producer's rows went with whichever purchaser was responsible now: Tampere's
    export held the May contact and Hollola could not export at all."""
    reasons_seed()
    hollola, hollola_worker = _hollola()
    _serves(org, hollola, other_org)
    with clock.frozen(dt.date(2026, 5, 4)):
        c = make_client(
            hollola_worker, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10)
        )
        _guide(counsellor, c)
    transfer(c, sender=hollola_worker, taker=outsider, on=dt.date(2026, 10, 20))
    with clock.frozen(dt.date(2026, 11, 3)):
        _guide(counsellor, c)

    with clock.frozen(dt.date(2026, 12, 1)), translation.override("fi"):
        assert _contacts(outsider, c) == ["2026-11-03"]
        # Lahti, exporting for Tampere (now responsible), holds the same rows
        assert _contacts(counsellor, c) == ["2026-11-03"]
        assert _contacts(hollola_worker, c) == ["2026-05-04"]
        hollola_export = selectors.subject_export_for(user=hollola_worker, client_id=c.id,
                                                      fmt="html")  # fmt: skip
    assert hollola_export.organisation == "Hollola"
    changes = next(s for s in hollola_export.sections if s.key == "responsibility").rows
    assert [(r["from_organisation_id"], r["to_organisation_id"]) for r in changes] == [
        ("Hollola", "Tampere")
    ]


def test_export__transfer_grant__only_the_organisation_the_client_left_answers(
    web, org, counsellor, other_org, outsider
):
    """The sending side keeps a read grant after a transfer; of it, the organisation that
    was responsible may export what it kept, a producer keeping its records may not (it
    answers through that organisation)."""
    hollola, hollola_worker = _hollola()
    _serves(org, hollola)
    c = make_client(hollola_worker, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    transfer(c, sender=hollola_worker, taker=outsider, on=clock.today())
    for user in (hollola_worker, counsellor):
        seen = client_get_for(user=user, client_id=c.id, audit=False)
        assert seen.access == "read"
    assert client_get_for(user=hollola_worker, client_id=c.id, audit=False).former_holder
    page, export = (reverse(n, args=[c.id]) for n in ("clients:detail", "privacy:export"))
    assert export in web(hollola_worker).get(page).content.decode()
    assert web(hollola_worker).get(export).status_code == 200
    assert export not in web(counsellor).get(page).content.decode()
    assert web(counsellor).get(export).status_code == 404


def _hollola():
    hollola = OrganisationFactory(code="098", name_fi="Hollola")
    return hollola, member(hollola, Role.INTEGRATION_COUNSELLOR, username="hollola")


def test_export__moved_to_a_municipality_it_serves__its_own_earlier_rows_in_its_own_export(
    web, org, counsellor
):
    """Lahti's client moves to Hollola, whose records Lahti keeps. Lahti's default export is
    Hollola's (what Lahti keeps for it), without the contact Lahti logged while the client
    was its own; Lahti's own export, one link away, holds that contact and names Lahti."""
    reasons_seed()
    hollola, hollola_worker = _hollola()
    _serves(org, hollola)
    with clock.frozen(dt.date(2026, 5, 4)):
        c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
        _guide(counsellor, c)
    transfer(c, sender=counsellor, taker=hollola_worker, on=dt.date(2026, 10, 20))
    with clock.frozen(dt.date(2026, 11, 3)):
        _guide(counsellor, c)

    with clock.frozen(dt.date(2026, 12, 1)), translation.override("fi"):
        assert _contacts(hollola_worker, c) == ["2026-11-03"]
        assert _contacts(counsellor, c) == ["2026-11-03"]
        own = selectors.subject_export_for(user=counsellor, client_id=c.id, fmt="html", own=True)
        url = reverse("privacy:export", args=[c.id])
        page = web(counsellor).get(url).content.decode()
        own_page = web(counsellor).get(url + "?own=1&lang=fi")
    assert own.organisation == "Lahti"
    contacts = next(s for s in own.sections if s.key == "contacts").rows
    assert [r["contacted_on"] for r in contacts] == ["2026-05-04"]
    assert "?own=1" in page
    assert own_page.status_code == 200 and "Lahti" in own_page.content.decode()
    assert "organisaatiolle Hollola" in own_page.content.decode()  # the way back
    event = AuditEvent.objects.filter(action="export").latest("id")
    assert event.changes["controller"] == org.id


def test_export__a_producer_once_responsible__what_it_kept_for_another_is_the_other_s(
    org, counsellor, other_org, outsider
):
    """Lahti → Hollola in February 2025; Lahti keeps Hollola's records and logs a contact in
    May 2026; Hollola → Tampere in October 2026 (Lahti does not serve Tampere). The May
    contact is Hollola's: in Hollola's export, not in Lahti's (which answers, by the grant of
    its own transfer, for what it kept while the client was its)."""
    reasons_seed()
    hollola, hollola_worker = _hollola()
    _serves(org, hollola)
    with clock.frozen(dt.date(2025, 1, 13)):
        c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2024, 9, 1))
        _guide(counsellor, c)
    transfer(c, sender=counsellor, taker=hollola_worker, on=dt.date(2025, 2, 10))
    with clock.frozen(dt.date(2026, 5, 4)):
        _guide(counsellor, c)
    transfer(c, sender=hollola_worker, taker=outsider, on=dt.date(2026, 10, 20))

    with clock.frozen(dt.date(2026, 12, 1)):
        assert _contacts(counsellor, c) == ["2025-01-13"]
        assert _contacts(hollola_worker, c) == ["2026-05-04"]
        assert _contacts(outsider, c) == []


def test_export__the_system_s_timeline_events__with_the_organisation_responsible_then(
    counsellor, other_org, outsider
):
    from koto.clients.models import ClientEvent

    with clock.frozen(dt.date(2026, 5, 4)):
        c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    transfer(c, sender=counsellor, taker=outsider, on=dt.date(2026, 10, 20))
    for day in (dt.date(2026, 10, 19), dt.date(2026, 11, 5)):
        with clock.frozen(day):
            ClientEvent.objects.create(client=c, kind=ClientEvent.Kind.UPDATED)  # the system's

    def system_events(user) -> list[str]:
        export = selectors.subject_export_for(user=user, client_id=c.id, fmt="json")
        rows = next(s for s in export.sections if s.key == "events").rows
        return [r["at"][:10] for r in rows if r["organisation_id"] is None]

    with clock.frozen(dt.date(2026, 12, 1)):
        assert system_events(counsellor) == ["2026-10-19"]
        assert system_events(outsider) == ["2026-11-05"]


def test_export__moved_to_its_producer__the_record_handed_over_and_the_move_are_the_taker_s(
    org, counsellor
):
    """Lahti kept Hollola's records under an agreement that ended in 2025. Hollola starts an
    assessment; in October the client moves to Lahti, and the open assessment and its
    deadline task pass to Lahti with them. It is Lahti's record now, whenever it was made: in Lahti's export, not
    in Hollola's; the move itself and the transfer are in both."""
    hollola, hollola_worker = _hollola()
    ServiceAgreement.objects.create(
        producer=org, purchaser=hollola, scope=AgreementScope.INTEGRATION_SERVICES,
        valid_from=dt.date(2024, 1, 1), valid_to=dt.date(2025, 12, 31),
    )  # fmt: skip
    with clock.frozen(dt.date(2026, 5, 4)):
        c = make_client(
            hollola_worker, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10)
        )
        started = _assessment(hollola_worker, c)
        Task.objects.create(
            client=c, organisation=hollola, kind=Task.Kind.ASSESSMENT_COMPLETE,
            source_type="assessment", source_id=started.id, due_on=dt.date(2026, 11, 30),
            rule_code="assessment_complete",
        )  # fmt: skip
    transfer(c, sender=hollola_worker, taker=counsellor, on=dt.date(2026, 10, 20))

    def kinds(user) -> dict[str, list]:
        export = selectors.subject_export_for(user=user, client_id=c.id, fmt="html")
        return {s.key: s.rows for s in export.sections if s.rows}

    with clock.frozen(dt.date(2026, 12, 1)):
        lahti, hollola_export = kinds(counsellor), kinds(hollola_worker)
    started.refresh_from_db()
    assert started.organisation_id == org.id
    assert [r["occupation"] for r in lahti["assessments"]] == ["Nurse"]
    assert "assessments" not in hollola_export
    # so is the open deadline task that passed with the client (the met one stays Hollola's)
    assert [r["kind"] for r in lahti["tasks"]] == ["assessment_complete"]
    assert [r["kind"] for r in hollola_export["tasks"]] == ["assessment_start"]
    for part in ("responsibility", "referrals"):
        assert len(lahti[part]) == len(hollola_export[part]) == 1, part


def test_export__a_grant_holder_now_serving_the_responsible__its_own_rows_in_its_own_export(
    org, counsellor, other_org, outsider
):
    """Lahti reads Tampere's client under a full grant and guides them; the client moves to
    Hollola, whose records Lahti keeps. The contact is Lahti's own (it made it for no one
    else): in Lahti's own export, not in Hollola's or Tampere's."""
    reasons_seed()
    hollola, hollola_worker = _hollola()
    _serves(org, hollola)
    with clock.frozen(dt.date(2026, 5, 4)):
        c = make_client(outsider, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
        AccessGrant.objects.create(
            client=c, organisation=org, scope="full", source="referral",
            valid_from=dt.date(2026, 5, 1),
        )  # fmt: skip
        _guide(counsellor, c)
    transfer(c, sender=outsider, taker=hollola_worker, on=dt.date(2026, 10, 20))

    with clock.frozen(dt.date(2026, 12, 1)):
        own = selectors.subject_export_for(user=counsellor, client_id=c.id, fmt="html", own=True)
        assert _contacts(counsellor, c) == []  # Hollola's, as Lahti keeps it
        assert _contacts(hollola_worker, c) == []
        assert _contacts(outsider, c) == []
    assert own.other == "kept"
    assert [
        r["contacted_on"] for r in next(s for s in own.sections if s.key == "contacts").rows
    ] == ["2026-05-04"]


def test_export__a_task_handed_over_that_the_sweep_gave_to_the_assessing_producer(
    org, counsellor, other_org, outsider
):
    """Lahti keeps the records of Hollola and of Tampere and completes an assessment of
    Hollola's client: the task of drawing up the plan is open. The client moves to Tampere;
    the task passes to Tampere, and the deadline sweep gives it back to Lahti, which keeps
    Tampere's records and assessed. It is Tampere's record: in Tampere's export (and Lahti's
    for Tampere), not in Hollola's."""
    from koto.assessments.services import assessment_complete

    hollola, hollola_worker = _hollola()
    _serves(org, hollola, other_org)
    with clock.frozen(dt.date(2026, 5, 4)):
        c = make_client(
            hollola_worker, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10)
        )
        a = client_get_for(user=counsellor, client_id=c.id, audit=False)
        a = assessment_start(actor=counsellor, client=a, trigger="client_request")
        a = assessment_record_interview(
            actor=counsellor, assessment=a,
            data={"interview_on": dt.date(2026, 5, 4), "interview_language": "fi",
                  "literacy": "none", "skills": [{"language": "fi", "skill": "reading", "level": "0"}]},
        )  # fmt: skip
        assessment_complete(actor=counsellor, assessment=a, plan_needed=True)
    draft = Task.objects.get(client=c, kind=Task.Kind.PLAN_DRAFT, status="open")
    transfer(c, sender=hollola_worker, taker=outsider, on=dt.date(2026, 10, 20))
    draft.refresh_from_db()
    assert draft.organisation_id == org.id  # the sweep's owner rule

    def plan_tasks(user) -> list:
        export = selectors.subject_export_for(user=user, client_id=c.id, fmt="html")
        rows = next(s for s in export.sections if s.key == "tasks").rows
        return [r["kind"] for r in rows if r["kind"] == "plan_draft"]

    with clock.frozen(dt.date(2026, 12, 1)):
        assert plan_tasks(outsider) == ["plan_draft"]
        assert plan_tasks(counsellor) == ["plan_draft"]
        assert plan_tasks(hollola_worker) == []
