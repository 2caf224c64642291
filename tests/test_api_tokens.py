"""API tokens: made by an administrator, working only once a manager other than their maker
approves them (four eyes: the administrator may not read clients, the token may), and only
for organisations whose own roles may do what a token does."""

import pytest

from koto.accounts.models import ApiToken, Membership
from koto.accounts.services import api_token_approve, api_token_create
from koto.audit.models import AuditEvent
from koto.core.errors import NotFound, PermissionDenied, ValidationFailed
from koto.core.roles import Role, api_tokens_allowed
from tests.factories import OrganisationFactory, make_client, member


@pytest.fixture
def admin(org):
    return member(org, Role.ORG_ADMIN, username="admin")


@pytest.fixture
def manager(org):
    return member(org, Role.MANAGER, username="manager")


def test_token__unapproved_refused__approved_by_a_manager_reads_the_organisations_clients(
    client, admin, manager, counsellor
):
    own = make_client(counsellor)
    token, key = api_token_create(
        actor=admin, organisation=admin.active_membership.organisation, name="CRM"
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get(f"/api/v1/clients/{own.id}", **auth).status_code == 401

    api_token_approve(actor=manager, token=token)

    assert client.get(f"/api/v1/clients/{own.id}", **auth).status_code == 200
    token.refresh_from_db()
    assert token.approved_by == manager and token.approved_at is not None
    assert AuditEvent.objects.filter(
        object_type="api_token", object_id=str(token.id), actor=manager,
        changes={"approved": True, "expires_at": token.expires_at.isoformat()},
    ).exists()  # fmt: skip


def test_token__its_maker_cannot_approve_it_even_as_a_manager_elsewhere_in_the_org(admin, org):
    token, _key = api_token_create(actor=admin, organisation=org, name="CRM")
    # the same person also manages the organisation (a second membership)
    admin.active_membership = Membership.objects.create(
        user=admin, organisation=org, role=Role.MANAGER
    )
    with pytest.raises(ValidationFailed) as e:
        api_token_approve(actor=admin, token=token)
    assert "token" in e.value.fields
    assert ApiToken.objects.get(id=token.id).approved_at is None


def test_token__approval_needs_a_manager_of_the_same_organisation(
    admin, org, counsellor, other_org
):
    token, _key = api_token_create(actor=admin, organisation=org, name="CRM")
    with pytest.raises(PermissionDenied):
        api_token_approve(actor=counsellor, token=token)
    with pytest.raises(NotFound):
        api_token_approve(actor=member(other_org, Role.MANAGER, username="m2"), token=token)
    with pytest.raises(PermissionDenied):
        api_token_approve(actor=admin, token=token)  # an administrator is not a manager


def test_token__revoked_or_approved_twice__refused_naming_the_token(admin, manager, org):
    from koto.accounts.services import api_token_revoke

    token, _key = api_token_create(actor=admin, organisation=org, name="CRM")
    api_token_approve(actor=manager, token=token)
    with pytest.raises(ValidationFailed) as e:
        api_token_approve(actor=manager, token=token)
    assert "token" in e.value.fields
    other, _key = api_token_create(actor=admin, organisation=org, name="Old")
    api_token_revoke(actor=manager, token=other)  # a manager may stop a token too
    with pytest.raises(ValidationFailed):
        api_token_approve(actor=manager, token=other)


@pytest.mark.parametrize("kind", ["ngo", "kela", "migri", "educational_institution", "other"])
def test_token__organisation_whose_roles_may_not_edit_clients__refused(kind, web, db):
    ngo = OrganisationFactory(code=f"x-{kind}", kind=kind)
    ngo_admin = member(ngo, Role.ORG_ADMIN, username=f"admin-{kind}")
    assert not api_tokens_allowed(kind)
    with pytest.raises(ValidationFailed):
        api_token_create(actor=ngo_admin, organisation=ngo, name="CRM")
    response = web(ngo_admin).post("/accounts/organisation/tokens/add/", {"name": "CRM"})
    assert response.status_code == 200
    assert "cannot have API tokens" in response.content.decode()
    assert not ApiToken.objects.filter(organisation=ngo).exists()


@pytest.mark.parametrize("kind", ["municipality", "employment_authority", "welfare_region"])
def test_token__casework_authorities_may_have_tokens(kind):
    assert api_tokens_allowed(kind)


def test_token_pages__manager_lists_approves_and_revokes__others_404(
    web, admin, manager, org, counsellor
):
    token, _key = api_token_create(actor=admin, organisation=org, name="Asiakasrekisteri")
    page = web(manager).get("/accounts/organisation/tokens/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Asiakasrekisteri" in html and "Awaiting a manager" in html
    assert f"/accounts/organisation/tokens/{token.id}/approve/" in html
    assert "Awaiting a manager" in web(admin).get("/accounts/organisation/").content.decode()
    response = web(manager).post(f"/accounts/organisation/tokens/{token.id}/approve/")
    assert response.status_code == 302
    assert ApiToken.objects.get(id=token.id).approved_by == manager
    assert "Awaiting a manager" not in web(admin).get("/accounts/organisation/").content.decode()
    assert web(manager).post(f"/accounts/organisation/tokens/{token.id}/revoke/").status_code == 302
    assert ApiToken.objects.get(id=token.id).revoked_at is not None
    for user in (counsellor, admin):
        assert web(user).get("/accounts/organisation/tokens/").status_code == 404
        assert (
            web(user).post(f"/accounts/organisation/tokens/{token.id}/approve/").status_code == 404
        )


def test_token__made_before_the_rule_in_an_ngo__cannot_be_approved_nor_used(client, db):
    ngo = OrganisationFactory(code="ngo-old", kind="ngo")
    ngo_admin = member(ngo, Role.ORG_ADMIN, username="ngo.admin")
    from koto.accounts import services as account_services
    from koto.accounts.models import User

    # as made before the rule: straight through the model

    system = User.objects.create(username="api-ngo-old-x", is_system=True)
    Membership.objects.create(user=system, organisation=ngo, role=Role.SYSTEM)
    key = "koto_abcd1234_secret"
    token = ApiToken.objects.create(
        organisation=ngo, user=system, name="Old", prefix="abcd1234",
        key_hash=account_services.hash_token(key), created_by=ngo_admin,
    )  # fmt: skip
    with pytest.raises(ValidationFailed):
        api_token_approve(actor=member(ngo, Role.MANAGER, username="ngo.manager"), token=token)
    ApiToken.objects.filter(id=token.id).update(approved_at="2026-01-01T00:00:00Z")
    assert client.get("/api/v1/clients/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_token__expires_a_year_after_approval__then_refused_as_a_revoked_one(
    client, admin, manager, org, counsellor
):
    # a token worked for ever, even years after its maker and approver had left
    import datetime as dt

    from koto.core import clock

    own = make_client(counsellor)
    approved_on = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    token, key = api_token_create(actor=admin, organisation=org, name="CRM")
    with clock.frozen(approved_on):
        token = api_token_approve(actor=manager, token=token)
    assert token.expires_at == approved_on + dt.timedelta(days=365)
    assert AuditEvent.objects.filter(
        object_type="api_token", object_id=str(token.id),
        changes={"approved": True, "expires_at": "2027-12-07T12:00:00+00:00"},
    ).exists()  # fmt: skip
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    with clock.frozen(token.expires_at - dt.timedelta(seconds=1)):
        assert client.get(f"/api/v1/clients/{own.id}", **auth).status_code == 200
    with clock.frozen(token.expires_at):
        assert client.get(f"/api/v1/clients/{own.id}", **auth).status_code == 401
    with clock.frozen(dt.date(2030, 1, 1)):
        assert client.get(f"/api/v1/clients/{own.id}", **auth).status_code == 401


def test_token_pages__show_the_expiry_and_an_expired_token(web, admin, manager, org):
    import datetime as dt

    from koto.core import clock

    token, _key = api_token_create(actor=admin, organisation=org, name="Asiakasrekisteri")
    with clock.frozen(dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC)):
        api_token_approve(actor=manager, token=token)
    with clock.frozen(dt.date(2026, 6, 1)):
        for user, url in ((manager, "/accounts/organisation/tokens/"), (admin, "/accounts/organisation/")):  # fmt: skip
            html = web(user).get(url).content.decode()
            assert "01/10/2027" in html and "Expired" not in html, url
            assert "works for a year from its approval" in html
    with clock.frozen(dt.date(2027, 1, 11)):
        for user, url in ((manager, "/accounts/organisation/tokens/"), (admin, "/accounts/organisation/")):  # fmt: skip
            assert "Expired" in web(user).get(url).content.decode(), url


def test_token__unapproved__no_expiry_yet(admin, org):
    token, _key = api_token_create(actor=admin, organisation=org, name="CRM")
    assert token.expires_at is None and token.is_expired is False


def test_migration__tokens_approved_before_expiry__a_year_from_approval_or_90_days_notice(
    admin, manager, org
):
    import datetime as dt
    import importlib

    from django.apps import apps

    from koto.core import clock

    migration = importlib.import_module("koto.accounts.migrations.0004_api_token_expiry")
    old, _k = api_token_create(actor=admin, organisation=org, name="Old")
    recent, _k = api_token_create(actor=admin, organisation=org, name="Recent")
    waiting, _k = api_token_create(actor=admin, organisation=org, name="Waiting")
    now = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
    ApiToken.objects.filter(id=old.id).update(approved_at=now - dt.timedelta(days=700))
    ApiToken.objects.filter(id=recent.id).update(approved_at=now - dt.timedelta(days=30))
    with clock.frozen(now):
        migration.set_expiry(apps, None)
    expiry = dict(ApiToken.objects.values_list("name", "expires_at"))
    assert expiry == {
        "Old": now + dt.timedelta(days=90),
        "Recent": now + dt.timedelta(days=335),
        "Waiting": None,
    }
