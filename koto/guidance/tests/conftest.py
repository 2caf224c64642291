import datetime as dt

import pytest

from koto.core import clock
from koto.core.roles import Role
from koto.guidance.services import reasons_seed
from tests.factories import member

TODAY = dt.date(2026, 3, 16)


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(dt.datetime(2026, 3, 16, 10, 30, tzinfo=clock.HELSINKI)):
        yield


@pytest.fixture
def reasons(db):
    """The default reason codes, created by the test (no rows from migrations)."""
    reasons_seed()


@pytest.fixture
def adviser(org, reasons):
    return member(org, Role.GUIDANCE_ADVISER, username="adviser")


@pytest.fixture
def manager(org):
    return member(org, Role.MANAGER, username="manager")


@pytest.fixture
def other_adviser(other_org, reasons):
    return member(other_org, Role.GUIDANCE_ADVISER, username="other_adviser")
