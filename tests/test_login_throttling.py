"""Sign-in throttling (`koto.accounts.throttling`): a limit per username and address, per
address (password spraying) and per username (addresses rotated), and failed sign-ins naming
no user audited only up to a few per address."""

import pytest
from django.urls import reverse

from koto.audit.models import AuditEvent
from koto.core.roles import Role
from tests.factories import PASSWORD, member

LOGIN = "/accounts/login/"


def _try(client, username, password="wrong", address="192.0.2.10"):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address
    ).status_code


def test_login__password_spraying_from_one_address__address_locked(client, org, settings):
    # 4 guesses at every username from one address were never locked: 32 failures here,
    # and the right password still worked
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 30
    users = [member(org, Role.INTEGRATION_COUNSELLOR, username=f"u{i}") for i in range(8)]
    codes = [_try(client, u.username, f"guess{r}") for r in range(4) for u in users]
    assert codes[:29] == [200] * 29 and set(codes[29:]) == {429}
    # the right password from that address waits too; from another address it works
    assert _try(client, "u0", PASSWORD) == 429
    assert _try(client, "u0", PASSWORD, address="198.51.100.7") == 302


def test_login__address_limit__not_for_a_user_at_their_own_office(client, org, settings):
    """A city's staff reach Koto from one address: thirty typing errors among them (or
    someone there spraying) must not lock the whole office out. Its users who have signed
    in from there still sign in; the limit of 5 per username and address still holds."""
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 10
    office = "192.0.2.77"
    member(org, Role.INTEGRATION_COUNSELLOR, username="staff")
    assert _try(client, "staff", PASSWORD, address=office) == 302
    client.post(reverse("accounts:logout"), REMOTE_ADDR=office)
    others = [member(org, Role.INTEGRATION_COUNSELLOR, username=f"w{i}") for i in range(4)]
    for u in others:
        for r in range(3):
            _try(client, u.username, f"g{r}", address=office)
    assert _try(client, "w0", "g9", address=office) == 429  # never signed in from here
    assert _try(client, "staff", "typo", address=office) == 200
    assert _try(client, "staff", PASSWORD, address=office) == 302


def test_login__address_limit__staff_typos_do_not_lock_out_a_new_colleague(client, org, settings):
    """The address's count left in the failures of the users who sign in from there: thirty
    typing errors among an office's staff locked out the new colleague's first sign-in."""
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 10
    office = "192.0.2.78"
    staff = [member(org, Role.INTEGRATION_COUNSELLOR, username=f"s{i}") for i in range(4)]
    for u in staff:
        assert _try(client, u.username, PASSWORD, address=office) == 302
        client.post(reverse("accounts:logout"), REMOTE_ADDR=office)
    for u in staff:
        for r in range(3):
            _try(client, u.username, f"typo{r}", address=office)
    member(org, Role.INTEGRATION_COUNSELLOR, username="newcomer")
    assert _try(client, "newcomer", PASSWORD, address=office) == 302


def test_login__one_username_from_rotating_addresses__username_locked(client, org, settings):
    settings.LOGIN_USERNAME_FAILURE_LIMIT = 20
    member(org, Role.INTEGRATION_COUNSELLOR, username="target")
    codes = [_try(client, "target", f"g{i}", address=f"203.0.113.{i + 1}") for i in range(25)]
    assert codes[:19] == [200] * 19 and set(codes[19:]) == {429}
    assert _try(client, "target", PASSWORD, address="203.0.113.200") == 429


def test_login__username_locked__not_from_an_address_the_user_signed_in_from(client, org, settings):
    # an attack on one username does not lock its user out of their own office
    settings.LOGIN_USERNAME_FAILURE_LIMIT = 20
    member(org, Role.INTEGRATION_COUNSELLOR, username="target")
    assert _try(client, "target", PASSWORD, address="192.0.2.50") == 302
    client.post(reverse("accounts:logout"), REMOTE_ADDR="192.0.2.50")
    for i in range(25):
        _try(client, "target", f"g{i}", address=f"203.0.113.{i + 1}")
    assert _try(client, "target", PASSWORD, address="203.0.113.200") == 429
    assert _try(client, "target", PASSWORD, address="192.0.2.50") == 302


def test_login__ipv6_addresses_of_one_network__counted_together(client, org):
    # each of 25 addresses of one /64 got five fresh guesses
    member(org, Role.INTEGRATION_COUNSELLOR, username="target")
    codes = [_try(client, "target", f"g{i}", address=f"2001:db8::{i + 1:x}") for i in range(8)]
    assert codes == [200] * 4 + [429] * 4
    assert _try(client, "target", PASSWORD, address="2001:db8::ffff") == 429
    assert _try(client, "target", PASSWORD, address="2001:db8:0:1::1") == 302


def test_login__success__forgives_that_username_s_failures_only(client, org, settings):
    # axes' reset forgave every failure from the address: a sprayer with an account of
    # their own could sign in now and then and spray on
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 10
    member(org, Role.INTEGRATION_COUNSELLOR, username="own")
    others = [member(org, Role.INTEGRATION_COUNSELLOR, username=f"v{i}") for i in range(3)]
    for u in others:
        for r in range(3):
            _try(client, u.username, f"g{r}")
    assert _try(client, "own", PASSWORD) == 302
    client.post(reverse("accounts:logout"), REMOTE_ADDR="192.0.2.10")
    assert _try(client, "v0", "g9") == 429  # the tenth failure from the address


def test_login__unknown_usernames__audited_up_to_a_few_per_address(client, org, settings):
    # every failure was a permanent chained event: anyone could grow the trail without end
    settings.LOGIN_UNKNOWN_USERNAME_AUDITS = 5
    member(org, Role.INTEGRATION_COUNSELLOR, username="real")
    for i in range(20):
        _try(client, f"nobody{i}")
    _try(client, "real")  # a try at a real user is still recorded
    failed = list(AuditEvent.objects.filter(action="login_failed").order_by("id"))
    assert [e.changes for e in failed] == [{"known_user": False}] * 5 + [
        {"known_user": False, "further_unknown_not_recorded": True},
        {"known_user": True},
    ]
    # another address is recorded on its own
    _try(client, "nobody-else", address="198.51.100.7")
    assert AuditEvent.objects.filter(action="login_failed").count() == 8


def test_login__address_locked__further_tries_not_recorded(client, org, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 10
    users = [member(org, Role.INTEGRATION_COUNSELLOR, username=f"w{i}") for i in range(5)]
    for r in range(4):
        for u in users:
            _try(client, u.username, f"g{r}")
    # ten checked (each user's failures, all real), the ten refused unchecked not recorded
    assert AuditEvent.objects.filter(action="login_failed").count() == 10


@pytest.mark.parametrize(
    ("proxies", "meta", "counted"),
    [(0, {"REMOTE_ADDR": "2001:db8:1:2:3:4:5:6"}, "2001:db8:1:2::"),
     (0, {"REMOTE_ADDR": "192.0.2.1"}, "192.0.2.1"),
     (0, {"REMOTE_ADDR": "::ffff:192.0.2.1"}, "192.0.2.1"),
     (1, {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "2001:db8::9"}, "2001:db8::"),
     (0, {"REMOTE_ADDR": ""}, None)],
)  # fmt: skip
def test_throttled_address__ipv6_by_its_network(rf, settings, proxies, meta, counted):
    from koto.accounts.throttling import throttled_address

    settings.PROXY_COUNT = proxies
    assert throttled_address(rf.get("/", **meta)) == counted
