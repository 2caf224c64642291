"""The import's keys hold no identity code; rows are checked as a logged contact is (the
organisation's lifetime, the length of `referred_to`, an identity code as pasted)."""

import datetime as dt
import hashlib
import importlib

from django.apps import apps as django_apps

from koto.clients.models import Client
from koto.guidance.importing import import_contacts
from koto.guidance.models import Contact
from tests.factories import OrganisationFactory, make_client

# pinned: the identity code's century sign depends on the birth year
BIRTH = dt.date(1988, 4, 12)


def _row(client: str = "", **cells) -> dict:
    return {
        "date": "2026-01-05",
        "channel": "phone",
        "language": "ar",
        "reasons": "benefits;job_search",
        "client": client,
        **cells,
    }


def _legacy_key(hetu: str, source: str = "") -> str:
    """The key an earlier version stored for `_row(hetu)`: a plain hash holding the hetu."""
    values = [
        "2026-01-05", "phone", "ar", "benefits;job_search", "False", hetu, "", "", "False",
        "answered", "",
    ]  # fmt: skip
    if source:
        values.append(source)
    return f"h:{hashlib.sha256(chr(0x1F).join(values).encode()).hexdigest()[:40]}:1"


def test_import_contacts__known_client__key_holds_no_identity_code(org, reasons, counsellor):
    # given a client with an identity code and a temporary id
    client = make_client(counsellor, birth_date=BIRTH)
    Client.objects.filter(id=client.id).update(temporary_id="TMP-ABCD2345")
    # when the row is imported with the identity code
    first = import_contacts(organisation=org, rows=[_row(client.hetu)])
    # then the stored key is not the guessable hash of the content with the hetu
    key = Contact.objects.get().import_key
    assert first.created == 1
    assert key != _legacy_key(client.hetu)
    assert client.hetu not in key
    # and the key is the client's, however the file names them: the same row with the
    # temporary id is already present
    again = import_contacts(organisation=org, rows=[_row("TMP-ABCD2345")])
    assert (again.created, again.skipped_existing) == (0, 1)
    assert Contact.objects.count() == 1


def test_import_contacts__file_keyed_by_an_earlier_version__not_imported_twice(
    org, reasons, counsellor
):
    # given a contact imported before the key changed (its key the hash with the hetu)
    client = make_client(counsellor, birth_date=BIRTH)
    import_contacts(organisation=org, rows=[_row(client.hetu)], source="office-a")
    Contact.objects.update(import_key=_legacy_key(client.hetu, "office-a"))
    # when the same file is imported again
    result = import_contacts(organisation=org, rows=[_row(client.hetu)], source="office-a")
    # then nothing is created twice
    assert (result.created, result.skipped_existing) == (0, 1)
    assert Contact.objects.count() == 1


def test_migration_0004__verifiable_legacy_key__rekeyed_without_the_hetu(org, reasons, counsellor):
    # given two imported contacts with keys of the earlier version: one imported without a
    # source (verifiable), one with a source the migration cannot know
    client = make_client(counsellor, birth_date=BIRTH)
    other = make_client(counsellor, birth_date=dt.date(2001, 7, 30))
    import_contacts(organisation=org, rows=[_row(client.hetu)])
    import_contacts(organisation=org, rows=[_row(other.hetu)], source="office-b")
    plain = Contact.objects.get(client=client)
    sourced = Contact.objects.get(client=other)
    new_key = plain.import_key
    Contact.objects.filter(id=plain.id).update(import_key=_legacy_key(client.hetu))
    Contact.objects.filter(id=sourced.id).update(import_key=_legacy_key(other.hetu, "office-b"))
    migration = importlib.import_module(
        "koto.guidance.migrations.0004_import_key_without_identity_code"
    )
    # when the migration runs
    migration.rekey(django_apps, None)
    # then the verifiable key is the one the importer gives now, the other one stays
    plain.refresh_from_db()
    sourced.refresh_from_db()
    assert plain.import_key == new_key
    assert sourced.import_key == _legacy_key(other.hetu, "office-b")
    # and importing the files again creates nothing
    assert import_contacts(organisation=org, rows=[_row(client.hetu)]).created == 0
    assert (
        import_contacts(organisation=org, rows=[_row(other.hetu)], source="office-b").created == 0
    )
    assert Contact.objects.count() == 2


def test_import_contacts__anonymous_rows__keys_unchanged(org, reasons):
    # the key of an anonymous row is what earlier versions gave it (files imported before
    # are recognised): the content with an empty client
    values = [
        "2026-01-05", "phone", "ar", "benefits;job_search", "True", "", "", "", "False",
        "answered", "",
    ]  # fmt: skip
    digest = hashlib.sha256(chr(0x1F).join(values).encode()).hexdigest()[:40]
    import_contacts(organisation=org, rows=[_row(), _row()])
    keys = sorted(Contact.objects.values_list("import_key", flat=True))
    assert keys == [f"h:{digest}:1", f"h:{digest}:2"]


def test_import_contacts__date_before_the_organisation_existed__error_naming_date(reasons):
    # given a municipality founded at the start of 2026 (a merger's new code)
    org = OrganisationFactory(code="999", name_fi="Uusikunta", valid_from=dt.date(2026, 1, 1))
    # when a file holds a contact of 2025
    result = import_contacts(
        organisation=org, rows=[_row(date="2025-06-01"), _row(date="2026-01-02")]
    )
    # then that row is refused naming the date, the other one stored
    assert [(e.row, e.field) for e in result.errors] == [(2, "date")]
    assert "did not exist on this day" in result.errors[0].message
    assert result.created == 1
    assert list(Contact.objects.values_list("contacted_on", flat=True)) == [dt.date(2026, 1, 2)]


def test_import_contacts__identity_code_pasted_with_en_dash__client_found(org, reasons, counsellor):
    client = make_client(counsellor, birth_date=BIRTH)
    pasted = client.hetu.replace("-", "\u2013").lower()  # as a spreadsheet may write it
    result = import_contacts(organisation=org, rows=[_row(pasted)])
    assert result.errors == []
    assert Contact.objects.get().client_id == client.id


def test_import_contacts__referred_to_too_long__error_not_cut(org, reasons):
    result = import_contacts(
        organisation=org,
        rows=[_row(outcome="referred", referred_to="x" * 201)],
    )
    assert [(e.row, e.field) for e in result.errors] == [(2, "referred_to")]
    assert Contact.objects.count() == 0
