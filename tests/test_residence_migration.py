"""`clients.0011` supersedes the residences the earlier writer left overlapping a move
recorded on or before their first day, and leaves every other history as it was."""

import datetime as dt

import pytest

from koto.clients.models import Client, Residence
from tests.factories import OrganisationFactory, make_client
from tests.migrations import latest, migrate

D = dt.date


def history(client):
    return [
        (r.municipality.code, r.from_on, r.to_on, r.superseded_at is not None)
        for r in Residence.objects.filter(client=client).order_by("id")
    ]


@pytest.mark.django_db(transaction=True)
def test_upgrade__one_day_residence_of_a_backdated_move__superseded(counsellor):
    hollola = OrganisationFactory(code="098", name_fi="Hollola")
    heinola = OrganisationFactory(code="111", name_fi="Heinola")
    corrected = make_client(
        counsellor, home_municipality_code="398", home_municipality_on=D(2025, 1, 1)
    )
    moved_before_start = make_client(
        counsellor, home_municipality_code="398", home_municipality_on=D(2026, 3, 1)
    )
    plain = make_client(
        counsellor, home_municipality_code="398", home_municipality_on=D(2025, 1, 1)
    )
    Residence.objects.all().delete()
    lahti_id = counsellor.active_membership.organisation_id
    old = migrate(("clients", "0009_name_keys_collate_c"))
    try:
        R = old.get_model("clients", "Residence")
        # as the earlier writer left them: Lahti, Hollola from 1 March, then a move to
        # Heinola recorded as of 15 January (Hollola cut to its own first day)
        for cid, municipality, from_on, to_on in [
            (corrected.id, lahti_id, D(2025, 1, 1), D(2026, 2, 28)),
            (corrected.id, hollola.id, D(2026, 3, 1), D(2026, 3, 1)),
            (corrected.id, heinola.id, D(2026, 1, 15), None),
            # the only residence, Lahti from 1 March, then a move to Heinola recorded as of
            # 15 January: the first kotikunta date was the history's first day
            (moved_before_start.id, lahti_id, D(2026, 3, 1), D(2026, 3, 1)),
            (moved_before_start.id, heinola.id, D(2026, 1, 15), None),
            # a stay of one day that nothing overlaps
            (plain.id, lahti_id, D(2025, 1, 1), D(2025, 1, 1)),
            (plain.id, hollola.id, D(2025, 1, 2), None),
        ]:
            R.objects.create(
                client_id=cid, municipality_id=municipality, from_on=from_on, to_on=to_on
            )
        old.get_model("clients", "Client").objects.filter(pk=corrected.pk).update(
            updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        )
    finally:
        migrate(*latest())
    assert history(corrected) == [
        ("398", D(2025, 1, 1), D(2026, 1, 14), False),
        ("098", D(2026, 3, 1), D(2026, 3, 1), True),
        ("111", D(2026, 1, 15), None, False),
    ]
    assert history(moved_before_start) == [
        ("398", D(2026, 3, 1), D(2026, 3, 1), True),
        ("111", D(2026, 1, 15), None, False),
    ]
    assert Client.objects.get(pk=moved_before_start.pk).first_home_municipality_on == D(2026, 1, 15)
    assert Client.objects.get(pk=corrected.pk).first_home_municipality_on == D(2025, 1, 1)
    assert history(plain) == [
        ("398", D(2025, 1, 1), D(2025, 1, 1), False),
        ("098", D(2025, 1, 2), None, False),
    ]
    # the next rollup refresh recounts the client's municipalities
    assert Client.objects.get(pk=corrected.pk).updated_at > dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    # taken back, a superseded residence is what the earlier writer made of it: one day
    migrate(("clients", "0010_residence_superseded"))
    try:
        assert history(moved_before_start) == [
            ("398", D(2026, 3, 1), D(2026, 3, 1), False),
            ("111", D(2026, 1, 15), None, False),
        ]
    finally:
        migrate(*latest())
