"""Follow-ups of the programme services' review: one language result per skill and test day
also when two recordings arrive at the same moment (a unique constraint, the duplicates
already stored resolved by the migration), a result linked to its test enrolment from the
form and the API, and an attendance correction audited with the hours it replaced."""

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from koto.audit.models import AuditEvent
from koto.clients.models import ClientEvent
from koto.core import clock
from koto.core.errors import DomainError, ValidationFailed
from koto.core.roles import Role
from koto.offerings import services
from koto.offerings.models import LanguageTestResult
from tests.factories import make_client, member

TODAY = dt.date(2026, 11, 2)
DAY = dt.date(2026, 10, 20)
BIRTH = dt.date(1990, 5, 17)  # pinned: the identity code's century sign follows the year


def client_of(counsellor):
    c = make_client(counsellor, birth_date=BIRTH)
    c.access = "full"
    return c


def course(manager, **extra):
    data = {"kind": "integration_training", "name_fi": "Kotoutumiskoulutus F", "capacity": 5,
            "starts_on": dt.date(2026, 9, 1), **extra}  # fmt: skip
    return services.service_create(actor=manager, data=data)


def enrolled(manager, counsellor, client, start=dt.date(2026, 10, 5), **extra):
    e = services.enrolment_create(actor=counsellor, client=client, service=course(manager, **extra))
    if start:
        e = services.enrolment_transition(
            actor=counsellor, enrolment=e, operation="start", on=start
        )
    return e


def reading(level):
    return [{"language": "fi", "skill": "reading", "level": level}]


# ------------------------------------------------------------- 1. one result per skill and day


def test_language_result__duplicate_row__refused_by_the_database(counsellor):
    c = client_of(counsellor)
    services.language_result_record(
        actor=counsellor, client=c, taken_on=DAY, results=reading("A2.1")
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        LanguageTestResult.objects.create(
            client=c, taken_on=DAY, language="fi", skill="reading", level="B1.1",
            recorded_by=counsellor,
        )  # fmt: skip


def test_language_result__other_stored_between_read_and_insert__corrected_not_doubled(
    counsellor, org, monkeypatch
):
    # given: another counsellor's recording stored after this one read the day's results
    other = member(org, Role.INTEGRATION_COUNSELLOR, username="other_counsellor")
    c = client_of(counsellor)
    services.language_result_record(actor=other, client=c, taken_on=DAY, results=reading("A2.1"))
    real, calls = services._results_recorded, []

    def read_before_the_other(client, taken_on):
        calls.append(taken_on)
        return {} if len(calls) == 1 else real(client, taken_on)

    monkeypatch.setattr(services, "_results_recorded", read_before_the_other)
    # when
    rows = services.language_result_record(
        actor=counsellor, client=c, taken_on=DAY,
        results=[*reading("B1.1"), {"language": "fi", "skill": "writing", "level": "A2.2"}],
    )  # fmt: skip
    # then: the insert refused, read again and corrected; the new skill stored once
    assert len(calls) == 2
    stored = LanguageTestResult.objects.filter(client=c).order_by("skill")
    assert list(stored.values_list("skill", "level")) == [("reading", "B1.1"), ("writing", "A2.2")]
    assert sorted(r.level for r in rows) == ["A2.2", "B1.1"]
    last = AuditEvent.objects.filter(object_type="language_result", client_id=c.id).latest("id")
    assert last.action == "update"
    assert last.changes["corrected"] == {"fi reading": {"from": "A2.1", "to": "B1.1"}}


def test_language_result__conflict_every_time__clear_error_nothing_written(
    counsellor, org, monkeypatch
):
    other = member(org, Role.INTEGRATION_COUNSELLOR, username="other_counsellor")
    c = client_of(counsellor)
    services.language_result_record(actor=other, client=c, taken_on=DAY, results=reading("A2.1"))
    audits = AuditEvent.objects.filter(object_type="language_result").count()
    events = ClientEvent.objects.filter(client=c).count()
    monkeypatch.setattr(services, "_results_recorded", lambda client, taken_on: {})
    with pytest.raises(DomainError) as err:
        services.language_result_record(
            actor=counsellor, client=c, taken_on=DAY,
            results=[{"language": "fi", "skill": "writing", "level": "A2.2"}, *reading("B1.1")],
        )  # fmt: skip
    assert err.value.code == "edit_conflict"
    assert list(err.value.fields) == ["results"]
    # the writing result (new, inserted in the same statement) is not left behind
    assert list(LanguageTestResult.objects.filter(client=c).values_list("skill", "level")) == [
        ("reading", "A2.1")
    ]
    assert AuditEvent.objects.filter(object_type="language_result").count() == audits
    assert ClientEvent.objects.filter(client=c).count() == events


@pytest.mark.django_db(transaction=True)
def test_language_result__two_first_recordings_at_the_same_moment__one_row_corrected(
    org, monkeypatch
):
    """Two transactions both read no result for the day, then both insert: the unique index
    makes the second wait for the first and refuses it; it reads again and corrects."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions are tested on PostgreSQL (SQLite serialises writers)")
    with clock.frozen(TODAY):
        first = member(org, Role.INTEGRATION_COUNSELLOR)
        second = member(org, Role.INTEGRATION_COUNSELLOR)
        c = client_of(first)
    both_read = threading.Barrier(2)
    seen = threading.local()
    real = services._results_recorded

    def read_then_wait(client, taken_on):
        rows = real(client, taken_on)
        if not getattr(seen, "read", False):  # the first read of each thread only
            seen.read = True
            both_read.wait(timeout=10)
        return rows

    monkeypatch.setattr(services, "_results_recorded", read_then_wait)
    levels, errors = [], []

    def record(user, level):
        try:
            with clock.frozen(TODAY):
                c.access = "full"
                rows = services.language_result_record(
                    actor=user, client=c, taken_on=DAY, results=reading(level)
                )
            levels.append(rows[0].level)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            close_old_connections()
            connection.close()

    threads = [
        threading.Thread(target=record, args=(first, "A2.1")),
        threading.Thread(target=record, args=(second, "B1.1")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert len(levels) == 2
    stored = list(LanguageTestResult.objects.filter(client=c).values_list("skill", "level"))
    assert len(stored) == 1
    # the one that came second corrected the first: its level stays, audited as corrected
    assert stored == [("reading", levels[-1])]
    trail = list(
        AuditEvent.objects.filter(object_type="language_result", client_id=c.id)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert trail == ["create", "update"]


def _migrate(*targets):
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    return executor.loader.project_state(list(targets)).apps


@pytest.mark.django_db(transaction=True)
def test_migration__duplicates_resolved__latest_kept_with_the_enrolment_link(manager, counsellor):
    with clock.frozen(TODAY):
        c, d = client_of(counsellor), client_of(counsellor)
        e = enrolled(manager, counsellor, c, kind="language_test")
    old = _migrate(("offerings", "0004_service_version"))
    try:
        R = old.get_model("offerings", "LanguageTestResult")

        def add(client, skill, level, enrolment_id=None, on=DAY):
            return R.objects.create(client_id=client.id, taken_on=on, language="fi", skill=skill,
                                    level=level, enrolment_id=enrolment_id,
                                    recorded_by_id=counsellor.id).id  # fmt: skip

        add(c, "reading", "A2.1", e.id)
        add(c, "reading", "A2.2")
        kept_reading = add(c, "reading", "B1.1")
        kept_writing = add(c, "writing", "A2.2")  # no duplicate
        add(c, "speaking", "A1.3", e.id)
        kept_speaking = add(c, "speaking", "A2.1", e.id)
        kept_other_day = add(c, "reading", "A1.1", on=DAY - dt.timedelta(days=1))
        kept_other_client = add(d, "reading", "A1.1")
    finally:
        _migrate(*MigrationExecutor(connection).loader.graph.leaf_nodes())
    rows = {r.id: (r.skill, r.level, r.enrolment_id) for r in LanguageTestResult.objects.all()}
    assert rows == {
        kept_reading: ("reading", "B1.1", e.id),
        kept_writing: ("writing", "A2.2", None),
        kept_speaking: ("speaking", "A2.1", e.id),
        kept_other_day: ("reading", "A1.1", None),
        kept_other_client: ("reading", "A1.1", None),
    }


# ----------------------------------------------------------------- 2. the test enrolment linked


def test_language_result_page__choices_are_the_clients_started_language_tests(
    web, manager, counsellor
):
    c = client_of(counsellor)
    test = enrolled(manager, counsellor, c, kind="language_test", name_fi="YKI-testi")
    enrolled(manager, counsellor, c, name_fi="Kotoutumiskoulutus X")  # not a test
    enrolled(manager, counsellor, c, start=None, kind="language_test", name_fi="Tuleva testi")
    other = enrolled(manager, counsellor, client_of(counsellor), kind="language_test",
                     name_fi="Toisen testi")  # fmt: skip
    http, url = web(counsellor), reverse("offerings:language_result", args=[c.id])
    page = http.get(url).content.decode()
    assert "YKI-testi" in page
    assert "Kotoutumiskoulutus X" not in page
    assert "Tuleva testi" not in page
    assert "Toisen testi" not in page
    body = {"taken_on": "2026-10-20", "language": "fi", "level_reading": "B1.1",
            "enrolment": str(test.id)}  # fmt: skip
    r = http.post(url, {**body, "enrolment": str(other.id)})
    assert r.status_code == 200
    assert "enrolment" in r.context["form"].errors
    assert not LanguageTestResult.objects.exists()
    r = http.post(url, body)
    assert r.status_code == 302
    assert LanguageTestResult.objects.get().enrolment_id == test.id


def test_language_result__enrolment_not_in_a_test__refused_naming_enrolment(manager, counsellor):
    c = client_of(counsellor)
    training = enrolled(manager, counsellor, c)
    with pytest.raises(ValidationFailed) as err:
        services.language_result_record(
            actor=counsellor, client=c, taken_on=DAY, results=reading("B1.1"), enrolment=training
        )
    assert list(err.value.fields) == ["enrolment"]
    assert not LanguageTestResult.objects.exists()


def test_language_result__linked_afterwards__link_audited(manager, counsellor):
    c = client_of(counsellor)
    test = enrolled(manager, counsellor, c, kind="language_test")
    services.language_result_record(
        actor=counsellor, client=c, taken_on=DAY, results=reading("B1.1")
    )
    services.language_result_record(
        actor=counsellor, client=c, taken_on=DAY, results=reading("B1.1"), enrolment=test
    )
    assert LanguageTestResult.objects.get().enrolment_id == test.id
    last = AuditEvent.objects.filter(object_type="language_result", client_id=c.id).latest("id")
    assert last.action == "update"
    assert last.changes["enrolment_changed"] == {"fi reading": {"from": None, "to": test.id}}


def _api(http, c, **body):
    return http.post(
        f"/api/v1/services/clients/{c.id}/language-results",
        {"taken_on": "2026-10-20", "results": reading("B1.1"), **body},
        content_type="application/json",
    )


def test_api_language_results__enrolment_id__linked_and_answered(web, manager, counsellor):
    c = client_of(counsellor)
    test = enrolled(manager, counsellor, c, kind="language_test")
    http = web(counsellor)
    r = _api(http, c, enrolment_id=test.id)
    assert r.status_code == 201
    assert r.json()[0]["enrolment_id"] == test.id
    assert LanguageTestResult.objects.get().enrolment_id == test.id
    listed = http.get(f"/api/v1/services/clients/{c.id}/language-results").json()
    assert [x["enrolment_id"] for x in listed] == [test.id]


@pytest.mark.parametrize("which", ["unknown", "another_clients", "not_a_test", "text"])
def test_api_language_results__bad_enrolment_id__422_naming_it(web, manager, counsellor, which):
    c = client_of(counsellor)
    ids = {
        "unknown": 999_999,
        "another_clients": enrolled(manager, counsellor, client_of(counsellor),
                                    kind="language_test").id,
        "not_a_test": enrolled(manager, counsellor, c).id,
        "text": "abc",
    }  # fmt: skip
    r = _api(web(counsellor), c, enrolment_id=ids[which])
    assert r.status_code == 422
    assert list(r.json()["fields"]) == ["enrolment_id"]
    assert not LanguageTestResult.objects.exists()


# ------------------------------------------------------------ 3. attendance correction audited


def test_attendance_record__correction__audit_holds_the_hours_before(manager, counsellor):
    e = enrolled(manager, counsellor, client_of(counsellor))
    services.attendance_record(actor=counsellor, enrolment=e, on=dt.date(2026, 10, 20), hours=4)
    first = AuditEvent.objects.filter(object_type="attendance").latest("id")
    assert first.action == "create"
    assert first.changes == {"on": "2026-10-20", "monthly": False, "hours": "4.00"}
    services.attendance_record(actor=counsellor, enrolment=e, on=dt.date(2026, 10, 20), hours="5.5")
    last = AuditEvent.objects.filter(object_type="attendance").latest("id")
    assert last.action == "update"
    assert last.object_id == first.object_id
    assert last.changes == {
        "on": "2026-10-20", "monthly": False, "hours": {"from": "4.00", "to": "5.50"},
    }  # fmt: skip
