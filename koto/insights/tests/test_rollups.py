"""The rollups count what the casework rows say, per organisation and summed upwards."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from koto.core import clock
from koto.core.roles import Role
from koto.insights import rollups
from koto.insights.models import (
    Cell,
    ImpactCell,
    Metric,
    RefreshState,
    refresh_session_alive,
)
from koto.insights.tests import builders as b


def total(scope: str, metric: str, **filters) -> int:
    return sum(
        Cell.objects.filter(scope=scope, metric=metric, **filters).values_list("value", flat=True)
    )


@pytest.fixture
def casework(lahti_counsellor, heinola_counsellor):
    c1 = b.client(lahti_counsellor, created_on=dt.date(2026, 1, 10), residence_basis="asylum",
                  mother_tongue="ar", birth_date=dt.date(1990, 5, 1))  # fmt: skip
    # (in a target group, so the assessment-start deadline applies: `other_need_identified`)
    c2 = b.client(lahti_counsellor, created_on=dt.date(2026, 1, 20), residence_basis="work",
                  mother_tongue="uk", birth_date=dt.date(2000, 2, 2),
                  other_need_identified=True)  # fmt: skip
    c3 = b.client(heinola_counsellor, created_on=dt.date(2026, 2, 3),
                  residence_basis="temporary_protection", mother_tongue="uk",
                  birth_date=dt.date(1970, 3, 3), other_need_identified=True)  # fmt: skip
    # c1 assessed in time (within 2 months), c2 late, c3 in time.
    b.assessment(lahti_counsellor, c1, started_on=dt.date(2026, 2, 1),
                 completed_on=dt.date(2026, 2, 20))  # fmt: skip
    b.assessment(lahti_counsellor, c2, started_on=dt.date(2026, 5, 1))
    b.assessment(heinola_counsellor, c3, started_on=dt.date(2026, 2, 10))
    p1 = b.plan(lahti_counsellor, c1, starts_on=dt.date(2026, 3, 1), ended_on=dt.date(2026, 9, 15),
                outcome="employed")  # fmt: skip
    b.plan(heinola_counsellor, c3, starts_on=dt.date(2026, 3, 5), kind="multisectoral")
    b.contact(lahti_counsellor, on=dt.date(2026, 3, 3), reasons=("job_search", "benefits"),
              client=c1)  # fmt: skip
    b.contact(lahti_counsellor, on=dt.date(2026, 3, 4), language="so", channel="phone")
    b.contact(heinola_counsellor, on=dt.date(2026, 4, 4), language="uk")
    return {"c1": c1, "c2": c2, "c3": c3, "p1": p1}


def test_refresh_full__counts_flows_per_organisation(casework, lahti, heinola):
    result = rollups.refresh(full=True)

    assert result["full"] is True
    lahti_scope, heinola_scope = f"org:{lahti.id}", f"org:{heinola.id}"
    assert total(lahti_scope, Metric.CLIENTS_NEW, month=dt.date(2026, 1, 1)) == 2
    assert total(heinola_scope, Metric.CLIENTS_NEW, month=dt.date(2026, 2, 1)) == 1
    assert total(lahti_scope, Metric.ASSESSMENTS_STARTED) == 2
    assert total(lahti_scope, Metric.ASSESSMENTS_COMPLETED, month=dt.date(2026, 2, 1)) == 1
    assert total(lahti_scope, Metric.PLANS_STARTED, key="basic") == 1
    assert total(lahti_scope, Metric.PLANS_ENDED, key="employed", month=dt.date(2026, 9, 1)) == 1
    assert total(heinola_scope, Metric.PLANS_STARTED, key="multisectoral") == 1


def test_refresh_full__dimensions_of_the_client(casework, lahti):
    rollups.refresh(full=True)

    scope = f"org:{lahti.id}"
    assert total(scope, Metric.CLIENTS_NEW, target_group="protection", language="ar",
                 age_band="30_49") == 1  # fmt: skip
    assert total(scope, Metric.CLIENTS_NEW, target_group="work", language="uk",
                 age_band="18_29") == 1  # fmt: skip


def test_refresh_full__deadline_compliance_from_koto_law(casework, lahti, heinola):
    rollups.refresh(full=True)

    # Assessment start within 2 months of becoming a client (koto.law parameter).
    assert total(f"org:{lahti.id}", Metric.ASSESSMENT_DEADLINE, key="in_time") == 1
    assert total(f"org:{lahti.id}", Metric.ASSESSMENT_DEADLINE, key="late") == 1
    assert total(f"org:{heinola.id}", Metric.ASSESSMENT_DEADLINE, key="in_time") == 1
    # The plans were agreed in March with no service yet; the deadline (6 months) passed.
    assert total(f"org:{lahti.id}", Metric.SERVICE_DEADLINE, key="missed") == 1


def test_refresh_full__contacts_by_reason_channel_language(casework, lahti):
    rollups.refresh(full=True)

    scope = f"org:{lahti.id}"
    assert total(scope, Metric.CONTACTS) == 2
    assert total(scope, Metric.CONTACTS_REASON, key="job_search") == 2
    assert total(scope, Metric.CONTACTS_REASON, key="benefits") == 1
    assert total(scope, Metric.CONTACTS_CHANNEL, key="phone") == 1
    assert total(scope, Metric.CONTACTS, language="so", target_group="unknown") == 1
    assert total(scope, Metric.CONTACTS, language="ar", target_group="protection") == 1
    # By reason and channel: by language only.
    assert total(scope, Metric.CONTACTS_REASON, key="job_search", language="ar",
                 target_group="", age_band="") == 1  # fmt: skip


def test_refresh_full__region_and_national_are_the_sums(casework, region, lahti, heinola):
    rollups.refresh(full=True)

    for metric in (Metric.CLIENTS_NEW, Metric.CONTACTS, Metric.PLANS_STARTED):
        parts = total(f"org:{lahti.id}", metric) + total(f"org:{heinola.id}", metric)
        assert total(f"region:{region.id}", metric) == parts
        assert total("national", metric) == parts


def test_refresh_full__impact_cells_for_each_plan(casework, lahti, heinola):
    rollups.refresh(full=True)

    employed = ImpactCell.objects.get(scope=f"org:{lahti.id}")
    assert (employed.start_month, employed.months, employed.event, employed.n) == (
        dt.date(2026, 3, 1), 6, True, 1,
    )  # fmt: skip
    going = ImpactCell.objects.get(scope=f"org:{heinola.id}")
    # Still in force on 15.11.2026: censored after 8 whole months.
    assert (going.months, going.event, going.plan_kind, going.target_group) == (
        8, False, "multisectoral", "temporary_protection",
    )  # fmt: skip
    assert going.services == "none"


def test_refresh_incremental__only_changed_organisations(
    casework, lahti, heinola, lahti_counsellor
):
    with clock.frozen(clock.now() + dt.timedelta(minutes=1)):  # the casework is settled
        rollups.refresh(full=True)
    heinola_cells = set(Cell.objects.filter(scope=f"org:{heinola.id}").values_list("id", flat=True))
    later = clock.now() + dt.timedelta(minutes=5)

    with clock.frozen(later):
        b.contact(lahti_counsellor, on=dt.date(2026, 11, 14), language="fa")
        result = rollups.refresh()

    assert result["full"] is False
    assert result["organisations"] == 1  # a contact: not the welfare region's compensation
    assert total(f"org:{lahti.id}", Metric.CONTACTS) == 3
    assert total("national", Metric.CONTACTS) == 4
    assert set(Cell.objects.filter(scope=f"org:{heinola.id}").values_list("id", flat=True)) == (
        heinola_cells
    )
    assert RefreshState.get().watermark_at is not None


def test_refresh_incremental__a_client_corrected__the_organisation_serving_them_recounted(
    lahti_counsellor, heinola_counsellor, lahti, heinola
):
    # Heinola's enrolment of a Lahti client is counted by the client's target group: when
    # Lahti corrects the client's residence basis, Heinola's figures kept the old group
    # until the nightly recount
    from koto.clients.models import Client

    c = b.client(lahti_counsellor, created_on=dt.date(2026, 1, 5), residence_basis="work")
    b.enrolment(heinola_counsellor, c, requested_on=dt.date(2026, 3, 2))
    with clock.frozen(clock.now() + dt.timedelta(minutes=1)):
        rollups.refresh(full=True)
    assert total(f"org:{heinola.id}", Metric.ENROLMENTS, target_group="work") == 1
    later = clock.now() + dt.timedelta(minutes=5)
    with clock.frozen(later):
        Client.objects.filter(id=c.id).update(residence_basis="asylum", updated_at=later)
        rollups.refresh()
    assert total(f"org:{heinola.id}", Metric.ENROLMENTS, target_group="work") == 0
    assert total(f"org:{heinola.id}", Metric.ENROLMENTS, target_group="protection") == 1


def test_refresh_incremental__nothing_changed_writes_nothing(casework):
    with clock.frozen(clock.now() + dt.timedelta(minutes=1)):
        rollups.refresh(full=True)
    before = Cell.objects.count()

    with clock.frozen(clock.now() + dt.timedelta(minutes=5)):
        result = rollups.refresh()

    assert result["organisations"] == 0
    assert result["cells_written"] == 0
    assert Cell.objects.count() == before


def test_refresh_full__twice_gives_the_same_cells(casework):
    rollups.refresh(full=True)
    first = sorted(Cell.objects.values_list("scope", "metric", "month", "key", "target_group",
                                            "language", "age_band", "value"))  # fmt: skip
    rollups.refresh(full=True)
    second = sorted(Cell.objects.values_list("scope", "metric", "month", "key", "target_group",
                                             "language", "age_band", "value"))  # fmt: skip
    assert first == second


def test_services_used__strongest_service_first():
    assert rollups.services_used({"civic_orientation", "integration_training"}) == (
        "integration_training"
    )
    assert rollups.services_used(set()) == "none"


def test_refresh__skips_while_another_runs(casework):
    RefreshState.objects.update_or_create(id=1, defaults={"running_since": clock.now()})

    with b.refresh_running_elsewhere():
        result = rollups.refresh(full=True)

    assert result["skipped"] is True
    assert Cell.objects.count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no session locks")
def test_refresh__a_run_whose_session_died_is_taken_over_at_once(casework):
    """A worker killed in the middle of a refresh leaves its mark, but its session and lock
    are gone: the next refresh runs, not three hours later."""
    RefreshState.objects.update_or_create(id=1, defaults={"running_since": clock.now()})
    assert refresh_session_alive() is False
    with b.refresh_running_elsewhere():
        assert refresh_session_alive() is True

    result = rollups.refresh(full=True)

    assert result["skipped"] is False
    assert RefreshState.get().running_since is None
    assert refresh_session_alive() is False  # its own lock is released


def test_refresh__a_run_that_died_long_ago_does_not_block(casework):
    RefreshState.objects.update_or_create(
        id=1, defaults={"running_since": clock.now() - dt.timedelta(hours=4)}
    )

    result = rollups.refresh(full=True)

    assert result["skipped"] is False
    assert RefreshState.get().running_since is None


def test_refresh_incremental__a_change_committed_after_a_refresh_read_is_counted_next(
    casework, lahti, lahti_counsellor
):
    """A transaction stamps its rows, a refresh starts and reads, then the transaction
    commits: the next refresh must still see those rows (the watermark is not the start)."""
    started = clock.now()
    rollups.refresh(full=True)
    with clock.frozen(started - dt.timedelta(seconds=2)):
        b.contact(lahti_counsellor, on=dt.date(2026, 11, 14), language="fa")  # "commits" now

    with clock.frozen(started + dt.timedelta(minutes=5)):
        result = rollups.refresh()

    assert result["organisations"] >= 1
    assert total(f"org:{lahti.id}", Metric.CONTACTS) == 3
    assert total("national", Metric.CONTACTS) == 4


def test_refresh_incremental__rows_written_around_the_last_refresh_are_recounted_once(
    casework, lahti
):
    rollups.refresh(full=True)
    later = clock.now() + dt.timedelta(minutes=5)

    with clock.frozen(later):
        again = rollups.refresh()
    with clock.frozen(later + dt.timedelta(minutes=5)):
        then = rollups.refresh()

    # The first incremental refresh recounts what was written within the margin before the
    # full one started (the casework, written at the same frozen moment); the next has
    # nothing left to do.
    assert again["organisations"] == 2  # Lahti and Heinola (no kotikunta: no region's money)
    assert then["organisations"] == 0
    assert total(f"org:{lahti.id}", Metric.CONTACTS) == 2


def test_safe_watermark__a_margin_for_the_clocks(db):
    started = clock.now()

    assert rollups.safe_watermark(started) <= started - rollups.WRITE_SKEW


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL tells open transactions")
def test_safe_watermark__goes_back_to_a_transaction_open_elsewhere(db):
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params) as other:
        opened = other.execute("SELECT now()").fetchone()[0]  # a transaction is now open
        later = opened + dt.timedelta(minutes=10)
        much_later = opened + dt.timedelta(hours=5)

        assert rollups.safe_watermark(later) <= opened - rollups.WRITE_SKEW
        # a transaction open for hours does not hold the watermark back any further
        assert rollups.safe_watermark(much_later) == (
            much_later - rollups.LONGEST_WRITE - rollups.WRITE_SKEW
        )
        other.rollback()


def cells() -> list[tuple]:
    return sorted(Cell.objects.values_list("scope", "metric", "month", "key", "target_group",
                                           "language", "age_band", "value"))  # fmt: skip


def test_refresh_incremental__contacts_are_added_and_agree_with_a_full_recount(
    casework, lahti, heinola, lahti_counsellor, heinola_counsellor, monkeypatch
):
    """Contacts logged since the last refresh are added to the cells their organisation
    already has (counted by id, a few at a time), beside an organisation recounted for
    another change: the result is what a full refresh counts."""
    monkeypatch.setattr(rollups, "ID_CHUNK", 2)
    with clock.frozen(clock.now() + dt.timedelta(minutes=1)):  # the casework is settled
        rollups.refresh(full=True)
    later = clock.now() + dt.timedelta(minutes=5)
    with clock.frozen(later):
        b.contact(lahti_counsellor, on=dt.date(2026, 3, 9), reasons=("job_search", "housing_family_school"),
                  client=casework["c2"])  # fmt: skip
        b.contact(lahti_counsellor, on=dt.date(2026, 11, 2), language="fa", channel="phone")
        b.contact(heinola_counsellor, on=dt.date(2026, 4, 4), language="uk")
        b.contact(heinola_counsellor, on=dt.date(2026, 4, 5), language="uk")
        b.assessment(heinola_counsellor, casework["c3"], started_on=dt.date(2026, 11, 1))
    with clock.frozen(later + dt.timedelta(minutes=1)):
        result = rollups.refresh()
    added = cells()

    assert result["contacts_added"] == 4
    assert result["organisations"] == 2
    assert total(f"org:{lahti.id}", Metric.CONTACTS) == 4
    assert total(f"org:{lahti.id}", Metric.CONTACTS_REASON, key="job_search") == 4
    assert total(f"org:{lahti.id}", Metric.CONTACTS_REASON, key="housing_family_school") == 1
    assert total(f"org:{heinola.id}", Metric.CONTACTS, language="uk") == 3
    assert total("national", Metric.CONTACTS) == 7
    with clock.frozen(later + dt.timedelta(minutes=2)):
        rollups.refresh(full=True)
    assert cells() == added


def test_refresh__a_full_refresh_that_dies_makes_the_next_one_full(casework, monkeypatch):
    """A full refresh commits organisation by organisation: when it dies half-way the
    contacts it counted are not those the old watermark accounts for, so the next refresh
    counts everything again instead of adding contacts twice."""
    with clock.frozen(clock.now() + dt.timedelta(minutes=1)):
        rollups.refresh(full=True)

    def dies(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(rollups, "_aggregate", dies)
    with clock.frozen(clock.now() + dt.timedelta(minutes=5)), pytest.raises(RuntimeError):
        rollups.refresh(full=True)
    monkeypatch.undo()

    assert RefreshState.get().watermark_at is None
    with clock.frozen(clock.now() + dt.timedelta(minutes=6)):
        assert rollups.refresh()["full"] is True
    assert total("national", Metric.CONTACTS) == 3


def contact_after_a_full_refresh(counsellor) -> dt.datetime:
    """A full refresh once the casework is settled, then a contact logged five minutes later
    (at the moment returned)."""
    with clock.frozen(clock.now() + dt.timedelta(minutes=1)):
        rollups.refresh(full=True)
    at = clock.now() + dt.timedelta(minutes=5)
    with clock.frozen(at):
        b.contact(counsellor, on=dt.date(2026, 11, 14), language="fa")
    return at


def test_refresh_incremental__a_contact_past_the_watermark_is_added_once(
    casework, lahti, lahti_counsellor
):
    """A contact logged within the last seconds before an incremental refresh is past its
    watermark: that refresh adds it and remembers it, the next one does not add it again."""
    at = contact_after_a_full_refresh(lahti_counsellor)
    with clock.frozen(at):
        first = rollups.refresh()
    assert first["contacts_added"] == 1
    assert RefreshState.get().contacts_after_watermark != []

    with clock.frozen(at + dt.timedelta(minutes=5)):
        second = rollups.refresh()

    assert second["contacts_added"] == 0
    assert RefreshState.get().contacts_after_watermark == []
    assert total(f"org:{lahti.id}", Metric.CONTACTS) == 3
    assert total("national", Metric.CONTACTS) == 4


def test_refresh__a_run_taken_over_adds_nothing(casework, lahti_counsellor, monkeypatch):
    """A run so slow that another took over from it (STALE_RUN) must not add its contacts
    beside the other's, nor clear the other's mark."""
    at = contact_after_a_full_refresh(lahti_counsellor)
    before = (RefreshState.get().watermark_at, cells())
    other = at + dt.timedelta(hours=4)
    scopes = rollups.parent_scopes

    def taken_over():  # the other run marks the state while this one counts
        RefreshState.objects.filter(id=1).update(running_since=other)
        return scopes()

    monkeypatch.setattr(rollups, "parent_scopes", taken_over)
    with clock.frozen(at + dt.timedelta(minutes=1)), pytest.raises(rollups.RefreshTakenOver):
        rollups.refresh()

    state = RefreshState.get()
    assert (state.watermark_at, cells()) == before
    assert state.running_since == other


def test_refresh__a_run_taken_over_while_it_counts_writes_no_organisation(casework, monkeypatch):
    """Taken over between two organisation batches, a run stops before its next write: its
    cells, counted up to its own watermark, must not replace those of the run that took
    over."""
    monkeypatch.setattr(rollups, "ORG_BATCH", 1)
    compute = rollups.compute
    calls = []

    def taken_over(batch, **kwargs):
        calls.append(batch)
        if len(calls) == 2:  # after the first batch is written
            RefreshState.objects.filter(id=1).update(
                running_since=clock.now() + dt.timedelta(hours=4)
            )
        return compute(batch, **kwargs)

    monkeypatch.setattr(rollups, "compute", taken_over)
    with pytest.raises(rollups.RefreshTakenOver):
        rollups.refresh(full=True)

    written = set(Cell.objects.values_list("scope", flat=True))
    assert written <= {f"org:{calls[0][0]}"}
    assert RefreshState.get().watermark_at is None  # the next refresh is a full one


def test_refresh__a_full_refresh_skipped_is_the_next_one_run(casework):
    """The nightly full refresh, arriving while a regular one runs, is not lost: the next
    refresh to start is a full one, and the one after it is regular again."""
    rollups.refresh(full=True)
    started = clock.now()
    RefreshState.objects.filter(id=1).update(running_since=started)

    with b.refresh_running_elsewhere():
        skipped = rollups.refresh(full=True)

    assert skipped["skipped"] is True
    assert RefreshState.get().full_requested_at is not None
    RefreshState.objects.filter(id=1).update(running_since=None)
    with clock.frozen(started + dt.timedelta(minutes=5)):
        assert rollups.refresh()["full"] is True
    state = RefreshState.get()
    assert state.full_requested_at is None
    assert state.full_refreshed_at == started + dt.timedelta(minutes=5)
    with clock.frozen(started + dt.timedelta(minutes=10)):
        assert rollups.refresh()["full"] is False


def full_asked_while_it_runs(monkeypatch, at: dt.datetime) -> None:
    """While the next refresh counts, a full one is asked for at `at` (and skips)."""
    compute = rollups.compute

    def asked_meanwhile(batch, **kwargs):
        with clock.frozen(at):
            assert rollups.refresh(full=True)["skipped"] is True
        return compute(batch, **kwargs)

    monkeypatch.setattr(rollups, "compute", asked_meanwhile)


def test_refresh__a_full_refresh_asked_for_while_a_full_one_runs_is_still_owed(
    casework, monkeypatch
):
    started = clock.now()
    full_asked_while_it_runs(monkeypatch, started + dt.timedelta(minutes=1))
    with clock.frozen(started):
        assert rollups.refresh(full=True)["full"] is True

    assert RefreshState.get().full_requested_at == started + dt.timedelta(minutes=1)


def test_refresh__a_request_made_while_a_requested_full_run_runs_is_still_owed(
    casework, monkeypatch
):
    """A full run started because of a pending request; the nightly one, asked for while it
    runs, is owed after it (the pending request it ran for does not hide the new one)."""
    rollups.refresh(full=True)
    started = clock.now() + dt.timedelta(minutes=10)
    RefreshState.objects.filter(id=1).update(full_requested_at=started - dt.timedelta(minutes=5))
    full_asked_while_it_runs(monkeypatch, started + dt.timedelta(minutes=1))
    with clock.frozen(started):
        assert rollups.refresh()["full"] is True

    assert RefreshState.get().full_requested_at == started + dt.timedelta(minutes=1)


def test_refresh_command__warns_when_the_nightly_full_refresh_has_not_run(casework):
    """A regular refresh after more than a day without a full one says so on stderr (cron
    mails it; the task worker logs it), and says nothing once a full one has run."""
    start = clock.now()
    with clock.frozen(start):
        call_command("refresh_insights", "--full", stdout=io.StringIO())
    out, err = io.StringIO(), io.StringIO()
    with clock.frozen(start + dt.timedelta(hours=27)):
        call_command("refresh_insights", stdout=out, stderr=err)
    assert "Incremental refresh" in out.getvalue()
    at = start.astimezone(clock.HELSINKI)
    assert f"the last full refresh was at {at:%Y-%m-%d %H:%M} (Helsinki)" in err.getvalue()
    err = io.StringIO()
    with clock.frozen(start + dt.timedelta(hours=2)):
        call_command("refresh_insights", stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == ""


def test_refresh_full__guided_to_a_service__by_the_plan_on_deadlines_passed(
    lahti_counsellor, lahti
):
    # the first enrolment ever (before the plan, or cancelled) made a plan "in time"; a
    # deadline not yet due counted as met; a plan ended early without a service as missed
    def plan_with(agreed, *, ended=None, requested=None, status="accepted"):
        c = b.client(lahti_counsellor, created_on=dt.date(2025, 5, 1))
        if requested:
            b.enrolment(lahti_counsellor, c, requested_on=requested, status=status)
        b.plan(lahti_counsellor, c, starts_on=agreed, ended_on=ended,
               outcome="employed" if ended else "")  # fmt: skip

    plan_with(dt.date(2026, 1, 10), requested=dt.date(2025, 6, 1))  # before the plan: missed
    plan_with(dt.date(2026, 1, 14), requested=dt.date(2026, 2, 1), status="cancelled")  # missed
    plan_with(dt.date(2026, 1, 12), ended=dt.date(2026, 3, 1))  # employed first: not counted
    plan_with(dt.date(2026, 10, 1), requested=dt.date(2026, 10, 5))  # not yet due: not counted
    plan_with(dt.date(2026, 1, 16), requested=dt.date(2026, 2, 2), status="declined")  # guided
    rollups.refresh(full=True)

    scope = f"org:{lahti.id}"
    assert {k: total(scope, Metric.SERVICE_DEADLINE, key=k) for k in ("in_time", "late", "missed")} == {
        "in_time": 1, "late": 0, "missed": 2,
    }  # fmt: skip


def test_refresh_full__guided_to_a_service__not_by_the_next_plan_s_enrolment(
    lahti_counsellor, lahti
):
    """Plan A (agreed 10 January 2025, ended 1 September) had no enrolment; plan B, agreed
    on 10 September, one on 20 September. A's deadline (10 July) was missed: the enrolment
    under B made it "late"."""
    c = b.client(lahti_counsellor, created_on=dt.date(2025, 1, 2))
    b.plan(lahti_counsellor, c, starts_on=dt.date(2025, 1, 10), ended_on=dt.date(2025, 9, 1),
           outcome="other")  # fmt: skip
    b.plan(lahti_counsellor, c, starts_on=dt.date(2025, 9, 10))
    b.enrolment(lahti_counsellor, c, requested_on=dt.date(2025, 9, 20))
    # an ended plan guided on its last day was guided
    d = b.client(lahti_counsellor, created_on=dt.date(2025, 1, 2))
    b.plan(lahti_counsellor, d, starts_on=dt.date(2025, 1, 10), ended_on=dt.date(2025, 8, 1),
           outcome="other")  # fmt: skip
    b.enrolment(lahti_counsellor, d, requested_on=dt.date(2025, 8, 1))

    rollups.refresh(full=True)

    cells = sorted(
        Cell.objects.filter(scope=f"org:{lahti.id}", metric=Metric.SERVICE_DEADLINE)
        .values_list("month", "key")
        .annotate(n=Sum("value"))
    )
    assert cells == [
        (dt.date(2025, 7, 1), "late", 1),  # d's, on 1 August
        (dt.date(2025, 7, 1), "missed", 1),  # A's
        (dt.date(2026, 3, 1), "in_time", 1),  # B's
    ]


def test_refresh_full__assessment_deadline__only_where_the_law_sets_it(lahti_counsellor, lahti):
    """A work-permit holder of 2019, no target group, outside the three years: no deadline
    (the sweep opens no task, so such a client was only ever "in time" or "late"). One the
    sweep gave the task all the same (it decided so when it ran) counts."""
    from koto.clients.models import Task

    work = {"residence_basis": "work", "first_permit_on": dt.date(2019, 1, 1)}
    c = b.client(lahti_counsellor, created_on=dt.date(2025, 6, 2), **work)
    b.assessment(lahti_counsellor, c, started_on=dt.date(2025, 11, 1))
    # entitled on the day: a need identified then (a fact with its date)
    needs = b.client(lahti_counsellor, created_on=dt.date(2025, 6, 2),
                     other_need_identified=True, **{**work, "first_permit_on": dt.date(2024, 1, 1)})  # fmt: skip
    b.assessment(lahti_counsellor, needs, started_on=dt.date(2025, 7, 1))
    tasked = b.client(lahti_counsellor, created_on=dt.date(2025, 6, 2), **work)
    b.assessment(lahti_counsellor, tasked, started_on=dt.date(2025, 11, 1))
    Task.objects.create(
        client=tasked, organisation=lahti, kind=Task.Kind.ASSESSMENT_START,
        status=Task.Status.DONE, due_on=dt.date(2025, 8, 2), source_type="client",
        source_id=tasked.id,
    )  # fmt: skip

    rollups.refresh(full=True)

    cells = sorted(
        Cell.objects.filter(scope=f"org:{lahti.id}", metric=Metric.ASSESSMENT_DEADLINE)
        .values_list("key")
        .annotate(n=Sum("value"))
    )
    assert cells == [("in_time", 1), ("late", 1)]


def test_refresh_full__assessment_deadline__the_municipality_s_only(
    lahti_counsellor, lahti, region
):
    # the employment authority's assessment was timed by the municipal rule from the
    # client's creation (shown late) and counted twice in the region's totals
    from koto.core.roles import Role
    from koto.organisations.models import OrganisationKind
    from tests.factories import OrganisationFactory, member

    ea = OrganisationFactory(code="ta-test", kind=OrganisationKind.EMPLOYMENT_AUTHORITY)
    ea_counsellor = member(ea, Role.EMPLOYMENT_COUNSELLOR, username="ea.counsellor")
    c = b.client(lahti_counsellor, created_on=dt.date(2026, 1, 5))
    b.assessment(lahti_counsellor, c, started_on=dt.date(2026, 2, 1))
    b.assessment(ea_counsellor, c, started_on=dt.date(2026, 6, 1))
    rollups.refresh(full=True)

    assert total(f"org:{ea.id}", Metric.ASSESSMENT_DEADLINE) == 0
    assert total(f"org:{lahti.id}", Metric.ASSESSMENT_DEADLINE, key="in_time") == 1
    assert total("national", Metric.ASSESSMENT_DEADLINE) == 1


def test_refresh_full__assessment_deadline__timed_by_the_task_s_day(lahti_counsellor, lahti):
    """A client who became the municipality's months after the record was made (a jobseeker
    no longer) is owed the assessment from that day: the task's day, not two months from
    the record's creation (which showed the assessment late)."""
    from koto.clients.models import Task

    c = b.client(lahti_counsellor, created_on=dt.date(2025, 1, 10))
    Task.objects.create(
        client=c, organisation=lahti, kind=Task.Kind.ASSESSMENT_START, source_type="client",
        source_id=c.id, due_on=dt.date(2025, 11, 1), status=Task.Status.DONE,
    )  # fmt: skip
    b.assessment(lahti_counsellor, c, started_on=dt.date(2025, 10, 15))
    rollups.refresh(full=True)

    assert total(f"org:{lahti.id}", Metric.ASSESSMENT_DEADLINE, key="in_time") == 1
    assert total(f"org:{lahti.id}", Metric.ASSESSMENT_DEADLINE, key="late") == 0


def test_refresh_full__assessment_deadline_lapsed__counted_missed(casework, lahti):
    """A start deadline closed unmet (the entitlement ended first) stays a missed deadline;
    until 2026-12-07 the sweep marked it done and it vanished from the compliance table."""
    from koto.clients.models import Task

    c = casework["c1"]
    past = [  # (status, due, closed): one task per source, four sources here
        ("lapsed", dt.date(2026, 1, 10), dt.date(2026, 2, 1)),  # after its day: missed
        ("lapsed", dt.date(2026, 5, 10), dt.date(2026, 4, 1)),  # before its day: not
        ("open", dt.date(2026, 2, 10), dt.date(2026, 2, 1)),  # past its day: missed
        ("done", dt.date(2026, 3, 10), dt.date(2026, 4, 1)),
    ]
    for i, (status, due, closed) in enumerate(past):
        Task.objects.create(
            client=c, organisation=lahti, kind="assessment_start", status=status,
            due_on=due, source_type="client", source_id=c.id * 10 + i,
            computed_at=dt.datetime.combine(closed, dt.time(12), tzinfo=clock.HELSINKI),
        )  # fmt: skip
    rollups.refresh(full=True)
    assert total(f"org:{lahti.id}", Metric.ASSESSMENT_DEADLINE, key="missed") == 2


def test_changed_organisations__an_enrolment_recounts_the_organisation_of_the_clients_plan(
    lahti_counsellor, heinola_counsellor, region
):
    """A Lahti client's plan drawn up by Heinola, a service of a third organisation: the
    plan's "guided to a service in time" is Heinola's figure, so Heinola is recounted."""
    from tests.factories import OrganisationFactory, member

    c = b.client(lahti_counsellor, created_on=dt.date(2026, 1, 5))
    b.plan(heinola_counsellor, c, starts_on=dt.date(2026, 1, 10))
    since = clock.now()
    third = member(OrganisationFactory(code="ngo-3", kind="ngo"), Role.GUIDANCE_ADVISER,
                   username="third")  # fmt: skip
    with clock.frozen(since + dt.timedelta(minutes=1)):
        b.enrolment(third, c, requested_on=dt.date(2026, 2, 1))
    changed = rollups.changed_organisations(since)
    assert heinola_counsellor.active_membership.organisation_id in changed


def test_refresh_incremental__a_task_the_sweep_opened_recounts_its_organisation(
    lahti_counsellor, lahti
):
    """The nightly sweep opens a client's overdue assessment-start task and writes no other
    row (a client registered before any sweep): the next regular refresh counts the missed
    deadline. Until 2026-12-08 tasks were no source of the incremental refresh, and the
    sweep ran after the nightly full one, so it waited a day."""
    from koto.clients.models import Task
    from koto.plans.deadlines_sweep import sweep_client_tasks

    c = b.client(lahti_counsellor, created_on=dt.date(2026, 1, 10), residence_basis="asylum")
    with clock.frozen(clock.now() + dt.timedelta(minutes=1)):
        rollups.refresh(full=True)
    assert total(f"org:{lahti.id}", Metric.ASSESSMENT_DEADLINE) == 0
    with clock.frozen(clock.now() + dt.timedelta(minutes=5)):
        assert sweep_client_tasks(c) == 1
        assert Task.objects.get(client=c, kind="assessment_start").due_on < clock.today()
        result = rollups.refresh()
    assert result["full"] is False
    assert result["organisations"] >= 1
    assert total(f"org:{lahti.id}", Metric.ASSESSMENT_DEADLINE, key="missed") == 1
    assert total("national", Metric.ASSESSMENT_DEADLINE, key="missed") == 1
