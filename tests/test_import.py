import csv

import pytest
from django.core.management import CommandError, call_command

from koto.audit.verification import verify_chain
from koto.clients.importing import COLUMNS
from koto.clients.models import Client, ClientFactChange
from tests.factories import OrganisationFactory

GOOD = {
    "first_name": "Amina", "last_name": "Warsame", "other_names": "Amiina Warsame", "birth_date": "1990-05-17",
    "hetu": "170590-1236", "citizenship": "SO", "mother_tongue": "so", "other_languages": "en;fi",
    "interpreter_needed": "true", "residence_basis": "asylum", "first_permit_on": "2024-03-01",
    "home_municipality": "398", "home_municipality_on": "2024-04-01", "unemployed_jobseeker": "true",
    "facts_valid_from": "2024-04-01",
}  # fmt: skip
NO_HETU = {
    "first_name": "Olena",
    "last_name": "Melnyk",
    "birth_date": "1985-02-03",
    "residence_basis": "temporary_protection",
}
BAD = {
    "first_name": "Bad",
    "last_name": "Row",
    "birth_date": "1990-13-01",
    "citizenship": "XX",
    "interpreter_needed": "maybe",
}


@pytest.fixture
def lahti(db):
    return OrganisationFactory(code="398", kind="municipality", municipality_code="398")


def write(tmp_path, rows, header=COLUMNS):
    path = tmp_path / "clients.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(header))
        w.writeheader()
        for r in rows:
            w.writerow(r)
    return str(path)


def test_import__valid_rows_stored_errors_reported_per_row(tmp_path, lahti, capsys):
    path = write(tmp_path, [GOOD, BAD, NO_HETU])
    with pytest.raises(SystemExit) as e:
        call_command("import_clients", path, "--organisation", "398", "--no-progress")
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert "row 3: birth_date: Enter a date as YYYY-MM-DD." in err
    assert "row 3: citizenship: Unknown country code (ISO 3166)." in err
    assert "row 3: interpreter_needed: Write true or false." in err
    assert Client.objects.count() == 2
    amina = Client.objects.get(hetu="170590-1236")
    assert amina.home_municipality == lahti
    assert list(amina.languages.values_list("language", flat=True)) == ["en", "fi"]
    assert ClientFactChange.objects.get(client=amina).valid_from.isoformat() == "2024-04-01"
    assert verify_chain().ok is True


def test_import__same_file_twice__no_duplicates(tmp_path, lahti, capsys):
    path = write(tmp_path, [GOOD, NO_HETU])
    call_command("import_clients", path, "--organisation", "398", "--no-progress")
    call_command("import_clients", path, "--organisation", "398", "--no-progress")
    assert Client.objects.count() == 2
    assert "already present 2" in capsys.readouterr().out


def test_import__atomic_with_error__nothing_stored(tmp_path, lahti):
    path = write(tmp_path, [GOOD, BAD])
    with pytest.raises(CommandError) as e:
        call_command("import_clients", path, "--organisation", "398", "--atomic", "--no-progress")
    assert "nothing was stored" in str(e.value)
    assert Client.objects.count() == 0


def test_import__dry_run__nothing_stored(tmp_path, lahti, capsys):
    path = write(tmp_path, [GOOD, NO_HETU])
    call_command("import_clients", path, "--organisation", "398", "--dry-run", "--no-progress")
    assert "would create 2" in capsys.readouterr().out
    assert Client.objects.count() == 0


def test_import__unknown_column__refused(tmp_path, lahti):
    path = write(tmp_path, [], header=["first_name", "last_name", "birth_date", "shoe_size"])
    with pytest.raises(CommandError):
        call_command("import_clients", path, "--organisation", "398", "--no-progress")


def test_import__unknown_organisation__named(tmp_path, lahti):
    path = write(tmp_path, [GOOD])
    with pytest.raises(CommandError) as e:
        call_command("import_clients", path, "--organisation", "nope", "--no-progress")
    assert "--organisation" in str(e.value)


def test_import__columns_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "import.md").read_text(
        encoding="utf-8"
    )
    for column in COLUMNS:
        assert f"`{column}`" in doc, column


def test_import__header_with_spaces__rows_read_by_the_stripped_names(tmp_path, lahti, capsys):
    # " last_name" passed the header check, then every row lacked last_name
    path = tmp_path / "clients.csv"
    path.write_text(
        "first_name, last_name, birth_date\nOlena, Melnyk, 1985-02-03\n", encoding="utf-8"
    )
    call_command("import_clients", str(path), "--organisation", "398", "--no-progress")
    assert list(Client.objects.values_list("last_name", flat=True)) == ["Melnyk"]


@pytest.mark.parametrize("atomic", [False, True])
def test_import__not_utf8_midway__stops_naming_the_row(tmp_path, lahti, atomic):
    # Excel's "CSV" is Windows-1252: a traceback, and no word of what had been stored
    path = tmp_path / "clients.csv"
    good = b"first_name,last_name,birth_date\nOlena,Melnyk,1985-02-03\n"
    path.write_bytes(good + "Jörö,Jääskeläinen,1980-01-01\n".encode("cp1252"))
    args = ["import_clients", str(path), "--organisation", "398", "--no-progress"]
    with pytest.raises(CommandError) as e:
        call_command(*args, *(["--atomic"] if atomic else []))
    assert "row 3: The file is not UTF-8 text" in str(e.value)
    assert "Nothing was imported" in str(e.value)
    assert Client.objects.count() == 0


@pytest.mark.parametrize(
    ("column", "value"),
    [("temporary_id", "TMP-" + "X" * 30), ("temporary_id", "abc def"), ("street_address", "Katu\x001"),
     ("birth_date", "0202-05-01"), ("first_permit_on", "2999-01-01")],
)  # fmt: skip
def test_import__value_the_database_or_the_form_would_refuse__row_error(
    tmp_path, lahti, capsys, column, value
):
    path = write(tmp_path, [{**NO_HETU, column: value}])
    with pytest.raises(SystemExit):
        call_command("import_clients", path, "--organisation", "398", "--no-progress")
    assert f"row 2: {column}: " in capsys.readouterr().err
    assert Client.objects.count() == 0


def _run(path, capsys, *extra):
    """(exit code, stdout, stderr) of an import into Lahti."""
    code = 0
    try:
        call_command("import_clients", path, "--organisation", "398", "--no-progress", *extra)
    except SystemExit as e:
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_import__row_not_fitting_the_header__error_naming_the_line_nothing_shifted(
    tmp_path, lahti, capsys
):
    path = tmp_path / "clients.csv"
    path.write_text(
        "first_name,last_name,birth_date,street_address,postal_code,hetu\n"
        "Ali,Hassan,1990-01-01,Kauppakatu 1, as 5,15100,\n"  # a comma not in quotes
        "Amina,Warsame,1990-05-17,Katu 2,15100\n"  # the identity code cell cut off
        "Olena,Melnyk,1985-02-03,Katu 3,15100,\n",
        encoding="utf-8",
    )
    code, _out, err = _run(str(path), capsys)
    assert code == 1
    assert "row 2: row: The row has 7 cells, the header 6" in err
    assert "row 3: row: The row has 5 cells, the header 6" in err
    assert list(Client.objects.values_list("first_name", flat=True)) == ["Olena"]


def test_import__quote_left_open__error_not_rows_swallowed_into_an_address(tmp_path, lahti, capsys):
    path = tmp_path / "clients.csv"
    path.write_text(
        "first_name,last_name,birth_date,street_address\n"
        'Ali,Hassan,1990-01-01,"Katu 1\n'
        "Olena,Melnyk,1985-02-03,Katu 2\n"
        "Maria,Koski,1980-01-01,Katu 3\n",
        encoding="utf-8",
    )
    code, _out, err = _run(str(path), capsys)
    assert code == 1
    assert "row 4: street_address: A line break in the cell" in err  # the line it ends on
    assert Client.objects.count() == 0


def test_import__error_rows_are_the_files_lines_after_blank_lines(tmp_path, lahti, capsys):
    path = tmp_path / "clients.csv"
    path.write_text(
        "first_name,last_name,birth_date\nAli,Hassan,1990-01-01\n\nOlena,Melnyk,1985-13-03\n",
        encoding="utf-8",
    )
    _code, _out, err = _run(str(path), capsys)
    assert "row 4: birth_date:" in err


def test_import__identifiers_another_organisation_holds__row_errors_audited_not_present(
    tmp_path, lahti, capsys
):
    from koto.audit.models import AuditEvent

    other = OrganisationFactory(code="091", kind="municipality", municipality_code="091")
    held = Client.objects.create(
        responsible_organisation=other, first_name="X", last_name="Y", sort_key="y x",
        birth_date="1990-05-17", hetu="170590-1236",
    )  # fmt: skip
    Client.objects.create(
        responsible_organisation=other, first_name="Z", last_name="W", sort_key="w z",
        birth_date="1980-01-01", temporary_id="TMP-1001",
    )  # fmt: skip
    path = write(tmp_path, [GOOD, {**NO_HETU, "temporary_id": "TMP-1001"}])
    code, out, err = _run(path, capsys)
    assert code == 1
    assert "row 2: hetu: This identity code is already recorded by another organisation" in err
    assert "row 3: temporary_id: This temporary id is already in use in Koto" in err
    assert "already present 0" in out
    assert not Client.objects.filter(responsible_organisation=lahti).exists()
    assert AuditEvent.objects.filter(
        action="read", object_type="client_identity_code", client_id=held.id
    ).exists()


def test_import__identifier_for_a_client_recorded_without_one__row_error_no_duplicate(
    tmp_path, lahti, capsys
):
    Client.objects.create(
        responsible_organisation=lahti, first_name="Amina", last_name="Warsame",
        sort_key="warsame amina", birth_date="1990-05-17", temporary_id="TMP-A1",
    )  # fmt: skip
    path = write(tmp_path, [{"first_name": "Amina", "last_name": "Warsame",
                             "birth_date": "1990-05-17", "hetu": "170590-1236"}])  # fmt: skip
    code, _out, err = _run(path, capsys)
    assert code == 1
    assert "row 2: hetu: A client of this name and birth date without an identity code" in err
    assert Client.objects.filter(last_name="Warsame").count() == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [("2099-01-01", "cannot be dated in the future"), ("1950-01-01", "before the birth date")],
)
def test_import__facts_valid_from_in_the_future_or_before_birth__refused(
    tmp_path, lahti, capsys, value, message
):
    path = write(tmp_path, [{**GOOD, "facts_valid_from": value}])
    code, _out, err = _run(path, capsys)
    assert code == 1 and "row 2: facts_valid_from: " in err and message in err
    assert not ClientFactChange.objects.exists()


def test_import__facts_dated_helsinki_today_not_utc(tmp_path, lahti, capsys):
    import datetime as dt

    from koto.core import clock

    row = {**GOOD}
    del row["facts_valid_from"]
    path = write(tmp_path, [row])
    # 23:30 UTC on 1 March is 01:30 on 2 March in Helsinki
    with clock.frozen(dt.datetime(2025, 3, 1, 23, 30, tzinfo=dt.UTC)):
        _run(path, capsys)
    assert set(ClientFactChange.objects.values_list("valid_from", flat=True)) == {
        dt.date(2025, 3, 2)
    }


@pytest.mark.parametrize("batch_size", [1, 1000])
def test_import__same_person_without_then_with_an_identity_code_in_one_file__one_record(
    tmp_path, lahti, batch_size
):
    from koto.clients.importing import import_clients
    from koto.core.csv_import import read_csv

    path = write(tmp_path, [
        {"first_name": "Ali", "last_name": "Hassan", "birth_date": "1990-05-17"},
        {"first_name": "Ali", "last_name": "Hassan", "birth_date": "1990-05-17",
         "hetu": "170590-1236"},
    ])  # fmt: skip
    _header, rows = read_csv(path)
    result = import_clients(rows=rows, organisation=lahti, batch_size=batch_size)
    assert Client.objects.filter(last_name="Hassan").count() == 1
    assert [(e.row, e.field) for e in result.errors] == [(3, "hetu")]


@pytest.mark.parametrize("mode", ["--dry-run", "--atomic"])
def test_import__identity_code_of_another_organisation__audited_also_when_rolled_back(
    tmp_path, lahti, capsys, mode
):
    from koto.audit.models import AuditEvent

    other = OrganisationFactory(code="091", kind="municipality", municipality_code="091")
    held = Client.objects.create(
        responsible_organisation=other, first_name="X", last_name="Y", sort_key="y x",
        birth_date="1990-05-17", hetu="170590-1236",
    )  # fmt: skip
    path = write(tmp_path, [GOOD])
    try:
        call_command("import_clients", path, "--organisation", "398", "--no-progress", mode)
    except (SystemExit, CommandError):
        pass
    assert (
        AuditEvent.objects.filter(
            action="read", object_type="client_identity_code", client_id=held.id
        ).count()
        == 1
    )
