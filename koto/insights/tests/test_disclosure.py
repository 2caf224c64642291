"""Hidden small counts stay hidden: a total or a share that would give a hidden count away
is hidden too, outside the viewer's own organisation (docs/insights.md, "Privacy")."""

import datetime as dt

import pytest

from koto.insights import rollups, selectors
from koto.insights.selectors import COMPLEMENTARY, Figure, Filters, Share, figure, total_of
from koto.insights.tests import builders as b

PERIOD = Filters(dt.date(2025, 1, 1), dt.date(2026, 11, 1))


def test_total_of__a_hidden_part_hides_the_total():
    parts = [figure(40, suppress=True), figure(3, suppress=True), figure(0, suppress=True)]

    total = total_of(parts, figure(43, suppress=True))

    assert total.suppressed and total.display == COMPLEMENTARY
    assert total.as_json() == COMPLEMENTARY


def test_total_of__nothing_hidden_or_own_organisation_shows_the_total():
    shown = [figure(40, suppress=True), figure(7, suppress=True), figure(0, suppress=True)]
    own = [figure(40, suppress=False), figure(3, suppress=False)]

    assert total_of(shown, figure(47, suppress=True)).display == "47"
    assert total_of(own, figure(43, suppress=False)).display == "43"


def test_total_of__a_small_total_stays_a_small_count():
    parts = [figure(2, suppress=True), figure(1, suppress=True)]

    assert total_of(parts, figure(3, suppress=True)).display == "<5"


def test_share__hidden_when_those_left_out_are_a_small_count():
    ten_of_twelve = Share(figure(10, suppress=True), figure(12, suppress=True))
    ten_of_fifteen = Share(figure(10, suppress=True), figure(15, suppress=True))
    all_twelve = Share(figure(12, suppress=True), figure(12, suppress=True))

    assert ten_of_twelve.hidden and ten_of_twelve.display == "–"
    assert ten_of_twelve.interval is None
    assert ten_of_fifteen.display == "67\u00a0%"
    assert all_twelve.display == "100\u00a0%"


def test_share__own_organisation_and_places_are_shown():
    own = Share(figure(10, suppress=False), figure(12, suppress=False))
    places = Share(figure(10, suppress=True), figure(12, suppress=True), complement_counts=False)

    assert own.display == "83\u00a0%"
    assert places.display == "83\u00a0%"


def test_dashboard__region_share_shown_where_the_rest_has_none(
    lahti, heinola, manager, region, keha
):
    """Lahti's manager sees Lahti's 0 of 30 places used; the region's 30 are all Lahti's:
    the other municipalities' share is of none ("–"), which protects no count, so the
    region's share is shown (it was hidden beside both its counts)."""
    from koto.placement.models import PlacementAgreement

    PlacementAgreement.objects.create(municipality=lahti, authority=keha, year=2026,
                                      places_quota_refugee=30, status="signed")  # fmt: skip
    PlacementAgreement.objects.create(municipality=lahti, authority=keha, year=2025,
                                      places_international_protection=30, status="signed")  # fmt: skip
    PlacementAgreement.objects.create(municipality=heinola, authority=keha, year=2025,
                                      places_international_protection=3, status="signed")  # fmt: skip
    rollups.refresh(full=True)

    d = selectors.dashboard_for(user=manager, scope_code=f"region:{region.id}", filters=PERIOD)

    agreed, used, share = row(d, "placements", "quota_refugee")
    assert (agreed.display, used.display, share.display) == ("30", "0", "0\u00a0%")
    # Lahti's 30 and Heinola's 3 places: the region's 33 would tell Heinola's 3, so it is
    # hidden, and so is the share, though the region's counts are five or more
    agreed, used, share = row(d, "placements", "international_protection")
    assert (agreed.display, used.display, share.display) == ("..", "0", "–")


def test_figure__money_is_never_guarded():
    assert figure(3, suppress=True, money=True) == Figure(3, False, False)


@pytest.fixture
def casework(lahti_counsellor, heinola_counsellor):
    # Lahti: six assessments started in time, one late; six plans, five ended employed
    # within six months, one still going.
    for i in range(7):
        c = b.client(lahti_counsellor, created_on=dt.date(2026, 1, 5 + i))
        started = dt.date(2026, 5, 1) if i == 6 else dt.date(2026, 2, 1)
        b.assessment(lahti_counsellor, c, started_on=started)
        if i < 6:
            employed = i < 5
            b.plan(lahti_counsellor, c, starts_on=dt.date(2025, 1, 10),
                   ended_on=dt.date(2025, 5, 1) if employed else None,
                   outcome="employed" if employed else "")  # fmt: skip
    b.client(heinola_counsellor, created_on=dt.date(2026, 1, 9))
    rollups.refresh(full=True)


def row(d, table_id, key):
    return next(cells for k, _label, cells in d.table(table_id).rows if k == key)


def test_dashboard__region_hides_the_total_beside_a_hidden_late_count(casework, manager, region):
    d = selectors.dashboard_for(user=manager, scope_code=f"region:{region.id}", filters=PERIOD)

    in_time, late, missed, total, share = row(d, "compliance", "assessment_deadline")

    assert (in_time.display, late.display, missed.display) == ("6", "<5", "0")
    assert total.display == COMPLEMENTARY  # 7 would tell that one was late
    assert share.display == "–"


def test_dashboard__why_months_are_hidden_said_under_the_table(casework, manager, region, national):
    """A column of "–" by month said why (a national column of "–" read as missing data),
    each deadline named, "every month" where none is shown; the viewer's own figures are a
    reason only where the scope holds the viewer's organisation (not KEHA's)."""
    d = selectors.dashboard_for(user=manager, scope_code=f"region:{region.id}", filters=PERIOD)
    own = selectors.dashboard_for(user=manager, scope_code=None, filters=PERIOD)
    keha = selectors.dashboard_for(user=national, scope_code=f"region:{region.id}", filters=PERIOD)

    assert d.table("compliance_months").note == (
        "A month with no deadline due has no share (–). "
        "Assessment started in time: every month with deadlines due is hidden (–). "
        "Guided to a service in time: every month with deadlines due is hidden (–). "
        "With the counts in the table “Deadline compliance” above, the other months or your "
        "own organisation's figures, they would tell a count below five. A month when only "
        "your organisation had deadlines due is hidden too: showing only those would tell "
        "when the others had some."
    )
    assert keha.table("compliance_months").note.endswith(
        "With the counts in the table “Deadline compliance” above and the other months, they "
        "would tell a count below five."
    )
    assert own.table("compliance_months").note == "A month with no deadline due has no share (–)."


def test_dashboard__some_months_hidden_said_so(lahti_counsellor, manager, region):
    """A deadline with some months shown and some hidden: "some months" (the dashboards
    now hide a deadline's months all together, so the table is made by hand here; the
    note reads whatever the table holds)."""
    from koto.insights.selectors import HIDDEN_SHARE, _note_hidden_months

    d = selectors.dashboard_for(user=manager, scope_code=f"region:{region.id}", filters=PERIOD)
    table = d.table("compliance_months")
    shown = Share(figure(6, suppress=True), figure(12, suppress=True))
    table.rows[:2] = [("2025-01-01", "01/2025", [shown, HIDDEN_SHARE]),
                      ("2025-02-01", "02/2025", [HIDDEN_SHARE, HIDDEN_SHARE])]  # fmt: skip
    _note_hidden_months(d, own_part=True)

    assert "Assessment started in time: some months are hidden (–)." in table.note
    assert (
        "Guided to a service in time: every month with deadlines due is hidden (–)." in table.note
    )


def test_dashboard__own_organisation_shows_the_whole_row(casework, manager):
    d = selectors.dashboard_for(user=manager, scope_code=None, filters=PERIOD)

    cells = row(d, "compliance", "assessment_deadline")

    assert [c.display for c in cells] == ["6", "1", "0", "7", "86\u00a0%"]


def test_impact__region_hides_a_share_that_tells_how_many_did_not_reach(casework, manager, region):
    outside = selectors.impact_for(user=manager, scope_code=f"region:{region.id}",
                                   month_from=PERIOD.month_from, month_to=PERIOD.month_to)  # fmt: skip
    own = selectors.impact_for(user=manager, scope_code=None,
                               month_from=PERIOD.month_from, month_to=PERIOD.month_to)  # fmt: skip

    assert outside.cohorts[0].plans.display == "6"
    assert outside.cohorts[0].shares[6].display == "–"  # 5 of 6: one did not
    assert own.cohorts[0].shares[6].display == "83\u00a0%"


def test_api_dashboard__hidden_total_in_json(casework, manager, region, web):
    response = web(manager).get(
        f"/api/v1/insights/dashboard?scope=region:{region.id}&from=2025-01&to=2026-11"
    )

    body = response.json()
    compliance = next(t for t in body["tables"] if t["id"] == "compliance")
    values = next(r["values"] for r in compliance["rows"] if r["key"] == "assessment_deadline")
    assert values[:4] == [6, "<5", 0, COMPLEMENTARY]
    assert values[4] == {"share": None, "ci95": None, "numerator": None, "denominator": None}
    assert body["hidden_total"] == COMPLEMENTARY


def test_export_csv__hidden_total_as_shown(casework, manager, region, web):
    response = web(manager).get(
        f"/insights/export.csv?scope=region:{region.id}&from=2025-01&to=2026-11"
    )

    text = response.content.decode()
    assert f",6,<5,0,{COMPLEMENTARY}," in text


def slots(*values):
    """One partition of counts outside the viewer's organisation (below five: hidden)."""
    return [selectors._Slot([figure(v, suppress=True)], 0) for v in values]


def shown(part):
    return [s.get().display for s in part]


@pytest.mark.parametrize(
    ("a", "b", "shown_a", "shown_b"),
    [
        # 55 less 40 would be 3 + 12: the 12 is hidden as well
        ((40, 3, 12), (55,), ["40", "<5", ".."], ["55"]),
        # hiding the 6 would leave 1 + 6 = 7 with ".." at least 5: the 1 would be 1 or 2
        ((40, 1, 6, 12), (59,), ["40", "<5", "6", ".."], ["59"]),
        # no count of 8 or more: the largest
        ((3, 6, 7), (16,), ["<5", "6", ".."], ["16"]),
        # no total known: both tables hide something and nothing is pinned
        ((40, 3, 12), (50, 2, 3), ["40", "<5", "12"], ["50", "<5", "<5"]),
        # two hidden counts that can only be 1 + 1
        ((1, 1, 48), (50,), ["<5", "<5", ".."], ["50"]),
        # 4 = 1 + 3, 2 + 2 or 3 + 1: left as they are
        ((1, 3, 48), (52,), ["<5", "<5", "48"], ["52"]),
        # 4 + 4 and nothing else to hide there: the other table's total goes
        ((4, 4, 0), (8,), ["<5", "<5", "0"], [".."]),
        # same total: 50 + a = 47 + b, a and b from 1 to 4, leaves only a = 1, b = 4
        ((50, 1), (47, 4), ["..", "<5"], ["47", "<5"]),
        # an empty table tells no total
        ((), (40, 3), [], ["40", "<5"]),
    ],
)
def test_protect_partitions__no_hidden_count_has_one_possible_value(a, b, shown_a, shown_b):
    part_a, part_b = slots(*a), slots(*b)

    selectors.protect_partitions(part_a, part_b)

    assert (shown(part_a), shown(part_b)) == (shown_a, shown_b)


class Row:
    def __init__(self, k, n):
        self.shares = {6: Share(figure(k, suppress=True), figure(n, suppress=True))}


def test_protect_partitions__the_counts_of_shares_split_the_same_plans():
    cohorts = [Row(9, 20), Row(2, 3)]  # the second is hidden (3 followed)
    groups = [Row(11, 23)]  # shown whole: 23 followed in all

    for part in ("n", "k", "rest"):
        selectors.protect_partitions(
            [selectors._ShareSlot(r.shares, 6, part) for r in cohorts],
            [selectors._ShareSlot(r.shares, 6, part) for r in groups],
        )

    # 23 - 20 would be the hidden cohort's 3 followed: the other cohort's share goes too
    assert [r.shares[6].display for r in cohorts] == ["–", "–"]


def test_protect_partitions__nobody_followed_yet_is_known():
    cohorts = [Row(9, 20), Row(0, 0)]  # the second too recent: "–", nobody followed
    groups = [Row(9, 20)]

    selectors.protect_partitions(
        [selectors._ShareSlot(r.shares, 6, "n") for r in cohorts],
        [selectors._ShareSlot(r.shares, 6, "n") for r in groups],
    )

    assert cohorts[0].shares[6].display == "45\u00a0%"


@pytest.fixture
def contacts(lahti_counsellor, heinola_counsellor):
    for day in range(6):
        b.contact(lahti_counsellor, on=dt.date(2026, 3, 1 + day), channel="walk_in")
    b.contact(lahti_counsellor, on=dt.date(2026, 3, 9), channel="phone")
    b.client(heinola_counsellor, created_on=dt.date(2026, 1, 9))
    rollups.refresh(full=True)


def test_dashboard__channel_hidden_count_not_given_away_by_the_languages(contacts, manager, region):
    d = selectors.dashboard_for(user=manager, scope_code=f"region:{region.id}", filters=PERIOD)

    channels = {k: cells[0].display for k, _l, cells in d.table("contacts_channel").rows}
    languages = {k: cells[0].display for k, _l, cells in d.table("contacts_language").rows}

    assert languages == {"ar": "7"}  # all seven in Arabic: the total is known
    assert channels == {"walk_in": "..", "phone": "<5"}  # 7 - 6 would be the phone calls


def test_dashboard__own_organisation_channels_all_shown(contacts, manager):
    d = selectors.dashboard_for(user=manager, scope_code=None, filters=PERIOD)

    channels = {k: cells[0].display for k, _l, cells in d.table("contacts_channel").rows}

    assert channels == {"walk_in": "6", "phone": "1"}


def test_impact__a_small_group_not_given_away_by_the_cohorts(lahti_counsellor, manager, region):
    for i in range(8):
        c = b.client(lahti_counsellor, created_on=dt.date(2025, 1, 2))
        b.plan(lahti_counsellor, c, starts_on=dt.date(2025, 1, 10),
               kind="multisectoral" if i < 2 else "basic")  # fmt: skip
    rollups.refresh(full=True)

    outside = selectors.impact_for(user=manager, scope_code=f"region:{region.id}",
                                   month_from=PERIOD.month_from, month_to=PERIOD.month_to)  # fmt: skip

    assert [r.plans.display for r in outside.cohorts] == ["8"]
    assert {r.key: r.plans.display for r in outside.groups} == {
        "basic": "..", "multisectoral": "<5",
    }  # fmt: skip


def test_dashboard__months_of_a_deadline_hidden_with_a_hidden_count_in_its_row(
    lahti_counsellor, manager, region
):
    # Six assessments due in March, all in time; one due in April, late.
    for i in range(7):
        c = b.client(lahti_counsellor, created_on=dt.date(2026, 1 if i < 6 else 2, 5 + i % 6))
        b.assessment(lahti_counsellor, c, started_on=dt.date(2026, 2 if i < 6 else 6, 1))
    rollups.refresh(full=True)

    def march(scope_code):
        d = selectors.dashboard_for(user=manager, scope_code=scope_code, filters=PERIOD)
        rows = {k: cells for k, _l, cells in d.table("compliance_months").rows}
        return rows["2026-03-01"][0].display, rows["2026-04-01"][0].display

    # Each month's share and interval tell its counts, and the months add up to the row,
    # whose late count is hidden: no month of this deadline is shown outside Lahti.
    assert march(f"region:{region.id}") == ("–", "–")
    assert march(None) == ("100\u00a0%", "0\u00a0%")


def test_impact__the_curve_start_counts_as_a_table_of_the_same_plans(
    lahti_counsellor, manager, region
):
    for i in range(23):
        c = b.client(lahti_counsellor, created_on=dt.date(2025, 1, 2))
        late = i >= 20
        b.plan(lahti_counsellor, c, starts_on=dt.date(2025, 4 if late else 1, 10),
               kind="multisectoral" if late else "basic")  # fmt: skip
    rollups.refresh(full=True)

    i = selectors.impact_for(user=manager, scope_code=f"region:{region.id}",
                             month_from=PERIOD.month_from, month_to=PERIOD.month_to)  # fmt: skip

    assert i.curve[0].at_risk.display == "23"  # the number of plans, shown
    assert [r.plans.display for r in i.cohorts] == ["..", "<5"]  # 23 - 20 would be 3
    assert {r.key: r.plans.display for r in i.groups} == {"basic": "..", "multisectoral": "<5"}
    hidden_rows = [*i.cohorts, *i.groups]
    assert all(s.display == "–" for r in hidden_rows for s in r.shares.values())
    basic = next(r.label for r in i.groups if r.key == "basic")
    assert i.group_curves[basic] == []  # it would start at 20


def test_bar_chart__a_hidden_figure_is_labelled_as_in_the_table():
    from koto.insights import charts

    svg = charts.bar_chart("c", "Contacts", [("Walk-in", None, ".."), ("Phone", None), ("Chat", 9)])

    assert ">..</text>" in svg and "&lt;5</text>" in svg


def test_impact__a_group_curve_ended_at_a_hidden_count_not_given_away_by_the_others(
    lahti_counsellor, manager, region
):
    # 6 multisectoral plans, 3 of them ended (moved away) in their second month; 12 basic
    # plans going on: at 3 months 3 multisectoral plans are followed, 12 basic, 15 in all
    for i in range(18):
        c = b.client(lahti_counsellor, created_on=dt.date(2025, 1, 2))
        b.plan(lahti_counsellor, c, starts_on=dt.date(2025, 1, 10),
               kind="multisectoral" if i < 6 else "basic",
               ended_on=dt.date(2025, 2, 20) if i < 3 else None,
               outcome="moved_away" if i < 3 else "")  # fmt: skip
    rollups.refresh(full=True)

    def curves(scope_code):
        i = selectors.impact_for(user=manager, scope_code=scope_code,
                                 month_from=PERIOD.month_from, month_to=PERIOD.month_to)  # fmt: skip
        followed = {k: {p.months: p.at_risk.display for p in v} for k, v in i.group_curves.items()}
        return {p.months: p.at_risk.display for p in i.curve}, followed

    overall, groups = curves(f"region:{region.id}")
    assert overall[0] == "18"
    assert overall[3] == ".."  # 18, then 15 followed, would tell the 3 that ended
    # the multisectoral curve ends at 3 months ("<5"); the basic one goes on at 12: with
    # the overall's 15 hidden, the multisectoral's 3 is anywhere from 0 to 4 (".." less 12)
    assert groups["Multi-sectoral"] == {0: "6"}
    assert groups["Basic"][3] == "12"
    assert all(followed == ".." for months, followed in overall.items() if months)
    # in Lahti's own view nothing is hidden
    overall, groups = curves(None)
    assert sorted(len(points) > 1 for points in groups.values()) == [True, True]


def test_language_levels__people_not_results(lahti_counsellor, manager):
    # two people reaching B1.1 in all four skills are two people, not "8"
    from koto.offerings.models import LanguageTestResult

    for i in range(2):
        c = b.client(lahti_counsellor, created_on=dt.date(2026, 1, 5 + i))
        for skill in ("listening", "reading", "speaking", "writing"):
            LanguageTestResult.objects.create(
                client=c, taken_on=dt.date(2026, 3, 2), language="fi", skill=skill,
                level="B1.1", recorded_by=lahti_counsellor,
            )  # fmt: skip
    rollups.refresh(full=True)
    d = selectors.dashboard_for(user=manager, scope_code=None, filters=PERIOD)
    assert [(k, cells[0].display) for k, _l, cells in d.table("levels").rows] == [("B1.1", "2")]


@pytest.mark.parametrize(
    ("reasons", "total", "shown_reasons"),
    [
        # 114 contacts, each with a reason: 60 + 50 + "<5" tells the "<5" is 4
        ((60, 50, 4), 114, ["60", "..", "<5"]),
        # 60 + 50 + "<5" of 112 leaves it 2 to 4: nothing more hidden
        ((60, 50, 4), 112, ["60", "50", "<5"]),
        # nothing hidden, nothing to protect
        ((60, 54), 114, ["60", "54"]),
    ],
)
def test_protect_at_least__reasons_of_the_contacts(reasons, total, shown_reasons):
    part = slots(*reasons)
    selectors.protect_at_least(part, total)
    assert shown(part) == shown_reasons


def test_impact__curve_points_hidden_while_those_reached_are_a_small_count(
    lahti_counsellor, manager, region
):
    """40 plans, 2 employed in their first month: "5 %" of 40 is the 2 that the shares at
    6 and 12 months hide; outside Lahti the point is "–" until five have reached it."""
    for i in range(40):
        c = b.client(lahti_counsellor, created_on=dt.date(2025, 1, 2))
        b.plan(lahti_counsellor, c, starts_on=dt.date(2025, 1, 10),
               ended_on=dt.date(2025, 1, 25) if i < 2 else None,
               outcome="employed" if i < 2 else "")  # fmt: skip
    rollups.refresh(full=True)

    def curve(scope_code):
        i = selectors.impact_for(user=manager, scope_code=scope_code,
                                 month_from=PERIOD.month_from, month_to=PERIOD.month_to)  # fmt: skip
        return {p.months: (p.at_risk.display, p.display, p.interval_display) for p in i.curve}

    region_curve = curve(f"region:{region.id}")
    # 40 then 38 followed would tell the two as well
    assert region_curve[3] == ("..", "–", "–")
    assert all(display == "–" for _at, display, _ci in region_curve.values() if _at != "40")
    assert all(at in ("40", "..") for at, _d, _ci in region_curve.values())
    assert curve(None)[3][1] == "5\u00a0%"  # Lahti's own view


def test_impact__region_less_the_viewers_own_below_five__hidden(
    lahti_counsellor, heinola_counsellor, manager, region
):
    """Lahti's manager sees Lahti's 10 plans on Lahti's page: the region's 12 would tell
    Heinola's 2."""
    for actor, n in ((lahti_counsellor, 10), (heinola_counsellor, 2)):
        for _ in range(n):
            c = b.client(actor, created_on=dt.date(2025, 1, 2))
            b.plan(actor, c, starts_on=dt.date(2025, 1, 10))
    rollups.refresh(full=True)

    def cohorts(scope_code):
        i = selectors.impact_for(user=manager, scope_code=scope_code,
                                 month_from=PERIOD.month_from, month_to=PERIOD.month_to)  # fmt: skip
        return [r.plans.display for r in i.cohorts], i.curve

    assert cohorts(None)[0] == ["10"]
    region_rows, region_curve = cohorts(f"region:{region.id}")
    assert region_rows in (["<5"], [".."])
    assert region_curve == []  # it would start at 12


@pytest.mark.parametrize("heinola_followed", [0, 3])
def test_impact__region_share_hidden_where_the_rest_has_none_or_few_followed(
    lahti_counsellor, heinola_counsellor, manager, region, heinola_followed
):
    """The cohort of 10–12/2025: Lahti's 10 plans followed 12 months (5 employed), Heinola's
    6 started later. With 3 of Heinola's followed that long the region's share would tell
    their count: hidden. With none followed it is Lahti's own, but it stays hidden too: a
    share shown only where the others have none would tell, where it is hidden, that they
    have some (a review found the same in a reveal of the viewer's own counts)."""
    for i in range(10):
        c = b.client(lahti_counsellor, created_on=dt.date(2025, 10, 2))
        b.plan(lahti_counsellor, c, starts_on=dt.date(2025, 10, 10),
               ended_on=dt.date(2026, 3, 1) if i < 5 else None,
               outcome="employed" if i < 5 else "")  # fmt: skip
    for i in range(6):
        c = b.client(heinola_counsellor, created_on=dt.date(2025, 10, 2))
        b.plan(heinola_counsellor, c,
               starts_on=dt.date(2025, 10, 10) if i < heinola_followed else dt.date(2025, 12, 10))  # fmt: skip
    rollups.refresh(full=True)

    i = selectors.impact_for(user=manager, scope_code=f"region:{region.id}",
                             month_from=dt.date(2025, 10, 1), month_to=dt.date(2025, 12, 1))  # fmt: skip

    [cohort] = i.cohorts
    assert cohort.plans.display == "16"
    assert cohort.shares[12].display == "–"


def _resident(actor, code: str):
    """A beneficiary of international protection with kotikunta in `code` since June 2025:
    calculated compensation to the municipality and to its welfare region every month."""
    return b.client(
        actor, created_on=dt.date(2025, 6, 1), residence_basis="asylum",
        first_permit_on=dt.date(2023, 1, 1), home_municipality_code=code,
        home_municipality_on=dt.date(2025, 6, 1), birth_date=dt.date(1990, 1, 1),
    )  # fmt: skip


def _compensation(user, scope_code, month="2026-03-01"):
    d = selectors.dashboard_for(user=user, scope_code=scope_code, filters=PERIOD)
    return row(d, "compensation", month)[0]


@pytest.mark.parametrize(("heinola_people", "region_shown"), [(2, False), (6, True)])
def test_dashboard__region_compensation_less_the_viewers_own__hidden_with_the_rest_below_five(
    lahti_counsellor, heinola_counsellor, manager, region, heinola_people, region_shown
):
    """Lahti's manager sees Lahti's amount (20 people) and the region's: the region's persons
    are everyone's, Lahti's 20 too, so its amount less Lahti's (and less the region's share
    for Lahti's 20, a fixed sum each) told Heinola's 2. Heinola's 6 may be told."""
    for _ in range(20):
        _resident(lahti_counsellor, "398")
    for _ in range(heinola_people):
        _resident(heinola_counsellor, "111")
    rollups.refresh(full=True)

    own = _compensation(manager, None)
    in_region = _compensation(manager, f"region:{region.id}")

    assert own.suppressed is False and own.value > 0
    assert in_region.suppressed is not region_shown
    assert in_region.display == (
        f"{in_region.value:,}".replace(",", "\u00a0") if region_shown else COMPLEMENTARY
    )


@pytest.mark.parametrize(("heinola_people", "region_shown"), [(2, False), (6, True)])
def test_dashboard__region_compensation__viewers_municipality_without_a_programme(
    lahti, lahti_counsellor, heinola_counsellor, manager, region, heinola_people, region_shown
):
    """Lahti paid nothing (no integration programme): its cells do not tell how many of its
    residents the region is paid for, so the region's amount shows only while the other
    municipalities' own persons are five or more."""
    lahti.has_integration_programme = False
    lahti.save(update_fields=["has_integration_programme"])
    for _ in range(20):
        _resident(lahti_counsellor, "398")
    for _ in range(heinola_people):
        _resident(heinola_counsellor, "111")
    rollups.refresh(full=True)

    assert _compensation(manager, f"region:{region.id}").suppressed is not region_shown


def _forty_plans(actor, outcome: str):
    """40 plans from January 2025: 20 basic, 5 of them ended with `outcome` in their second
    month; 20 multi-sectoral, 2 of them so."""
    for i in range(40):
        multi = i < 20
        ends = i < 2 if multi else i < 25
        c = b.client(actor, created_on=dt.date(2025, 1, 2))
        b.plan(actor, c, starts_on=dt.date(2025, 1, 10),
               kind="multisectoral" if multi else "basic",
               ended_on=dt.date(2025, 2, 20) if ends else None,
               outcome=outcome if ends else "")  # fmt: skip
    rollups.refresh(full=True)


def _impact(user, scope_code):
    return selectors.impact_for(user=user, scope_code=scope_code, month_from=PERIOD.month_from,
                                month_to=PERIOD.month_to)  # fmt: skip


def test_impact__a_group_curve_dotdot_not_given_away_by_the_overall_less_the_others(
    lahti, lahti_counsellor, national
):
    """At 3 months 33 are followed, 15 basic, 18 multi-sectoral: the latter's ".." (20, then
    18: two ended) was 33 less 15. With the basic's hidden too (at least 5, at most its 20
    shown before), it is anywhere from 13 to 20."""
    _forty_plans(lahti_counsellor, "moved_away")

    i = _impact(national, f"org:{lahti.id}")

    overall = {p.months: p.at_risk.display for p in i.curve}
    groups = {k: {p.months: p.at_risk.display for p in v} for k, v in i.group_curves.items()}
    assert overall[3] == "33"
    assert groups["Multi-sectoral"][3] == ".."
    assert groups["Basic"][3] == ".."  # 15
    for t, shown in overall.items():
        hidden = [g for g in groups.values() if g.get(t) in ("..", "<5", None)]
        assert t == 0 or shown == ".." or len(hidden) != 1, t


def test_impact__a_group_curve_does_not_tell_a_hidden_share_or_the_other_group(
    lahti, lahti_counsellor, national, manager, web
):
    """5 of 20 basic and 2 of 20 multi-sectoral plans employed in their second month: the
    groups' shares at 6 and 12 months are hidden ("–"), but the basic curve's 25 % of 20
    told its 5, and the overall's 18 % of 40 (7) less them the multi-sectoral 2."""
    _forty_plans(lahti_counsellor, "employed")

    i = _impact(national, f"org:{lahti.id}")

    assert {r.key: r.shares[6].display for r in i.groups} == {"basic": "–", "multisectoral": "–"}
    assert i.curve[1].display == "18\u00a0%"  # 7 of 40
    for label, points in i.group_curves.items():
        assert points[0].display == "0\u00a0%"
        assert all(p.display == "–" and p.interval_display == "–" for p in points[1:]), label
    body = (
        web(national)
        .get(f"/api/v1/insights/impact?scope=org:{lahti.id}&from=2025-01&to=2026-11")
        .json()
    )
    for points in body["kaplan_meier_by_group"].values():
        assert [p["reached"] for p in points[1:]] == [None] * (len(points) - 1)
        assert all(p["ci95"] is None for p in points[1:])
    # Lahti's own view: nothing hidden
    own = _impact(manager, None)
    assert own.group_curves["Basic"][1].display == "25\u00a0%"


def test_protect_impact__a_group_point_hidden_where_its_share_is():
    """A group's share at 6 months hidden, its curve's point at 6 months shown: the point
    would tell the share's counts (every plan followed: they are the same)."""
    from koto.insights.selectors import HIDDEN_SHARE, ImpactRow, KmPoint, _protect_impact

    def fig(v):
        return figure(v, suppress=True)

    def points(n, reached_by_6):  # (at 0 and 3 months none had)
        reached = {0: 0, 3: 0, 6: reached_by_6}
        return [KmPoint(t, fig(n), k / n, 0.1, 0.5, k, n) for t, k in reached.items()]

    later = {12: Share(fig(0), fig(0)), 24: Share(fig(0), fig(0))}  # not followed that long
    cohort = ImpactRow("2025 Q1", "2025 Q1", fig(40), {6: Share(fig(12), fig(40)), **later})
    basic = ImpactRow("basic", "Basic", fig(20), {6: HIDDEN_SHARE, **later})
    multi = ImpactRow("multisectoral", "Multi", fig(20), {6: HIDDEN_SHARE, **later})
    curves = {"Basic": points(20, 6), "Multi": points(20, 6)}
    overall = points(40, 12)
    followed = {("basic", 6): True, ("multisectoral", 6): True, ("", 6): True}

    _protect_impact([cohort], [basic, multi], overall, curves, set(), followed)

    assert [p.display for p in curves["Basic"]] == ["0\u00a0%", "0\u00a0%", "–"]
    assert [p.display for p in curves["Multi"]] == ["0\u00a0%", "0\u00a0%", "–"]
    assert overall[2].display == "30\u00a0%"  # the cohort's 12 of 40 tells it anyway


def test_impact__a_group_whose_every_plan_reached_the_outcome__its_curve_ends_at_100(
    lahti_counsellor, manager
):
    """One multi-sectoral plan, employed in its second month: the group's share at 6 months
    is 100 %, and so is its curve's point at 3 months, where it ends (until 2026-12-08 the
    curve stopped at 0 % before the outcome: no one was left to follow)."""
    for i in range(6):
        c = b.client(lahti_counsellor, created_on=dt.date(2025, 1, 2))
        b.plan(lahti_counsellor, c, starts_on=dt.date(2025, 1, 10),
               kind="multisectoral" if i == 0 else "basic",
               ended_on=dt.date(2025, 2, 20) if i == 0 else None,
               outcome="employed" if i == 0 else "")  # fmt: skip
    rollups.refresh(full=True)

    i = _impact(manager, None)

    multi = next(r for r in i.groups if r.key == "multisectoral")
    assert multi.shares[6].display == "100\u00a0%"
    curve = i.group_curves[multi.label]
    assert [(p.months, p.display, p.at_risk.display) for p in curve] == [
        (0, "0\u00a0%", "1"), (3, "100\u00a0%", "0")
    ]  # fmt: skip
    # the basic plans, all still followed, go on
    assert len(i.group_curves[next(r.label for r in i.groups if r.key == "basic")]) > 2


def test_impact__a_hidden_curve_end_is_not_drawn(lahti_counsellor, national, lahti):
    """Outside the organisation a group's curve whose last plans all reached the outcome
    ends where its point would be hidden: a "–" with none followed would still tell that the
    one or few left were employed."""
    for i in range(12):
        c = b.client(lahti_counsellor, created_on=dt.date(2025, 1, 2))
        multi = i < 5
        b.plan(lahti_counsellor, c, starts_on=dt.date(2025, 1, 10),
               kind="multisectoral" if multi else "basic",
               ended_on=(dt.date(2025, 2, 20) if i == 0 else dt.date(2025, 1, 20)) if multi else None,
               outcome=("employed" if i == 0 else "moved_away") if multi else "")  # fmt: skip
    rollups.refresh(full=True)

    i = _impact(national, f"org:{lahti.id}")

    assert i.group_curves  # the groups are drawn (five plans each at least)
    for points in i.group_curves.values():
        assert not any(p.at_risk.value == 0 and p.reached is None for p in points)
