"""Follow-ups of the guidance review: two imports of one file at the same moment (the rows the
other stored counted as present, nothing half-written), a contact logged for an earlier day
found from the message after saving, no invented time "12:00" on a contact logged for an
earlier day or imported, the report's minutes split as its contacts are, and the
data-subject export holding the reasons and the date."""

import datetime as dt
import io
import threading

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.db.models import ManyToManyField

from koto.audit.models import AuditEvent
from koto.core import clock
from koto.guidance import importing, services
from koto.guidance.importing import import_contacts
from koto.guidance.models import Contact, ContactDay, ContactReason
from koto.guidance.selectors import report_compute

NOW = dt.datetime(2026, 3, 16, 10, 30, tzinfo=clock.HELSINKI)  # the conftest's clock
YESTERDAY = dt.date(2026, 3, 15)


def lines(n: int) -> list[dict]:
    return [
        {"date": "2026-03-02", "channel": "walk_in", "reasons": "job_search", "language": "ar",
         "external_id": f"K-{i}"}
        for i in range(n)
    ]  # fmt: skip


# ------------------------------------------------------------- 4. two imports at the same moment


def test_import__other_run_stored_the_rows_after_the_read__counted_as_present(
    org, reasons, monkeypatch
):
    # given: the other run's rows, stored after this run read which keys were present
    first = import_contacts(organisation=org, rows=lines(5))
    assert first.created == 5
    real, calls = importing._present, []

    def read_before_the_other(organisation, keys):
        calls.append(len(keys))
        return set() if len(calls) == 1 else real(organisation, keys)

    monkeypatch.setattr(importing, "_present", read_before_the_other)
    audits = AuditEvent.objects.filter(object_type="guidance_contact").count()
    # when: the same file and one row more
    extra = {**lines(1)[0], "external_id": "K-new", "channel": "phone"}
    again = import_contacts(organisation=org, rows=[*lines(5), extra])
    # then: refused once, read again; the other's rows present, the new one stored once
    assert len(calls) == 2
    assert (again.created, again.skipped_existing, again.errors) == (1, 5, [])
    assert Contact.objects.count() == 6
    assert AuditEvent.objects.filter(object_type="guidance_contact").count() == audits + 1
    assert sum(ContactDay.objects.values_list("contacts", flat=True)) == 6


def test_import_command__other_run_at_the_same_moment__summary_not_a_traceback(
    org, reasons, monkeypatch, tmp_path
):
    path = tmp_path / "contacts.csv"
    path.write_text(
        "date,channel,reasons,external_id\n"
        + "".join(f"2026-03-02,walk_in,job_search,K-{i}\n" for i in range(3)),
        encoding="utf-8",
    )
    call_command("import_guidance_contacts", str(path), organisation=org.code, stdout=io.StringIO())
    real, calls = importing._present, []

    def read_before_the_other(organisation, keys):
        calls.append(1)
        return set() if len(calls) == 1 else real(organisation, keys)

    monkeypatch.setattr(importing, "_present", read_before_the_other)
    out = io.StringIO()
    call_command("import_guidance_contacts", str(path), organisation=org.code, stdout=out)
    assert out.getvalue().strip() == "3 rows: created 0, already present 3, failed 0."
    assert Contact.objects.count() == 3


def test_import_atomic__other_run_stored_the_rows_after_the_read__counts_written_once(
    org, reasons, monkeypatch
):
    import_contacts(organisation=org, rows=lines(2))
    real, calls = importing._present, []

    def read_before_the_other(organisation, keys):
        calls.append(1)
        return set() if len(calls) == 1 else real(organisation, keys)

    monkeypatch.setattr(importing, "_present", read_before_the_other)
    extra = {**lines(1)[0], "external_id": "K-new"}
    again = import_contacts(organisation=org, rows=[*lines(2), extra], atomic=True)
    assert (again.created, again.skipped_existing, again.errors) == (1, 2, [])
    assert sum(ContactDay.objects.values_list("contacts", flat=True)) == 3
    assert ContactReason.objects.count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("atomic", [False, True])
def test_import__same_file_twice_at_once__each_row_stored_once(org, monkeypatch, atomic):
    """Two runs both read no key present, then both insert: the second waits for the first's
    commit, is refused by the unique key, rolls its batch back and counts the rows present."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions are tested on PostgreSQL (SQLite serialises writers)")
    with clock.frozen(NOW):
        services.reasons_seed()
    both_read = threading.Barrier(2)
    seen = threading.local()
    real = importing._present

    def read_then_wait(organisation, keys):
        keys_present = real(organisation, keys)
        if not getattr(seen, "read", False):
            seen.read = True
            both_read.wait(timeout=10)
        return keys_present

    monkeypatch.setattr(importing, "_present", read_then_wait)
    results, errors = [], []

    def run():
        try:
            with clock.frozen(NOW):
                r = import_contacts(organisation=org, rows=lines(30), batch_size=50, atomic=atomic)
            results.append((r.created, r.skipped_existing, r.errors))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(results) == [(0, 30, []), (30, 0, [])]
    assert Contact.objects.count() == 30
    assert sum(ContactDay.objects.values_list("contacts", flat=True)) == 30
    assert AuditEvent.objects.filter(object_type="guidance_contact").count() == 30


# ---------------------------------------------------- 5. a contact logged for an earlier day


def test_log__earlier_day__message_names_the_date_and_links_its_list(web, adviser):
    http = web(adviser)
    response = http.post(
        "/guidance/",
        {
            "channel": "phone",
            "reasons": ["benefits"],
            "outcome": "answered",
            "contacted_on": "2026-03-15",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Contact saved for 03/15/2026: today&#x27;s list does not show it." in page
    assert '<a href="/guidance/?day=2026-03-15">Show my contacts of 03/15/2026</a>' in page
    # today's list is empty; the day's list shows it, without an invented time
    assert response.context["today_count"] == 0
    day = http.get("/guidance/?day=2026-03-15")
    assert day.context["today_count"] == 1
    assert "My contacts of 15.3.2026 (1)" in day.content.decode()
    assert "12:00" not in day.content.decode()


def test_log__today__plain_message(web, adviser):
    response = web(adviser).post(
        "/guidance/",
        {"channel": "phone", "reasons": ["benefits"], "outcome": "answered"},
        follow=True,
    )
    page = response.content.decode()
    assert "Contact saved." in page
    assert "?day=" not in page
    assert response.context["today_count"] == 1


@pytest.mark.parametrize("day", ["yesterday", "2026-02-30", "15.3.2026"])
def test_log__bad_day__400_naming_day(web, adviser, day):
    response = web(adviser).get(f"/guidance/?day={day}")
    assert response.status_code == 400
    assert "day" in response.content.decode()


# ------------------------------------------------------------- 6. no invented time on the page


def test_detail__logged_for_an_earlier_day__date_only(web, adviser):
    c = services.contact_log(
        actor=adviser, channel="phone", reasons=["benefits"], contacted_on=YESTERDAY
    )
    assert c.time_recorded is False
    page = web(adviser).get(f"/guidance/contacts/{c.id}/").content.decode()
    assert "<dd>15.3.2026</dd>" in page
    assert "12:00" not in page


def test_detail__logged_on_its_day__time_shown(web, adviser):
    c = services.contact_log(actor=adviser, channel="phone", reasons=["benefits"])
    assert c.time_recorded is True
    page = web(adviser).get(f"/guidance/contacts/{c.id}/").content.decode()
    assert "<dd>16.3.2026 10:30</dd>" in page


def test_detail__imported_today__date_only(web, adviser, org):
    import_contacts(organisation=org, rows=[{**lines(1)[0], "date": "2026-03-16"}])
    c = Contact.objects.get()
    assert c.time_recorded is False
    page = web(adviser).get(f"/guidance/contacts/{c.id}/").content.decode()
    assert "<dd>16.3.2026</dd>" in page
    assert "12:00" not in page
    body = web(adviser).get(f"/api/v1/guidance/contacts/{c.id}").json()
    assert body["time_recorded"] is False


# ------------------------------------------------------------------ 7. the report's minutes


def test_report__minutes_of_client_and_partner_contacts_apart(adviser, org):
    services.contact_log(actor=adviser, channel="phone", reasons=["benefits"], minutes=10)
    services.contact_log(actor=adviser, channel="phone", reasons=["benefits"], minutes=15)
    services.contact_log(
        actor=adviser, channel="email", reasons=[], partner_type="authority", minutes=40
    )
    report = report_compute(
        organisation_id=org.id, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 3, 16)
    )
    totals = report.as_dict()["totals"]
    assert (totals["contacts"], totals["minutes"]) == (2, 25)
    assert (totals["partner_contacts"], totals["partner_minutes"]) == (1, 40)


def test_api_report__minutes_apart(web, adviser, manager):
    services.contact_log(actor=adviser, channel="phone", reasons=["benefits"], minutes=10)
    services.contact_log(
        actor=adviser, channel="email", reasons=[], partner_type="trainer", minutes=20
    )
    totals = web(manager).get("/api/v1/guidance/report").json()["totals"]
    assert (totals["minutes"], totals["partner_minutes"]) == (10, 20)


# -------------------------------------------------------------- 8. the data-subject export


def test_export_fields__every_one_a_field_reasons_and_date_included():
    names = Contact.EXPORT_FIELDS
    fields = {n: Contact._meta.get_field(n) for n in names}  # a name not a field: FieldDoesNotExist
    assert {"reasons", "contacted_on", "contacted_at", "organisation_id"} <= set(names)
    assert isinstance(fields["reasons"], ManyToManyField)
    # the organisation's bookkeeping stays out
    assert not {"import_key", "logged_by", "logged_by_id", "logged_at"} & set(names)
