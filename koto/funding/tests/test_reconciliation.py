import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from koto.audit.models import AuditEvent, AuditListedClient
from koto.core.errors import ValidationFailed
from koto.funding.reconciliation import compared_until, parse_statement, reconcile

D = dt.date
pytestmark = pytest.mark.django_db


def statement(*rows) -> bytes:
    return ("hetu;municipality_code;year;month;amount\n" + "".join(
        f"{h};{c};{y};{m};{a}\n" for h, c, y, m, a in rows
    )).encode()  # fmt: skip


def test_reconcile__unpaid_not_eligible_and_differences(person, lahti):
    # given a statement up to November, read on 29.11.2026 (conftest's frozen day)
    a = person(kotikunta_on=D(2026, 10, 1))
    b = person(basis="work", kotikunta_on=D(2026, 10, 1))
    data = statement(
        (a.hetu, "398", 2026, 10, "162,92"),
        (a.hetu, "398", 2026, 11, "100.00"),
        (b.hetu, "398", 2026, 10, "162.92"),
        (b.hetu, "837", 2026, 10, "162.92"),
    )
    # when it is reconciled
    result = reconcile(organisation=lahti, year=2026, statement=parse_statement(data))
    # then December, not due yet, is neither unpaid nor claimed; November's shortfall is
    assert (result.compared_until, result.compared_until_basis) == (11, "statement")
    assert result.unpaid == []
    assert [(i.hetu, i.month, str(i.expected)) for i in result.not_yet_due] == [
        (a.hetu, 12, "162.92")
    ]
    assert [(i.hetu, i.month) for i in result.not_eligible] == [(b.hetu, 10)]
    assert [(i.month, str(i.difference)) for i in result.amount_differs] == [(11, "62.92")]
    assert result.rows_other_organisation == 1
    assert str(result.claim_total) == "62.92"


def test_reconcile__statement_up_to_june__later_months_not_yet_due(person, lahti):
    # given a person paid from January and a statement whose latest month is June (paid
    # to another municipality): KEHA has paid up to June
    a = person(kotikunta_on=D(2026, 1, 1))
    data = statement(
        *((a.hetu, "398", 2026, m, "162.92") for m in (1, 2, 3)),
        (HETU, "837", 2026, 6, "162.92"),
    )
    # when it is reconciled in November
    result = reconcile(organisation=lahti, year=2026, statement=parse_statement(data))
    # then April to June are unpaid and claimed; July to December are not yet due
    assert (result.compared_until, result.compared_until_basis) == (6, "statement")
    assert [i.month for i in result.unpaid] == [4, 5, 6]
    assert [i.month for i in result.not_yet_due] == [7, 8, 9, 10, 11, 12]
    assert str(result.claim_total) == "488.76"  # 3 × 162.92
    assert str(result.not_yet_due_total) == "977.52"


def test_reconcile__shortfall_claimed__overpayment_and_not_eligible_apart(person, lahti):
    # given October paid short, November paid over, and a person not eligible paid
    a = person(kotikunta_on=D(2026, 10, 1))
    b = person(basis="work", kotikunta_on=D(2026, 10, 1))
    data = statement(
        (a.hetu, "398", 2026, 10, "100.00"),
        (a.hetu, "398", 2026, 11, "200.00"),
        (b.hetu, "398", 2026, 11, "162.92"),
    )
    # when it is reconciled
    result = reconcile(organisation=lahti, year=2026, statement=parse_statement(data))
    # then only the shortfall is to claim; the overpayment and the payment not due apart
    assert [(i.month, str(i.difference)) for i in result.amount_differs] == [
        (10, "62.92"), (11, "-37.08")
    ]  # fmt: skip
    assert (str(result.unpaid_total), str(result.underpaid_total)) == ("0.00", "62.92")
    assert str(result.claim_total) == "62.92"
    assert str(result.overpaid_total) == "37.08"
    assert str(result.not_eligible_total) == "162.92"
    data = result.as_dict()
    assert (data["claim_total"], data["overpaid_total"], data["compared_until_month"]) == (
        "62.92", "37.08", 11
    )  # fmt: skip


@pytest.mark.parametrize(
    ("year", "until"),
    [(2025, 12), (2026, 11), (2027, 0)],  # a past year whole, this one to the current month
)
def test_compared_until__no_row_of_the_year__up_to_the_current_month(year, until):
    rows = parse_statement(statement((HETU, "398", 2024, 12, "1")))  # another year only
    assert compared_until(year, rows) == (until, "today")


def test_compared_until__latest_month_of_the_year_on_the_statement():
    rows = parse_statement(
        statement((HETU, "398", 2026, 3, "1"), (HETU, "837", 2026, 7, "1"),
                  (HETU, "398", 2027, 1, "1"))
    )  # fmt: skip
    assert compared_until(2026, rows) == (7, "statement")


def test_parse_statement__missing_column_and_bad_line():
    with pytest.raises(ValidationFailed) as e:
        parse_statement(b"hetu;year;month;amount\n")
    assert e.value.fields == {"file": ["Missing columns: municipality_code."]}
    with pytest.raises(ValidationFailed) as e:
        parse_statement(statement((HETU, "398", 2026, 13, "1")))
    assert e.value.fields == {"file": ["Line 2: the value in column month is not valid."]}


HETU = "010190-123M"  # a valid identity code


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ((HETU, "398", 2026, "\u0663", "1"), "month"),  # an Arabic-Indic digit: int() reads it
        ((HETU, "398", 2**63, 1, "1"), "year"),
        ((HETU, "398", 1999, 1, "1"), "year"),
        ((HETU, "398", 2026, 1, "NaN"), "amount"),
        ((HETU, "398", 2026, 1, "sNaN"), "amount"),  # was a 500 (InvalidOperation)
        ((HETU, "398", 2026, 1, "Infinity"), "amount"),
        ((HETU, "398", 2026, 1, "1e999999"), "amount"),
        ((HETU, "398", 2026, 1, "1.005"), "amount"),
        ((HETU, "398", 2026, 1, "x"), "amount"),
        (("010190-123A", "398", 2026, 1, "1"), "hetu"),  # check character wrong
        (("0101\x0090-123N", "398", 2026, 1, "1"), "hetu"),
        ((HETU, "3;98", 2026, 1, "1"), None),  # one field more than the header
        ((HETU, "39 8", 2026, 1, "1"), "municipality_code"),
        (("TMP-", "398", 2026, 1, "1"), "hetu"),
    ],
)
def test_parse_statement__bad_value__line_and_column_named(row, column):
    with pytest.raises(ValidationFailed) as e:
        parse_statement(statement(row))
    expected = (
        "Line 2 is not valid."
        if column is None
        else f"Line 2: the value in column {column} is not valid."
    )
    assert e.value.fields == {"file": [expected]}


def test_parse_statement__temporary_id_and_koto_code__read():
    (row,) = parse_statement(statement(("tmp-s001000000042", "hva-07", 2026, 1, "1")))
    assert (row.hetu, row.organisation_code) == ("TMP-S001000000042", "hva-07")


def test_parse_statement__recovery_as_negative_amount__read():
    (row,) = parse_statement(statement((HETU, "398", 2026, 1, "-162,92")))
    assert str(row.amount) == "-162.92"


def test_parse_statement__line_ends_cr_alone_or_crlf__read():
    # CR alone was a 500 (csv: new-line character seen in unquoted field)
    for end in ("\r", "\r\n"):
        data = f"hetu;municipality_code;year;month;amount{end}{HETU};398;2026;1;1,00{end}"
        (row,) = parse_statement(data.encode())
        assert (row.hetu, row.month, str(row.amount)) == (HETU, 1, "1.00")


def test_parse_statement__field_over_the_csv_limit_or_columns_twice__file_error():
    huge = statement((HETU, "398", 2026, 1, "1" * 200_000))  # was a 500 (field limit)
    with pytest.raises(ValidationFailed) as e:
        parse_statement(huge)
    assert e.value.fields == {"file": ["Line 2 is not valid."]}
    with pytest.raises(ValidationFailed) as e:
        parse_statement(b"hetu;municipality_code;year;month;amount;year\n")
    assert e.value.fields == {"file": ["Columns given twice: year."]}


def test_reconcile_keha_command_and_page(tmp_path, person, lahti, finance, web):
    # given a person from November and a statement with nothing of 2026, on 29.11.2026
    a = person(kotikunta_on=D(2026, 11, 1))
    f = tmp_path / "keha.csv"
    f.write_bytes(statement())
    out = io.StringIO()
    call_command("reconcile_keha", str(f), "--organisation", "398", "--year", "2026", stdout=out)
    data = json.loads(out.getvalue())
    # then November (the current month) is unpaid, December not yet due
    assert [(i["hetu"], i["month"]) for i in data["unpaid"]] == [(a.hetu, 11)]
    assert [(i["hetu"], i["month"]) for i in data["not_yet_due"]] == [(a.hetu, 12)]
    assert (data["compared_until_month"], data["compared_until_basis"]) == (11, "today")
    upload = SimpleUploadedFile("keha.csv", statement(), content_type="text/csv")
    r = web(finance).post("/funding/reconcile/", {"year": "2026", "file": upload})
    assert r.status_code == 200
    assert [i.hetu for i in r.context["result"].unpaid] == [a.hetu]
    page = r.content.decode()
    assert "Compared up to 11/2026: the statement has no rows for the year" in page
    assert "Total to claim: 162.92 €" in page
    assert "Not yet due" in page and "12/2026" in page
    # the result names the client by identity code: in the client's audit trail
    events = AuditListedClient.objects.filter(client_id=a.id).values("event_id")
    assert AuditEvent.objects.filter(id__in=events, object_type="keha_reconciliation").exists()


def test_parse_statement__what_a_spreadsheet_export_may_hold__read():
    # a separator ending each row, an ignored column named twice, a trailing zero, and a
    # vertical tab in an ignored column (str.splitlines() split the row there)
    data = (
        "nimi;hetu;municipality_code;year;month;amount;nimi;\n"
        f"Ali\x0bR;{HETU};398;2026;1;162.920;x;\n"
        f"Ali;{HETU};ta-tampereen-seudun-tyollisyysalue;2026;2;1,00;x;\n"
    ).encode()
    rows = parse_statement(data)
    assert [(r.month, str(r.amount)) for r in rows] == [(1, "162.920"), (2, "1.00")]
    assert rows[1].organisation_code == "ta-tampereen-seudun-tyollisyysalue"


def test_reconcile_page__shortfall_in_the_total__later_months_not_yet_due(
    person, lahti, finance, web
):
    # given November paid short on a statement up to November
    a = person(kotikunta_on=D(2026, 10, 1))
    data = statement((a.hetu, "398", 2026, 10, "162.92"), (a.hetu, "398", 2026, 11, "100.00"))
    # when the page compares it
    upload = SimpleUploadedFile("keha.csv", data, content_type="text/csv")
    r = web(finance).post("/funding/reconcile/", {"year": "2026", "file": upload})
    # then the total to claim holds the shortfall, and December is listed apart
    page = r.content.decode()
    assert r.status_code == 200
    assert "Compared up to 11/2026, the latest month on the statement." in page
    assert "Total to claim: 62.92 €" in page
    assert "Paid short: 62.92 €. Paid over the expected amount: 0.00 €." in page
    not_yet_due = page[page.index("<h2>Not yet due</h2>") :]
    assert "12/2026" in not_yet_due and "11/2026" not in not_yet_due


def test_api_reconciliation__not_yet_due_and_claim_total(person, lahti, finance, web):
    a = person(kotikunta_on=D(2026, 10, 1))
    data = statement((a.hetu, "398", 2026, 10, "162.92"), (a.hetu, "398", 2026, 11, "100.00"))
    upload = SimpleUploadedFile("keha.csv", data, content_type="text/csv")
    r = web(finance).post("/api/v1/funding/reconciliation", {"year": "2026", "file": upload})
    assert r.status_code == 200
    body = r.json()
    assert (body["compared_until_month"], body["claim_total"]) == (11, "62.92")
    assert [(i["hetu"], i["month"]) for i in body["not_yet_due"]] == [(a.hetu, 12)]
    assert body["unpaid"] == []


@pytest.mark.parametrize("year", ["3000", "12000", "2022", "20x6"])
def test_reconcile_keha_command__year_out_of_range__command_error_naming_year(tmp_path, year):
    from django.core.management.base import CommandError

    f = tmp_path / "keha.csv"
    f.write_bytes(statement())
    with pytest.raises(CommandError) as e:
        call_command("reconcile_keha", str(f), "--organisation", "398", "--year", year)
    assert "--year" in str(e.value)
