"""Placement pages: every URL answers 404 to a third organisation and sends anonymous users
to log in; list pages run a constant number of queries; the actions shown follow the role."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse

from koto.placement import services
from koto.placement.models import MinorCare, Placement, PlacementStatus
from koto.placement.states import TRANSITIONS

from .conftest import TODAY, add_agreements, add_minors


def placement_url_names() -> dict[str, list[str]]:
    for pattern in get_resolver().url_patterns:
        if getattr(pattern, "namespace", None) == "placement":
            return {f"placement:{p.name}": list(p.pattern.converters) for p in pattern.url_patterns}
    return {}


def _urls(placement, agreement, care) -> list[str]:
    kw = {"placement_id": placement.id, "agreement_id": agreement.id, "care_id": care.id}
    out = []
    for name, params in placement_url_names().items():
        if name == "placement:act":
            out += [reverse(name, args=[placement.id, op]) for op in TRANSITIONS]
        else:
            out.append(reverse(name, kwargs={k: kw[k] for k in params}))
    return out


@pytest.fixture
def records(propose, agreement, manager):
    placement = propose()
    minor = propose(
        category="unaccompanied_minor",
        source="reception_centre",
        persons=[
            {
                "first_name": "Ali",
                "last_name": "Rahimi",
                "birth_date": dt.date(2010, 5, 15),
                "residence_basis": "asylum",
                "first_permit_on": dt.date(2025, 9, 1),
            }
        ],
    )
    services.placement_accept(actor=manager, placement=minor)
    services.placement_reserve_housing(
        actor=manager, placement=minor, address="Kauppakatu 1", housing_on=TODAY
    )
    services.placement_arrive(actor=manager, placement=minor, arrived_on=TODAY)
    return placement, agreement, MinorCare.objects.get()


def test_placement_urls__enumerated():
    assert set(placement_url_names()) == {
        "placement:list", "placement:propose", "placement:agreements",
        "placement:agreement_create", "placement:agreement_detail", "placement:agreement_edit",
        "placement:agreement_consult", "placement:agreement_sign", "placement:agreement_revise",
        "placement:minors", "placement:minor_detail", "placement:detail", "placement:consult",
        "placement:health_check", "placement:act",
    }  # fmt: skip


def test_every_placement_url__third_organisation__404_or_empty(web, records, strangers):
    placement, agreement, care = records
    lists = {
        reverse("placement:list"),
        reverse("placement:agreements"),
        reverse("placement:minors"),
    }
    creates = {reverse("placement:propose"), reverse("placement:agreement_create")}
    for stranger in strangers:
        http = web(stranger)
        for url in _urls(placement, agreement, care):
            response = http.get(url)
            if url in lists:
                # a list shows only the viewer's own records
                assert (url, response.status_code) == (url, 200)
                assert "Yusuf" not in response.content.decode()
                assert "Rahimi" not in response.content.decode()
            elif url in creates:  # the form is the authority's: others get 404
                expected = 200 if stranger.username == "stranger_officer" else 404
                assert (stranger.username, url, response.status_code) == (
                    stranger.username, url, expected,
                )  # fmt: skip
            else:
                assert (stranger.username, url, response.status_code) == (
                    stranger.username, url, 404,
                )  # fmt: skip
                post = http.post(
                    url, {"reason": "x", "statement": "x", "consulted_on": "2026-11-01"}
                )
                assert (stranger.username, url, post.status_code) == (stranger.username, url, 404)
    assert Placement.objects.get(pk=placement.pk).status == PlacementStatus.PROPOSED
    assert agreement.consultations.count() == 0


def test_every_placement_url__anonymous__login(client, records):
    for url in _urls(*records):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


def test_placement_pages__user_without_placement_role__404(web, records, counsellor):
    # a Lahti counsellor has `placement.respond`; an employment counsellor has no placement role
    from koto.core.roles import Role
    from tests.factories import member

    placement, agreement, care = records
    user = member(placement.municipality, Role.EMPLOYMENT_COUNSELLOR, username="emp")
    http = web(user)
    for url in (reverse("placement:list"), reverse("placement:agreements")):
        assert http.get(url).status_code == 404
    assert http.get(reverse("placement:detail", args=[placement.id])).status_code == 404


def test_agreement_list__no_year__all_years(web, records, officer):
    response = web(officer).get(reverse("placement:agreements") + "?year=")
    assert response.status_code == 200
    assert response.context["year"] is None


@pytest.mark.parametrize("year", ["%C2%B2", "20266", "abcd", "2026-13", "1999"])
def test_agreement_list__a_year_that_is_not_one__400_naming_year(web, records, officer, year):
    # before, any of these showed every year under an address that asked for one
    response = web(officer).get(reverse("placement:agreements") + f"?year={year}")
    assert response.status_code == 400
    assert response.context["error"].fields.keys() == {"year"}
    assert "<code>year</code>" in response.content.decode()


def test_placement_list__unknown_status__400_naming_status(web, records, officer):
    http = web(officer)
    assert http.get(reverse("placement:list"), {"status": "proposed"}).status_code == 200
    response = http.get(reverse("placement:list"), {"status": "bogus"})
    assert response.status_code == 400
    assert "<code>status</code>" in response.content.decode()
    assert "bogus" in response.content.decode()


@pytest.mark.parametrize("name", ["placement:list", "placement:agreements", "placement:minors"])
def test_placement_list_pages__queries_constant(web, name, propose, officer, manager, lahti):
    def count(user) -> int:
        http = web(user)
        with CaptureQueriesContext(connection) as ctx:
            assert http.get(reverse(name)).status_code == 200
        return len(ctx.captured_queries)

    def add_minor(i: int):
        p = propose(
            category="unaccompanied_minor", source="reception_centre",
            persons=[{"first_name": f"Ali{i}", "last_name": f"Rahimi{i}",
                      "birth_date": dt.date(2010, 5, i + 1), "residence_basis": "asylum", "first_permit_on": dt.date(2025, 9, 1)}],
        )  # fmt: skip
        services.placement_accept(actor=manager, placement=p)
        services.placement_reserve_housing(
            actor=manager, placement=p, address="Katu 1", housing_on=TODAY
        )
        services.placement_arrive(actor=manager, placement=p, arrived_on=TODAY)

    user = officer if name != "placement:minors" else manager
    services.agreement_create(actor=officer, municipality=lahti, year=2026, places={})
    add_minor(0)
    first = count(user)
    from tests.factories import OrganisationFactory

    for i in range(1, 5):
        add_minor(i)
        services.agreement_create(
            actor=officer,
            municipality=OrganisationFactory(
                code=f"{500 + i}",
                welfare_region=lahti.welfare_region,
                regional_state_authority=lahti.regional_state_authority,
            ),  # fmt: skip
            year=2026,
            places={},
        )
    assert count(user) == first


def test_placement_detail__actions_follow_role(web, propose, officer, manager, social_worker):
    placement = propose(evident_welfare_needs=True)
    url = reverse("placement:detail", args=[placement.id])
    accept = reverse("placement:act", args=[placement.id, "accept"])
    cancel = reverse("placement:act", args=[placement.id, "cancel"])
    consult = reverse("placement:consult", args=[placement.id])
    page = web(manager).get(url).content.decode()
    assert accept in page and cancel not in page and consult not in page
    page = web(officer).get(url).content.decode()
    assert cancel in page and accept not in page
    page = web(social_worker).get(url).content.decode()
    assert consult in page and accept not in page


def test_placement_accept_view__flagged_without_consultation__form_error(web, propose, manager):
    placement = propose(evident_welfare_needs=True)
    url = reverse("placement:act", args=[placement.id, "accept"])
    response = web(manager).post(url, {"decided_on": "2026-11-02", "version": placement.version})
    assert response.status_code == 200
    assert "statement before the placement is accepted" in response.content.decode()
    assert Placement.objects.get(pk=placement.pk).status == PlacementStatus.PROPOSED


def test_placement_act__operation_not_allowed_now__404(web, propose, manager):
    placement = propose()
    url = reverse("placement:act", args=[placement.id, "arrive"])
    assert web(manager).get(url).status_code == 404


def test_placement_list__keyset_pages_newest_first(web, propose, officer):
    made = [propose().id for _ in range(53)]
    http = web(officer)
    first = http.get(reverse("placement:list"))
    assert [p.id for p in first.context["placements"]] == sorted(made, reverse=True)[:50]
    cursor = first.context["page"].next_cursor
    rest = http.get(reverse("placement:list"), {"cursor": cursor}).context["placements"]
    assert [p.id for p in rest] == sorted(made, reverse=True)[50:]
    assert http.get(reverse("placement:list"), {"cursor": "x!"}).status_code == 200


@pytest.mark.parametrize(
    ("name", "lister", "order"),
    [
        ("placement:agreements", "officer", ("-year", "-id")),
        ("placement:minors", "manager", ("turns_18_on", "id")),
    ],
)
def test_placement_lists__next_page_links_reach_every_row_once(
    web, monkeypatch, name, lister, order, propose, officer, manager, lahti
):
    import re

    from koto.placement import views
    from koto.placement.models import PlacementAgreement

    # given five agreements (two a year) and five unaccompanied minors, listed two a page
    add_agreements(officer, lahti.welfare_region, 5)
    add_minors(propose, manager, 5)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    model = PlacementAgreement if name == "placement:agreements" else MinorCare
    expected = list(model.objects.order_by(*order).values_list("id", flat=True))
    http = web(officer if lister == "officer" else manager)
    # when the list is followed by its "Next page" links
    seen, url, pages = [], reverse(name), 0
    while url:
        html = http.get(url).content.decode()
        seen += [
            int(i) for i in re.findall(r'href="/placement/(?:agreements|minors)/(\d+)/"', html)
        ]
        pages += 1
        nxt = re.search(r'href="(\?[^"]*cursor=[^"]+)">', html)
        url = reverse(name) + nxt.group(1).replace("&amp;", "&") if nxt else None
    # then every row came once, in the list's order, three pages of two
    assert (seen, pages) == (expected, 3)


def test_agreement_detail__placements_paged(web, monkeypatch, propose, officer, lahti):
    from koto.placement import views

    agreement = services.agreement_create(actor=officer, municipality=lahti, year=2026, places={})
    made = [propose().id for _ in range(3)]
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    http = web(officer)
    url = reverse("placement:agreement_detail", args=[agreement.id])
    first = http.get(url)
    assert [p.id for p in first.context["page"].items] == sorted(made, reverse=True)[:2]
    rest = http.get(url, {"cursor": first.context["page"].next_cursor}).context["page"]
    assert ([p.id for p in rest.items], rest.next_cursor) == (sorted(made, reverse=True)[2:], None)


def test_propose_page__a_person_refused__error_on_that_persons_field(web, officer, lahti):
    """The service numbers the rows filled in; an empty row between them does not shift it."""
    data = {
        "municipality": lahti.id, "year": 2026, "category": "unaccompanied_minor",
        "source": "reception_centre", "persons-TOTAL_FORMS": 3, "persons-INITIAL_FORMS": 0,
        "persons-MIN_NUM_FORMS": 1, "persons-MAX_NUM_FORMS": 1000,
    }  # fmt: skip
    for i, (first, born) in enumerate([("Ali", "2012-01-05"), ("", ""), ("Omar", "1990-01-05")]):
        data[f"persons-{i}-gender"] = "unknown"  # as the browser sends an untouched row
        if first:
            data |= {f"persons-{i}-first_name": first, f"persons-{i}-last_name": "Rahimi",
                     f"persons-{i}-birth_date": born, f"persons-{i}-gender": "male",
                     f"persons-{i}-residence_basis": "asylum",
                     f"persons-{i}-first_permit_on": "2025-09-01"}  # fmt: skip
    response = web(officer).post(reverse("placement:propose"), data)
    assert response.status_code == 200  # the form again
    forms = response.context["persons"].forms
    assert list(forms[2].errors) == ["birth_date"]  # Omar, an adult: the service's person 1
    assert not forms[0].errors and not forms[1].errors
    # the summary at the top takes the focus and links to the person's field
    page = response.content.decode()
    assert 'class="error-summary" role="alert" tabindex="-1"' in page
    assert f'<a href="#{forms[2]["birth_date"].id_for_label}">Person 3, ' in page
