"""The rollup watermark waits for a transaction open when a refresh starts (PostgreSQL)."""

import datetime as dt
import time

import pytest
from django.db import connection

from koto.clients.models import Client
from koto.insights import rollups
from koto.insights.tests import builders as b

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL tells open transactions"
)


@pytest.fixture(autouse=True)
def frozen_today():
    """The real clock here: the database's transaction times are real."""
    yield


def test_refresh__a_row_committed_after_a_refresh_read_it_is_counted_next(
    transactional_db, lahti_counsellor, lahti
):
    import psycopg

    c = b.client(lahti_counsellor, created_on=dt.date(2026, 1, 5))
    Client.objects.filter(id=c.id).update(updated_at=c.updated_at - dt.timedelta(hours=2))
    rollups.refresh(full=True)
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(key, None)
    with psycopg.connect(**params) as other:
        # A counsellor's save: stamped now, committed only after the next refresh has read.
        other.execute(
            "UPDATE clients_client SET updated_at = clock_timestamp() WHERE id = %s", [c.id]
        )
        time.sleep(rollups.WRITE_SKEW.total_seconds() + 1)  # longer than the margin
        during = rollups.refresh()
        other.commit()
    after = rollups.refresh()

    assert during["organisations"] == 0  # it could not see the change yet
    assert after["organisations"] >= 1  # lahti again: the watermark waited for it
