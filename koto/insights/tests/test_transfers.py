"""A client who moved (a transfer between organisations) stays in the figures of the months
before the move with the organisation that held them then: new clients where they were
registered, language levels where they were the client on the test day, and a move out of
the one and into the other in the month of the transfer. Until 2026-12-07 every month of
the client's history went with them to the receiver."""

import datetime as dt

import pytest

from koto.assessments.scales import Level, Skill
from koto.clients.models import Client, Residence
from koto.clients.selectors import client_get_for
from koto.core import clock
from koto.insights import rollups
from koto.insights.models import Cell, Metric
from koto.insights.selectors import Filters, dashboard_for
from koto.insights.tests import builders as b
from koto.offerings.models import LanguageTestResult
from koto.referrals import services
from koto.referrals.models import Referral

MOVED_ON = dt.date(2026, 6, 15)


def total(scope: str, metric: str, **filters) -> int:
    return sum(
        Cell.objects.filter(scope=scope, metric=metric, **filters).values_list("value", flat=True)
    )


def cells(scope: str, metric: str) -> dict[tuple, int]:
    return {
        (c.month, c.target_group, c.language, c.age_band, c.key): c.value
        for c in Cell.objects.filter(scope=scope, metric=metric)
    }


def _result(actor, client, taken_on: dt.date, level: str) -> None:
    for skill in (Skill.SPEAKING, Skill.WRITING):  # one person, whatever the skills
        LanguageTestResult.objects.create(
            client=client, taken_on=taken_on, language="fi", skill=skill,
            level=level, recorded_by=actor,
        )  # fmt: skip


def _transfer(client, sender, receiver, to_organisation) -> Referral:
    with clock.frozen(MOVED_ON):
        referral = services.referral_send(
            actor=sender, client=client_get_for(user=sender, client_id=client.id), kind="transfer", message="Muutti Heinolaan.",
            to_organisation=to_organisation,
        )  # fmt: skip
        services.referral_receive(actor=receiver, referral=referral)
        services.referral_accept(actor=receiver, referral=referral)
    referral.refresh_from_db()
    return referral


@pytest.fixture
def mover(lahti_counsellor):
    c = b.client(lahti_counsellor, created_on=dt.date(2026, 1, 10), residence_basis="asylum",
                 mother_tongue="ar", birth_date=dt.date(1990, 5, 1))  # fmt: skip
    _result(lahti_counsellor, c, dt.date(2026, 3, 2), Level.A2_1)
    return c


@pytest.fixture
def stayer(lahti_counsellor):
    return b.client(lahti_counsellor, created_on=dt.date(2026, 1, 20), residence_basis="work",
                    mother_tongue="uk", birth_date=dt.date(2000, 2, 2))  # fmt: skip


def test_transfer__the_months_before_stay_with_the_sender(
    mover, stayer, lahti, heinola, lahti_counsellor, heinola_counsellor
):
    referral = _transfer(mover, lahti_counsellor, heinola_counsellor, heinola)
    assert referral.transferred_from_id == lahti.id
    _result(heinola_counsellor, mover, dt.date(2026, 9, 1), Level.B1_1)

    rollups.refresh(full=True)

    lahti_scope, heinola_scope = f"org:{lahti.id}", f"org:{heinola.id}"
    jan, jun = dt.date(2026, 1, 1), dt.date(2026, 6, 1)
    assert cells(lahti_scope, Metric.CLIENTS_NEW) == {
        (jan, "protection", "ar", "30_49", ""): 1,
        (jan, "work", "uk", "18_29", ""): 1,
    }
    assert cells(heinola_scope, Metric.CLIENTS_NEW) == {}
    assert cells(lahti_scope, Metric.CLIENTS_MOVED_OUT) == {
        (jun, "protection", "ar", "30_49", ""): 1
    }
    assert cells(heinola_scope, Metric.CLIENTS_MOVED_IN) == {
        (jun, "protection", "ar", "30_49", ""): 1
    }
    assert cells(lahti_scope, Metric.CLIENTS_MOVED_IN) == {}
    assert cells(heinola_scope, Metric.CLIENTS_MOVED_OUT) == {}
    assert cells(lahti_scope, Metric.LANGUAGE_LEVELS) == {
        (dt.date(2026, 3, 1), "protection", "ar", "30_49", "A2.1"): 1
    }
    assert cells(heinola_scope, Metric.LANGUAGE_LEVELS) == {
        (dt.date(2026, 9, 1), "protection", "ar", "30_49", "B1.1"): 1
    }
    # the welfare region holds both: one new client, the move counted in and out
    region = f"region:{lahti.welfare_region_id}"
    assert sum(cells(region, Metric.CLIENTS_NEW).values()) == 2
    assert sum(cells(region, Metric.CLIENTS_MOVED_IN).values()) == 1
    assert sum(cells(region, Metric.CLIENTS_MOVED_OUT).values()) == 1


def test_transfer__an_incremental_refresh_recounts_both_organisations(
    mover, stayer, lahti, heinola, lahti_counsellor, heinola_counsellor
):
    # no home municipality recorded: nothing but the transfer recounts Lahti (a change to a
    # client recounts every municipality they lived in)
    Residence.objects.filter(client=mover).delete()
    Client.objects.filter(id=mover.id).update(home_municipality=None)
    # the clients were written before the refresh (the fixtures run on the test's today)
    Client.objects.update(updated_at=dt.datetime(2026, 1, 20, tzinfo=clock.HELSINKI))
    with clock.frozen(MOVED_ON - dt.timedelta(days=1)):
        rollups.refresh(full=True)
    assert sum(cells(f"org:{lahti.id}", Metric.CLIENTS_NEW).values()) == 2

    _transfer(mover, lahti_counsellor, heinola_counsellor, heinola)
    with clock.frozen(dt.datetime.combine(MOVED_ON, dt.time(12, 10), tzinfo=clock.HELSINKI)):
        result = rollups.refresh()

    assert result["full"] is False
    incremental = {
        (scope, metric): cells(scope, metric)
        for scope in (f"org:{lahti.id}", f"org:{heinola.id}", "national")
        for metric in (Metric.CLIENTS_NEW, Metric.CLIENTS_MOVED_IN, Metric.CLIENTS_MOVED_OUT,
                       Metric.LANGUAGE_LEVELS)
    }  # fmt: skip
    assert sum(incremental[(f"org:{lahti.id}", Metric.CLIENTS_MOVED_OUT)].values()) == 1
    assert sum(incremental[(f"org:{heinola.id}", Metric.CLIENTS_MOVED_IN)].values()) == 1
    # the same as counting everything again
    with clock.frozen(dt.datetime.combine(MOVED_ON, dt.time(12, 20), tzinfo=clock.HELSINKI)):
        rollups.refresh(full=True)
    assert incremental == {key: cells(*key) for key in incremental}


def test_transfer__moved_back__each_move_counted_once(
    mover, lahti, heinola, lahti_counsellor, heinola_counsellor
):
    _transfer(mover, lahti_counsellor, heinola_counsellor, heinola)
    with clock.frozen(dt.date(2026, 8, 3)):
        back = services.referral_send(
            actor=heinola_counsellor, client=client_get_for(user=heinola_counsellor, client_id=mover.id),
            kind="transfer", message="Palasi Lahteen.",
            to_organisation=lahti,
        )  # fmt: skip
        services.referral_receive(actor=lahti_counsellor, referral=back)
        services.referral_accept(actor=lahti_counsellor, referral=back)
    _result(lahti_counsellor, mover, dt.date(2026, 10, 5), Level.B1_1)

    rollups.refresh(full=True)

    lahti_scope, heinola_scope = f"org:{lahti.id}", f"org:{heinola.id}"
    months = {k[0] for k in cells(lahti_scope, Metric.CLIENTS_MOVED_IN)}
    assert months == {dt.date(2026, 8, 1)}
    assert {k[0] for k in cells(heinola_scope, Metric.CLIENTS_MOVED_OUT)} == {dt.date(2026, 8, 1)}
    assert sum(cells(lahti_scope, Metric.CLIENTS_NEW).values()) == 1
    assert sum(cells(heinola_scope, Metric.CLIENTS_NEW).values()) == 0
    # the tests of March and October were Lahti's, as the client was then
    assert {k[0] for k in cells(lahti_scope, Metric.LANGUAGE_LEVELS)} == {
        dt.date(2026, 3, 1),
        dt.date(2026, 10, 1),
    }
    assert cells(heinola_scope, Metric.LANGUAGE_LEVELS) == {}


def test_dashboard__moves_table_by_month(mover, lahti, heinola, lahti_counsellor,
                                         heinola_counsellor, manager):  # fmt: skip
    _transfer(mover, lahti_counsellor, heinola_counsellor, heinola)
    rollups.refresh(full=True)

    d = dashboard_for(
        user=manager,
        scope_code=None,
        filters=Filters(month_from=dt.date(2026, 1, 1), month_to=dt.date(2026, 12, 1)),
    )
    rows = {key: cells for key, _label, cells in d.table("moves").rows}
    # the manager's own organisation: its counts are not hidden
    assert [c.value for c in rows["2026-06-01"]] == [0, 1]
    assert [c.value for c in rows["2026-01-01"]] == [0, 0]
    flows = {key: cells for key, _label, cells in d.table("flows").rows}
    assert flows["2026-01-01"][0].value == 1  # registered in Lahti in January


def test_transfer__a_moved_client_corrected__the_earlier_organisation_recounted(
    mover, lahti, heinola, lahti_counsellor, heinola_counsellor
):
    # the client's registration and move out stay Lahti's: correcting their mother tongue
    # must recount Lahti too, not only Heinola, which holds them now
    Residence.objects.filter(client=mover).delete()
    Client.objects.filter(id=mover.id).update(home_municipality=None)
    _transfer(mover, lahti_counsellor, heinola_counsellor, heinola)
    later = dt.datetime.combine(MOVED_ON, dt.time(13), tzinfo=clock.HELSINKI)
    with clock.frozen(later):
        rollups.refresh(full=True)
    with clock.frozen(later + dt.timedelta(minutes=5)):
        Client.objects.filter(id=mover.id).update(mother_tongue="fa", updated_at=clock.now())
    with clock.frozen(later + dt.timedelta(minutes=10)):
        rollups.refresh()
    for metric in (Metric.CLIENTS_NEW, Metric.CLIENTS_MOVED_OUT, Metric.LANGUAGE_LEVELS):
        assert {k[2] for k in cells(f"org:{lahti.id}", metric)} == {"fa"}, metric
        assert {k[2] for k in cells("national", metric)} == {"fa"}, metric


def test_transfer__a_level_reached_before_and_after_a_move_in_one_month__one_person(
    mover, lahti, heinola, lahti_counsellor, heinola_counsellor
):
    _result(lahti_counsellor, mover, dt.date(2026, 6, 2), Level.B1_1)
    _transfer(mover, lahti_counsellor, heinola_counsellor, heinola)
    _result(heinola_counsellor, mover, dt.date(2026, 6, 20), Level.B1_1)
    rollups.refresh(full=True)
    june_b1 = {"month": dt.date(2026, 6, 1), "key": "B1.1"}
    assert total(f"org:{lahti.id}", Metric.LANGUAGE_LEVELS, **june_b1) == 1
    assert total(f"org:{heinola.id}", Metric.LANGUAGE_LEVELS, **june_b1) == 0
    assert total("national", Metric.LANGUAGE_LEVELS, **june_b1) == 1


def test_dashboard__moves_shown_for_one_organisation_not_for_an_area(
    mover, lahti, heinola, lahti_counsellor, heinola_counsellor, manager
):
    # summed over the region, Lahti's manager could take their own moves to Heinola from the
    # region's moves in and read the rest, a count below five
    _transfer(mover, lahti_counsellor, heinola_counsellor, heinola)
    rollups.refresh(full=True)
    period = Filters(month_from=dt.date(2026, 1, 1), month_to=dt.date(2026, 12, 1))
    region = dashboard_for(user=manager, scope_code=f"region:{lahti.welfare_region_id}",
                           filters=period)  # fmt: skip
    assert "moves" not in {t.id for t in region.tables}
    own = dashboard_for(user=manager, scope_code=f"org:{lahti.id}", filters=period)
    assert "moves" in {t.id for t in own.tables}


@pytest.fixture
def casework(mover, lahti, lahti_counsellor):
    """The mover's open assessment (started in February, its start-deadline task met in
    time) and active plan (started in March), which pass to the receiver at the transfer."""
    from koto.clients.models import Task

    Task.objects.create(
        client=mover, organisation=lahti, kind=Task.Kind.ASSESSMENT_START,
        status=Task.Status.DONE, due_on=dt.date(2026, 3, 10), source_type="client",
        source_id=mover.id,
    )  # fmt: skip
    return (
        b.assessment(lahti_counsellor, mover, started_on=dt.date(2026, 2, 2)),
        b.plan(lahti_counsellor, mover, starts_on=dt.date(2026, 3, 2)),
    )


def _finish_at_receiver(assessment, plan) -> None:
    """The receiver completes the assessment in July and ends the plan in September."""
    from koto.plans.models import PlanStatus

    now = clock.now()
    type(assessment).objects.filter(id=assessment.id).update(
        status="completed", completed_on=dt.date(2026, 7, 1), updated_at=now
    )
    type(plan).objects.filter(id=plan.id).update(
        status=PlanStatus.ENDED, ended_on=dt.date(2026, 9, 1), outcome="employed", updated_at=now
    )


def test_transfer__a_handed_over_record_counts_each_event_with_the_holder_on_its_day(
    casework, mover, lahti, heinola, lahti_counsellor, heinola_counsellor
):
    from koto.insights.models import ImpactCell

    assessment, plan = casework
    _transfer(mover, lahti_counsellor, heinola_counsellor, heinola)
    assessment.refresh_from_db(), plan.refresh_from_db()
    # the records themselves passed to the receiver
    assert assessment.organisation_id == plan.organisation_id == heinola.id
    _finish_at_receiver(assessment, plan)

    rollups.refresh(full=True)

    lahti_scope, heinola_scope = f"org:{lahti.id}", f"org:{heinola.id}"
    feb, mar = dt.date(2026, 2, 1), dt.date(2026, 3, 1)
    jul, sep = dt.date(2026, 7, 1), dt.date(2026, 9, 1)
    dims = ("protection", "ar", "30_49")
    # started with Lahti, which held the client then; completed and ended with Heinola
    assert cells(lahti_scope, Metric.ASSESSMENTS_STARTED) == {(feb, *dims, "basic"): 1}
    assert cells(heinola_scope, Metric.ASSESSMENTS_STARTED) == {}
    assert cells(heinola_scope, Metric.ASSESSMENTS_COMPLETED) == {(jul, *dims, "basic"): 1}
    assert cells(lahti_scope, Metric.ASSESSMENTS_COMPLETED) == {}
    assert cells(lahti_scope, Metric.PLANS_STARTED) == {(mar, *dims, "basic"): 1}
    assert cells(heinola_scope, Metric.PLANS_STARTED) == {}
    assert cells(heinola_scope, Metric.PLANS_ENDED) == {(sep, *dims, "employed"): 1}
    assert cells(lahti_scope, Metric.PLANS_ENDED) == {}
    # the first assessment met Lahti's deadline (March), not Heinola's
    assert cells(lahti_scope, Metric.ASSESSMENT_DEADLINE) == {(mar, *dims, "in_time"): 1}
    assert cells(heinola_scope, Metric.ASSESSMENT_DEADLINE) == {}
    # the plan's impact cohort is the organisation that started it
    assert set(ImpactCell.objects.values_list("scope", flat=True)) >= {lahti_scope}
    assert not ImpactCell.objects.filter(scope=heinola_scope).exists()
    # the region's totals are the same as without the move
    region = f"region:{lahti.welfare_region_id}"
    assert total(region, Metric.ASSESSMENTS_STARTED) == total(region, Metric.PLANS_ENDED) == 1


def _transferred_and_refreshed(mover, sender, receiver, to_organisation) -> None:
    """The transfer, everything so far dated before a full refresh at noon of the move's
    day, so that an incremental refresh after it sees only what the test writes next."""
    from koto.assessments.models import Assessment
    from koto.plans.models import IntegrationPlan

    _transfer(mover, sender, receiver, to_organisation)
    before = dt.datetime.combine(MOVED_ON, dt.time(10), tzinfo=clock.HELSINKI)
    for model in (Client, Referral, Assessment, IntegrationPlan):
        model.objects.update(updated_at=before)
    with clock.frozen(dt.datetime.combine(MOVED_ON, dt.time(12), tzinfo=clock.HELSINKI)):
        rollups.refresh(full=True)


def test_transfer__the_receiver_correcting_a_handed_over_record_recounts_the_sender(
    casework, mover, lahti, heinola, lahti_counsellor, heinola_counsellor
):
    """An incremental refresh after the receiver changes the start of the assessment it took
    over recounts the sender too (its start is the sender's), as a full one would."""
    assessment, plan = casework
    _transferred_and_refreshed(mover, lahti_counsellor, heinola_counsellor, heinola)
    with clock.frozen(dt.datetime.combine(MOVED_ON, dt.time(13), tzinfo=clock.HELSINKI)):
        type(assessment).objects.filter(id=assessment.id).update(
            started_on=dt.date(2026, 1, 26), updated_at=clock.now()
        )
    with clock.frozen(dt.datetime.combine(MOVED_ON, dt.time(14), tzinfo=clock.HELSINKI)):
        assert rollups.refresh()["full"] is False
    lahti_scope = f"org:{lahti.id}"
    incremental = {
        metric: cells(lahti_scope, metric)
        for metric in (Metric.ASSESSMENTS_STARTED, Metric.ASSESSMENT_DEADLINE)
    }
    assert {k[0] for k in incremental[Metric.ASSESSMENTS_STARTED]} == {dt.date(2026, 1, 1)}
    with clock.frozen(dt.datetime.combine(MOVED_ON, dt.time(15), tzinfo=clock.HELSINKI)):
        rollups.refresh(full=True)
    assert incremental == {metric: cells(lahti_scope, metric) for metric in incremental}


def test_transfer__another_organisation_s_record_of_a_client_who_moved_stays_its_own(
    casework, mover, lahti, heinola, region, lahti_counsellor, heinola_counsellor
):
    """An employment authority's assessment of a client who moved (it is in no municipality's
    hand-over) counts with the authority, also when only the authority is recounted."""
    from koto.core.roles import Role
    from koto.organisations.models import OrganisationKind
    from tests.factories import OrganisationFactory, member

    authority = OrganisationFactory(code="te-ph", kind=OrganisationKind.EMPLOYMENT_AUTHORITY)
    adviser = member(authority, Role.INTEGRATION_COUNSELLOR, username="te.counsellor")
    b.assessment(adviser, mover, started_on=dt.date(2026, 8, 3))
    _transfer(mover, lahti_counsellor, heinola_counsellor, heinola)

    alone, _impact = rollups.compute([authority.id], today=clock.today())
    every, _impact = rollups.compute(None, today=clock.today())

    def started(counter, org_id):
        return sum(
            n for (org, metric, *_rest), n in counter.values.items()
            if org == org_id and metric == Metric.ASSESSMENTS_STARTED
        )  # fmt: skip

    assert started(alone, authority.id) == started(every, authority.id) == 1
    assert started(every, lahti.id) == 1 and started(every, heinola.id) == 0


def test_transfer__a_deadline_counts_with_the_holder_on_its_day(
    mover, lahti, heinola, lahti_counsellor, heinola_counsellor
):
    """Lahti's deadline passed in March unmet; the client moved in June and Heinola assessed
    them in July: Lahti's deadline was met late, and Heinola, which got the client three
    months after it, has none."""
    from koto.clients.models import Task

    Task.objects.create(
        client=mover, organisation=lahti, kind=Task.Kind.ASSESSMENT_START,
        status=Task.Status.OPEN, due_on=dt.date(2026, 3, 10), source_type="client",
        source_id=mover.id,
    )  # fmt: skip
    _transfer(mover, lahti_counsellor, heinola_counsellor, heinola)
    with clock.frozen(dt.date(2026, 6, 30)):
        rollups.refresh(full=True)
    lahti_scope, heinola_scope = f"org:{lahti.id}", f"org:{heinola.id}"
    mar, dims = dt.date(2026, 3, 1), ("protection", "ar", "30_49")
    # the open task went to Heinola with the client; the miss is Lahti's all the same
    assert Task.objects.get(client=mover).organisation_id == heinola.id
    assert cells(lahti_scope, Metric.ASSESSMENT_DEADLINE) == {(mar, *dims, "missed"): 1}
    assert cells(heinola_scope, Metric.ASSESSMENT_DEADLINE) == {}

    b.assessment(heinola_counsellor, mover, started_on=dt.date(2026, 7, 1))
    Task.objects.filter(client=mover).update(status=Task.Status.DONE)
    rollups.refresh(full=True)

    assert cells(lahti_scope, Metric.ASSESSMENT_DEADLINE) == {(mar, *dims, "late"): 1}
    assert cells(heinola_scope, Metric.ASSESSMENT_DEADLINE) == {}
    assert cells(heinola_scope, Metric.ASSESSMENTS_STARTED) == {
        (dt.date(2026, 7, 1), *dims, "basic"): 1
    }


def test_transfer__the_receiver_enrolling_recounts_the_sender_s_cohort(
    casework, mover, lahti, heinola, lahti_counsellor, heinola_counsellor
):
    """The plan Lahti started is in Lahti's impact cohort, whose "services used" read all the
    client's enrolments: Heinola enrolling the client recounts Lahti too."""
    from koto.insights.models import ImpactCell
    from koto.offerings.models import Enrolment

    _transferred_and_refreshed(mover, lahti_counsellor, heinola_counsellor, heinola)
    with clock.frozen(dt.datetime.combine(MOVED_ON, dt.time(13), tzinfo=clock.HELSINKI)):
        e = b.enrolment(heinola_counsellor, mover, requested_on=MOVED_ON)
        Enrolment.objects.filter(id=e.id).update(started_on=MOVED_ON, updated_at=clock.now())
    with clock.frozen(dt.datetime.combine(MOVED_ON, dt.time(14), tzinfo=clock.HELSINKI)):
        assert rollups.refresh()["full"] is False
    scope = f"org:{lahti.id}"

    def cohort():
        return sorted(
            ImpactCell.objects.filter(scope=scope).values_list(
                "start_month", "plan_kind", "services", "months", "event", "n"
            )
        )

    incremental = cohort()
    assert {row[2] for row in incremental} == {"integration_training"}
    with clock.frozen(dt.datetime.combine(MOVED_ON, dt.time(15), tzinfo=clock.HELSINKI)):
        rollups.refresh(full=True)
    assert cohort() == incremental
