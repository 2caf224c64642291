"""CSV import (errors named per row, dry run, atomic, idempotent) and the report command,
including the seed deck's Lahti reason table."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from koto.core.csv_import import ImportAborted
from koto.guidance.importing import check_header, import_contacts
from koto.guidance.models import Contact, ContactReason
from tests.factories import make_client

HEADER = ["date", "channel", "language", "reasons", "anonymous", "client", "partner_type"]


def rows(*lines: list[str]) -> list[dict]:
    return [dict(zip(HEADER, line, strict=True)) for line in lines]


def test_import_contacts__errors_named_per_row(org, reasons):
    result = import_contacts(
        organisation=org,
        rows=rows(
            ["2026-01-05", "walk_in", "ar", "job_search;benefits", "true", "", ""],
            ["05.01.2026", "fax", "ar", "job_search", "true", "", ""],
            ["2026-13-01", "phone", "zz", "nope", "maybe", "", ""],
            ["2026-01-05", "phone", "fi", "benefits", "true", "TMP-X", ""],
            ["2026-01-05", "phone", "fi", "benefits", "false", "TMP-UNKNOWN", ""],
        ),
    )
    messages = [(e.row, e.field) for e in result.errors]
    assert messages == [
        (3, "channel"),
        (4, "date"), (4, "anonymous"), (4, "reasons"), (4, "language"),
        (5, "client"),
        (6, "client"),
    ]  # fmt: skip
    assert result.created == 1
    assert Contact.objects.count() == 1


def test_import_contacts__row_not_fitting_the_header__error_not_shifted(org, reasons, tmp_path):
    from koto.core.csv_import import read_csv

    path = tmp_path / "contacts.csv"
    path.write_text(
        ",".join(HEADER) + "\n"
        "2026-01-05,walk_in,ar,job_search,true,,,extra\n"  # a cell too many
        "2026-01-05,phone,fi,benefits,true\n"  # too few
        "\n"
        "2026-01-06,phone,fi,benefits,true,,\n",
        encoding="utf-8",
    )
    _header, file_rows = read_csv(str(path))
    result = import_contacts(organisation=org, rows=file_rows)
    assert [(e.row, e.field) for e in result.errors] == [(2, "row"), (3, "row")]
    assert result.created == 1


@pytest.mark.parametrize("date", ["5.1.26", "0202-01-05", "20260105", "5.1.0026"])
def test_import_contacts__year_not_in_four_digits__refused_naming_date(org, reasons, date):
    result = import_contacts(
        organisation=org, rows=rows([date, "walk_in", "ar", "job_search", "true", "", ""])
    )
    assert [(e.row, e.field) for e in result.errors] == [(2, "date")]
    assert Contact.objects.count() == 0


def test_import_contacts__same_file_twice__no_duplicates(org, reasons, counsellor):
    client = make_client(counsellor)
    data = rows(
        ["2026-01-05", "walk_in", "ar", "job_search", "true", "", ""],
        ["2026-01-05", "walk_in", "ar", "job_search", "true", "", ""],  # a second such visit
        ["2026-01-06", "phone", "fi", "benefits", "false", client.hetu, ""],
        ["2026-01-06", "email", "fi", "", "", "", "authority"],
    )
    first = import_contacts(organisation=org, rows=data)
    assert (first.created, first.skipped_existing, first.errors) == (4, 0, [])
    again = import_contacts(organisation=org, rows=data)
    assert (again.created, again.skipped_existing) == (0, 4)
    assert Contact.objects.count() == 4
    assert Contact.objects.filter(client=client).count() == 1
    assert Contact.objects.filter(kind="partner", partner_type="authority").count() == 1
    assert ContactReason.objects.count() == 3


def test_import_contacts__external_id__is_the_key(org, reasons):
    line = {"date": "2026-01-05", "channel": "chat", "reasons": "other", "external_id": "A-1"}
    import_contacts(organisation=org, rows=[line])
    result = import_contacts(organisation=org, rows=[{**line, "channel": "phone"}])
    assert (result.created, result.skipped_existing) == (0, 1)


def test_import_contacts__dry_run__writes_nothing(org, reasons):
    result = import_contacts(
        organisation=org,
        rows=rows(["2026-01-05", "walk_in", "ar", "job_search", "true", "", ""]),
        dry_run=True,
    )
    assert (result.created, result.written) == (1, False)
    assert Contact.objects.count() == 0


def test_import_contacts__atomic_with_error__writes_nothing(org, reasons):
    with pytest.raises(ImportAborted):
        import_contacts(
            organisation=org,
            atomic=True,
            rows=rows(
                ["2026-01-05", "walk_in", "ar", "job_search", "true", "", ""],
                ["2026-01-05", "fax", "ar", "job_search", "true", "", ""],
            ),
        )
    assert Contact.objects.count() == 0


def test_check_header__unknown_and_missing_columns():
    errors = check_header(["date", "chanel", "reasons"])
    assert [(e.row, e.field, e.message) for e in errors] == [
        (1, "chanel", "Unknown column."),
        (1, "channel", "Required column is missing."),
    ]


def _write(tmp_path, lines: list[list[str]], header=HEADER):
    path = tmp_path / "contacts.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(lines)
    return str(path)


def test_import_guidance_contacts_command__errors_then_summary(org, reasons, tmp_path, capsys):
    path = _write(
        tmp_path,
        [
            ["2026-01-05", "walk_in", "ar", "job_search", "true", "", ""],
            ["2026-01-05", "walk_in", "ar", "job_search", "true", "X", ""],
        ],
    )
    with pytest.raises(SystemExit) as e:
        call_command("import_guidance_contacts", path, "--organisation", "398")
    assert e.value.code == 1
    out, err = capsys.readouterr()
    assert err.strip() == "row 3: client: An anonymous contact has no client: leave it empty."
    assert out.strip() == "2 rows: created 1, already present 0, failed 1."


def test_import_guidance_contacts_command__unknown_organisation(db, tmp_path):
    with pytest.raises(CommandError, match="--organisation"):
        call_command("import_guidance_contacts", _write(tmp_path, []), "--organisation", "999")


def lahti_rows() -> list[list[str]]:
    """The seed deck's Lahti guidance statistics 1.1.–10.10.2023 as CSV rows: 4 042 client
    contacts whose main reasons add up to the deck's table, and 446 partner contacts."""
    counts = [
        ("immigration_process", 1831), ("job_search", 1811), ("benefits", 772),
        ("housing_family_school", 600), ("money_tax_banking", 489), ("education_language", 456),
    ]  # fmt: skip
    n = 4042
    per_contact: list[list[str]] = [[] for _ in range(n)]
    pointer = 0
    for code, count in counts:
        for i in range(count):
            per_contact[(pointer + i) % n].append(code)
        pointer = (pointer + count) % n
    channels = ["walk_in", "phone", "visit_appointment", "email", "chat"]
    out = [
        [
            f"2023-{i % 9 + 1:02d}-{i % 28 + 1:02d}",
            channels[i % 5],
            ["fi", "ar", "uk", "ru", "so"][i % 5],
            ";".join(reasons),
            "true",
            "",
            "",
        ]  # fmt: skip
        for i, reasons in enumerate(per_contact)
    ]
    for ptype, count in (("authority", 226), ("trainer", 88), ("third_sector", 68), ("employer", 64)):  # fmt: skip
        out += [[f"2023-{i % 9 + 1:02d}-{i % 28 + 1:02d}", "email", "fi", "", "", "", ptype] for i in range(count)]  # fmt: skip
    return out


def test_guidance_report_command__lahti_seed_deck_table(org, reasons, tmp_path, capsys):
    # given the deck's numbers imported from CSV
    call_command(
        "import_guidance_contacts", _write(tmp_path, lahti_rows()), "--organisation", "398"
    )
    capsys.readouterr()
    # when
    call_command(
        "guidance_report", "--organisation", "398", "--from", "2023-01-01", "--to", "2023-10-10"
    )
    # then
    data = json.loads(capsys.readouterr().out)
    reasons = {r["code"]: r["contacts"] for r in data["by_reason"]}
    assert reasons == {
        "immigration_process": 1831, "job_search": 1811, "benefits": 772,
        "housing_family_school": 600, "money_tax_banking": 489, "education_language": 456,
        "health_social": 0, "other": 0,
    }  # fmt: skip
    partners = {r["code"]: r["partner_contacts"] for r in data["by_partner_type"]}
    assert partners == {"authority": 226, "trainer": 88, "third_sector": 68, "employer": 64}
    assert data["totals"]["contacts"] == 4042
    assert data["totals"]["partner_contacts"] == 446
    assert sum(m["contacts"] for m in data["by_month"]) == 4042


def test_guidance_report_command__csv(org, reasons, adviser, capsys):
    from koto.guidance import services

    services.contact_log(actor=adviser, channel="walk_in", reasons=["benefits"])
    call_command(
        "guidance_report", "--organisation", "398", "--from", "2026-01-01", "--to", "2026-12-31",
        "--format", "csv",
    )  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "dimension,code,label,contacts,partner_contacts"
    assert "total,all,,1,0" in lines
    assert "channel,walk_in,Walk-in visit,1,0" in lines
    assert "month,2026-03,2026-03,1,0" in lines


def test_guidance_report_command__bad_date(org):
    with pytest.raises(CommandError, match="--from"):
        call_command("guidance_report", "--organisation", "398", "--from", "1.1.2026", "--to", "2026-01-31")  # fmt: skip


def test_load_guidance_reasons_command__idempotent(db):
    out = io.StringIO()
    call_command("load_guidance_reasons", stdout=out)
    call_command("load_guidance_reasons", stdout=out)
    assert out.getvalue().splitlines() == ["created 8 reason codes.", "created 0 reason codes."]


def test_import_contacts__identical_rows_of_two_sources__both_kept_each_file_once(org, reasons):
    line = ["2026-01-05", "walk_in", "ar", "job_search", "true", "", ""]
    for source in ("office-a", "office-b", "office-a"):
        import_contacts(organisation=org, rows=rows(line), source=source)
    assert Contact.objects.count() == 2


def test_import_contacts__external_id_longer_than_the_key__row_error_not_merged(org, reasons):
    # ids cut to the key's length: two sharing their first 78 characters became one
    long = "urn:example:crm:contact:" + "x" * 60
    line = {"date": "2026-01-05", "channel": "chat", "reasons": "other", "external_id": long}
    result = import_contacts(organisation=org, rows=[line])
    assert [err.field for err in result.errors] == ["external_id"]
    assert Contact.objects.count() == 0
