"""Importing clients from CSV (columns in docs/import.md).

Rows are validated with the same rules as the registry's own service, then written in
batches (clients, names, languages, fact history, timeline and audit chain together). A row
whose identity code, temporary id, or (without either) name and birth date already exist in
the organisation is skipped, so running the same file twice creates no duplicates. A row
whose identity code or temporary id another organisation holds, one with an identifier whose
name and birth date match a client of the organisation without an identity code, and one
that does not fit the header (a cell too many or too few, a line break from a quote left
open) is an error naming the line and the column.
"""

import datetime as dt
import re
from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from koto.audit.services import audit_record_many
from koto.clients.models import (
    Client,
    ClientEvent,
    ClientFactChange,
    ClientLanguage,
    Gender,
    LawFact,
    NameKind,
    Residence,
)
from koto.clients.services import (
    IdentityCodeTaken,
    _audit_identity_code_taken,
    _clean,
    _name_row,
    _new_temporary_id,
    _sort_key,
)
from koto.core import clock, csv_import
from koto.core.bulk import allocate_ids, fast_insert
from koto.core.csv_import import ImportResult, RowError
from koto.core.errors import ValidationFailed
from koto.core.text import has_text_control_characters
from koto.organisations.models import Organisation, OrganisationKind

TEXT_COLUMNS = (
    "first_name", "last_name", "hetu", "gender", "citizenship", "mother_tongue",
    "interpreter_language", "email", "phone", "street_address", "postal_code", "post_office",
    "residence_basis", "migri_number", "unhcr_number",
)  # fmt: skip
DATE_COLUMNS = ("birth_date", "first_permit_on", "home_municipality_on")
LAW_FACTS = tuple(LawFact.values)
BOOL_COLUMNS = ("interpreter_needed", *LAW_FACTS)
LIST_COLUMNS = {"other_languages": "other_languages", "other_names": "transliterated_names"}
EXTRA_COLUMNS = ("temporary_id", "home_municipality", "facts_valid_from")
COLUMNS = (*TEXT_COLUMNS, *DATE_COLUMNS, *BOOL_COLUMNS, *LIST_COLUMNS, *EXTRA_COLUMNS)
REQUIRED_COLUMNS = ("first_name", "last_name", "birth_date")
TEMPORARY_ID = re.compile(r"TMP-[A-Z0-9]{1,16}")


def _row_to_data(row: dict[str, str]) -> tuple[dict, dict[str, str], str, dt.date | None]:
    """CSV strings -> service data. Returns (data, shape errors, temporary id, facts valid from)."""
    data: dict = {}
    errors: dict[str, str] = {}
    for name in TEXT_COLUMNS:
        if name in row:
            data[name] = (row[name] or "").strip()
    data["hetu"] = data.get("hetu") or None
    data["gender"] = data.get("gender") or Gender.UNKNOWN
    for name in DATE_COLUMNS:
        if name in row:
            data[name] = (row[name] or "").strip() or None
    for name in BOOL_COLUMNS:
        raw = (row.get(name) or "").strip().lower()
        if raw in ("true", "false"):
            data[name] = raw == "true"
        elif raw:
            errors[name] = _("Write true or false.")
    for column, key in LIST_COLUMNS.items():
        if column in row:
            data[key] = [x.strip() for x in (row[column] or "").split(";") if x.strip()]
    if "home_municipality" in row:
        data["home_municipality_code"] = (row["home_municipality"] or "").strip()
    temporary_id = (row.get("temporary_id") or "").strip().upper()
    if temporary_id and not TEMPORARY_ID.fullmatch(temporary_id):
        # taken as it was: a value over 20 characters failed the whole import (PostgreSQL)
        errors["temporary_id"] = _("Write a temporary id as TMP- and 1 to 16 letters or digits.")
    for column, value in row.items():
        if isinstance(value, str) and ("\n" in value or "\r" in value):
            # no column is written over several lines: a quote left open swallows the
            # rows after it into this cell
            errors[column] = _(
                'A line break in the cell: check the file for a double quote (") not closed.'
            )
        elif isinstance(value, str) and has_text_control_characters(value):
            # a NUL (Python's csv module lets it through) failed the insert on PostgreSQL
            errors[column] = _(
                "Remove the control characters (invisible characters) from the text."
            )
    facts_from = None
    raw_from = (row.get("facts_valid_from") or "").strip()
    if raw_from:
        try:
            facts_from = dt.date.fromisoformat(raw_from)
        except ValueError:
            errors["facts_valid_from"] = _("Enter a date as YYYY-MM-DD.")
        else:
            # as the client form dates a change of the situation
            birth = data.get("birth_date")
            if facts_from > clock.today():
                errors["facts_valid_from"] = _(
                    "A change of the situation cannot be dated in the future."
                )
            elif _iso_date(birth) and _iso_date(birth) > facts_from:
                errors["facts_valid_from"] = _("This date cannot be before the birth date.")
    return data, errors, temporary_id, facts_from


def _iso_date(value) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def check_header(header: list[str]) -> list[RowError]:
    return csv_import.check_header(header, columns=COLUMNS, required=REQUIRED_COLUMNS)


def import_clients(
    *,
    rows: Iterable[dict[str, str]],
    organisation: Organisation,
    actor=None,
    dry_run: bool = False,
    atomic: bool = False,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    source_name: str = "",
) -> ImportResult:
    """Import rows (dicts of CSV strings). Row numbers count the header as row 1."""
    result = ImportResult(written=not dry_run)
    municipalities = {
        o.municipality_code: o
        for o in Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY)
    }
    today = clock.today()  # Helsinki's day (created_at.date() was UTC's: a day early at night)
    seen_hetu: set[str] = set()
    seen_without_hetu: set[tuple[str, dt.date]] = set()  # the file's rows without a hetu
    # clients whose identity code a row held: audited once the import's transaction (rolled
    # back by --dry-run or --atomic) is over
    taken_codes: list[int] = []
    seen_temp: set[str] = set()
    seen_person: set[tuple[str, dt.date]] = set()

    def flush(batch: list[tuple[int, object, str, dt.date | None]]) -> None:
        hetus = [c.values["hetu"] for _, c, _, _ in batch if c.values.get("hetu")]
        # a row with an identity code is the client by it: its temporary id is not kept
        temps = [t for _, c, t, _ in batch if t and not c.values.get("hetu")]
        hetu_holders = {
            hetu: (client_id, org_id)
            for hetu, client_id, org_id in Client.objects.filter(hetu__in=hetus).values_list(
                "hetu", "id", "responsible_organisation_id"
            )
        } if hetus else {}  # fmt: skip
        temp_holders = dict(
            Client.objects.filter(temporary_id__in=temps).values_list(
                "temporary_id", "responsible_organisation_id"
            )
        ) if temps else {}  # fmt: skip
        # The organisation's clients of the rows' names and birth dates: a row without an
        # identifier is one of them; a row with one, when they have no identity code, is
        # very likely the same person recorded before the code was known.
        keys = {(_sort_key(c.values["first_name"], c.values["last_name"]), c.values["birth_date"])
                for _, c, _, _ in batch}  # fmt: skip
        existing_person: dict[tuple[str, dt.date], bool] = {}
        for sort_key, birth, hetu in Client.objects.filter(
            responsible_organisation=organisation,
            birth_date__in={b for _k, b in keys},
            sort_key__in={k for k, _b in keys},
        ).values_list("sort_key", "birth_date", "hetu"):
            existing_person[(sort_key, birth)] = (
                existing_person.get((sort_key, birth), False) or not hetu
            )
        new: list[tuple[Client, object, dt.date | None]] = []
        taken: list[int] = []
        for row_no, clean, temp, facts_from in batch:
            v = clean.values
            key = (_sort_key(v["first_name"], v["last_name"]), v["birth_date"])
            hetu = v.get("hetu")
            if hetu:
                temp = ""
                holder = hetu_holders.get(hetu)
                if holder is not None and holder[1] != organisation.id:
                    # as the client form: the registry holds each person once, and the
                    # attempt is audited against the holder
                    taken.append(holder[0])
                    result.errors.append(RowError(row_no, "hetu", _(
                        "This identity code is already recorded by another organisation: the "
                        "registry holds each person once. Ask that organisation, or refer "
                        "the client."
                    )))  # fmt: skip
                    continue
                if holder is not None or hetu in seen_hetu:
                    result.skipped_existing += 1
                    continue
            elif temp:
                holder_org = temp_holders.get(temp)
                if holder_org is not None and holder_org != organisation.id:
                    result.errors.append(RowError(row_no, "temporary_id", _(
                        "This temporary id is already in use in Koto: leave the cell empty and "
                        "Koto gives the client a new one."
                    )))  # fmt: skip
                    continue
                if holder_org is not None or temp in seen_temp:
                    result.skipped_existing += 1
                    continue
            elif key in existing_person or key in seen_person:
                result.skipped_existing += 1
                continue
            if (hetu or temp) and (existing_person.get(key) or key in seen_without_hetu):
                result.errors.append(RowError(row_no, "hetu" if hetu else "temporary_id", _(
                    "A client of this name and birth date without an identity code is already "
                    "in the registry: add the identifier to that client, or remove the row."
                )))  # fmt: skip
                continue
            if hetu:
                seen_hetu.add(hetu)
            else:
                seen_without_hetu.add(key)
            if temp:
                seen_temp.add(temp)
            seen_person.add(key)
            if hetu and v.get("gender", Gender.UNKNOWN) == Gender.UNKNOWN:
                v["gender"] = Gender.FEMALE if int(hetu[9]) % 2 == 0 else Gender.MALE
            client = Client(responsible_organisation=organisation, sort_key=key[0], **v)
            client.first_home_municipality_on = client.home_municipality_on
            if not client.hetu:
                client.temporary_id = temp or _new_temporary_id()
            new.append((client, clean, facts_from))
        taken_codes.extend(taken)
        if not new or dry_run:
            result.created += len(new)
            return
        with transaction.atomic():
            clients = [c for c, _, _ in new]
            for client, pk in zip(clients, allocate_ids(Client, len(clients)), strict=True):
                client.pk = pk
            fast_insert(clients)
            names, langs, facts, events, residences = [], [], [], [], []
            for client, clean, facts_from in new:
                names.append(
                    _name_row(client, NameKind.OFFICIAL, client.first_name, client.last_name)
                )
                names += [
                    _name_row(client, NameKind.TRANSLITERATED, f, la)
                    for f, la in clean.transliterated_names or []
                ]
                langs += [
                    ClientLanguage(client=client, language=c) for c in clean.other_languages or []
                ]
                facts += [
                    ClientFactChange(
                        client=client,
                        fact=f,
                        value=True,
                        valid_from=facts_from or today,
                    )
                    for f in LAW_FACTS
                    if clean.values.get(f)
                ]
                events.append(
                    ClientEvent(
                        client=client, kind=ClientEvent.Kind.IMPORTED, data={"file": source_name}
                    )
                )
                if client.home_municipality_id and client.home_municipality_on:
                    residences.append(
                        Residence(
                            client=client,
                            municipality_id=client.home_municipality_id,
                            from_on=client.home_municipality_on,
                        )
                    )
            for rows in (names, langs, facts, events, residences):
                if rows:
                    for row, pk in zip(rows, allocate_ids(type(rows[0]), len(rows)), strict=True):
                        row.pk = pk
                    fast_insert(rows)
            audit_record_many(
                actor=actor,
                action="create",
                object_type="client",
                reason=f"import {source_name}".strip(),
                items=[
                    {"object_id": c.id, "client_id": c.id, "changes": {"imported": True}}
                    for c in clients
                ],
            )
        result.created += len(new)

    def run() -> None:
        batch: list = []
        for index, row in enumerate(rows, start=2):
            result.rows += 1
            index = getattr(row, "line", index)  # the file's line, when read by read_csv
            misfit = csv_import.shape_error(row)
            if misfit is not None:
                result.errors.append(RowError(index, "row", misfit))
                if progress:
                    progress(1)
                continue
            data, shape_errors, temp, facts_from = _row_to_data(row)
            try:
                clean = _clean(data, municipality_cache=municipalities)
            except ValidationFailed as e:
                clean = None
                for name, msgs in e.fields.items():
                    shape_errors.setdefault(name, "; ".join(msgs))
            if shape_errors:
                column = {
                    "home_municipality_code": "home_municipality",
                    "transliterated_names": "other_names",
                }
                result.errors += [
                    RowError(index, column.get(k, k), m) for k, m in shape_errors.items()
                ]
            elif clean is not None:
                batch.append((index, clean, temp, facts_from))
            if len(batch) >= batch_size:
                flush(batch)
                batch = []
            if progress:
                progress(1)
        if batch:
            flush(batch)

    try:
        csv_import.run_import(run, result, atomic=atomic, dry_run=dry_run)
    finally:
        for client_id in dict.fromkeys(taken_codes):
            _audit_identity_code_taken(actor, IdentityCodeTaken(client_id))
    return result
