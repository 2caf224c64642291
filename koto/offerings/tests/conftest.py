"""The programme services' tests run on one day (`TODAY`), with a service manager."""

import datetime as dt

import pytest

from koto.core import clock
from koto.core.roles import Role
from tests.factories import member

TODAY = dt.date(2026, 11, 2)


@pytest.fixture(autouse=True)
def fixed_today():
    with clock.frozen(TODAY):
        yield


@pytest.fixture
def manager(org):
    return member(org, Role.MANAGER, username="service_manager")
