import datetime as dt
import os

import pytest
from hypothesis import settings as hypothesis_settings

from koto.core.roles import Role
from tests.factories import OrganisationFactory, make_client, member

# On CI the property tests draw the same examples every run, so a landing is never decided
# by chance; locally they explore new examples each run.
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture
def org(db):
    return OrganisationFactory(code="398", name_fi="Lahti")


@pytest.fixture
def other_org(db):
    return OrganisationFactory(code="837", name_fi="Tampere")


@pytest.fixture
def counsellor(org):
    return member(org, Role.INTEGRATION_COUNSELLOR, username="counsellor")


@pytest.fixture
def social_worker(org):
    """A social worker in `org` (placement tests have their own, in the welfare region)."""
    return member(org, Role.SOCIAL_WORKER, username="social_worker")


@pytest.fixture
def client_(counsellor):
    """A client of the counsellor's, entitled under 681/2023 (asylum, first permit
    10.1.2026), as `client_get_for` would answer it (referral tests have their own)."""
    c = make_client(counsellor, residence_basis="asylum", first_permit_on=dt.date(2026, 1, 10))
    c.access = "full"
    return c


@pytest.fixture
def outsider(other_org):
    return member(other_org, Role.INTEGRATION_COUNSELLOR, username="outsider")


@pytest.fixture
def web(client):
    """Django's test client, logged in as a given user."""

    def login(user):
        client.force_login(user, backend="koto.accounts.backends.MembershipModelBackend")
        client.cookies["django_language"] = "en"  # pages in English unless a test sets another
        return client

    return login


@pytest.fixture(autouse=True)
def english_outside_requests():
    """Service and command messages are asserted in English (the source language); pages
    choose their language per request as users see them."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def immediate_tasks(settings):
    """Background tasks run at once (after the commit) instead of waiting for a worker."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Passwords hashed with a cheap hasher: the production Argon2 costs about 130 ms a hash
    or a sign-in, most of the suite's time when every test makes users. The production
    setting is tested on its own (`tests/test_views.py::test_login__argon2_hash`)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache (Django's, per process), as a new server does."""
    from django.core.cache import cache

    cache.clear()
    yield
