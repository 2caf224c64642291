import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import close_old_connections, connection, transaction

from koto.audit.models import LANES, AuditChainHead, AuditEvent
from koto.audit.services import audit_record, audit_record_many
from koto.audit.verification import verify_chain
from koto.clients import selectors
from koto.core.roles import Role
from tests.factories import make_client, member


def test_audit_chain__intact__verifies(counsellor):
    make_client(counsellor)
    audit_record(actor=counsellor, action="read", object_type="client", object_id=1)
    report = verify_chain()
    assert report.ok is True
    assert report.checked == AuditEvent.objects.count()


def test_audit_verify__edited_record__names_first_broken_link(counsellor, capsys):
    for _ in range(3):
        make_client(counsellor)
    victim = AuditEvent.objects.order_by("id")[1]
    AuditEvent.objects.filter(id=victim.id).update(reason="tampered")
    with pytest.raises(CommandError) as e:
        call_command("audit_verify")
    assert f"BROKEN at audit event {victim.id}" in str(e.value)
    assert "edited" in str(e.value)


def test_audit_verify__events_written_while_it_runs__left_for_the_next_run(counsellor, monkeypatch):
    # the weekly check reads for minutes: an audited write meanwhile (here, after its first
    # batch) is not part of what it checks, and is no alarm
    from koto.audit import verification

    for _ in range(3):
        make_client(counsellor)
    before = AuditEvent.objects.count()
    check = verification._listed_mismatch
    written = []

    def write_meanwhile(batch):
        if not written:
            written.append(
                audit_record(actor=counsellor, action="read", object_type="client", object_id=1)
            )
        return check(batch)

    monkeypatch.setattr(verification, "_listed_mismatch", write_meanwhile)
    report = verify_chain(batch_size=2)
    assert report.ok and report.checked == before
    monkeypatch.setattr(verification, "_listed_mismatch", check)
    assert verify_chain().checked == before + 1


def test_audit_verify__deleted_record__detected_at_the_next_event_of_its_lane(counsellor):
    make_client(counsellor)
    audit_record_many(
        actor=counsellor, action="read", object_type="client", items=[{"object_id": i} for i in range(3)]
    )  # fmt: skip
    # the three went to one lane in order: delete the middle one
    _first, victim, successor = AuditEvent.objects.order_by("-id")[:3][::-1]
    AuditEvent.objects.filter(id=victim.id).delete()
    report = verify_chain()
    assert report.broken_at == successor.id
    assert report.problem == (
        f"missing event (deleted row): position {victim.seq} of lane {victim.lane}"
    )


def test_audit_verify__last_record_of_a_lane_deleted__detected(counsellor):
    make_client(counsellor)
    victim = AuditEvent.objects.order_by("-id")[0]
    AuditEvent.objects.filter(id=victim.id).delete()
    report = verify_chain()
    assert report.broken_at == victim.id
    assert report.problem == f"events missing at the end of lane {victim.lane}"


def test_audit_verify__event_moved_to_another_lane__detected(counsellor):
    # three events in one lane, in order; the middle one moved to the start of a lane
    # no event uses (lanes are picked at random, so "the other of lanes 1 and 2" may
    # already hold a first event, and the move would break the unique position instead)
    audit_record_many(
        actor=counsellor, action="read", object_type="client", items=[{"object_id": i} for i in range(3)]
    )  # fmt: skip
    _first, victim, successor = AuditEvent.objects.order_by("-id")[:3][::-1]
    used = set(AuditEvent.objects.values_list("lane", flat=True))
    other = min(set(range(1, LANES + 1)) - used)
    AuditEvent.objects.filter(id=victim.id).update(lane=other, seq=1)
    report = verify_chain()
    assert report.ok is False
    # the moved event is past its new lane's end, so it is checked last: its old lane's
    # gap is found first, at its successor
    assert report.broken_at == successor.id
    assert (
        report.problem
        == f"missing event (deleted row): position {victim.seq} of lane {victim.lane}"
    )
    # with the gap mended by hand, the moved event itself is found
    AuditEvent.objects.filter(id=successor.id).delete()
    AuditChainHead.objects.filter(id=victim.lane).update(
        last_seq=victim.seq - 1, last_hash=victim.prev_hash, last_event_id=_first.id
    )
    report = verify_chain()
    assert (report.broken_at, report.problem) == (victim.id, "previous-hash link does not match")


def test_audit_record_many__one_lane_in_order(counsellor):
    audit_record_many(
        actor=counsellor,
        action="create",
        object_type="client",
        items=[{"object_id": i} for i in range(5)],
    )
    events = list(AuditEvent.objects.filter(object_type="client").order_by("id"))
    assert len({e.lane for e in events}) == 1
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 5))
    assert verify_chain().ok is True


def test_verify_chain__from_an_id__checks_only_the_rest(counsellor):
    for _ in range(3):
        audit_record(actor=counsellor, action="read", object_type="client", object_id=1)
    first_new = AuditEvent.objects.order_by("-id")[0].id + 1
    for _ in range(2):
        audit_record(actor=counsellor, action="read", object_type="client", object_id=2)
    report = verify_chain(from_id=first_new)
    assert report.ok is True
    assert report.checked == 2


@pytest.mark.django_db(transaction=True)
def test_audit_record__concurrent_writers__take_free_lanes_without_waiting(counsellor):
    """While one transaction holds a lane (until its commit), others append to other lanes
    at once; afterwards every lane verifies."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL (SQLite serialises writers anyway)")
    # The lanes exist, as migration audit.0002 leaves them (this test's flush removed them;
    # without them the holder creates a lane, uncommitted, and a writer whose random
    # fallback picks that same lane waits on its insert: one run in 32 failed so).
    AuditChainHead.objects.bulk_create(
        [AuditChainHead(id=lane) for lane in range(1, LANES + 1)], ignore_conflicts=True
    )
    holding, release = threading.Event(), threading.Event()
    errors: list[Exception] = []

    def hold_a_lane():
        try:
            with transaction.atomic():
                audit_record(actor=counsellor, action="read", object_type="client", object_id=1)
                holding.set()
                release.wait(timeout=30)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            close_old_connections()
            connection.close()

    holder = threading.Thread(target=hold_a_lane)
    holder.start()
    assert holding.wait(timeout=10) is True
    try:
        # A lock wait would hang here: fail fast instead.
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        for i in range(5):
            audit_record(actor=counsellor, action="read", object_type="client", object_id=i)
    finally:
        release.set()
        holder.join(timeout=30)
    assert errors == []
    lanes = set(AuditEvent.objects.values_list("lane", flat=True))
    assert len(lanes) >= 2
    assert AuditChainHead.objects.count() >= 2
    assert verify_chain().ok is True


def test_audit_record__postgresql__two_statements_and_the_event_as_built(counsellor):
    """Every audited request runs this: a free lane and the id in one statement, the event
    and the lane's head in another; the stored event is the one hashed."""
    if connection.vendor != "postgresql":
        pytest.skip("the two-statement writer is PostgreSQL's")
    from django.test.utils import CaptureQueriesContext

    audit_record(actor=counsellor, action="read", object_type="client", object_id=1)
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        event = audit_record(
            actor=counsellor, action="read", object_type="client", object_id=2,
            changes={"query": "ä 'x'"},
        )  # fmt: skip
    assert len(ctx.captured_queries) == 2
    stored = AuditEvent.objects.get(id=event.id)
    head = AuditChainHead.objects.get(id=stored.lane)
    assert (stored.hash, stored.seq, stored.changes) == (event.hash, event.seq, {"query": "ä 'x'"})
    assert (head.last_event_id, head.last_hash, head.last_seq) == (event.id, event.hash, event.seq)
    assert verify_chain().ok


def test_audit_verify__ok_output(counsellor, capsys):
    make_client(counsellor)
    call_command("audit_verify")
    assert "chain intact" in capsys.readouterr().out


def test_client_read__audited_with_actor_and_organisation(counsellor):
    c = make_client(counsellor)
    selectors.client_get_for(user=counsellor, client_id=c.id, purpose="view")
    event = AuditEvent.objects.filter(action="read", client_id=c.id).get()
    assert event.actor == counsellor
    assert event.organisation_id == counsellor.active_membership.organisation_id
    assert event.reason == "view"


def test_client_detail_page__audited_as_web_read(web, counsellor):
    c = make_client(counsellor)
    web(counsellor).get(f"/clients/{c.id}/")
    event = AuditEvent.objects.filter(action="read", client_id=c.id).get()
    assert event.channel == "web"


def test_api_read__audited_as_api_read(web, counsellor):
    c = make_client(counsellor)
    web(counsellor).get(f"/api/v1/clients/{c.id}")
    event = AuditEvent.objects.filter(action="read", client_id=c.id).get()
    assert event.channel == "api"


def test_auditor_screen__lists_viewers(web, org, counsellor):
    auditor = member(org, Role.AUDITOR)
    c = make_client(counsellor)
    web(counsellor).get(f"/clients/{c.id}/")
    http = web(auditor)
    response = http.get(f"/clients/{c.id}/audit/")
    assert response.status_code == 200
    assert counsellor.username in response.content.decode()


def test_auditor_screen__counsellor__404(web, counsellor):
    c = make_client(counsellor)
    assert web(counsellor).get(f"/clients/{c.id}/audit/").status_code == 404


def test_auditor_screen__every_event_a_page_at_a_time(web, org, counsellor):
    from koto.audit.services import audit_record_many

    # given 130 events about the client (beyond its creation's)
    auditor = member(org, Role.AUDITOR)
    c = make_client(counsellor)
    items = [{"object_id": c.id, "client_id": c.id} for _ in range(130)]
    audit_record_many(actor=counsellor, action="read", object_type="client", items=items)
    expected = list(
        AuditEvent.objects.filter(client_id=c.id).order_by("-id").values_list("id", flat=True)
    )
    http = web(auditor)
    # when the auditor reads the trail and follows "Older events"
    first = http.get(f"/clients/{c.id}/audit/")
    page = first.context["page"]
    assert len(page.items) == 100
    assert "?cursor=" in first.content.decode()
    rest = http.get(f"/clients/{c.id}/audit/", {"cursor": page.next_cursor}).context["page"]
    # then every event comes once, newest first, after the auditor's own read of the first page
    seen = [e.id for e in page.items + rest.items]
    assert seen[1:] == expected
    assert AuditEvent.objects.get(id=seen[0]).actor_id == auditor.id
    assert rest.next_cursor is None
    assert http.get(f"/clients/{c.id}/audit/", {"cursor": "x"}).status_code == 200


def test_auditor_screen__queries_constant(web, org, counsellor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    auditor = member(org, Role.AUDITOR)
    c = make_client(counsellor)
    http = web(auditor)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert http.get(f"/clients/{c.id}/audit/").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    items = [{"object_id": c.id, "client_id": c.id} for _ in range(20)]
    audit_record_many(actor=counsellor, action="read", object_type="client", items=items)
    assert count() == few


def test_list_read__names_the_clients_shown_and_the_auditor_screen_finds_it(web, org, counsellor):
    # a list's event named no client: who had seen a client's name in search results or a
    # work list was not on that client's audit page
    from koto.audit.models import AuditListedClient

    auditor = member(org, Role.AUDITOR)
    shown = make_client(counsellor, first_name="Rania", last_name="Haddad")
    other = make_client(counsellor, first_name="Omar", last_name="Farah")
    web(counsellor).get("/clients/search/", {"q": "Haddad"})
    event = AuditEvent.objects.get(object_type="client_search")
    assert event.changes["listed_clients"] == [shown.id]
    assert list(AuditListedClient.objects.values_list("client_id", "event_id")) == [
        (shown.id, event.id)
    ]
    assert verify_chain().ok
    http = web(auditor)
    assert event in http.get(f"/clients/{shown.id}/audit/").context["page"].items
    assert event not in http.get(f"/clients/{other.id}/audit/").context["page"].items
    assert (
        "the name was shown in a list" in http.get(f"/clients/{shown.id}/audit/").content.decode()
    )


def test_list_read__each_client_once_and_empty_lists_index_nothing(counsellor):
    from koto.audit.models import AuditListedClient

    c = make_client(counsellor)
    event = audit_record(actor=counsellor, action="read", object_type="task_list",
                         listed=[c.id, None, c.id])  # fmt: skip
    assert event.changes == {"listed_clients": [c.id]}
    empty = audit_record(actor=counsellor, action="read", object_type="task_list", listed=[])
    assert empty.changes == {"listed_clients": []}
    assert AuditListedClient.objects.count() == 1
    assert verify_chain().ok


@pytest.mark.parametrize("tamper", ["delete", "add", "move"])
def test_audit_verify__index_of_listed_clients_tampered__detected(counsellor, tamper):
    from koto.audit.models import AuditListedClient

    a, b = make_client(counsellor), make_client(counsellor)
    event = audit_record(actor=counsellor, action="read", object_type="client_search",
                         listed=[a.id, b.id])  # fmt: skip
    audit_record(actor=counsellor, action="read", object_type="client", object_id=a.id)
    rows = AuditListedClient.objects.filter(event_id=event.id)
    if tamper == "delete":  # hide the list from a's audit page
        rows.filter(client_id=a.id).delete()
    elif tamper == "add":
        AuditListedClient.objects.create(client_id=a.id + b.id, event_id=event.id)
    else:
        rows.filter(client_id=b.id).update(event_id=event.id + 1)
    report = verify_chain()
    assert not report.ok and report.broken_at == event.id
    assert "clients shown in the list" in report.problem


def test_audit_record__postgresql__a_list_in_the_same_two_statements(counsellor):
    if connection.vendor != "postgresql":
        pytest.skip("the two-statement writer is PostgreSQL's")
    from django.test.utils import CaptureQueriesContext

    from koto.audit.models import AuditListedClient

    c = make_client(counsellor)
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        event = audit_record(actor=counsellor, action="read", object_type="client_list",
                             listed=[c.id, c.id + 1])  # fmt: skip
    assert len(ctx.captured_queries) == 2
    assert set(AuditListedClient.objects.filter(event_id=event.id).values_list("client_id", flat=True)) == {
        c.id, c.id + 1,
    }  # fmt: skip
    assert verify_chain().ok


def test_auditor_screen__reads_and_lists_merged_newest_first_a_page_at_a_time(web, org, counsellor):
    # the page reads two index ranges (the client's events, the lists naming the client)
    auditor = member(org, Role.AUDITOR)
    c = make_client(counsellor)
    other = make_client(counsellor)
    for i in range(75):
        audit_record(actor=counsellor, action="read", object_type="client", object_id=c.id,
                     client_id=c.id)  # fmt: skip
        audit_record(actor=counsellor, action="read", object_type="client_search",
                     listed=[other.id, c.id] if i % 2 else [other.id])  # fmt: skip
    expected = [e.id for e in AuditEvent.objects.order_by("-id")
                if e.client_id == c.id or c.id in e.changes.get("listed_clients", [])]  # fmt: skip
    http = web(auditor)
    first = http.get(f"/clients/{c.id}/audit/").context["page"]
    rest = http.get(f"/clients/{c.id}/audit/", {"cursor": first.next_cursor}).context["page"]
    seen = [e.id for e in first.items + rest.items]
    assert len(first.items) == 100 and rest.next_cursor is None
    assert seen[1:] == expected  # after the auditor's own read of the first page


def test_audit_record__postgresql__one_transaction_keeps_to_one_lane(counsellor):
    """A transaction recording several events holds one lane, not one per event: holding
    one while waiting for another could deadlock once every lane was busy."""
    if connection.vendor != "postgresql":
        pytest.skip("lanes are chosen on PostgreSQL (SQLite uses lane 1)")
    AuditChainHead.objects.bulk_create(
        [AuditChainHead(id=lane) for lane in range(1, LANES + 1)], ignore_conflicts=True
    )
    with transaction.atomic():
        events = [
            audit_record(actor=counsellor, action="read", object_type="client", object_id=i)
            for i in range(12)
        ]
        audit_record_many(actor=counsellor, action="read", object_type="client",
                          items=[{"object_id": i} for i in range(3)])  # fmt: skip
    lanes = set(AuditEvent.objects.filter(id__gte=events[0].id).values_list("lane", flat=True))
    assert len(lanes) == 1
    assert verify_chain().ok


def test_audit_verify__events_written_on_a_frozen_clock__verify(counsellor):
    # the frozen clock is Helsinki time: the event was hashed as "…+02:00" and read back as
    # "…+00:00", so every event a test or a data generator wrote looked edited
    import datetime as dt

    from koto.core import clock

    with clock.frozen(dt.datetime(2026, 1, 5, 9, 0, tzinfo=clock.HELSINKI)):
        audit_record(actor=counsellor, action="read", object_type="client", object_id=1)
    assert verify_chain().ok


def test_audit_seal__a_lane_cut_short_with_its_head_moved_back__found(counsellor, tmp_path, capsys):
    # deleting a lane's last events and moving its head back passed verification: no hash
    # need be computed for it. A seal kept outside the database finds it.
    import json

    for _ in range(3):
        make_client(counsellor)
    call_command("audit_verify", "--seal")
    seal = capsys.readouterr().out.strip().splitlines()[-1]
    kept = tmp_path / "seal.json"
    kept.write_text(seal, encoding="utf-8")
    call_command("audit_verify", "--check-seal", str(kept))
    assert "still holds what the seal" in capsys.readouterr().out
    written = tmp_path / "written.json"
    call_command("audit_verify", "--check-seal", str(kept), "--seal-out", str(written))
    assert json.loads(written.read_text(encoding="utf-8"))["heads"] == json.loads(seal)["heads"]
    # cut the last event of a lane and move its head back: the chain alone still verifies
    last = AuditEvent.objects.order_by("-id").first()
    before = AuditEvent.objects.filter(lane=last.lane, seq=last.seq - 1).first()
    AuditEvent.objects.filter(id=last.id).delete()
    AuditChainHead.objects.filter(id=last.lane).update(
        last_seq=last.seq - 1,
        last_hash=before.hash if before else "0" * 64,
        last_event_id=before.id if before else 0,
    )
    assert verify_chain().ok
    with pytest.raises(CommandError) as e:
        call_command("audit_verify", "--check-seal", str(kept))
    assert f"lane {last.lane}: the sealed event at position {last.seq} is gone" in str(e.value)
    # an edited seal is told too
    edited = json.loads(seal)
    edited["heads"][str(last.lane)][0] += 1
    kept.write_text(json.dumps(edited), encoding="utf-8")
    with pytest.raises(CommandError) as e:
        call_command("audit_verify", "--check-seal", str(kept))
    assert "damaged or edited" in str(e.value)
    # written only when every check passed: a failed check leaves the kept seal as it was
    out = tmp_path / "next.json"
    with pytest.raises(CommandError):
        call_command("audit_verify", "--check-seal", str(kept), "--seal-out", str(out))
    assert not out.exists()
    kept.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(CommandError) as e:
        call_command("audit_verify", "--check-seal", str(kept))
    assert "is not a seal" in str(e.value)


def test_audit_record__command_run_by_hand__names_its_operator(db, monkeypatch):
    from koto.core import context

    monkeypatch.setattr(context, "os_user", lambda: "maija")
    token = context.set_current(context.RequestMeta(channel="cli", from_command=True))
    try:
        event = audit_record(actor=None, action="export", object_type="compensation_report")
    finally:
        context.reset(token)
    assert event.changes == {"operator": "maija"}
    # a task of the worker, or anything without a command run by hand, names nobody
    assert audit_record(actor=None, action="export", object_type="x").changes == {}
