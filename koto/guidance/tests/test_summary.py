"""The guidance report's day counts: kept exact by every writer, read by the report instead
of the contacts, checked and recounted by `guidance_summary`."""

import datetime as dt
import importlib
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import close_old_connections, connection, transaction
from django.test.utils import CaptureQueriesContext

from koto.core.csv_import import ImportAborted
from koto.guidance import selectors, services, summary
from koto.guidance.importing import import_contacts
from koto.guidance.models import ContactDay, LanguageDay, ReasonDay
from tests.factories import make_client

JAN, FEB = dt.date(2026, 1, 15), dt.date(2026, 2, 3)


@pytest.fixture
def logged(adviser, other_adviser):
    client = make_client(adviser)
    log = services.contact_log
    log(actor=adviser, channel="walk_in", reasons=["job_search", "benefits"], language="ar", contacted_on=JAN, minutes=20)  # fmt: skip
    log(actor=adviser, channel="walk_in", reasons=["job_search"], language="ar", contacted_on=JAN, minutes=5)  # fmt: skip
    log(actor=adviser, channel="walk_in", reasons=["job_search"], language="ar", contacted_on=JAN, client_identifier=client.hetu)  # fmt: skip
    log(actor=adviser, channel="email", reasons=[], partner_type="authority", language="fi", contacted_on=FEB)  # fmt: skip
    log(actor=other_adviser, channel="walk_in", reasons=["benefits"], contacted_on=FEB)
    return client


def _report(org):
    return selectors.report_compute(
        organisation_id=org.id, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 3, 31)
    ).as_dict()


def test_contact_log__day_rows_counted_by_every_dimension(org, logged):
    rows = {
        (d.day, d.kind, d.partner_type, d.channel, d.anonymous): (d.contacts, d.minutes)
        for d in ContactDay.objects.filter(organisation_id=org.id)
    }
    assert rows == {
        (JAN, "client", "", "walk_in", True): (2, 25),  # two anonymous visits, 20 + 5 min
        (JAN, "client", "", "walk_in", False): (1, 0),  # the known client's
        (FEB, "partner", "authority", "email", False): (1, 0),
    }
    languages = {
        (d.day, d.kind, d.language): d.contacts
        for d in LanguageDay.objects.filter(organisation_id=org.id)
    }
    assert languages == {(JAN, "client", "ar"): 3, (FEB, "partner", "fi"): 1}
    mentions = {
        (r.day, r.reason.code, r.kind): r.contacts
        for r in ReasonDay.objects.filter(organisation_id=org.id).select_related("reason")
    }
    assert mentions == {(JAN, "job_search", "client"): 3, (JAN, "benefits", "client"): 1}
    assert summary.differences() == []


def test_report_compute__reads_day_rows_not_contacts(org, logged):
    with CaptureQueriesContext(connection) as ctx:
        selectors.report_compute(
            organisation_id=org.id, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 3, 31)
        )
    tables = " ".join(q["sql"] for q in ctx.captured_queries)
    for table in ("guidance_contactday", "guidance_languageday", "guidance_reasonday"):
        assert table in tables
    assert '"guidance_contact"' not in tables and '"guidance_contactreason"' not in tables


def test_import_contacts__day_rows_counted(org, reasons, logged):
    before = _report(org)["totals"]["contacts"]
    header = ["date", "channel", "language", "reasons", "anonymous", "client", "partner_type"]
    result = import_contacts(
        organisation=org,
        rows=[
            dict(zip(header, line, strict=True))
            for line in (
                ["2026-01-15", "walk_in", "ar", "job_search;benefits", "true", "", ""],
                ["2026-02-20", "phone", "uk", "benefits", "true", "", ""],
            )
        ],
    )
    assert result.created == 2
    assert _report(org)["totals"]["contacts"] == before + 2
    assert ContactDay.objects.get(
        organisation_id=org.id, day=JAN, channel="walk_in", anonymous=True
    ).contacts == 3  # fmt: skip
    assert LanguageDay.objects.get(organisation_id=org.id, day=JAN, language="ar").contacts == 4
    assert summary.differences() == []


HEADER = ["date", "channel", "language", "reasons", "anonymous", "client", "partner_type"]


def test_import_contacts__atomic_in_batches__counted_once_at_the_end(org, reasons, monkeypatch):
    """An --atomic import is one transaction over many batches: its day counts are written
    once, after the last batch (taking the rows in one order, and late)."""
    writes = []
    real_write = summary.Counts.write

    def spy(self):
        writes.append(sum(self.days.values()))
        real_write(self)

    monkeypatch.setattr(summary.Counts, "write", spy)
    lines = [
        [f"2026-01-{day:02d}", "walk_in", "ar", "job_search", "true", "", ""]
        for day in range(1, 8)
    ]  # fmt: skip
    rows = [dict(zip(HEADER, line, strict=True)) for line in lines]
    result = import_contacts(organisation=org, rows=rows, atomic=True, batch_size=2)
    assert result.created == 7
    assert writes == [7]
    assert summary.differences() == []
    writes.clear()
    more = [dict(zip(HEADER, ["2026-02-01", "phone", "fi", "benefits", "true", "", ""], strict=True))]  # fmt: skip
    import_contacts(organisation=org, rows=rows + more * 1, batch_size=2)  # batches commit
    assert writes[-1] == 0 and sum(writes) == 1  # only the new row; each batch its own
    assert summary.differences() == []


def test_import_contacts__atomic_with_an_error__no_day_rows(org, reasons):
    rows = [
        dict(zip(HEADER, ["2026-01-15", "walk_in", "ar", "job_search", "true", "", ""], strict=True)),
        dict(zip(HEADER, ["2026-01-15", "fax", "ar", "job_search", "true", "", ""], strict=True)),
    ]  # fmt: skip
    with pytest.raises(ImportAborted):
        import_contacts(organisation=org, rows=rows, atomic=True)
    assert [m.objects.count() for m in (ContactDay, LanguageDay, ReasonDay)] == [0, 0, 0]


def test_add__more_rows_than_one_statement_takes(org, adviser):
    """Upserts go 500 rows per statement (SQLite's parameter limit)."""
    from koto.guidance.models import Contact, ContactReason, ReasonCode

    reason = ReasonCode.objects.get(code="benefits")
    contacts, reason_rows = [], []
    for i in range(1200):
        day = dt.date(2023, 1, 1) + dt.timedelta(days=i)
        c = Contact.objects.create(
            organisation=org, contacted_on=day, kind="client", channel="phone", language="fi",
            contacted_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC), minutes=3,
        )  # fmt: skip
        contacts.append(c)
        reason_rows.append(
            ContactReason.objects.create(
                contact=c, reason=reason, organisation_id=org.id, contacted_on=day, kind="client"
            )
        )
    with CaptureQueriesContext(connection) as ctx:
        summary.add(contacts, reason_rows)
    # three tables, three statements each, and nothing else (no savepoint)
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["INSERT"] * 9
    assert ContactDay.objects.count() == 1200
    assert summary.differences() == []


def test_rebuild__no_organisations__nothing(org, logged):
    assert summary.rebuild([]) == {"ContactDay": 0, "LanguageDay": 0, "ReasonDay": 0}
    assert summary.differences() == []


def test_import_contacts__dry_run__no_day_rows(org, reasons):
    header = ["date", "channel", "language", "reasons", "anonymous", "client", "partner_type"]
    line = ["2026-01-15", "walk_in", "ar", "job_search", "true", "", ""]
    import_contacts(organisation=org, rows=[dict(zip(header, line, strict=True))], dry_run=True)
    assert [m.objects.count() for m in (ContactDay, LanguageDay, ReasonDay)] == [0, 0, 0]


def test_differences_and_rebuild__a_wrong_row_named_then_recounted(org, logged):
    expected = _report(org)
    ContactDay.objects.filter(organisation_id=org.id, anonymous=True).update(contacts=99)
    LanguageDay.objects.filter(organisation_id=org.id, language="fi").update(contacts=2)
    ReasonDay.objects.filter(organisation_id=org.id, reason__code="benefits").delete()
    problems = summary.differences()
    assert len(problems) == 3
    assert "ContactDay" in problems[0] and "stored (99, 25), counted (2, 25)" in problems[0]
    assert "LanguageDay" in problems[1] and "stored (2,), counted (1,)" in problems[1]
    assert "ReasonDay" in problems[2] and "stored None, counted (1,)" in problems[2]
    assert _report(org) != expected
    assert summary.rebuild([org.id]) == {"ContactDay": 3, "LanguageDay": 2, "ReasonDay": 2}
    assert summary.differences() == []
    assert _report(org) == expected


def test_migration_backfill__same_counts_as_the_writers(org, logged):
    def stored():
        return [
            sorted(m.objects.values_list(*(f.attname for f in m._meta.fields[1:])))
            for m in (ContactDay, LanguageDay, ReasonDay)
        ]

    expected = stored()
    migration = importlib.import_module("koto.guidance.migrations.0002_day_counts")
    for m in (ContactDay, LanguageDay, ReasonDay):
        m.objects.all().delete()
    with connection.cursor() as cursor:
        for sql in migration.BACKFILL:
            cursor.execute(sql)
    assert summary.differences() == []
    assert stored() == expected


def test_guidance_summary_command__check_rebuild_and_errors(org, logged, capsys):
    call_command("guidance_summary")
    assert "match" in capsys.readouterr().out
    ContactDay.objects.filter(organisation_id=org.id).update(minutes=1)
    with pytest.raises(CommandError) as e:
        call_command("guidance_summary", "--organisation", org.code)
    assert "differ" in str(e.value) and "--rebuild" in str(e.value)
    call_command("guidance_summary", "--organisation", org.code, "--rebuild")
    out = capsys.readouterr().out
    assert "Recounted: 3 ContactDay rows, 2 LanguageDay rows, 2 ReasonDay rows." in out
    call_command("guidance_summary")
    with pytest.raises(CommandError, match="--organisation: no organisation with code 'nope'"):
        call_command("guidance_summary", "--organisation", "nope")


def test_contact_log__failed_write__day_rows_untouched(org, adviser, monkeypatch):
    """Nothing half-written: when the audit record fails, neither contact nor count stays."""
    from koto.guidance import services as guidance_services

    services.contact_log(actor=adviser, channel="phone", reasons=["benefits"], contacted_on=JAN)

    def broken(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(guidance_services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        services.contact_log(actor=adviser, channel="phone", reasons=["benefits"], contacted_on=JAN)
    assert [m.objects.get().contacts for m in (ContactDay, LanguageDay, ReasonDay)] == [1, 1, 1]
    assert summary.differences() == []


@pytest.mark.django_db(transaction=True)
def test_contact_log__concurrent_writers_same_day_rows__exact_and_no_deadlock(org, adviser):
    """Writers logging the same kind of contact at once wait on the same day rows (until the
    other's commit) and none is lost; reasons in either order take their rows in one order."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on PostgreSQL (SQLite serialises writers anyway)")
    errors: list[Exception] = []
    start = threading.Barrier(6)

    def writer(i: int):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '10s'")
            start.wait(timeout=10)
            for j in range(10):
                reasons = ["job_search", "benefits"] if (i + j) % 2 else ["benefits", "job_search"]
                services.contact_log(
                    actor=adviser, channel="walk_in", reasons=reasons, language="ar",
                    contacted_on=JAN, minutes=1,
                )  # fmt: skip
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    day = ContactDay.objects.get()
    assert (day.contacts, day.minutes, LanguageDay.objects.get().contacts) == (60, 60, 60)
    assert sorted(ReasonDay.objects.values_list("contacts", flat=True)) == [60, 60]
    assert summary.differences() == []
    with transaction.atomic():
        assert _report(org)["totals"]["contacts"] == 60
