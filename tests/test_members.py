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
