"""The admin site and the command line, audited as the pages are: a list of the admin that
shows clients names them in its audit event, and a password changed through the admin site
or `manage.py changepassword` leaves an audit record (without the password)."""

import datetime as dt

import pytest

from koto.accounts.models import User
from koto.audit.models import AuditEvent, AuditListedClient
from tests.factories import PASSWORD, make_client

NEW = "Toinen-Salasana-4321q"


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "", PASSWORD)


@pytest.fixture
def admin_site(client, root):
    client.force_login(root, backend="koto.accounts.backends.MembershipModelBackend")
    return client


def test_admin_minor_care_list__names_the_clients_it_shows(admin_site, counsellor, root):
    # the list showed each minor's name and its audit event named nobody
    from koto.placement.models import MinorCare

    shown = make_client(counsellor)
    MinorCare.objects.create(client=shown, turns_18_on=dt.date(2028, 1, 1))
    response = admin_site.get("/admin/placement/minorcare/")
    assert response.status_code == 200 and shown.last_name in response.content.decode()
    event = AuditEvent.objects.filter(actor=root, reason="admin list").latest("id")
    assert (event.object_type, event.changes["listed_clients"]) == ("minorcare", [shown.id])
    assert list(AuditListedClient.objects.values_list("client_id", "event_id")) == [
        (shown.id, event.id)
    ]


def test_admin_list_without_clients__names_none(admin_site, root):
    assert admin_site.get("/admin/placement/placement/").status_code == 200
    event = AuditEvent.objects.filter(actor=root, reason="admin list").latest("id")
    assert "listed_clients" not in event.changes


def test_admin_minor_care_list__rows_read_once(admin_site, counsellor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from koto.placement.models import MinorCare

    for _ in range(3):
        MinorCare.objects.create(client=make_client(counsellor), turns_18_on=dt.date(2028, 1, 1))
    with CaptureQueriesContext(connection) as ctx:
        admin_site.get("/admin/placement/minorcare/")
    rows = [q for q in ctx.captured_queries if 'FROM "placement_minorcare"' in q["sql"]
            and "COUNT" not in q["sql"].upper()]  # fmt: skip
    assert len(rows) == 1


def test_admin_password_change__audited_without_the_password(admin_site, root):
    # Django's own form wrote the password unaudited
    response = admin_site.post("/admin/password_change/", {
        "old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})  # fmt: skip
    assert response.status_code == 302 and response["Location"] == "/admin/password_change/done/"
    root.refresh_from_db()
    assert root.check_password(NEW)
    event = AuditEvent.objects.get(action="update", object_type="user", object_id=str(root.id))
    assert (event.actor, event.reason, event.changes) == (root, "admin", {"password": "changed"})
    assert admin_site.get("/admin/").status_code == 200  # still signed in


def test_admin_password_change__the_same_password__refused(admin_site, root):
    response = admin_site.post("/admin/password_change/", {
        "old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD})  # fmt: skip
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["new_password1"]
    assert not AuditEvent.objects.filter(action="update", object_type="user").exists()


def test_changepassword_command__audited_naming_the_operator(counsellor, monkeypatch):
    from django.core.management import call_command

    from koto.core import context

    answers = iter([NEW, NEW])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    monkeypatch.setattr(context, "os_user", lambda: "maija")
    call_command("changepassword", "counsellor")
    counsellor.refresh_from_db()
    assert counsellor.check_password(NEW) and counsellor.must_change_password is True
    event = AuditEvent.objects.get(action="update", object_type="user")
    assert (event.actor, event.channel, event.object_id) == (None, "cli", str(counsellor.id))
    assert event.changes == {"password": "set", "must_change_password": True, "operator": "maija"}


def test_changepassword_command__weak_password__refused_three_times(counsellor, monkeypatch):
    from django.core.management import CommandError, call_command

    monkeypatch.setattr("getpass.getpass", lambda prompt="": "123")
    with pytest.raises(CommandError):
        call_command("changepassword", "counsellor")
    counsellor.refresh_from_db()
    assert counsellor.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(object_type="user").exists()
