import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from koto.audit.models import AuditEvent, AuditListedClient
from koto.core.errors import ValidationFailed
from koto.funding.reconciliation import parse_statement, reconcile

D = dt.date
pytestmark = pytest.mark.django_db


def statement(*rows) -> bytes:
    return ("hetu;municipality_code;year;month;amount\n" + "".join(
        f"{h};{c};{y};{m};{a}\n" for h, c, y, m, a in rows
    )).encode()  # fmt: skip


def test_reconcile__unpaid_not_eligible_and_differences(person, lahti):
    a = person(kotikunta_on=D(2026, 10, 1))
    b = person(basis="work", kotikunta_on=D(2026, 10, 1))
    data = statement(
        (a.hetu, "398", 2026, 10, "162,92"),
        (a.hetu, "398", 2026, 11, "100.00"),
        (b.hetu, "398", 2026, 10, "162.92"),
        (b.hetu, "837", 2026, 10, "162.92"),
    )
    result = reconcile(organisation=lahti, year=2026, statement=parse_statement(data))
    assert [(i.hetu, i.month) for i in result.unpaid] == [(a.hetu, 12)]
    assert [(i.hetu, i.month) for i in result.not_eligible] == [(b.hetu, 10)]
    assert [(i.month, str(i.difference)) for i in result.amount_differs] == [(11, "62.92")]
    assert result.rows_other_organisation == 1


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
    a = person(kotikunta_on=D(2026, 12, 1))
    f = tmp_path / "keha.csv"
    f.write_bytes(statement())
    out = io.StringIO()
    call_command("reconcile_keha", str(f), "--organisation", "398", "--year", "2026", stdout=out)
    assert [i["hetu"] for i in json.loads(out.getvalue())["unpaid"]] == [a.hetu]
    upload = SimpleUploadedFile("keha.csv", statement(), content_type="text/csv")
    r = web(finance).post("/funding/reconcile/", {"year": "2026", "file": upload})
    assert r.status_code == 200
    assert [i.hetu for i in r.context["result"].unpaid] == [a.hetu]
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
