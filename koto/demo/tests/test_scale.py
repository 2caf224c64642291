"""The national-scale generator at a small scale: counts, users, relationships and dates of
one generated data set (on SQLite and PostgreSQL, where it goes in with COPY)."""

import datetime as dt

import pytest
from django.apps import apps
from django.db import models, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from stdnum.fi import hetu

from koto.accounts.models import Membership
from koto.assessments.models import Assessment, LanguageSkill
from koto.clients.models import (
    AccessGrant,
    Client,
    ClientEvent,
    ClientLanguage,
    ClientName,
    Meeting,
    Residence,
    Task,
)
from koto.core import clock
from koto.core.roles import Role
from koto.demo.scale import generate
from koto.guidance import summary
from koto.guidance.models import Contact, ContactDay, ContactReason
from koto.law import add_months
from koto.offerings.models import Attendance, Enrolment, LanguageTestResult
from koto.organisations.models import Organisation, OrganisationKind
from koto.placement.models import Placement, PlacementAgreement, PlacementPerson
from koto.plans.models import Extension, IntegrationPlan

TODAY = dt.date(2026, 12, 1)
CLIENTS, CONTACTS = 300, 2000


def run(*, seed: int = 5, clients: int = CLIENTS, contacts: int = CONTACTS, writers: int = 2):
    with clock.frozen(TODAY):
        return generate(clients=clients, contacts=contacts, seed=seed, writers=writers)


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    """One generated data set for the module's read-only checks, rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield run()
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_generate__counts_users_and_relationships(generated):
    result = generated

    assert Client.objects.count() == CLIENTS
    assert Contact.objects.count() == CONTACTS
    assert result["clients"] == CLIENTS and result["contacts"] == CONTACTS
    assert result["rows"]["clients_client"] == CLIENTS
    assert result["rows"]["guidance_contact"] == CONTACTS
    for model, table in ((ClientName, "clients_clientname"), (ClientEvent, "clients_clientevent"),
                         (Task, "clients_task"), (Assessment, "assessments_assessment"),
                         (IntegrationPlan, "plans_integrationplan"), (Enrolment, "offerings_enrolment"),
                         (Attendance, "offerings_attendance"), (ContactReason, "guidance_contactreason"),
                         (Meeting, "clients_meeting")):  # fmt: skip
        assert model.objects.count() == result["rows"][table] > 0, table
    # Users: counsellors, advisers and managers per municipality, regions, the country.
    roles = dict(
        Membership.objects.filter(user__username__in=["scale.091.0", "scale.091.guidance.0", "scale.091.manager", "scale.keha.manager"])
        .values_list("user__username", "role")
    )  # fmt: skip
    assert roles == {
        "scale.091.0": Role.INTEGRATION_COUNSELLOR,
        "scale.091.guidance.0": Role.GUIDANCE_ADVISER,
        "scale.091.manager": Role.MANAGER,
        "scale.keha.manager": Role.MANAGER,
    }
    keha = Membership.objects.get(user__username="scale.keha.manager").organisation
    assert keha.kind == OrganisationKind.KEHA
    regions = Membership.objects.filter(
        user__username__endswith=".manager", organisation__kind=OrganisationKind.WELFARE_REGION
    )
    assert regions.count() == Organisation.objects.filter(kind=OrganisationKind.WELFARE_REGION).count() > 20  # fmt: skip
    # Every client has an official name row of its organisation (search depends on it).
    assert ClientName.objects.filter(kind="official").count() == CLIENTS
    assert (
        ClientName.objects.exclude(organisation=F("client__responsible_organisation")).count() == 0
    )
    assert Client.objects.exclude(hetu=None).exclude(temporary_id=None).count() == 0
    codes = list(Client.objects.exclude(hetu=None).values_list("hetu", flat=True))
    assert len(codes) > CLIENTS / 2 and all(hetu.is_valid(code) for code in codes)
    # the municipality of residence in force now is the client's (one who moved lived in
    # the sender before: `test_generate__clients_who_moved…`)
    assert Residence.objects.filter(to_on=None).exclude(municipality=F("client__home_municipality")).count() == 0  # fmt: skip
    assert ClientLanguage.objects.count() > 0
    created = Client.objects.aggregate(lo=Min("created_at"))["lo"].astimezone(clock.HELSINKI).date()
    assert dt.date(2023, 1, 1) <= created
    assert (
        Client.objects.filter(created_at__gt=dt.datetime(2026, 12, 2, tzinfo=dt.UTC)).count() == 0
    )
    assert Client.objects.filter(first_permit_on__gt=F("created_at__date") + dt.timedelta(days=1)).count() == 0  # fmt: skip


@pytest.mark.django_db
def test_generate__casework_is_consistent(generated):

    # Assessments: after the client came, in the client's organisation, by its counsellor.
    assessments = Assessment.objects.all()
    assert assessments.exclude(organisation=F("client__responsible_organisation")).count() == 0
    assert assessments.filter(started_on__lt=F("client__created_at__date") - dt.timedelta(days=1)).count() == 0  # fmt: skip
    assert assessments.filter(status="completed", completed_on=None).count() == 0
    assert assessments.filter(status="started").exclude(completed_on=None).count() == 0
    assert LanguageSkill.objects.exclude(assessment__status="completed").count() == 0
    # Plans belong to assessed clients of the same organisation, after the assessment.
    plans = IntegrationPlan.objects.all()
    assert plans.count() > 0
    assert plans.exclude(assessment__client=F("client")).count() == 0
    assert plans.exclude(organisation=F("client__responsible_organisation")).count() == 0
    assert plans.exclude(assessment__status="completed").count() == 0
    assert plans.filter(starts_on__lt=F("assessment__completed_on")).count() == 0
    assert plans.filter(ends_on__gt=F("end_limit_on")).filter(extensions=None).count() == 0
    assert plans.values("client").annotate(n=Count("id")).filter(n__gt=1).count() == 0
    # Outcomes only on ended plans, and every ended plan has one, by its end.
    assert plans.exclude(status="ended").exclude(outcome="").count() == 0
    assert plans.exclude(status="ended").exclude(ended_on=None).count() == 0
    assert plans.filter(status="ended").filter(Q(outcome="") | Q(ended_on=None)).count() == 0
    assert plans.filter(ended_on__gt=TODAY).count() == 0
    assert plans.filter(outcome="employment_plan", handover_summary="").count() == 0
    assert plans.filter(outcome="other", client__unemployed_jobseeker=True).count() == 0
    assert {"employed", "studying"} <= set(plans.values_list("outcome", flat=True))
    # Meetings: one agreeing each plan that was agreed, then follow-ups within the plan; each
    # on the client's timeline; interpreted as the client needs it.
    meetings = Meeting.objects.all()
    agreed = plans.exclude(agreed_on=None)
    assert meetings.filter(purpose="Kotoutumissuunnitelman laatiminen").count() == agreed.count()
    assert meetings.filter(held_on__gt=TODAY).count() == 0
    assert meetings.exclude(organisation=F("client__responsible_organisation")).count() == 0
    assert meetings.filter(held_on__lt=F("client__plans__agreed_on")).count() == 0
    assert meetings.filter(held_on__gt=F("client__plans__ended_on")).count() == 0
    assert meetings.values("client").annotate(n=Count("id")).filter(n__gt=5).count() == 0
    assert meetings.filter(purpose="Suunnitelman seuranta").count() > 0
    assert meetings.filter(client_no_show=False, no_show_reason_accepted=True).count() == 0
    interpreted = meetings.exclude(interpreter_mode="")
    assert interpreted.exclude(interpreter_language=F("client__interpreter_language")).count() == 0
    assert interpreted.filter(Q(interpreter_minutes=None) | Q(interpreter_cost=None)).count() == 0
    assert meetings.filter(interpreter_mode="", client__interpreter_needed=True).count() == 0
    events = ClientEvent.objects.filter(kind="meeting")
    assert events.count() == meetings.count()
    assert {e.data["meeting_id"] for e in events} == set(meetings.values_list("id", flat=True))
    # Extensions: at most 12 months, and 24 months in all.
    for e in Extension.objects.select_related("plan"):
        assert e.new_ends_on == e.plan.ends_on and e.previous_ends_on < e.new_ends_on
        assert e.new_ends_on < add_months(e.plan.starts_on, 24)
    # Tasks: one per source and kind, pointing at the right rows, done when done.
    tasks = Task.objects.all()
    start = tasks.filter(kind="assessment_start")
    assert start.exclude(source_type="client").count() == 0
    assert start.exclude(source_id=F("client_id")).count() == 0
    assessed = set(Assessment.objects.values_list("client_id", flat=True))
    for client_id, status in start.values_list("client_id", "status"):
        assert (status == "done") == (client_id in assessed)
    assert assessed <= set(start.values_list("client_id", flat=True))
    guidance = tasks.filter(kind="guidance_to_service")
    assert guidance.count() > 0
    plan_of = dict(plans.values_list("id", "client_id"))
    for source_id, client_id, source_type in guidance.values_list("source_id", "client_id", "source_type"):  # fmt: skip
        assert source_type == "plan" and plan_of[source_id] == client_id
    assert set(tasks.values_list("status", flat=True)) == {"done", "open"}
    late = start.filter(status="done").count() - sum(
        1 for cid, due in start.values_list("client_id", "due_on")
        if Assessment.objects.filter(client_id=cid, started_on__lte=due).exists()
    )  # fmt: skip
    assert late > 0  # deadline compliance is not 100 %
    # Enrolments: in the client's municipality's services, for plan clients.
    enrolments = Enrolment.objects.all()
    assert enrolments.exclude(service__producer=F("organisation")).count() == 0
    assert enrolments.exclude(organisation=F("client__responsible_organisation")).count() == 0
    assert enrolments.exclude(client__in=plans.values("client")).count() == 0
    assert enrolments.filter(started_on__lt=F("requested_at__date") - dt.timedelta(days=1)).count() == 0  # fmt: skip
    assert enrolments.filter(status__in=["completed", "interrupted"], ended_on=None).count() == 0
    assert Attendance.objects.filter(monthly=False).count() == 0
    assert Attendance.objects.filter(enrolment__started_on=None).count() == 0
    assert LanguageTestResult.objects.exclude(enrolment__service__kind="language_test").count() == 0
    assert LanguageTestResult.objects.exclude(client=F("enrolment__client")).count() == 0
    # Timeline events point at the client's own rows.
    events = ClientEvent.objects.filter(kind="plan_ended")
    assert events.count() == plans.filter(status="ended").count()


@pytest.mark.django_db
def test_generate__nothing_is_stamped_after_the_moment_it_is_made(generated):
    """The data is what a registry would hold at the moment it is made (noon, frozen): no
    row of any table written is dated later, so an incremental dashboard refresh run after
    it does not take the generated rows for new ones."""
    made_at = dt.datetime.combine(TODAY, dt.time(12, 0), tzinfo=clock.HELSINKI)
    by_table = {m._meta.db_table: m for m in apps.get_models()}
    checked = 0
    for table in generated["rows"]:
        model = by_table[table]
        for field in model._meta.concrete_fields:
            if isinstance(field, models.DateTimeField):
                latest = model.objects.aggregate(latest=Max(field.name))["latest"]
                assert latest is None or latest <= made_at, (table, field.name, latest)
                checked += latest is not None
    assert checked >= 10


@pytest.mark.django_db
def test_generate__contacts_and_placements(generated):

    contacts = Contact.objects.all()
    linked = contacts.exclude(client=None)
    assert linked.count() > 0
    assert linked.exclude(client__responsible_organisation=F("organisation")).count() == 0
    assert linked.filter(contacted_on__lt=F("client__created_at__date") - dt.timedelta(days=1)).count() == 0  # fmt: skip
    assert contacts.filter(kind="partner").exclude(client=None).count() == 0
    assert contacts.filter(kind="partner", partner_type="").count() == 0
    assert contacts.filter(kind="client").exclude(partner_type="").count() == 0
    assert 0.05 < contacts.filter(kind="partner").count() / CONTACTS < 0.15
    assert contacts.filter(contacted_on__lt=dt.date(2023, 1, 1)).count() == 0
    assert contacts.filter(contacted_on__gt=TODAY).count() == 0
    reasons = ContactReason.objects.all()
    assert reasons.exclude(organisation_id=F("contact__organisation_id")).count() == 0
    assert reasons.exclude(contacted_on=F("contact__contacted_on")).count() == 0
    assert reasons.exclude(kind=F("contact__kind")).count() == 0
    assert reasons.values("reason").distinct().count() == 8
    # the guidance report's day counts were recounted at the end: exact, and all of them
    assert summary.differences() == []
    assert ContactDay.objects.aggregate(n=Sum("contacts"))["n"] == contacts.count()
    agreements = PlacementAgreement.objects.all()
    assert agreements.filter(municipality__municipality_code="091").count() == 4  # 2023-2026
    assert (
        agreements.exclude(authority__kind=OrganisationKind.REGIONAL_STATE_AUTHORITY).count() == 0
    )
    assert Placement.objects.exclude(status="arrived").filter(arrived_on__isnull=False).count() == 0
    assert PlacementPerson.objects.filter(placement__status="arrived").count() > 0


@pytest.mark.django_db
def test_generate__access_grants_to_the_regions_largest_city(generated):
    grants = AccessGrant.objects.filter(source="scale_referral").select_related(
        "client__responsible_organisation", "organisation"
    )
    assert grants.count() == generated["access_grants"] > 0
    hubs = {"01": "091", "06": "837", "07": "398", "02": "853"}  # Uusimaa, Pirkanmaa, ...
    for g in grants:
        own = g.client.responsible_organisation
        assert g.organisation.kind == OrganisationKind.MUNICIPALITY
        assert g.organisation.region_code == own.region_code and g.organisation_id != own.id
        if own.region_code in hubs:
            assert g.organisation.municipality_code == hubs[own.region_code]
        assert g.valid_from == g.client.created_at.astimezone(clock.HELSINKI).date()
        assert g.valid_to in (None, g.valid_from + dt.timedelta(days=180))
        assert g.source == "scale_referral" and g.scope in ("read", "full")
    # about one in ten of the clients who could have one
    candidates = Client.objects.filter(
        responsible_organisation__region_code__in=grants.values("organisation__region_code")
    ).exclude(responsible_organisation__in=grants.values("organisation"))
    assert 0.03 < grants.count() / candidates.count() < 0.2


@pytest.mark.django_db
def test_generate__clients_who_moved_as_an_accepted_transfer_leaves_them(generated):
    """One client in a hundred came from another municipality: the transfer completed with
    its steps, the sender's read grant, and the move before the receiver's first
    assessment; the rollups read the history (`Moves`) and count the move both ways."""
    from koto.clients.models import HandedOverRecord, ResponsibilityChange
    from koto.insights.rollups import Moves, held_on
    from koto.referrals.models import Referral, ReferralStatus

    transfers = Referral.objects.filter(kind="transfer").select_related("client")
    assert transfers.count() == generated["transfers"] >= 1
    opened_before = lived_before = tasks_handed = tasks_kept = 0
    made_at = dt.datetime.combine(TODAY, dt.time(0), tzinfo=clock.HELSINKI)
    for r in transfers:
        client = r.client
        assert r.to_organisation_id == client.responsible_organisation_id
        assert r.from_organisation_id == r.transferred_from_id != r.to_organisation_id
        assert r.status == ReferralStatus.COMPLETED and r.scope == "none"
        assert client.created_at < r.sent_at <= r.received_at <= r.accepted_at
        assert r.accepted_at == r.completed_at < made_at
        assert r.handled_by_id == client.counsellor_id
        assert r.sender.memberships.filter(organisation_id=r.from_organisation_id).exists()
        assert r.shared["last_name"] == client.last_name and "identity_code" not in r.shared
        moved_on = r.accepted_at.astimezone(clock.HELSINKI).date()
        # nothing was finished or begun before the move that would have stayed the
        # sender's; an assessment started before it was open then, and passed over
        assert not Assessment.objects.filter(client=client, completed_on__lt=moved_on).exists()
        assert not IntegrationPlan.objects.filter(client=client, starts_on__lt=moved_on).exists()
        opened_before += Assessment.objects.filter(client=client, started_on__lt=moved_on).count()
        # the assessments made before the move passed over with the client, on record so
        handed = HandedOverRecord.objects.filter(change__source_id=r.id, record_type="assessment")
        made_before = Assessment.objects.filter(client=client, created_at__lt=r.accepted_at)
        assert set(handed.values_list("record_id", flat=True)) == set(
            made_before.values_list("id", flat=True)
        )
        # and so did the assessment-start task of a client not assessed by then
        tasks = HandedOverRecord.objects.filter(change__source_id=r.id, record_type="task")
        open_then = Task.objects.filter(
            client=client, kind="assessment_start", computed_at__lt=r.accepted_at
        ).exclude(client__in=made_before.values("client_id"))
        assert set(tasks.values_list("record_id", flat=True)) == set(
            open_then.values_list("id", flat=True)
        )
        tasks_handed += len(open_then)
        # one met before the move (by the assessment the sender started) stays the sender's
        met = Task.objects.filter(client=client, kind="assessment_start").filter(
            client__in=made_before.values("client_id")
        )
        assert set(met.values_list("organisation_id", "assignee_id")) <= {
            (r.from_organisation_id, r.sender_id)
        }
        tasks_kept += met.count()
        # resident in the sender until the move, in the receiver from then on
        lived = list(Residence.objects.filter(client=client).values_list(
            "municipality_id", "from_on", "to_on"
        ))  # fmt: skip
        if client.first_home_municipality_on and client.first_home_municipality_on < moved_on:
            assert lived == [
                (r.from_organisation_id, client.first_home_municipality_on,
                 moved_on - dt.timedelta(days=1)),
                (r.to_organisation_id, moved_on, None),
            ]  # fmt: skip
            assert client.home_municipality_on == moved_on
            lived_before += 1
        assert [s.operation for s in r.steps.order_by("at", "id")] == [
            "send",
            "receive",
            "accept",
            "complete",
        ]
        change = ResponsibilityChange.objects.get(source_type="referral", source_id=r.id)
        assert (change.client_id, change.from_organisation_id, change.to_organisation_id,
                change.at) == (client.id, r.from_organisation_id, r.to_organisation_id,
                               r.accepted_at)  # fmt: skip
        grant = AccessGrant.objects.get(source="transfer", source_id=str(r.id))
        assert (grant.organisation_id, grant.scope) == (r.from_organisation_id, "read")
        assert grant.valid_from == moved_on and grant.valid_to == dt.date(moved_on.year + 1, 12, 31)
    # this seed has them all: a move with the assessment open, one with its task open, one
    # with it met, and a resident who moved
    assert opened_before >= 1 and tasks_handed >= 1 and tasks_kept >= 1 and lived_before >= 1
    moves = Moves()
    r = transfers.first()
    history = moves.by_client[r.client_id]
    assert (
        held_on(history, r.client.created_at.astimezone(clock.HELSINKI).date())
        == r.from_organisation_id
    )
    assert held_on(history, TODAY) == r.to_organisation_id


@pytest.mark.django_db
def test_generate__sequences_stay_right(generated):
    client = Client.objects.order_by("id").first()

    language = ClientLanguage.objects.create(client=client, language="sv")
    event = ClientEvent.objects.create(client=client, kind=ClientEvent.Kind.UPDATED)

    assert language.id > ClientLanguage.objects.exclude(id=language.id).order_by("-id").first().id
    assert event.id > ClientEvent.objects.exclude(id=event.id).order_by("-id").first().id


@pytest.mark.django_db
def test_generate__adds_to_earlier_data(generated):
    before = AccessGrant.objects.count()
    result = run(seed=7, clients=40, contacts=200)

    assert Client.objects.count() == CLIENTS + 40
    added = AccessGrant.objects.count() - before
    assert added == result["access_grants"]
    newest = Client.objects.order_by("id")[CLIENTS].id
    assert AccessGrant.objects.filter(client_id__lt=newest).count() == before
    assert Contact.objects.count() == CONTACTS + 200
    assert Membership.objects.filter(user__username="scale.091.0").count() == 1
    assert Client.objects.values("hetu").exclude(hetu=None).annotate(n=Count("id")).filter(n__gt=1).count() == 0  # fmt: skip
