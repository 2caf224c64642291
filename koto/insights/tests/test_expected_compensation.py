"""The rollup refresh stores each organisation's expected compensation per month, and per
year and quarter, the same figures as computed live; the funding overview, the report and
the compensation API read them, and compute live when asked, when none are stored or when
the yearly amounts changed since."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from koto.clients.models import Client
from koto.clients.selectors import client_get_for
from koto.clients.services import client_update
from koto.core import clock
from koto.core.errors import NotFound
from koto.core.roles import Role
from koto.funding import selectors
from koto.funding.compensation import Span, compensation_report
from koto.funding.models import CompensationRate, ExpectedMonth, ExpectedPeriod
from koto.funding.services import expected_months_store
from koto.insights import rollups
from koto.organisations.models import OrganisationKind
from tests.factories import OrganisationFactory, make_client, member, move_residence

D = dt.date
BORN = dt.date(1990, 1, 1)


@pytest.fixture
def finance(lahti):
    return member(lahti, Role.FINANCE_OFFICER, username="lahti.finance")


@pytest.fixture
def person(lahti_counsellor):
    """A client with a kotikunta (Lahti unless said) from `kotikunta_on`, moving as `moves` says."""

    def build(*, kotikunta_on, birth=BORN, moves=(), municipality="398"):
        client = make_client(
            lahti_counsellor, residence_basis="asylum", birth_date=birth,
            first_permit_on=D(2023, 1, 1), home_municipality_code=municipality,
            home_municipality_on=kotikunta_on,
        )  # fmt: skip
        for to_code, on in moves:
            move_residence(client, to_code, on)
        return client

    return build


def assert_no_client_rows_read(ctx) -> None:
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    assert "clients_residence" not in sql
    assert "clients_client" not in sql


def live_months(org) -> list[tuple[int, int, Decimal]]:
    report = compensation_report(span=Span.of(2026), organisation=org, per_month=True)
    return [(m.month, m.persons, m.amount) for m in report.months.get(org.id, [])]


def stored_months(org) -> list[tuple[int, int, Decimal]]:
    rows = ExpectedMonth.objects.filter(organisation=org, year=2026).order_by("month")
    return [(r.month, r.persons, r.amount) for r in rows]


def test_full_refresh__stores_the_live_figures_of_every_organisation(
    person, lahti, heinola, region
):
    # given people in Lahti, one moving to Heinola in the year
    person(kotikunta_on=D(2026, 3, 1))
    person(kotikunta_on=D(2025, 6, 1), birth=D(2022, 5, 1))
    person(kotikunta_on=D(2025, 1, 1), moves=[("111", D(2026, 7, 15))])
    # when the rollups are refreshed
    rollups.refresh(full=True)
    # then each organisation's stored months are the live ones, for the municipality and
    # for the welfare region alike
    for org in (lahti, heinola, region):
        assert stored_months(org) == live_months(org)
        assert len(stored_months(org)) == 12
    assert stored_months(lahti)[2][1] == 3  # March: all three lived in Lahti
    assert stored_months(lahti)[7][1] == 2  # August: one had moved to Heinola
    assert stored_months(heinola)[7][1] == 1


def test_overview__stored_months__no_client_rows_read(web, finance, person, lahti):
    person(kotikunta_on=D(2026, 10, 1))
    rollups.refresh(full=True)
    http = web(finance)
    with CaptureQueriesContext(connection) as ctx:
        r = http.get("/funding/")
    assert r.status_code == 200
    assert r.context["as_of"] is not None
    assert [(m.month, m.persons, m.amount) for m in r.context["months"]] == live_months(lahti)
    assert r.context["months"][9].amount == Decimal("162.92")
    assert_no_client_rows_read(ctx)
    html = r.content.decode()
    assert "Figures as of" in html
    assert 'href="?live=1"' in html
    # the same number of queries whatever the number of clients
    for _ in range(5):
        person(kotikunta_on=D(2026, 4, 1))
    rollups.refresh(full=True)
    with CaptureQueriesContext(connection) as again:
        assert http.get("/funding/").context["as_of"] is not None
    assert len(again.captured_queries) == len(ctx.captured_queries)


def test_overview__live_on_request__shows_what_the_stored_months_do_not_yet(
    web, finance, person, lahti
):
    person(kotikunta_on=D(2026, 10, 1))
    rollups.refresh(full=True)
    person(kotikunta_on=D(2026, 10, 1))  # after the refresh
    http = web(finance)
    stored = http.get("/funding/")
    assert stored.context["months"][10].persons == 1
    r = http.get("/funding/", {"live": "1"})
    assert r.context["as_of"] is None
    assert "Calculated now from the client records." in r.content.decode()
    assert r.context["months"][10].persons == 2
    assert [(m.month, m.persons, m.amount) for m in r.context["months"]] == live_months(lahti)


def test_overview__another_organisations_finance_officer__own_figures_only(
    web, finance, person, lahti, heinola
):
    person(kotikunta_on=D(2026, 10, 1))
    rollups.refresh(full=True)
    heinola_finance = member(heinola, Role.FINANCE_OFFICER, username="heinola.finance")
    r = web(heinola_finance).get("/funding/")
    assert r.status_code == 200
    assert all(m.persons == 0 for m in r.context["months"])
    assert ExpectedMonth.objects.filter(organisation=lahti).exists()


def test_overview__refresh_stopped_for_a_day__computed_live(web, finance, person):
    person(kotikunta_on=D(2026, 10, 1))
    rollups.refresh(full=True)
    with clock.frozen(clock.now() + dt.timedelta(hours=27)):
        r = web(finance).get("/funding/")
    assert r.context["as_of"] is None
    assert r.context["months"][9].amount == Decimal("162.92")


def test_overview__programme_switched_off_since__computed_live(web, finance, person, lahti):
    person(kotikunta_on=D(2026, 10, 1))
    rollups.refresh(full=True)
    lahti.has_integration_programme = False
    lahti.save(update_fields=["has_integration_programme"])
    r = web(finance).get("/funding/")
    assert r.context["as_of"] is None
    assert r.context["months"][9].amount == Decimal("0.00")


def test_overview__nothing_stored__computed_live(web, finance, person):
    person(kotikunta_on=D(2026, 10, 1))
    r = web(finance).get("/funding/")
    assert r.context["as_of"] is None
    assert r.context["months"][9].amount == Decimal("162.92")


def test_overview__amounts_changed_since__computed_live_with_the_new_amounts(
    web, finance, person, lahti
):
    person(kotikunta_on=D(2026, 10, 1))
    rollups.refresh(full=True)
    # an administrator enters the decree's amount for 2026 after the refresh
    CompensationRate.objects.update_or_create(
        year=2026, recipient="municipality", age_band="7_or_over",
        defaults={"annual_amount": Decimal("2400"), "source": "VNA 1/2026", "confirmed": True},
    )  # fmt: skip
    r = web(finance).get("/funding/")
    assert r.context["as_of"] is None
    assert r.context["months"][9].amount == Decimal("200.00")


def test_incremental_refresh__updates_a_changed_municipality(person, lahti):
    person(kotikunta_on=D(2026, 3, 1))
    rollups.refresh(full=True)
    assert stored_months(lahti)[10][1] == 1
    # a new client arrives in Lahti after the full refresh
    with clock.frozen(clock.now() + dt.timedelta(minutes=5)):
        person(kotikunta_on=D(2026, 9, 1))
        rollups.refresh()
    assert stored_months(lahti)[10][1] == 2
    assert stored_months(lahti) == live_months(lahti)


def test_incremental_refresh__a_move_updates_both_municipalities(
    person, lahti, heinola, lahti_counsellor
):
    c = person(kotikunta_on=D(2025, 1, 1))
    person(kotikunta_on=D(2025, 1, 1))
    rollups.refresh(full=True)
    assert stored_months(heinola) == [(m, 0, Decimal("0.00")) for m in range(1, 13)]
    # the client moves to Heinola in July; Heinola is not responsible for the client
    with clock.frozen(clock.now() + dt.timedelta(minutes=5)):
        client_update(
            actor=lahti_counsellor, client=client_get_for(user=lahti_counsellor, client_id=c.id),
            data={"home_municipality_code": "111", "home_municipality_on": D(2026, 7, 15)},
            facts_valid_from=D(2026, 7, 15),
        )  # fmt: skip
        rollups.refresh()
    assert stored_months(heinola) == live_months(heinola)
    assert stored_months(heinola)[8][1] == 1
    assert stored_months(lahti) == live_months(lahti)
    assert stored_months(lahti)[8][1] == 1


def test_move_corrected_to_before_the_recorded_one__each_month_paid_once_refresh_follows(
    person, lahti, heinola, lahti_counsellor
):
    hollola = OrganisationFactory(
        code="098", name_fi="Hollola", welfare_region=lahti.welfare_region
    )
    c = person(kotikunta_on=D(2025, 1, 1))
    client_update(
        actor=lahti_counsellor, client=client_get_for(user=lahti_counsellor, client_id=c.id),
        data={"home_municipality_code": "111", "home_municipality_on": D(2026, 3, 1)},
    )  # fmt: skip
    rollups.refresh(full=True)
    assert stored_months(heinola)[2][1] == 1
    # the move was really to Hollola, on 15 February: Heinola's residence is superseded
    with clock.frozen(clock.now() + dt.timedelta(minutes=5)):
        client_update(
            actor=lahti_counsellor, client=client_get_for(user=lahti_counsellor, client_id=c.id),
            data={"home_municipality_code": "098", "home_municipality_on": D(2026, 2, 15)},
        )  # fmt: skip
        rollups.refresh()
    assert live_months(heinola) == [(m, 0, Decimal("0.00")) for m in range(1, 13)]
    assert stored_months(heinola) == live_months(heinola)  # the incremental refresh saw it
    months = {
        org.code: [persons for _m, persons, _a in live_months(org)]
        for org in (lahti, hollola, heinola)
    }
    assert months["398"] == [1, 1] + [0] * 10  # Lahti's first day of February
    assert months["098"] == [0, 0] + [1] * 10  # from March, Hollola's alone
    assert stored_months(hollola) == live_months(hollola)
    assert stored_months(lahti) == live_months(lahti)


def test_incremental_refresh__dies_between_batches__no_figures_of_the_first_stored(
    person, lahti, heinola, lahti_counsellor, monkeypatch
):
    """The regular refresh writes the dashboards batch by batch, the compensation figures
    of all its organisations in its last transaction: a move between two batches never
    shows the person in both municipalities (or neither) to the State's view."""
    c = person(kotikunta_on=D(2025, 1, 1))
    rollups.refresh(full=True)
    before = {org.code: stored_months(org) for org in (lahti, heinola)}
    stored_at = {(m.organisation_id, m.computed_at) for m in ExpectedMonth.objects.all()}
    monkeypatch.setattr(rollups, "ORG_BATCH", 1)
    compute = rollups.compute
    calls = []

    def dies_after_the_first_batch(batch, **kwargs):
        calls.append(batch)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return compute(batch, **kwargs)

    monkeypatch.setattr(rollups, "compute", dies_after_the_first_batch)
    with clock.frozen(clock.now() + dt.timedelta(minutes=5)):
        client_update(
            actor=lahti_counsellor, client=client_get_for(user=lahti_counsellor, client_id=c.id),
            data={"home_municipality_code": "111", "home_municipality_on": D(2026, 7, 15)},
        )  # fmt: skip
        with pytest.raises(RuntimeError):
            rollups.refresh()
    assert len(calls) == 2  # the first batch's dashboards were written
    assert {org.code: stored_months(org) for org in (lahti, heinola)} == before
    # not even the first batch's organisation (the welfare region) was written again
    assert {(m.organisation_id, m.computed_at) for m in ExpectedMonth.objects.all()} == stored_at
    assert set(ExpectedPeriod.objects.values_list("computed_at", flat=True)) == {
        at for _org, at in stored_at
    }
    monkeypatch.undo()
    with clock.frozen(clock.now() + dt.timedelta(minutes=6)):
        rollups.refresh()
    assert stored_months(heinola) == live_months(heinola)
    assert stored_months(lahti) == live_months(lahti)
    assert stored_months(heinola)[8][1] == 1


def test_incremental_refresh__a_client_living_elsewhere_updates_that_municipality(
    person, lahti, heinola
):
    person(kotikunta_on=D(2025, 1, 1))
    rollups.refresh(full=True)
    # a Lahti counsellor records a client who lives in Heinola: Lahti is responsible
    with clock.frozen(clock.now() + dt.timedelta(minutes=5)):
        c = person(kotikunta_on=D(2026, 2, 1), municipality="111")
        assert c.responsible_organisation_id == lahti.id
        rollups.refresh()
    assert stored_months(heinola) == live_months(heinola)
    assert stored_months(heinola)[5][1] == 1


def test_incremental_refresh__updates_the_welfare_region_of_a_changed_municipality(
    person, lahti, region
):
    person(kotikunta_on=D(2026, 3, 1))
    rollups.refresh(full=True)
    before = stored_months(region)
    # a new client arrives in Lahti: the welfare region's share grows too
    with clock.frozen(clock.now() + dt.timedelta(minutes=5)):
        person(kotikunta_on=D(2026, 9, 1))
        result = rollups.refresh()
    assert result["full"] is False
    assert stored_months(region) == live_months(region)
    assert stored_months(region)[10][1] == before[10][1] + 1
    assert rollups.Cell.objects.filter(
        scope=f"org:{region.id}", metric="compensation_calculated", month=D(2026, 11, 1), key=""
    ).get().value == round(stored_months(region)[10][2])


def test_full_refresh__months_no_longer_paid__rewritten_as_zeros(person, lahti):
    c = person(kotikunta_on=D(2026, 3, 1))
    rollups.refresh(full=True)
    assert stored_months(lahti)
    c.residences.all().delete()
    Client.objects.filter(id=c.id).delete()
    second = clock.now() + dt.timedelta(minutes=5)
    with clock.frozen(second):
        rollups.refresh(full=True)
    # paid nothing now: zeros, written by this refresh (a year without amounts is removed)
    assert stored_months(lahti) == [(m, 0, Decimal("0.00")) for m in range(1, 13)]
    assert set(ExpectedMonth.objects.values_list("computed_at", flat=True)) == {second}


def test_store__not_a_whole_year__refused(lahti):
    report = compensation_report(span=Span.of(2026, quarter=1), organisation=lahti, per_month=True)
    with pytest.raises(ValueError):
        expected_months_store(report=report, year=2026, organisation_ids=None,
                              computed_at=dt.datetime(2026, 11, 29, tzinfo=dt.UTC))  # fmt: skip


# ------------------------------------------------------------- the report and the API


@pytest.fixture
def people(person, lahti, heinola):
    """Lahti and Heinola residents whose months change within 2026 in every way the
    figures can: arriving, a seventh birthday, a period ending, moving away and back."""
    person(kotikunta_on=D(2026, 3, 1))
    person(kotikunta_on=D(2025, 6, 1), birth=D(2019, 5, 1))  # seven in May 2026
    person(kotikunta_on=D(2025, 1, 1), moves=[("111", D(2026, 7, 15))])
    person(kotikunta_on=D(2023, 2, 1))  # the period ends in 2026
    person(kotikunta_on=D(2026, 5, 1), municipality="111")
    # Heinola, Lahti from February, Heinola again from April: in both in Q1 and Q2, but
    # one person of the welfare region
    person(
        kotikunta_on=D(2025, 9, 1), municipality="111",
        moves=[("398", D(2026, 2, 10)), ("111", D(2026, 4, 20))],
    )  # fmt: skip
    gone = person(kotikunta_on=D(2026, 1, 1))
    gone.residences.all().delete()  # no residence history: counted apart, paid to no one
    return 7


def spans(year: int) -> list[Span]:
    return [
        Span.of(year),
        *(Span.of(year, quarter=q) for q in range(1, 5)),
        *(Span.of(year, month=m) for m in range(1, 13)),
    ]


def figures(report) -> tuple:
    return (
        [r.as_dict() for r in report.rows],
        {oid: list(months) for oid, months in report.months.items()},
        report.persons_without_residence,
        [u.as_dict() for u in report.parameters_used],
    )


def test_stored_report__every_span_equals_the_live_report(
    people, lahti, heinola, region, manager, national, heinola_counsellor
):
    rollups.refresh(full=True)
    heinola_manager = member(heinola, Role.MANAGER, username="heinola.manager")
    region_manager = member(region, Role.MANAGER, username="region.manager")
    for user, org in ((manager, lahti), (heinola_manager, heinola), (region_manager, region)):
        for year in (2025, 2026):
            for span in spans(year):
                stored = selectors.compensation_for(user=user, span=span)
                assert stored.computed_at is not None, (org, span)
                live = compensation_report(span=span, organisation=org, per_month=True)
                assert figures(stored) == figures(live), (org.code, span)
    # the State's view: every organisation, and the candidates without a residence history
    for span in spans(2026):
        stored = selectors.compensation_for(user=national, span=span)
        assert stored.computed_at is not None, span
        assert figures(stored) == figures(compensation_report(span=span)), span
    whole = selectors.compensation_for(user=national, span=Span.of(2026))
    assert whole.persons_without_residence == 1
    # the quarters count persons, not person-months: the one moving to and fro is one
    # person of the welfare region in Q1, though paid by both municipalities
    q1 = {r.organisation: r.persons for r in whole_quarter(national, 1).rows}
    assert q1["398"] + q1["111"] == q1["hva-ph"] + 1
    assert ExpectedPeriod.objects.filter(year=2026).count() == 3 * 5


def whole_quarter(user, q):
    return selectors.compensation_for(user=user, span=Span.of(2026, quarter=q))


def test_stored_report__a_span_the_store_cannot_answer__computed_live(people, manager, lahti):
    rollups.refresh(full=True)
    # 2027 has no refresh yet (the year has not begun); the rates carry forward
    report = selectors.compensation_for(user=manager, span=Span.of(2027))
    assert report.computed_at is None
    assert figures(report) == figures(
        compensation_report(span=Span.of(2027), organisation=lahti, per_month=True)
    )


def test_report_page__stored__no_client_rows_read(web, finance, people, lahti):
    rollups.refresh(full=True)
    http = web(finance)
    with CaptureQueriesContext(connection) as ctx:
        r = http.get("/funding/report/", {"year": 2026, "quarter": 3})
    assert r.status_code == 200
    report = r.context["report"]
    assert report.computed_at is not None
    assert (
        figures(report)[0]
        == figures(compensation_report(span=Span.of(2026, quarter=3), organisation=lahti))[0]
    )
    assert_no_client_rows_read(ctx)
    html = r.content.decode()
    assert "Figures as of" in html
    assert 'href="?year=2026&amp;quarter=3&amp;live=1"' in html


def test_report_page__live_on_request__shows_what_the_store_does_not_yet(
    web, finance, people, person
):
    rollups.refresh(full=True)
    person(kotikunta_on=D(2026, 10, 1))  # after the refresh
    http = web(finance)
    stored = http.get("/funding/report/", {"year": 2026})
    live = http.get("/funding/report/", {"year": 2026, "live": "1"})
    assert live.context["report"].computed_at is None
    assert "Calculated now from the client records." in live.content.decode()
    assert live.context["report"].rows[0].persons == stored.context["report"].rows[0].persons + 1


def test_report_page__state_view__names_persons_without_residence(web, national, people):
    rollups.refresh(full=True)
    r = web(national).get("/funding/report/", {"year": 2026})
    assert r.context["report"].computed_at is not None
    assert {row.organisation for row in r.context["report"].rows} == {"398", "111", "hva-ph"}
    assert "1 person could be compensated but has no residence history" in r.content.decode()


def test_api__stored_then_live__same_figures(web, finance, people):
    rollups.refresh(full=True)
    http = web(finance)
    stored = http.get("/api/v1/funding/compensation", {"year": 2026, "quarter": 2})
    live = http.get("/api/v1/funding/compensation", {"year": 2026, "quarter": 2, "live": "true"})
    assert stored.status_code == live.status_code == 200
    stored, live = stored.json(), live.json()
    assert stored.pop("as_of") is not None
    assert live.pop("as_of") is None
    assert stored == live
    assert [m["month"] for m in stored["months"]] == [4, 5, 6]


def test_api__refresh_stopped_for_a_day__computed_live(web, finance, people):
    rollups.refresh(full=True)
    with clock.frozen(clock.now() + dt.timedelta(hours=27)):
        r = web(finance).get("/api/v1/funding/compensation", {"year": 2026})
    assert r.json()["as_of"] is None


def test_stored_report__programme_switched_off_since__computed_live(
    people, manager, national, lahti
):
    rollups.refresh(full=True)
    lahti.has_integration_programme = False
    lahti.save(update_fields=["has_integration_programme"])
    assert selectors.compensation_for(user=manager, span=Span.of(2026)).computed_at is None
    # the State's view holds Lahti's row too: all of it is computed live
    assert selectors.compensation_for(user=national, span=Span.of(2026)).computed_at is None


def test_incremental_refresh__updates_the_stored_periods(person, manager, lahti):
    person(kotikunta_on=D(2026, 3, 1))
    rollups.refresh(full=True)
    with clock.frozen(clock.now() + dt.timedelta(minutes=5)):
        person(kotikunta_on=D(2026, 9, 1))
        rollups.refresh()
    q4 = selectors.compensation_for(user=manager, span=Span.of(2026, quarter=4))
    assert q4.computed_at is not None
    assert q4.rows[0].persons == 2
    assert figures(q4) == figures(
        compensation_report(span=Span.of(2026, quarter=4), organisation=lahti, per_month=True)
    )


def test_full_refresh__every_municipality_and_region_stored__zeros_when_paid_nothing(
    person, lahti, heinola, region, manager, keha
):
    c = person(kotikunta_on=D(2026, 3, 1))
    rollups.refresh(full=True)
    # every year with amounts (2023–2026), the year and its quarters, for all three
    assert ExpectedPeriod.objects.filter(organisation=heinola).count() == 4 * 5
    assert not ExpectedPeriod.objects.filter(organisation=keha).exists()
    assert ExpectedPeriod.objects.get(organisation=lahti, year=2026, quarter=1).persons == 1
    c.residences.all().delete()
    Client.objects.filter(id=c.id).delete()
    with clock.frozen(clock.now() + dt.timedelta(minutes=5)):
        rollups.refresh(full=True)
        assert ExpectedPeriod.objects.get(organisation=lahti, year=2026, quarter=0).amount == 0
        # Lahti's own report is read from the store, zeros as computed now
        report = selectors.compensation_for(user=manager, span=Span.of(2026, quarter=1))
        assert report.computed_at is not None
        assert figures(report) == figures(
            compensation_report(span=Span.of(2026, quarter=1), organisation=lahti, per_month=True)
        )


def test_state_view__a_municipality_added_since_the_full_refresh__computed_live(
    people, national, region
):
    rollups.refresh(full=True)
    assert selectors.compensation_for(user=national, span=Span.of(2026)).computed_at
    # no welfare region: no stored organisation's fingerprint changes, only the set
    OrganisationFactory(code="098", name_fi="Hollola")
    report = selectors.compensation_for(user=national, span=Span.of(2026))
    assert report.computed_at is None


def test_state_view__aland_programme_switched_on_since__computed_live(people, national, person):
    aland = OrganisationFactory(
        code="478", name_fi="Maarianhamina", region_code="21", has_integration_programme=False
    )
    person(kotikunta_on=D(2026, 1, 1), municipality="478")
    rollups.refresh(full=True)
    stored = selectors.compensation_for(user=national, span=Span.of(2026))
    assert "478" not in {r.organisation for r in stored.rows}
    aland.has_integration_programme = True
    aland.save(update_fields=["has_integration_programme"])
    report = selectors.compensation_for(user=national, span=Span.of(2026))
    assert report.computed_at is None
    assert "478" in {r.organisation for r in report.rows}


def test_month_persons__residences_overlapping_on_a_first_day__one_person(
    person, lahti, heinola, region
):
    # a move recorded as starting before the current residence began leaves a one-day
    # residence on the first of March beside the new one (clients.services)
    c = person(kotikunta_on=D(2025, 1, 1), moves=[("111", D(2026, 3, 1))])
    c.residences.filter(to_on__isnull=True).update(from_on=D(2026, 3, 1))
    c.residences.filter(municipality__code="398").update(to_on=D(2026, 3, 1))
    rollups.refresh(full=True)
    region_manager = member(region, Role.MANAGER, username="region.manager")
    march = Span.of(2026, month=3)
    stored = selectors.compensation_for(user=region_manager, span=march)
    live = compensation_report(span=march, organisation=region, per_month=True)
    assert stored.computed_at is not None
    assert figures(stored) == figures(live)
    assert stored.rows[0].persons == 1
    assert stored.months[region.id][0].persons == 1


def test_report_page__only_own_or_state_authority__others_404(web, people, keha):
    ngo = OrganisationFactory(code="ngo-1", kind=OrganisationKind.NGO, name_fi="Yhdistys")
    ngo_manager = member(ngo, Role.MANAGER, username="ngo.manager")
    http = web(ngo_manager)
    assert http.get("/funding/report/", {"year": 2026}).status_code == 404
    assert http.get("/api/v1/funding/compensation", {"year": 2026}).status_code == 404
    overview = http.get("/funding/")
    assert overview.status_code == 200
    assert 'href="/funding/report/"' not in overview.content.decode()
    with pytest.raises(NotFound):
        selectors.compensation_for(user=ngo_manager, span=Span.of(2026))
    te = OrganisationFactory(code="te-1", kind=OrganisationKind.EMPLOYMENT_AUTHORITY, name_fi="TE")
    te_manager = member(te, Role.MANAGER, username="te.manager")
    assert web(te_manager).get("/funding/report/", {"year": 2026}).status_code == 404
    assert web(te_manager).get("/api/v1/funding/compensation", {"year": 2026}).status_code == 404
    # the State's authorities see the report page, not the organisation-only API
    centre = OrganisationFactory(
        code="elinvoima-1", kind=OrganisationKind.REGIONAL_STATE_AUTHORITY, name_fi="Keskus"
    )
    centre_http = web(member(centre, Role.FINANCE_OFFICER, username="centre.finance"))
    assert centre_http.get("/funding/report/", {"year": 2026}).status_code == 200
    assert centre_http.get("/api/v1/funding/compensation", {"year": 2026}).status_code == 404


def test_report_page__regional_state_authority__small_counts_hidden_keha_sees_all(
    web, person, national, lahti, heinola, region
):
    for _ in range(6):
        person(kotikunta_on=D(2025, 6, 1))
    person(kotikunta_on=D(2025, 6, 1), municipality="111")
    rollups.refresh(full=True)
    centre = OrganisationFactory(
        code="elinvoima-07", kind=OrganisationKind.REGIONAL_STATE_AUTHORITY, name_fi="Keskus"
    )
    officer = member(centre, Role.MANAGER, username="centre.manager")
    year = Span.of(2026)
    persons = {
        r.organisation: r.persons for r in selectors.compensation_for(user=officer, span=year).rows
    }
    # Heinola's one resident is hidden, and the region's 7 with it (7 less Lahti's 6)
    assert persons == {"398": 6, "111": "<5", region.code: ".."}
    # their amounts with them: an amount is the persons times the monthly sums shown below
    amounts = {
        r.organisation: r.amount for r in selectors.compensation_for(user=officer, span=year).rows
    }
    assert amounts["111"] == amounts[region.code] == ".." and amounts["398"] != ".."
    live = selectors.compensation_for(user=officer, span=year, live=True)
    assert {r.organisation: r.persons for r in live.rows} == persons
    html = web(officer).get("/funding/report/", {"year": 2026}).content.decode()
    assert "counts below five are shown as “&lt;5”" in html  # escaped
    assert ">&lt;5</td>" in html
    # KEHA pays each person: it sees them all
    exact = {
        r.organisation: r.persons for r in selectors.compensation_for(user=national, span=year).rows
    }
    assert exact == {"398": 6, "111": 1, region.code: 7}
    assert (
        "counts below five"
        not in web(national).get("/funding/report/", {"year": 2026}).content.decode()
    )


def test_incremental_refresh__municipality_without_programme__stored_as_computed_live(
    people, national, region, person
):
    no_programme = OrganisationFactory(
        code="099", name_fi="Ei ohjelmaa", welfare_region=region, has_integration_programme=False
    )
    person(kotikunta_on=D(2026, 1, 1), municipality="099")
    rollups.refresh(full=True)
    with clock.frozen(clock.now() + dt.timedelta(minutes=5)):
        person(kotikunta_on=D(2026, 4, 1), municipality="099")
        result = rollups.refresh()
        assert result["full"] is False
        own = member(no_programme, Role.MANAGER, username="099.manager")
        for span in spans(2026):
            stored = selectors.compensation_for(user=own, span=span)
            assert stored.computed_at is not None, span
            live = compensation_report(span=span, organisation=no_programme, per_month=True)
            assert figures(stored) == figures(live), span
            state = selectors.compensation_for(user=national, span=span)
            assert state.computed_at is not None, span
            assert figures(state) == figures(compensation_report(span=span)), span


def test_incremental_refresh__amounts_changed_since__runs_in_full__store_current_again(
    people, national
):
    full_at = clock.now() + dt.timedelta(minutes=1)  # after the clients were written
    with clock.frozen(full_at):
        rollups.refresh(full=True)
    # an administrator enters the decree's amount for 2026 after the full refresh
    CompensationRate.objects.update_or_create(
        year=2026, recipient="municipality", age_band="7_or_over",
        defaults={"annual_amount": Decimal("2400"), "source": "VNA 1/2026", "confirmed": True},
    )  # fmt: skip
    assert selectors.compensation_for(user=national, span=Span.of(2026)).computed_at is None
    with clock.frozen(full_at + dt.timedelta(minutes=5)):
        # within the hour of the last full run: not again; no client changed, so the
        # incremental refresh recomputes no organisation and the store stays stale
        assert rollups.refresh()["full"] is False
        assert selectors.compensation_for(user=national, span=Span.of(2026)).computed_at is None
    with clock.frozen(full_at + dt.timedelta(minutes=65)):
        result = rollups.refresh()
        assert result["full"] is True, result
        stored = selectors.compensation_for(user=national, span=Span.of(2026))
        assert stored.computed_at is not None
        assert figures(stored) == figures(compensation_report(span=Span.of(2026)))
    with clock.frozen(full_at + dt.timedelta(minutes=130)):
        assert rollups.refresh()["full"] is False  # current again: incremental


def test_incremental_refresh__programme_switched_on_since__runs_in_full(people, national, lahti):
    lahti.has_integration_programme = False
    lahti.save(update_fields=["has_integration_programme"])
    full_at = clock.now() + dt.timedelta(minutes=1)  # after the clients were written
    with clock.frozen(full_at):
        rollups.refresh(full=True)
    lahti.has_integration_programme = True
    lahti.save(update_fields=["has_integration_programme"])
    with clock.frozen(full_at + dt.timedelta(minutes=5)):
        assert rollups.refresh()["full"] is False
        assert selectors.compensation_for(user=national, span=Span.of(2026)).computed_at is None
    with clock.frozen(full_at + dt.timedelta(minutes=65)):
        assert rollups.refresh()["full"] is True
        assert selectors.compensation_for(user=national, span=Span.of(2026)).computed_at
    with clock.frozen(full_at + dt.timedelta(minutes=130)):
        assert rollups.refresh()["full"] is False  # current again: incremental


def test_full_refresh__programme_switched_off_while_it_counts__stored_as_stale(
    people, manager, lahti, monkeypatch
):
    counted = rollups.compensation_report

    def then_edited(**kwargs):
        report = counted(**kwargs)  # the figures with Lahti's programme on
        if kwargs["span"] == Span.of(2026):  # an administrator, meanwhile
            lahti.has_integration_programme = False
            lahti.save(update_fields=["has_integration_programme"])
        return report

    monkeypatch.setattr(rollups, "compensation_report", then_edited)
    rollups.refresh(full=True)
    # the figures of the programme on are not shown as those of the programme off
    assert selectors.compensation_for(user=manager, span=Span.of(2026)).computed_at is None
    assert selectors.stored_years_stale([2026])


def _compensation_shown(user, scope_code) -> str:
    from koto.insights import selectors as insights

    filters = insights.Filters(D(2026, 11, 1), D(2026, 11, 1))
    d = insights.dashboard_for(user=user, scope_code=scope_code, filters=filters)
    return d.table("compensation").rows[0][2][0].display


@pytest.mark.parametrize(("people", "hidden"), [(2, True), (5, False)])
def test_dashboard__compensation_of_few_people__hidden_outside_own_organisation(
    person, lahti, region, manager, national, people, hidden
):
    # the amount is persons × a fixed monthly sum: 326 € tells it is two people aged 7 or
    # over as surely as the count would
    for _ in range(people):
        person(kotikunta_on=D(2026, 3, 1))
    rollups.refresh(full=True)
    own = _compensation_shown(manager, None)
    assert own not in ("..", "<5", "0")
    for scope in (f"org:{lahti.id}", f"region:{region.id}", "national"):
        shown = _compensation_shown(national, scope)
        assert (shown == "..") is hidden, scope
        if not hidden:
            assert shown not in ("<5", "0")
