"""An organisation's administrator adds members: field-named errors, user and role written
together or not at all."""

import pytest

from koto.accounts.models import Membership, User
from koto.audit.models import AuditEvent
from koto.core.roles import Role
from tests.factories import member

PASSWORD = "Pitkä-ja-hyvä-salasana-2026"


@pytest.fixture
def admin(org):
    return member(org, Role.ORG_ADMIN, username="admin")


def _post(web, admin, **data):
    form = {"username": "uusi.neuvoja", "first_name": "Uusi", "last_name": "Neuvoja",
            "email": "", "password": PASSWORD, "role": Role.INTEGRATION_COUNSELLOR, **data}  # fmt: skip
    return web(admin).post("/accounts/organisation/members/add/", form)


def test_member_add__new_user__user_role_and_audit(web, admin, org):
    response = _post(web, admin)
    assert response.status_code == 302
    user = User.objects.get(username="uusi.neuvoja")
    assert Membership.objects.get(user=user).organisation == org
    assert {e.object_type for e in AuditEvent.objects.filter(action="create")} >= {
        "user",
        "membership",
    }


@pytest.mark.parametrize(
    "username", ["a\x01\x07\x1bb", "nimi\u202etxt", "hymy😀", "väli lyönti", "x" * 151]
)
def test_member_add__username_not_letters_digits_and_at_dot_plus_minus__refused(
    web, admin, username
):
    users = User.objects.count()
    response = _post(web, admin, username=username)
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert User.objects.count() == users and Membership.objects.count() == 1


def test_member_add__role_refused__no_user_left_behind(web, admin, monkeypatch):
    # the page wrote the user, then failed on the role, and kept the user
    from koto.accounts import services
    from koto.core.errors import ValidationFailed

    def refuse(**kwargs):
        raise ValidationFailed({"role": "Unknown role."})

    monkeypatch.setattr(services, "membership_add", refuse)
    response = _post(web, admin)
    assert response.status_code == 200
    assert response.context["form"].errors["role"] == ["Unknown role."]
    assert not User.objects.filter(username="uusi.neuvoja").exists()


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_member_add__name_with_direction_override__refused(web, admin, field):
    response = _post(web, admin, **{field: "Uusi\u202eNeuvoja"})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert not User.objects.filter(username="uusi.neuvoja").exists()


def test_member_add__admin_gives_themselves_a_role__refused(web, admin):
    # a self-given casework role would carry emergency access to any client in the country
    response = _post(web, admin, username="admin")
    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert list(Membership.objects.filter(user=admin).values_list("role", flat=True)) == [
        Role.ORG_ADMIN
    ]


@pytest.mark.parametrize(
    "role", [Role.INTEGRATION_COUNSELLOR, Role.SOCIAL_WORKER, Role.PLACEMENT_OFFICER]
)
def test_member_add__ngo__casework_and_state_roles_refused_and_not_offered(web, role, db):
    from koto.organisations.models import OrganisationKind
    from tests.factories import OrganisationFactory

    ngo = OrganisationFactory(code="ngo-test", kind=OrganisationKind.NGO)
    ngo_admin = member(ngo, Role.ORG_ADMIN, username="ngo.admin")
    offered = web(ngo_admin).get("/accounts/organisation/members/add/")
    choices = dict(offered.context["form"].fields["role"].choices)
    assert Role.GUIDANCE_ADVISER in choices and role not in choices
    response = _post(web, ngo_admin, role=role)
    assert response.status_code == 200
    assert "role" in response.context["form"].errors
    assert not User.objects.filter(username="uusi.neuvoja").exists()


def test_member_add__ngo_service__kind_refuses_role_whatever_the_form(org):
    from koto.accounts.services import membership_add
    from koto.core.errors import ValidationFailed
    from koto.organisations.models import OrganisationKind
    from tests.factories import OrganisationFactory, UserFactory

    ngo = OrganisationFactory(code="ngo-test", kind=OrganisationKind.NGO)
    ngo_admin = member(ngo, Role.ORG_ADMIN, username="ngo.admin")
    with pytest.raises(ValidationFailed) as e:
        membership_add(
            actor=ngo_admin, user=UserFactory(), organisation=ngo, role=Role.EMPLOYMENT_COUNSELLOR
        )
    assert "role" in e.value.fields


def test_kind_roles__every_organisation_kind_named():
    from koto.core.roles import KIND_ROLES
    from koto.organisations.models import OrganisationKind

    assert set(KIND_ROLES) == set(OrganisationKind.values)


def test_new_member__changes_the_password_the_administrator_chose_at_first_sign_in(
    web, admin, client
):
    # the administrator went on knowing the password, and could sign in as the member
    from django.urls import reverse

    assert _post(web, admin).status_code == 302
    client.logout()
    assert (
        client.post(
            reverse("accounts:login"), {"username": "uusi.neuvoja", "password": PASSWORD}
        ).status_code
        == 302
    )
    page = client.get("/clients/")
    assert page.status_code == 302 and page["Location"] == reverse("accounts:password_change")
    # nor through the API with the same session: whoever chose the password worked on there
    assert client.get("/api/v1/clients/").status_code == 403
    new = "Oma-uusi-salasana-2026"
    short = client.post(reverse("accounts:password_change"),
                        {"old_password": PASSWORD, "new_password1": "x", "new_password2": "x"})  # fmt: skip
    assert short.status_code == 200 and "new_password2" in short.context["form"].errors
    done = client.post(reverse("accounts:password_change"),
                       {"old_password": PASSWORD, "new_password1": new, "new_password2": new})  # fmt: skip
    assert done.status_code == 302
    assert client.get("/clients/").status_code == 200  # still signed in, free to go on
    user = User.objects.get(username="uusi.neuvoja")
    assert user.check_password(new) and not user.must_change_password
    event = AuditEvent.objects.filter(
        object_type="user", object_id=str(user.id), action="update"
    ).get()
    assert event.changes == {"password": "changed"}


def test_password_change__wrong_old_password__refused(web, admin):
    from django.urls import reverse

    http = web(admin)
    response = http.post(reverse("accounts:password_change"),
                         {"old_password": "väärä", "new_password1": "Oma-uusi-2026-x", "new_password2": "Oma-uusi-2026-x"})  # fmt: skip
    assert response.status_code == 200 and "old_password" in response.context["form"].errors


def test_check_memberships__lists_those_made_before_the_rule(org, capsys):
    from django.core.management import CommandError, call_command

    from koto.organisations.models import OrganisationKind
    from tests.factories import OrganisationFactory

    call_command("check_memberships")
    assert capsys.readouterr().out.startswith("OK")
    ngo = OrganisationFactory(code="ngo-old", kind=OrganisationKind.NGO)
    member(ngo, Role.INTEGRATION_COUNSELLOR, username="old.counsellor")  # written directly
    with pytest.raises(CommandError):
        call_command("check_memberships")
    assert "ngo-old (ngo): old.counsellor integration_counsellor" in capsys.readouterr().out


# Adding someone who already uses Koto is asked for, and needs their last name: the username
# alone attached anyone in the country (throwing away the names and password typed) and
# showed the administrator whose it was.


@pytest.fixture
def colleague(other_org):
    """A counsellor of another organisation (another unit of the same city, say)."""
    return member(other_org, Role.INTEGRATION_COUNSELLOR, username="Matti.Virtanen",
                  first_name="Matti", last_name="Virtanen", email="matti@example.fi")  # fmt: skip


def test_member_add__existing_username_typed_as_new__refused_naming_username(
    web, admin, org, colleague
):
    before = colleague.password
    response = _post(web, admin, username="matti.virtanen", first_name="Matti",
                     last_name="Uusi")  # fmt: skip
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["username"]
    assert "choose “An existing user”" in errors["username"][0]
    assert not Membership.objects.filter(user=colleague, organisation=org).exists()
    colleague.refresh_from_db()
    assert (colleague.last_name, colleague.password) == ("Virtanen", before)
    html = response.content.decode()
    assert "Virtanen" not in html and "matti@example.fi" not in html


def test_member_add__existing_user_chosen_with_last_name__role_given(web, admin, org, colleague):
    response = _post(web, admin, user_kind="existing", username="matti.virtanen",
                     first_name="", last_name="virtanen", password="")  # fmt: skip
    assert response.status_code == 302
    m = Membership.objects.get(user=colleague, organisation=org)
    assert (m.role, m.is_active) == (Role.INTEGRATION_COUNSELLOR, True)
    event = AuditEvent.objects.filter(object_type="membership", object_id=str(m.id)).get()
    assert (event.actor, event.action, event.changes["user"]) == (admin, "create", "Matti.Virtanen")
    page = web(admin).get("/accounts/organisation/").content.decode()
    assert "Role Integration counsellor given to Matti Virtanen (Matti.Virtanen)." in page
    colleague.refresh_from_db()
    assert colleague.must_change_password is False  # their own password, untouched


@pytest.mark.parametrize(
    ("username", "last_name"),
    [("matti.virtanen", "Uusi"), ("matti.virtanen", ""), ("ei.ketaan", "Virtanen")],
)
def test_member_add__existing_user_unknown_or_last_name_wrong__one_answer_naming_nobody(
    web, admin, org, colleague, username, last_name
):
    response = _post(web, admin, user_kind="existing", username=username, first_name="",
                     last_name=last_name, password="")  # fmt: skip
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "username": ["No user has this username and last name."]
    }
    assert "Matti" not in response.content.decode()
    assert not Membership.objects.filter(user=colleague, organisation=org).exists()


def test_member_add__existing_user_with_a_password_or_names__refused_naming_them(
    web, admin, org, colleague
):
    response = _post(web, admin, user_kind="existing", username="matti.virtanen",
                     first_name="Matti", last_name="Virtanen", email="x@example.fi")  # fmt: skip
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"first_name", "email", "password"}
    assert not Membership.objects.filter(user=colleague, organisation=org).exists()


def test_member_add_service__new_and_existing_paths(admin, org, colleague):
    from koto.accounts.services import member_add
    from koto.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as e:
        member_add(actor=admin, organisation=org, role=Role.MANAGER, username="MATTI.VIRTANEN",
                   password=PASSWORD, last_name="Virtanen")  # fmt: skip
    assert list(e.value.fields) == ["username"]
    with pytest.raises(ValidationFailed) as e:
        member_add(actor=admin, organisation=org, role=Role.MANAGER, username="matti.virtanen",
                   existing=True, last_name="Korhonen")  # fmt: skip
    assert list(e.value.fields) == ["username"]
    assert not Membership.objects.filter(user=colleague, organisation=org).exists()
    m = member_add(actor=admin, organisation=org, role=Role.MANAGER, username="matti.virtanen",
                   existing=True, last_name=" VIRTANEN ")  # fmt: skip
    assert (m.user, m.organisation, m.role) == (colleague, org, Role.MANAGER)
    new = member_add(actor=admin, organisation=org, role=Role.MANAGER, username="liisa.uusi",
                     password=PASSWORD, first_name="Liisa", last_name="Uusi")  # fmt: skip
    assert new.user.must_change_password is True and new.user.check_password(PASSWORD)


def test_member_add__existing_user_path__admin_cannot_give_themselves_a_role(web, admin, org):
    admin.last_name = "Ylläpitäjä"
    admin.save(update_fields=["last_name"])
    response = _post(web, admin, user_kind="existing", username="admin", first_name="",
                     last_name="Ylläpitäjä", password="")  # fmt: skip
    assert response.status_code == 200
    assert "yourself" in response.context["form"].errors["username"][0]
    assert Membership.objects.filter(user=admin).count() == 1


def test_password_change__the_same_password_again__refused_naming_the_new_one(web, admin, client):
    # a member whose password an administrator chose kept it by typing it again: the
    # administrator went on knowing it
    from django.urls import reverse

    assert _post(web, admin).status_code == 302
    client.logout()
    client.post(reverse("accounts:login"), {"username": "uusi.neuvoja", "password": PASSWORD})
    response = client.post(reverse("accounts:password_change"),
                           {"old_password": PASSWORD, "new_password1": PASSWORD,
                            "new_password2": PASSWORD})  # fmt: skip
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["new_password1"]
    user = User.objects.get(username="uusi.neuvoja")
    assert user.must_change_password is True
    assert not AuditEvent.objects.filter(object_type="user", object_id=str(user.id),
                                         action="update").exists()  # fmt: skip
    assert client.get("/clients/")["Location"] == reverse("accounts:password_change")


def test_password_change_service__the_same_password__refused(admin):
    from koto.accounts.services import password_change
    from koto.core.errors import ValidationFailed
    from tests.factories import PASSWORD as CURRENT

    with pytest.raises(ValidationFailed) as e:
        password_change(user=admin, new_password=CURRENT)
    assert list(e.value.fields) == ["new_password1"]


def test_member_add_service__existing_user_without_a_last_name__not_by_username_alone(admin, org):
    from koto.accounts.services import member_add, user_create
    from koto.core.errors import ValidationFailed

    nameless = user_create(actor=None, username="ops.account", password=PASSWORD)
    with pytest.raises(ValidationFailed) as e:
        member_add(actor=admin, organisation=org, role=Role.MANAGER, username="ops.account",
                   existing=True, last_name="")  # fmt: skip
    assert list(e.value.fields) == ["username"]
    assert not Membership.objects.filter(user=nameless).exists()
