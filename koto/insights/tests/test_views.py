"""Dashboards, exports, impact evaluation and their API: who sees what, hidden small
counts outside the viewer's own organisation, field-named errors, constant queries."""

import csv
import datetime as dt
import io
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from koto.audit.models import AuditEvent
from koto.core import clock
from koto.core.errors import NotFound, PermissionDenied
from koto.insights import exports, rollups, selectors
from koto.insights.models import FULL_OVERDUE, RefreshState
from koto.insights.selectors import Filters
from koto.insights.tests import builders as b
from koto.organisations.models import EmploymentArea, Organisation, OrganisationKind
from tests.factories import OrganisationFactory

PERIOD = "from=2026-01&to=2026-11"


@pytest.fixture
def data(lahti_counsellor, heinola_counsellor):
    clients = [b.client(lahti_counsellor, created_on=dt.date(2026, 1, 5 + i)) for i in range(7)]
    b.client(heinola_counsellor, created_on=dt.date(2026, 1, 9))
    for i, c in enumerate(clients[:6]):
        start = dt.date(2025 if i < 4 else 2026, 1, 10)
        ended = dt.date(start.year, 9, 1) if i < 3 else None
        b.plan(lahti_counsellor, c, starts_on=start, ended_on=ended,
               outcome="employed" if i < 2 else ("moved_away" if i == 2 else ""))  # fmt: skip
    for day in range(3):
        b.contact(lahti_counsellor, on=dt.date(2026, 3, 1 + day))
    rollups.refresh(full=True)


def cells_of(d, table_id):
    return {key: cells for key, _label, cells in d.table(table_id).rows}


def test_dashboard_for__own_organisation_shows_small_counts(data, manager):
    d = selectors.dashboard_for(
        user=manager, scope_code=None, filters=Filters(dt.date(2026, 1, 1), dt.date(2026, 11, 1))
    )
    assert d.scope.own is True
    jan = cells_of(d, "flows")["2026-01-01"]
    assert jan[0].display == "7"
    assert cells_of(d, "contacts_channel")["walk_in"][0].display == "3"
    assert d.suppressed_any is False


def test_dashboard_for__region_hides_counts_below_five(data, manager, region):
    d = selectors.dashboard_for(
        user=manager, scope_code=f"region:{region.id}",
        filters=Filters(dt.date(2026, 1, 1), dt.date(2026, 11, 1)),
    )  # fmt: skip
    assert d.scope.own is False
    jan = cells_of(d, "flows")["2026-01-01"]
    # 7 + 1: at least five, but the manager sees Lahti's 7 on their own dashboard, so the
    # region's 8 would tell Heinola's 1: hidden (as "..": 8 is not a count below five)
    assert jan[0].display == ".."
    assert cells_of(d, "contacts_channel")["walk_in"][0].display == "<5"
    assert d.suppressed_any is True


def test_dashboard_for__region_count_less_the_viewers_own_below_five__hidden(data, manager, region):
    """Subtraction across the viewer's two answers: only the rest beside their own counts."""
    own = selectors.dashboard_for(
        user=manager, scope_code=None, filters=Filters(dt.date(2026, 1, 1), dt.date(2026, 11, 1))
    )
    d = selectors.dashboard_for(
        user=manager, scope_code=f"region:{region.id}",
        filters=Filters(dt.date(2026, 1, 1), dt.date(2026, 11, 1)),
    )  # fmt: skip
    for table in d.tables:
        mine = cells_of(own, table.id)
        for key, _label, cells in table.rows:
            for i, cell in enumerate(cells):
                if not isinstance(cell, selectors.Figure) or cell.suppressed or not cell.guarded:
                    continue
                rest = cell.value - (mine[key][i].value if key in mine else 0)
                assert not 0 < rest < 5, (table.id, key, i)


def test_dashboard_for__share_hidden_when_a_part_is_hidden(data, manager, region):
    d = selectors.dashboard_for(
        user=manager, scope_code=f"region:{region.id}",
        filters=Filters(dt.date(2026, 1, 1), dt.date(2026, 11, 1)),
    )  # fmt: skip
    share = cells_of(d, "compliance")["service_deadline"][-1]
    assert share.display == "–"


def test_scope_get_for__another_municipality_is_not_found(data, manager, heinola):
    with pytest.raises(NotFound):
        selectors.scope_get_for(user=manager, code=f"org:{heinola.id}")
    with pytest.raises(NotFound):
        selectors.scope_get_for(user=manager, code="national")


def test_scope_get_for__national_viewer_opens_any_scope(data, national, heinola):
    assert selectors.scope_get_for(user=national, code="national").level == "national"
    s = selectors.scope_get_for(user=national, code=f"org:{heinola.id}")
    assert (s.level, s.own) == ("organisation", False)


def test_scope_choices_for__national_viewer_chooses_any_region_area_or_municipality(
    data, national, manager, region, lahti, heinola
):
    authority = OrganisationFactory(code="ta-lahti", name_fi="Lahden työllisyysalue",
                                    kind=OrganisationKind.EMPLOYMENT_AUTHORITY)  # fmt: skip
    EmploymentArea.objects.create(authority=authority, responsible_municipality=lahti)
    OrganisationFactory(code="ta-none", kind=OrganisationKind.EMPLOYMENT_AUTHORITY)  # no area
    Organisation.objects.update(name_sv="")  # no Swedish names: the Finnish ones are shown
    Organisation.objects.filter(id=lahti.id).update(name_sv="Lahtis")
    turku = OrganisationFactory(code="853", name_fi="Turku", name_sv="Åbo")
    aanekoski = OrganisationFactory(code="992", name_fi="Äänekoski", name_sv="")
    with translation.override("sv"):
        choices = dict(selectors.scope_choices_for(user=national))
        municipalities = choices["Kommuner"]
        region_label = selectors._region_label("Päijät-Hämeen hva")
    # labelled as the page it opens is: the region's figures include its municipalities'
    assert choices["Välfärdsområden"] == [(f"region:{region.id}", region_label)]
    assert region_label == "Päijät-Hämeen hva och dess kommuner"
    assert choices["Sysselsättningsområden"] == [(f"area:{authority.id}", "Lahden työllisyysalue")]
    # in the language's names and order, Finnish where a name is missing
    assert municipalities == [(f"org:{heinola.id}", "Heinola"), (f"org:{lahti.id}", "Lahtis"),
                              (f"org:{turku.id}", "Åbo"), (f"org:{aanekoski.id}", "Äänekoski")]  # fmt: skip
    assert [code for code, _label in selectors.scope_choices_for(user=manager)] == [
        f"org:{lahti.id}", f"region:{region.id}", f"area:{authority.id}",
    ]  # fmt: skip


def test_dashboard_page__national_viewer_opens_a_municipality_from_the_list(
    data, national, lahti, web, monkeypatch
):
    lists = []
    names = selectors.organisation_names
    monkeypatch.setattr(selectors, "organisation_names", lambda *a, **k: lists.append(a) or names(*a, **k))  # fmt: skip
    page = web(national).get(f"/insights/?{PERIOD}").content.decode()
    assert len(lists) == 3  # regions, areas, municipalities: read once for the page
    name = lahti.name_en  # the page is in English
    assert f'<option value="org:{lahti.id}">{name}</option>' in page
    assert '<optgroup label="Municipalities">' in page
    response = web(national).get(f"/insights/?scope=org:{lahti.id}&{PERIOD}")
    assert response.status_code == 200
    assert f'<option value="org:{lahti.id}" selected>{name}</option>' in response.content.decode()
    d = response.context["d"]
    assert (d.scope.label, d.scope.own) == (name, False)
    assert cells_of(d, "contacts_channel")["walk_in"][0].display == "<5"


def test_dashboard_page__scope_opened_by_address_is_the_one_selected(data, national, web):
    ngo = OrganisationFactory(code="ngo-1", name_fi="Järjestö", kind=OrganisationKind.NGO)
    for url in (f"/insights/?scope=org:{ngo.id}&{PERIOD}", f"/insights/impact/?scope=org:{ngo.id}"):
        html = web(national).get(url).content.decode()
        select = html[html.index('<select name="scope"') :]
        select = select[: select.index("</select>")]
        assert f'<option value="org:{ngo.id}" selected>{ngo.name_en}</option>' in select
        assert select.count(" selected>") == 1


def test_dashboard_page__scope_code_written_otherwise(data, national, keha, lahti, web):
    # a leading zero opens the same municipality, selected once under the lists' code
    html = web(national).get(f"/insights/?scope=org:0{lahti.id}&{PERIOD}").content.decode()
    select = html[html.index('<select name="scope"') :]
    select = select[: select.index("</select>")]
    assert f'<option value="org:{lahti.id}" selected>' in select
    assert select.count(" selected>") == 1 and f"org:0{lahti.id}" not in select
    own = selectors.scope_get_for(user=national, code=f"org:0{keha.id}")
    assert (own.code, own.own) == (f"org:{keha.id}", True)  # its own, written otherwise
    # digits that are not ASCII, too many for an id, or no code at all: refused naming the
    # field, not a crash; a code of the right form that names nothing: no such scope
    for code in ("org:%C2%B2", "org:%D9%A3", "org:" + "9" * 20, "bogus", "org:"):
        response = web(national).get(f"/insights/?scope={code}")
        assert response.status_code == 400, code
        assert 'id="id_scope"' in response.content.decode()
    assert web(national).get("/insights/?scope=org:" + "9" * 18).status_code == 404
    api = web(national).get("/api/v1/insights/dashboard?scope=bogus")
    assert api.status_code in (400, 422) and "scope" in api.content.decode()


def test_export_and_api__never_read_the_scope_list(data, national, lahti_counsellor, web,
                                                   monkeypatch):  # fmt: skip
    def unused(*args, **kwargs):
        raise AssertionError("the scope list is for the page's select only")

    monkeypatch.setattr(selectors, "organisation_names", unused)
    for url in (f"/insights/export.csv?scope=national&{PERIOD}",
                f"/insights/export.xlsx?scope=national&{PERIOD}",
                f"/api/v1/insights/dashboard?scope=national&{PERIOD}",
                "/api/v1/insights/impact?scope=national"):  # fmt: skip
        assert web(national).get(url).status_code == 200, url
    # refused before the filters are read
    bad = web(lahti_counsellor).get("/api/v1/insights/dashboard?from=26-1")
    assert bad.status_code == 403


def test_dashboard_page__reads_the_viewers_scopes_once(data, manager, web):
    # the figures' scope and the filter's options both need them: read twice before
    http = web(manager)
    with CaptureQueriesContext(connection) as ctx:
        assert http.get(f"/insights/?{PERIOD}").status_code == 200
    areas = [q for q in ctx.captured_queries if "organisations_employmentarea" in q["sql"]]
    assert len(areas) == 1


def test_scopes_for__kept_for_the_membership_and_language(manager):
    first = selectors.scopes_for(user=manager)
    with CaptureQueriesContext(connection) as ctx:
        assert selectors.scopes_for(user=manager) == first
    assert ctx.captured_queries == []
    with translation.override("sv"):
        swedish = selectors.scopes_for(user=manager)
    assert len(swedish) == len(first)
    region = next(s for s in swedish if s.level == "region")
    assert "och dess kommuner" in region.label  # not the English label kept before


def test_scopes_for__counsellor_may_not_read_dashboards(lahti_counsellor):
    with pytest.raises(PermissionDenied):
        selectors.scopes_for(user=lahti_counsellor)


def test_impact_for__shares_with_wilson_intervals(data, manager):
    i = selectors.impact_for(
        user=manager, scope_code=None, month_from=dt.date(2025, 1, 1),
        month_to=dt.date(2026, 11, 1),
    )  # fmt: skip
    q1_2025 = next(r for r in i.cohorts if r.key == "2025 Q1")
    # Four plans started 1/2025; two ended employed in 9/2025 (7 whole months): 0 of 4 by 6
    # months, 2 of 4 by 12 months; 24 months not reached yet (1/2027).
    assert q1_2025.plans.value == 4
    assert (q1_2025.shares[6].k.value, q1_2025.shares[6].n.value) == (0, 4)
    assert (q1_2025.shares[12].k.value, q1_2025.shares[12].n.value) == (2, 4)
    assert q1_2025.shares[12].interval == pytest.approx((0.15003, 0.84997), abs=1e-4)
    assert q1_2025.shares[24].n.value == 0
    assert q1_2025.shares[24].display == "–"
    at = {p.months: p for p in i.curve}
    assert at[6].reached == 0
    # Kaplan–Meier at 9 months: 2 events among 6 at risk at month 7 → 1 − 4/6.
    assert at[9].reached == pytest.approx(1 - 4 / 6)


def test_impact_for__group_curves_in_the_groups_order(lahti_counsellor, manager):
    """The curves by group are listed as the groups' table beside them (by label in the
    viewer's language; they were by code: "Kotoutumiskoulutus" before "Ei palvelua")."""
    for i in range(6):
        c = b.client(lahti_counsellor, created_on=dt.date(2025, 1, 5))
        b.plan(lahti_counsellor, c, starts_on=dt.date(2025, 1, 10))
        if i < 3:
            e = b.enrolment(lahti_counsellor, c, requested_on=dt.date(2025, 2, 1))
            e.started_on = dt.date(2025, 2, 3)  # used: started
            e.save(update_fields=["started_on"])
    rollups.refresh(full=True)
    with translation.override("fi"):
        i = selectors.impact_for(
            user=manager, scope_code=None, month_from=dt.date(2025, 1, 1),
            month_to=dt.date(2025, 12, 1), grouping="services",
        )  # fmt: skip
    assert [r.label for r in i.groups] == ["Ei palvelua", "Kotoutumiskoulutus"]
    assert list(i.group_curves) == ["Ei palvelua", "Kotoutumiskoulutus"]


def test_impact_for__follow_up_and_outcome_months_counted_whole(lahti_counsellor, manager):
    """A share "within 6 months" counts only plans followed 6 whole months whatever the
    day of their start month, and only outcomes within them (months are rounded down)."""
    clients = [b.client(lahti_counsellor, created_on=dt.date(2025, 1, 5)) for _ in range(3)]
    # employed 6 months and 10 days after the start: after 6 months, within 12
    b.plan(lahti_counsellor, clients[0], starts_on=dt.date(2025, 1, 10),
           ended_on=dt.date(2025, 7, 20), outcome="employed")  # fmt: skip
    # started on 31 May 2026, still going on 15 November: not yet followed 6 months
    b.plan(lahti_counsellor, clients[1], starts_on=dt.date(2026, 5, 31))
    b.plan(lahti_counsellor, clients[2], starts_on=dt.date(2026, 4, 30))
    rollups.refresh(full=True)
    i = selectors.impact_for(
        user=manager, scope_code=None, month_from=dt.date(2025, 1, 1),
        month_to=dt.date(2026, 11, 1),
    )  # fmt: skip
    q1_2025 = next(r for r in i.cohorts if r.key == "2025 Q1")
    assert (q1_2025.shares[6].k.value, q1_2025.shares[6].n.value) == (0, 1)
    assert (q1_2025.shares[12].k.value, q1_2025.shares[12].n.value) == (1, 1)
    q2_2026 = next(r for r in i.cohorts if r.key == "2026 Q2")
    assert q2_2026.shares[6].n.value == 1  # April's plan: followed 6 months by 31 October
    at = {p.months: p for p in i.curve}
    assert at[6].reached == 0  # the outcome of month 6 is not within 6 months
    assert at[6].at_risk.value == 2  # the first plan and April's


def test_dashboard_page__renders_charts_and_tables(data, manager, web):
    response = web(manager).get(f"/insights/?{PERIOD}")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"') == 12
    assert "Flows by month" in html
    assert "Clients who moved" in html
    assert 'aria-labelledby="c-flows-t c-flows-d"' in html


def test_dashboard_page__queries_do_not_grow_with_data(data, manager, web, lahti_counsellor):
    http = web(manager)
    http.get(f"/insights/?{PERIOD}")
    cache.clear()  # measure the sums' queries too
    with CaptureQueriesContext(connection) as small:
        http.get(f"/insights/?{PERIOD}")
    for day in range(20):
        b.contact(lahti_counsellor, on=dt.date(2026, 5, 1 + day), language=f"x{day % 9}")
    rollups.refresh()
    with CaptureQueriesContext(connection) as large:
        http.get(f"/insights/?{PERIOD}")
    assert len(large.captured_queries) == len(small.captured_queries)
    assert len(small.captured_queries) <= 14


def test_dashboard_for__sums_cached_until_the_next_refresh(data, manager, lahti_counsellor):
    # given a dashboard read once
    period = Filters(dt.date(2026, 1, 1), dt.date(2026, 11, 1))
    first = selectors.dashboard_for(user=manager, scope_code=None, filters=period)
    # when it is read again, the rollup cells are not queried
    with CaptureQueriesContext(connection) as again:
        second = selectors.dashboard_for(user=manager, scope_code=None, filters=period)
    assert not any("insights_cell" in q["sql"] for q in again.captured_queries)
    assert cells_of(second, "contacts_channel") == cells_of(first, "contacts_channel")
    # and new contacts show only after the rollups are refreshed
    b.contact(lahti_counsellor, on=dt.date(2026, 3, 9))
    unrefreshed = selectors.dashboard_for(user=manager, scope_code=None, filters=period)
    assert cells_of(unrefreshed, "contacts_channel")["walk_in"][0].display == "3"
    rollups.refresh(full=True)  # (the clock is frozen: no watermark would see the contact)
    refreshed = selectors.dashboard_for(user=manager, scope_code=None, filters=period)
    assert cells_of(refreshed, "contacts_channel")["walk_in"][0].display == "4"


def test_dashboard_page__bad_month_names_the_field(manager, web):
    response = web(manager).get("/insights/?from=2026-13&to=2026-01")
    assert response.status_code == 400
    assert "Give the month as YYYY-MM" in response.content.decode()


@pytest.mark.parametrize(("query", "field"), [("from=9999-12&to=9999-12", "from"),
                                               ("from=1999-12", "from"), ("to=2101-01", "to")])  # fmt: skip
def test_dashboard__month_out_of_range_names_the_field(manager, web, query, field):
    for url in ("/api/v1/insights/dashboard", "/api/v1/insights/impact"):
        response = web(manager).get(f"{url}?{query}")
        assert response.status_code == 422
        assert response.json()["fields"][field] == ["Give a month from 2000-01 to 2100-12."]
    for url in ("/insights/", "/insights/impact/", "/insights/export.csv"):
        assert web(manager).get(f"{url}?{query}").status_code == 400
    assert web(manager).get("/insights/?from=2100-01&to=2100-12").status_code == 200


def test_dashboard_page__another_scope_answers_404(data, manager, heinola, web):
    assert web(manager).get(f"/insights/?scope=org:{heinola.id}").status_code == 404


def test_dashboard_page__counsellor_is_refused(lahti_counsellor, web):
    assert web(lahti_counsellor).get("/insights/").status_code == 403


@pytest.mark.parametrize("url", ["/insights/", "/insights/impact/", "/insights/export.csv"])
def test_pages__anonymous_goes_to_login(client, url, db):
    response = client.get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_export_csv__as_shown_and_audited(data, manager, region, web):
    response = web(manager).get(f"/insights/export.csv?scope=region:{region.id}&{PERIOD}")
    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    text = response.content.decode("utf-8-sig")
    assert "<5" in text
    assert "Flows by month" in text
    event = AuditEvent.objects.filter(object_type="insights_dashboard").latest("id")
    assert (event.action, event.object_id, event.changes["format"]) == (
        "export", f"region:{region.id}", "csv",
    )  # fmt: skip


def test_export_csv__says_what_it_is_in_the_viewers_language(data, manager, region, web):
    query = f"scope=region:{region.id}&{PERIOD}&target_group=protection&age_band=18_29"
    # a summer night in UTC is the next morning in Helsinki (UTC+3), as the page says it
    RefreshState.objects.filter(id=1).update(refreshed_at=dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC))  # fmt: skip
    head = list(csv.reader(io.StringIO(
        web(manager).get(f"/insights/export.csv?{query}").content.decode("utf-8-sig"))))[:10]  # fmt: skip
    assert head[0] == ["Koto", "Area", selectors.scope_get_for(user=manager, code=f"region:{region.id}").label]  # fmt: skip
    assert ["", "From month", "2026-01"] in head and ["", "To month", "2026-11"] in head
    assert ["", "Age band", "18–29"] in head and ["", "Language", "All"] in head
    assert ["", "Figures as of 2026-07-02 01:30"] in head
    assert any("shown as “<5”" in r[1] for r in head)
    finnish = web(manager)
    finnish.cookies["django_language"] = "fi"
    own = list(csv.reader(io.StringIO(
        finnish.get(f"/insights/export.csv?{PERIOD}").content.decode("utf-8-sig"))))[:9]  # fmt: skip
    assert own[1] == ["", "Alkukuukausi", "2026-01"]
    assert not any("<5" in cell for r in own for cell in r)  # its own organisation
    late = RefreshState.get().full_refreshed_at + FULL_OVERDUE + dt.timedelta(hours=1)
    with clock.frozen(late):
        text = web(manager).get(f"/insights/export.csv?{PERIOD}").content.decode()
    assert "The nightly recount of all figures last ran on" in text


def test_export_xlsx__one_sheet_per_table(data, manager, web):
    response = web(manager).get(f"/insights/export.xlsx?{PERIOD}")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    # each sheet named as its table in the viewer's language, within Excel's 31 characters
    flows = next(t for t in selectors.dashboard_for(
        user=manager, scope_code=None, filters=Filters(dt.date(2026, 1, 1), dt.date(2026, 11, 1))
    ).tables if t.id == "flows").title  # fmt: skip
    sheet = exports._sheet_title(flows, set())
    assert sheet in wb.sheetnames
    assert wb[sheet]["B3"].value == 7  # January 2026 new clients, a number
    assert len(wb.sheetnames) == len(set(wb.sheetnames))
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in wb.sheetnames)
    finnish = web(manager)
    finnish.cookies["django_language"] = "fi"
    wb = load_workbook(io.BytesIO(finnish.get(f"/insights/export.xlsx?{PERIOD}").content))
    assert "flows" not in wb.sheetnames and wb.sheetnames[0] == "Koto"


def test_sheet_title__excel_s_limits_and_unique():
    from koto.insights.exports import _sheet_title

    used = {"Koto"}
    long = "Municipal placement: places agreed and used"
    assert _sheet_title(long, used) == "Municipal placement places"
    assert _sheet_title(long, used) == "Municipal placement places (2)"
    kaplan = "Time to employment or studies (Kaplan–Meier)"
    assert _sheet_title(kaplan, used) == "Time to employment or studies"
    assert _sheet_title("A" * 40, used) == "A" * 31
    assert _sheet_title("koto", used) == "koto (2)"


def test_impact_page__labelled_observational(data, manager, web):
    response = web(manager).get("/insights/impact/?from=2025-01&to=2026-11&group=services")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Observational, not causal." in html
    assert "Kaplan–Meier" in html


def test_refresh_state__full_overdue_after_26_hours(data):
    state = RefreshState.get()
    ran = state.full_refreshed_at
    assert ran is not None
    assert not state.full_overdue(ran + FULL_OVERDUE)
    assert state.full_overdue(ran + FULL_OVERDUE + dt.timedelta(seconds=1))
    state.full_refreshed_at = None  # regular refreshes only, never a full one
    assert state.full_overdue(ran)
    state.refreshed_at = None  # nothing computed: no figures to doubt
    assert not state.full_overdue(ran)


def test_pages_and_api__say_when_the_nightly_full_recount_is_late(data, manager, web):
    pages = (f"/insights/?{PERIOD}", "/insights/impact/?from=2025-01&to=2026-11")
    for url in pages:
        assert 'id="full-overdue"' not in web(manager).get(url).content.decode()
    late = RefreshState.get().full_refreshed_at + FULL_OVERDUE + dt.timedelta(hours=1)
    with clock.frozen(late):
        for url in pages:
            html = web(manager).get(url).content.decode()
            assert 'id="full-overdue"' in html
            assert "The nightly recount of all figures last ran on" in html
        for api in (f"/api/v1/insights/dashboard?{PERIOD}", "/api/v1/insights/impact"):
            assert web(manager).get(api).json()["full_refresh_overdue"] is True
        RefreshState.objects.update(full_refreshed_at=None)
        html = web(manager).get(pages[0]).content.decode()
        assert "The nightly recount of all figures has not run yet." in html


def test_impact_page__unknown_grouping_names_the_field(manager, web):
    response = web(manager).get("/insights/impact/?group=shoe_size")
    assert response.status_code == 400
    assert "shoe_size" in response.content.decode()


def test_api_dashboard__json_with_hidden_counts(data, manager, region, web):
    response = web(manager).get(f"/api/v1/insights/dashboard?scope=region:{region.id}&{PERIOD}")
    assert response.status_code == 200
    body = response.json()
    channel = next(t for t in body["tables"] if t["id"] == "contacts_channel")
    assert channel["rows"][0]["values"] == ["<5"]
    assert body["suppressed_below"] == 5
    notes = {t["id"]: t["note"] for t in body["tables"]}
    assert notes["flows"] == ""
    assert notes["compliance_months"].startswith("A month with no deadline due")


def test_api_scopes__a_national_caller_also_gets_every_area_it_may_open(
    data, national, manager, region, lahti, heinola, web
):
    body = web(national).get("/api/v1/insights/scopes").json()
    assert body[0]["own"] is True and body[1]["code"] == "national"
    by_code = {s["code"]: s for s in body}
    assert by_code[f"region:{region.id}"]["level"] == "region"
    page_label = selectors.scope_get_for(user=national, code=f"region:{region.id}").label
    assert by_code[f"region:{region.id}"]["label"] == page_label
    assert by_code[f"org:{lahti.id}"] == {
        "code": f"org:{lahti.id}", "label": lahti.name_en, "level": "organisation", "own": False,
    }  # fmt: skip
    assert f"org:{heinola.id}" in by_code
    mine = web(manager).get("/api/v1/insights/scopes").json()
    assert [s["code"] for s in mine] == [f"org:{lahti.id}", f"region:{region.id}"]


def test_api_dashboard__bad_month_is_422_naming_the_field(manager, web):
    response = web(manager).get("/api/v1/insights/dashboard?from=26-1")
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["from"]


def test_api_dashboard__another_scope_is_404(data, manager, heinola, web):
    response = web(manager).get(f"/api/v1/insights/dashboard?scope=org:{heinola.id}")
    assert response.status_code == 404


def test_api_dashboard__anonymous_is_401(client, db):
    assert client.get("/api/v1/insights/dashboard").status_code == 401


def test_api_impact__kaplan_meier_points(data, manager, web):
    response = web(manager).get("/api/v1/insights/impact?from=2025-01&to=2026-11")
    assert response.status_code == 200
    body = response.json()
    assert body["observational"] is True
    assert body["kaplan_meier"][0] == {"months": 0, "followed": 6, "reached": 0.0, "ci95": None}
    assert json.dumps(body)  # serialisable as it is


def test_share_over_all__places_used_beyond_those_agreed__shown_without_an_interval():
    """A family of six placed where five places were agreed: 120 %, not a 500."""
    used, agreed = selectors.Figure(6, False, True), selectors.Figure(5, False, True)
    share = selectors.Share(used, agreed, complement_counts=False)
    assert share.display == "120\u00a0%"
    assert share.interval is None and share.interval_display == ""


def test_dashboard_for__person_filter__placements_and_money_left_out_not_zeros(data, manager):
    period = (dt.date(2026, 1, 1), dt.date(2026, 11, 1))
    whole = selectors.dashboard_for(user=manager, scope_code=None, filters=Filters(*period))
    assert {"placements", "compensation"} <= {t.id for t in whole.tables}
    filtered = selectors.dashboard_for(
        user=manager, scope_code=None, filters=Filters(*period, age_band="18_29")
    )
    assert filtered.not_broken_down
    assert not {"placements", "compensation"} & {t.id for t in filtered.tables}
    # contacts by reason and by channel are counted by language only: left out with an age
    # band (until 2026-12-08 shown as "nothing in this period"), kept with a language
    assert not {"contacts_reason", "contacts_channel"} & {t.id for t in filtered.tables}
    assert "contacts_language" in {t.id for t in filtered.tables}
    by_language = selectors.dashboard_for(
        user=manager, scope_code=None, filters=Filters(*period, language="ar")
    )
    assert {"contacts_reason", "contacts_channel"} <= {t.id for t in by_language.tables}


def test_table_csv_rows__a_share_with_its_interval_as_on_the_page():
    share = selectors.Share(selectors.Figure(8, False), selectors.Figure(12, False))
    table = selectors.Table("t", "T", "Key", ["Share"], [("k", "Row", [share])])
    assert table.csv_rows()[2] == ["Row", f"{share.display} ({share.interval_display})"]
    assert "(" in table.csv_rows()[2][1] and "–" in table.csv_rows()[2][1]


@pytest.mark.parametrize(
    ("frm", "to", "label"),
    [((2025, 1), (2025, 12), "2025 Q1"), ((2025, 2), (2025, 12), "2025 Q1 (02–03/2025)"),
     ((2025, 1), (2025, 1), "2025 Q1 (01/2025)")],
)  # fmt: skip
def test_cohort_label__a_quarter_the_period_cuts_names_its_months(frm, to, label):
    assert selectors._cohort_label("2025 Q1", dt.date(*frm, 1), dt.date(*to, 1)) == label


def test_dashboard__rest_hidden_also_where_a_share_or_a_partition_would_tell_it(db):
    """The region's figures less Lahti's own (which its manager sees) are protected by every
    rule, not only each count: 20 completed (Lahti 10) and 12 interrupted (Lahti 10) hide
    the interrupted and the completion rate (62 % of 32 would tell 2); plans ended 13 in
    January (Lahti 10), 5 in February (Lahti 0), 18 employed (Lahti 10): January hidden
    and another month or the outcome with it."""
    from koto.insights.models import Metric, RefreshState

    scope = selectors.Scope("region:1", "Region", "region", False)
    filters = Filters(dt.date(2026, 1, 1), dt.date(2026, 2, 1))
    jan, feb = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
    region = [
        (Metric.ENROLMENT_ENDS, jan, "integration_training:completed", 20),
        (Metric.ENROLMENT_ENDS, jan, "integration_training:interrupted", 12),
        (Metric.PLANS_ENDED, jan, "employed", 13), (Metric.PLANS_ENDED, feb, "employed", 5),
    ]  # fmt: skip
    own = [
        (Metric.ENROLMENT_ENDS, jan, "integration_training:completed", 10),
        (Metric.ENROLMENT_ENDS, jan, "integration_training:interrupted", 10),
        (Metric.PLANS_ENDED, jan, "employed", 10),
    ]  # fmt: skip
    state = RefreshState.get()
    d = selectors._dashboard(scope, filters, state, (region, []))
    rest = selectors._dashboard(scope, filters, state, selectors._less((region, []), (own, [])))
    selectors._hide_where_hidden(d, rest)

    services = cells_of(d, "services")["integration_training"]
    assert services[3].display == ".." and services[4].display == "–"
    flows = cells_of(d, "flows")
    ended = [m for m, _t in selectors.MONTH_FLOWS].index(Metric.PLANS_ENDED)
    shown = [flows[m.isoformat()][ended] for m in (jan, feb)]
    outcome = cells_of(d, "outcomes")["employed"][0]
    assert shown[0].suppressed
    # with January hidden, February and the outcome cannot both be shown: 18 - 5 = 13
    assert shown[1].suppressed or outcome.suppressed


def test_export_csv__counts_as_plain_digits_hidden_ones_and_shares_as_shown():
    """A count of a thousand or more is "1 234" on the page; in the file it is 1234, which a
    spreadsheet can sum (until 2026-12-08 it kept the page's no-break space and was text)."""
    share = selectors.Share(selectors.Figure(8, False), selectors.Figure(12, False))
    table = selectors.Table("t", "T", "Key", ["Count", "Hidden", "Share"], [
        ("k", "Row", [selectors.Figure(79085, False), selectors.Figure(3, True), share])
    ])  # fmt: skip
    scope = selectors.Scope("org:1", "Lahti", "organisation", own=True)
    d = selectors.Dashboard(scope, Filters(dt.date(2026, 1, 1), dt.date(2026, 11, 1)), [], [table])
    rows = list(csv.reader(io.StringIO(exports.dashboard_csv(d).lstrip("\ufeff"))))
    assert rows[-1] == ["Row", "79085", "<5", f"{share.display} ({share.interval_display})"]


def test_dashboard_page__first_visit__the_period_in_the_form_and_a_national_viewer_s_country(
    data, manager, national, web
):
    """No filters: the default months are written in the form and beside the area, not
    only readable off the table rows; KEHA's first view is the whole country, not its own
    organisation's zeros (both until 2026-12-08)."""
    d = selectors.default_filters()
    start, end = d.month_from.strftime("%Y-%m"), d.month_to.strftime("%Y-%m")
    for url in ("/insights/", "/insights/impact/"):
        response = web(manager).get(url)
        html = response.content.decode()
        assert f'name="from" value="{start}"' in html and f'name="to" value="{end}"' in html, url
        shown = f"{d.month_from.month}/{d.month_from.year}–{d.month_to.month}/{d.month_to.year}"
        assert shown in html, url
    # a month left empty is the default one, shown as such
    html = web(manager).get("/insights/?from=&to=2026-11").content.decode()
    assert f'name="from" value="{start}"' in html and 'name="to" value="2026-11"' in html
    first = web(national).get("/insights/")
    assert first.context["d"].scope.code == "national"
    # and the list shows it (a "Show" sends it, not the first option, its own organisation)
    assert '<option value="national" selected>' in first.content.decode()
    impact = web(national).get("/insights/impact/").content.decode()
    assert '<option value="national" selected>' in impact
    assert web(manager).get("/insights/").context["d"].scope.own
    api = web(national).get("/api/v1/insights/dashboard").json()
    assert api["scope"]["code"] == "national"


def test_scopes__a_municipality_s_own_area_and_helsinki_s_region_named_as_they_are(
    data, manager, lahti
):
    """Lahti is its own employment area, named "Lahti" as the municipality: the list named
    two scopes "Lahti". The City of Helsinki is a welfare region of one municipality: not
    "… and its municipalities" (both until 2026-12-08)."""
    authority = OrganisationFactory(code="ta-398", name_fi="Lahti",
                                    kind=OrganisationKind.EMPLOYMENT_AUTHORITY)  # fmt: skip
    EmploymentArea.objects.create(authority=authority, responsible_municipality=lahti)
    with translation.override("fi"):
        labels = [s.label for s in selectors._scopes_for(manager)]
        assert labels[0] == "Lahti" and "Lahti (työllisyysalue)" in labels
        # the region's own scope is "Helsingin kaupunki": the region with its municipality
        # is told apart from it
        assert selectors._region_label("Helsingin kaupunki") == "Helsingin kaupunki ja sen kunta"
        assert selectors._region_label("Päijät-Hämeen hva") == "Päijät-Hämeen hva ja sen kunnat"
    with translation.override("sv"):
        assert selectors._region_label("Helsingfors stad") == "Helsingfors stad och dess kommun"


def test_impact_export__the_page_s_tables_and_what_it_says_around_them(data, manager, web):
    """The impact evaluation leaves Koto as the dashboard does (until 2026-12-08 it had no
    file): the observational note, the filters, the cohorts, the groups and the curves,
    counts as numbers; each export audited."""
    query = "from=2025-01&to=2026-11&group=plan_kind"
    page = web(manager).get(f"/insights/impact/?{query}").content.decode()
    assert f"/insights/impact/export.csv?{query}".replace("&", "&amp;") in page
    i = web(manager).get(f"/insights/impact/?{query}").context["i"]
    response = web(manager).get(f"/insights/impact/export.csv?{query}")
    assert response.status_code == 200
    assert 'filename="koto_impact_org-' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["", "Observational, not causal."] in rows
    assert ["", "Compare by", "Plan type"] in rows
    titles = [r[0] for r in rows if len(r) == 1 and r[0]]
    assert titles == ["Cohorts by the quarter the plan started", "By group",
                      "Time to employment or studies (Kaplan–Meier)",
                      "Share employed or studying by group (Kaplan–Meier)"]  # fmt: skip
    km = rows[rows.index(["Time to employment or studies (Kaplan–Meier)"]) + 2]
    assert km[:3] == ["0", str(i.curve[0].at_risk.value), i.curve[0].display]
    book = load_workbook(
        io.BytesIO(web(manager).get(f"/insights/impact/export.xlsx?{query}").content)
    )
    assert book.sheetnames[0] == "Koto" and "By group" in book.sheetnames
    assert book["By group"]["B3"].value == i.groups[0].plans.value  # a number
    exported = AuditEvent.objects.filter(action="export", object_type="insights_impact")
    assert [e.changes["format"] for e in exported.order_by("id")] == ["csv", "xlsx"]
    assert exported.first().changes["group"] == "plan_kind"
    # refused as the page is
    assert web(manager).get("/insights/impact/export.csv?from=26-1").status_code == 400


def _on_18_november(manager, month_from: dt.date, month_to: dt.date):
    with clock.frozen(dt.date(2026, 11, 18)):
        return selectors.dashboard_for(
            user=manager, scope_code=None, filters=Filters(month_from, month_to)
        )


def test_dashboard__the_running_month_labelled_as_counted_so_far(data, manager):
    """The last column of a flow is the month not yet over: its label says so, in the page
    and in the files (until 2026-12-08 it looked like a fall in new clients)."""
    d = _on_18_november(manager, dt.date(2026, 9, 1), dt.date(2026, 11, 1))
    labels = [label for _k, label, _c in d.table("flows").rows]
    assert labels == ["09/2026", "10/2026", "11/2026 (so far)"]
    # under the chart's axis the month alone (the longer label ran past the chart's edge)
    from koto.insights import views

    svg = views._chart(d.table("flows"))
    assert ">11/2026</text>" in svg and "so far" not in svg


def test_dashboard__months_ahead_labelled_not_begun(data, manager):
    """A period reaching past the running month: its months ahead are zeros (or the
    compensation the law would give), labelled so, not read as a fall."""
    d = _on_18_november(manager, dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    labels = [label for _k, label, _c in d.table("flows").rows]
    assert labels == [
        "10/2026",
        "11/2026 (so far)",
        "12/2026 (not yet begun)",
        "01/2027 (not yet begun)",
    ]
    assert [label for _k, label, _c in d.table("compensation").rows] == labels
    # 2027 is not computed yet: said under the table, not read as compensation stopping
    assert (
        "computed up to the end of 2026: the months after it show 0" in d.table("compensation").note
    )
    this_year = _on_18_november(manager, dt.date(2026, 10, 1), dt.date(2026, 12, 1))
    assert "computed up to" not in this_year.table("compensation").note


def test_dashboard__region_compensation_note_says_the_region_is_paid_too(data, manager, region):
    """A region's compensation is its municipalities' and its own (Helsinki's region and
    city differ only there): said under the table; not on the organisation's own page."""
    d = selectors.dashboard_for(
        user=manager, scope_code=f"region:{region.id}",
        filters=Filters(dt.date(2026, 1, 1), dt.date(2026, 11, 1)),
    )  # fmt: skip
    own = selectors.dashboard_for(
        user=manager, scope_code=None, filters=Filters(dt.date(2026, 1, 1), dt.date(2026, 11, 1))
    )
    assert "the welfare regions are paid" in d.table("compensation").note
    assert "the welfare regions are paid" not in own.table("compensation").note


def test_export_csv__table_notes_travel_with_the_tables(data, manager, web):
    """What qualifies a table on the page (agreements per calendar year, a month with no
    deadline due) is in the file after its table: a file travels without the page."""
    body = web(manager).get(f"/insights/export.csv?{PERIOD}", HTTP_ACCEPT_LANGUAGE="en")
    rows = list(csv.reader(io.StringIO(body.content.decode("utf-8-sig"))))
    i = rows.index(["Municipal placement: places agreed and used"])
    # after the title, its columns and three rows: a blank row, then the note beside them
    assert rows[i + 5] == []
    assert rows[i + 6][0] == "" and rows[i + 6][1].startswith("Agreements are per calendar year")
    assert ["", "A month with no deadline due has no share (–)."] in rows
    wb = load_workbook(io.BytesIO(web(manager).get(f"/insights/export.xlsx?{PERIOD}",
                                                  HTTP_ACCEPT_LANGUAGE="en").content))  # fmt: skip
    cells = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert any(str(v).startswith("Agreements are per calendar year") for v in cells)
