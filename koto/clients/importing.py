"""Importing clients from CSV (columns in docs/import.md).

Rows are validated with the same rules as the registry's own service, then written in
batches (clients, names, languages, fact history, timeline and audit chain together). A row
whose identity code, temporary id, or name and birth date already exist in the
organisation is skipped, so running the same file twice creates no duplicates.
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
from koto.clients.services import _clean, _name_row, _new_temporary_id, _sort_key
from koto.core import csv_import
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
        if isinstance(value, str) and has_text_control_characters(value):
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
    return data, errors, temporary_id, facts_from


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
    seen_hetu: set[str] = set()
    seen_temp: set[str] = set()
    seen_person: set[tuple[str, dt.date]] = set()

    def flush(batch: list[tuple[int, object, str, dt.date | None]]) -> None:
        hetus = [c.values.get("hetu") for _, c, _, _ in batch if c.values.get("hetu")]
        temps = [t for _, _, t, _ in batch if t]
        existing_hetu = (
            set(Client.objects.filter(hetu__in=hetus).values_list("hetu", flat=True))
            if hetus
            else set()
        )
        existing_temp = (
            set(
                Client.objects.filter(temporary_id__in=temps).values_list("temporary_id", flat=True)
            )
            if temps
            else set()
        )
        # Rows without an identifier are matched by name and birth date in the organisation.
        anonymous = [c.values for _, c, t, _ in batch if not c.values.get("hetu") and not t]
        existing_person = set()
        if anonymous:
            existing_person = set(
                Client.objects.filter(
                    responsible_organisation=organisation,
                    birth_date__in={v["birth_date"] for v in anonymous},
                    sort_key__in={_sort_key(v["first_name"], v["last_name"]) for v in anonymous},
                ).values_list("sort_key", "birth_date")
            )
        new: list[tuple[Client, object, dt.date | None]] = []
        for _row_no, clean, temp, facts_from in batch:
            v = clean.values
            key = (_sort_key(v["first_name"], v["last_name"]), v["birth_date"])
            if (
                (v.get("hetu") and (v["hetu"] in existing_hetu or v["hetu"] in seen_hetu))
                or (temp and (temp in existing_temp or temp in seen_temp))
                or (
                    not v.get("hetu")
                    and not temp
                    and (key in existing_person or key in seen_person)
                )
            ):
                result.skipped_existing += 1
                continue
            if v.get("hetu"):
                seen_hetu.add(v["hetu"])
            if temp:
                seen_temp.add(temp)
            seen_person.add(key)
            if v.get("hetu") and v.get("gender", Gender.UNKNOWN) == Gender.UNKNOWN:
                v["gender"] = Gender.FEMALE if int(v["hetu"][9]) % 2 == 0 else Gender.MALE
            client = Client(responsible_organisation=organisation, sort_key=key[0], **v)
            client.first_home_municipality_on = client.home_municipality_on
            if not client.hetu:
                client.temporary_id = temp or _new_temporary_id()
            new.append((client, clean, facts_from))
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
                        valid_from=facts_from or client.created_at.date(),
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

    csv_import.run_import(run, result, atomic=atomic, dry_run=dry_run)
    return result
