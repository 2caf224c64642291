import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

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
        parse_statement(statement(("010190-123A", "398", 2026, 13, "1")))
    assert e.value.fields == {"file": ["Line 2 is not valid."]}


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
