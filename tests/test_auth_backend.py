"""The authentication backend reads a signed-in request's user, active memberships, their
organisations and each organisation's reach (purchasers served under agreements in force)
in one query; the reach it carries must be exactly what the visibility filter would query."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from koto.accounts.backends import MembershipModelBackend
from koto.accounts.models import Membership
from koto.accounts.selectors import active_membership_for, active_memberships_of
from koto.accounts.services import api_token_authenticate
from koto.clients import selectors
from koto.core import clock
from koto.core.errors import NotFound
from koto.core.roles import Role
from koto.organisations.models import AgreementScope, ServiceAgreement
from koto.organisations.selectors import purchasers_served_by
from tests.factories import OrganisationFactory, UserFactory, approved_token, make_client, member

BACKEND = MembershipModelBackend()
TODAY = dt.date(2026, 6, 15)


def agreement(producer, purchaser, valid_from, valid_to=None):
    return ServiceAgreement.objects.create(
        producer=producer,
        purchaser=purchaser,
        scope=AgreementScope.INTEGRATION_SERVICES,
        valid_from=valid_from,
        valid_to=valid_to,
    )


@pytest.fixture
def purchasers(org):
    """Five neighbours of Lahti: two served today, one expired, one not yet, one open-ended
    agreement ending today."""
    p = [OrganisationFactory(code=f"9{i:02d}", name_fi=f"Naapuri {i}") for i in range(5)]
    agreement(org, p[0], dt.date(2025, 1, 1))
    agreement(org, p[1], dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    agreement(org, p[2], dt.date(2024, 1, 1), dt.date(2025, 12, 31))
    agreement(org, p[3], dt.date(2026, 6, 16))
    agreement(org, p[4], dt.date(2026, 1, 1), TODAY)
    agreement(p[0], org, dt.date(2025, 1, 1))  # Lahti as purchaser: not Lahti's reach
    return p


def test_get_user__one_query_with_memberships_organisations_and_reach(org, counsellor, purchasers):
    with clock.frozen(TODAY), CaptureQueriesContext(connection) as ctx:
        user = BACKEND.get_user(counsellor.id)
        (m,) = user.active_memberships
        name = m.organisation.name_fi
        same_user = m.user is user
    assert len(ctx.captured_queries) == 1
    assert (user.username, name, same_user) == ("counsellor", "Lahti", True)
    expected = {purchasers[0].id, purchasers[1].id, purchasers[4].id}
    with clock.frozen(TODAY):
        assert m.served_purchasers == expected == purchasers_served_by(organisation_id=org.id, on=TODAY)  # fmt: skip


@pytest.mark.parametrize(
    "day",
    [
        dt.date(2024, 6, 1),
        dt.date(2025, 12, 31),
        TODAY,
        dt.date(2026, 6, 16),
        dt.date(2027, 1, 1),
    ],  # fmt: skip
)
def test_reach_from_membership__equals_the_query_on_every_day(org, counsellor, purchasers, day):
    with clock.frozen(day):
        user = BACKEND.get_user(counsellor.id)
        user.active_membership = active_membership_for(user=user, membership_id=None)
        with CaptureQueriesContext(connection) as ctx:
            reach = selectors.reach_of(user)
        assert ctx.captured_queries == []
        assert reach.full_org_ids == {org.id, *purchasers_served_by(organisation_id=org.id, on=day)}


def test_reach__read_yesterday__queried_again_today(org, counsellor, purchasers):
    # given a membership read on the last day of an agreement (a request running past midnight)
    with clock.frozen(TODAY):
        user = BACKEND.get_user(counsellor.id)
        user.active_membership = active_membership_for(user=user, membership_id=None)
        hidden = make_client(member(purchasers[4]))
    # then the next day's visibility does not use it: the agreement has ended
    with clock.frozen(TODAY + dt.timedelta(days=1)):
        assert purchasers[4].id not in selectors.reach_of(user).full_org_ids
        with pytest.raises(NotFound):
            selectors.client_get_for(user=user, client_id=hidden.id)


def test_active_memberships_of__the_same_objects_as_the_orm(org, other_org, counsellor):
    # the read is plain SQL: every field converted as the ORM would (booleans, aware
    # datetimes, dates on SQLite), inactive memberships left out
    Membership.objects.create(user=counsellor, organisation=other_org, role=Role.MANAGER, is_active=False)  # fmt: skip
    counsellor.last_login = clock.now()
    counsellor.save(update_fields=["last_login"])
    (m,) = active_memberships_of(user_id=counsellor.id)
    orm = Membership.objects.select_related("user", "organisation").get(id=m.id)
    for ours, theirs in ((m, orm), (m.user, orm.user), (m.organisation, orm.organisation)):
        for f in type(ours)._meta.concrete_fields:
            a, b = getattr(ours, f.attname), getattr(theirs, f.attname)
            assert (a, type(a)) == (b, type(b)), f.name
    assert m.organisation_id == org.id and m.user.pk == counsellor.pk


def test_get_user__inactive_user__none(counsellor):
    counsellor.is_active = False
    counsellor.save(update_fields=["is_active"])
    assert BACKEND.get_user(counsellor.id) is None


def test_get_user__unknown_id__none(db):
    assert BACKEND.get_user(987654) is None


def test_get_user__no_active_membership__user_with_none(org):
    user = UserFactory(username="former")
    Membership.objects.create(user=user, organisation=org, role=Role.INTEGRATION_COUNSELLOR, is_active=False)  # fmt: skip
    loaded = BACKEND.get_user(user.id)
    assert loaded.username == "former"
    assert loaded.active_memberships == []
    assert active_membership_for(user=loaded, membership_id=None) is None


def test_get_user__two_memberships__session_choice_kept(org, other_org, counsellor):
    second = Membership.objects.create(user=counsellor, organisation=other_org, role=Role.INTEGRATION_COUNSELLOR)  # fmt: skip
    user = BACKEND.get_user(counsellor.id)
    assert [m.organisation.code for m in user.active_memberships] == ["398", "837"]
    assert all(m.user is user for m in user.active_memberships)
    assert active_membership_for(user=user, membership_id=second.id).organisation_id == other_org.id
    assert active_membership_for(user=user, membership_id=None).organisation_id == org.id


def test_signed_in_page__membership_and_reach_read_once(web, org, counsellor, purchasers):
    # a client of a served purchaser: the page needs the reach
    seen = make_client(member(purchasers[0]))
    http = web(counsellor)
    with CaptureQueriesContext(connection) as ctx:
        assert http.get(f"/clients/{seen.id}/").status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries]
    agreements = [s for s in sql if "organisations_serviceagreement" in s]
    users = [s for s in sql if 'FROM "accounts_user"' in s]
    assert len(agreements) == 1 and 'FROM "accounts_membership"' in agreements[0]
    assert users == []  # the user came with the membership


def test_api_token__membership_of_the_token_organisation_with_reach(org, other_org, purchasers):
    admin = member(org, Role.ORG_ADMIN, username="lahti.admin")
    token, key = approved_token(admin, org, "CRM")
    # the system user also holds a membership elsewhere (not made by Koto; never chosen)
    Membership.objects.create(user=token.user, organisation=other_org, role=Role.SYSTEM)
    with clock.frozen(TODAY):
        user = api_token_authenticate(key)
        assert user.active_membership.organisation_id == org.id
        assert selectors.reach_of(user).full_org_ids == {org.id, purchasers[0].id, purchasers[1].id, purchasers[4].id}  # fmt: skip


def test_membership_switch__to_another_of_ones_own__and_nothing_else(
    web, org, other_org, counsellor
):
    second = Membership.objects.create(
        user=counsellor, organisation=other_org, role=Role.INTEGRATION_COUNSELLOR
    )
    http = web(counsellor)
    response = http.post("/accounts/membership/", {"membership_id": str(second.id)})
    assert response.status_code == 302 and http.session["membership_id"] == second.id
    stranger = member(other_org, Role.MANAGER, username="stranger").active_membership
    for bad in ("abc", "²", "", "1.5", "9" * 25, str(stranger.id)):
        assert http.post("/accounts/membership/", {"membership_id": bad}).status_code == 404
    assert http.session["membership_id"] == second.id


def test_ended_organisation__its_members_and_tokens_keep_no_access(client, org, counsellor, web):
    """An ELY centre ended on 31.12.2025: from the next day its people and systems act no
    more (the successor's do)."""
    c = make_client(counsellor)
    admin = member(org, Role.ORG_ADMIN, username="ended.admin")
    _token, key = approved_token(admin, org)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    org.valid_to = dt.date(2025, 12, 31)
    org.save(update_fields=["valid_to"])
    with clock.frozen(dt.date(2025, 12, 31)):
        assert active_memberships_of(user_id=counsellor.id)
        assert client.get(f"/api/v1/clients/{c.id}", **auth).status_code == 200
    with clock.frozen(dt.date(2026, 1, 1)):
        assert active_memberships_of(user_id=counsellor.id) == []
        assert client.get(f"/api/v1/clients/{c.id}", **auth).status_code == 401
        assert web(counsellor).get(f"/clients/{c.id}/").status_code == 404
        # nor chosen in the organisation switcher
        ended = counsellor.active_membership.id
        response = web(counsellor).post("/accounts/membership/", {"membership_id": str(ended)})
        assert response.status_code == 404


def test_organisation_not_begun__its_members_and_tokens_act_from_its_first_day(client, db):
    """A vitality centre begins on 1.1.2026: before that its people and systems act not yet
    (its membership query checked the end only)."""
    future = OrganisationFactory(code="999", valid_from=dt.date(2026, 1, 1))
    early = member(future, Role.INTEGRATION_COUNSELLOR, username="early")
    c = make_client(member(future, Role.INTEGRATION_COUNSELLOR, username="maker"))
    admin = member(future, Role.ORG_ADMIN, username="future.admin")
    _token, key = approved_token(admin, future)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    with clock.frozen(dt.date(2025, 12, 31)):
        assert active_memberships_of(user_id=early.id) == []
        assert BACKEND.get_user(early.id).active_memberships == []
        assert client.get(f"/api/v1/clients/{c.id}", **auth).status_code == 401
    with clock.frozen(dt.date(2026, 1, 1)):
        assert [m.organisation.code for m in active_memberships_of(user_id=early.id)] == ["999"]
        assert client.get(f"/api/v1/clients/{c.id}", **auth).status_code == 200
