"""The upgrade migrations of the contact rollups, run backwards and forwards on the test
database: the first refresh after `insights.0004` must be a full one (the refresh before it
counted contacts past the watermark, which the adding refresh cannot tell apart), and
`guidance.0003` adds the BRIN index on PostgreSQL only and takes it away again."""

import datetime as dt

import pytest
from django.db import connection

from koto.insights.models import RefreshState
from tests.migrations import latest, migrate

BRIN = "guidance_contact_logged_brin"


def has_brin():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [BRIN])
        return cursor.fetchone() is not None


@pytest.mark.django_db(transaction=True)
def test_upgrade_to_contacts_after_watermark__makes_the_next_refresh_full():
    before = migrate(("insights", "0003_refresh_generation"))
    try:
        before.get_model("insights", "RefreshState").objects.create(
            id=1, watermark_at=dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC), cells=7
        )
    finally:
        migrate(*latest())
    state = RefreshState.objects.get(id=1)
    assert state.watermark_at is None
    assert state.contacts_after_watermark == []
    assert state.cells == 7  # the rest of the state is kept


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the BRIN index is PostgreSQL's")
def test_brin_index_on_contact_logged_at__is_made_and_taken_away():
    assert has_brin()
    migrate(("guidance", "0002_day_counts"))
    try:
        assert not has_brin()
    finally:
        migrate(*latest())
    assert has_brin()
