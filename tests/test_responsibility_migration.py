"""`clients.0018` (and `0019`) keep the history of the client's responsible organisation in the registry,
filled from the transfers accepted before it."""

import datetime as dt

import pytest

from koto.audit.services import audit_record
from koto.clients.models import ResponsibilityChange
from koto.core.roles import Role
from koto.referrals.models import Referral
from tests.factories import OrganisationFactory, make_client, member
from tests.migrations import latest, migrate


@pytest.mark.django_db(transaction=True)
def test_upgrade_to_responsibility_history__filled_from_the_accepted_transfers():
    """`clients.0018` writes one change of responsibility for each transfer accepted before
    it, at its acceptance, with the records its audit events say passed over (the open
    tasks by `clients.0019`); one not
    accepted, or another kind of referral, gives none."""
    lahti = OrganisationFactory(code="398", name_fi="Lahti")
    tampere = OrganisationFactory(code="837", name_fi="Tampere")
    sender = member(lahti, Role.INTEGRATION_COUNSELLOR, username="sender")
    taker = member(tampere, Role.INTEGRATION_COUNSELLOR, username="taker")
    client = make_client(sender)
    accepted = dt.datetime(2026, 10, 20, 9, tzinfo=dt.UTC)
    common = {
        "client_id": client.id,
        "from_organisation_id": lahti.id,
        "sender_id": sender.id,
        "to_organisation_id": tampere.id,
        "message": "Muutti.",
        "due_on": dt.date(2026, 11, 1),
    }
    try:
        before = migrate(
            ("clients", "0017_task_kind_plan_draft_label"), ("referrals", "0006_transfer_history")
        )
        old = before.get_model("referrals", "Referral")
        moved = old.objects.create(
            kind="transfer", status="completed", accepted_at=accepted, handled_by_id=taker.id,
            transferred_from_id=lahti.id, **common,
        )  # fmt: skip
        # the hand-over's audit events name the records that passed over
        audit_record(
            actor=taker, action="update", object_type="client", object_id=client.id,
            client_id=client.id, reason=f"transfer:{moved.id}",
            changes={"assessments_moved": [41, 42], "tasks_moved": [5]},
        )  # fmt: skip
        audit_record(
            actor=taker, action="update", object_type="plan", object_id=7,
            client_id=client.id, reason=f"transfer:{moved.id}",
        )  # fmt: skip
        old.objects.create(kind="transfer", status="sent", **common)
        old.objects.create(
            kind="employment_services", status="completed", accepted_at=accepted, **common
        )
    finally:
        migrate(*latest())
    change = ResponsibilityChange.objects.get()
    assert (change.client_id, change.from_organisation_id, change.to_organisation_id) == (
        client.id, lahti.id, tampere.id,
    )  # fmt: skip
    assert (change.at, change.recorded_by_id, change.source_id) == (accepted, taker.id, moved.id)
    assert Referral.objects.count() == 3
    assert sorted(change.handed_over.values_list("record_type", "record_id")) == [
        ("assessment", 41), ("assessment", 42), ("plan", 7), ("task", 5),
    ]  # fmt: skip
