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
