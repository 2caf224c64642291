"""Importing guidance contacts from CSV (columns in docs/guidance.md).

Each row is validated with the same rules as the log service (`clean_contact`), then rows
are written in batches (contacts, reason rows and audit chain together).

Idempotency: every row gets a key, stored on the contact and unique in the organisation.
With an `external_id` column the key is that id. Otherwise it is a hash of the row's
normalised content (date, channel, language, sorted reasons, anonymous, the client, partner
type, minutes, interpreter, outcome, referred to) plus the occurrence number of that same
content in the file, so two identical anonymous contacts on one day are two contacts, and
importing the same file again (or the file with rows appended) creates nothing twice.

The client enters the hash as Koto's own id of the client, found from the identity code or
temporary id, never as the identity code itself: a plain hash of a hetu is found again by
trying the few million codes of plausible birth dates, so a key holding one would name the
person on every copy of the table (and after the client is anonymised). A contact already
carries its client's id, so the key tells nothing the row does not. Keys that files imported
before this rule were given (the identity code in the hash) still count as "already
present"; migration 0004 re-keyed the ones it could verify.
"""

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from koto.audit.services import audit_record_many
from koto.core import clock, csv_import
from koto.core.bulk import allocate_ids, fast_insert
from koto.core.csv_import import ImportResult, RowError
from koto.core.errors import ValidationFailed
from koto.core.forms import FIRST_DATE
from koto.core.text import normalise_identity_code
from koto.guidance import summary
from koto.guidance.models import Contact, ContactReason
from koto.guidance.selectors import clients_by_identifier
from koto.guidance.services import clean_contact, reason_map
from koto.organisations.models import Organisation

# The key stored per contact is "x:" + the id, in `Contact.import_key` (80 characters).
EXTERNAL_ID_MAX = 78
REQUIRED_COLUMNS = ("date", "channel", "reasons")
OPTIONAL_COLUMNS = (
    "language", "anonymous", "client", "partner_type", "minutes", "interpreter", "outcome",
    "referred_to", "external_id",
)  # fmt: skip
COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)


def check_header(header: list[str]) -> list[RowError]:
    return csv_import.check_header(header, columns=COLUMNS, required=REQUIRED_COLUMNS)


def _parse_date(raw: str) -> dt.date:
    """YYYY-MM-DD or d.m.yyyy, the year in four digits: "5.1.26" is not the year 26, and a
    date before FIRST_DATE is a typing error, not a contact (ValueError for both)."""
    raw = raw.strip()
    if "." in raw:
        d, m, y = raw.split(".")
        if len(y.strip()) != 4:
            raise ValueError(raw)
        day = dt.date(int(y), int(m), int(d))
    else:
        day = dt.date.fromisoformat(raw)
        if not raw[:4].isdigit() or raw[4:5] != "-":
            raise ValueError(raw)
    if day < FIRST_DATE:
        raise ValueError(raw)
    return day


def _bool(raw: str | None) -> bool | None:
    value = (raw or "").strip().lower()
    if value in ("true", "false"):
        return value == "true"
    if value:
        raise ValueError(value)
    return None


@dataclass
class _Row:
    number: int
    key: str  # empty for a known client's row until its client is found (`flush`)
    date: dt.date
    identifier: str
    clean: object
    content: list[str] | None = None  # for the key, the client's slot still empty
    legacy_key: str = ""  # the key an earlier version gave the row (the identity code hashed)


# The place of the client in a row's content (`_content`).
_CLIENT_SLOT = 5


def _content(date: dt.date, clean, client: str, minutes, interpreter) -> list[str]:
    return [
        date.isoformat(),
        clean.channel,
        clean.language,
        ";".join(sorted(r.code for r in clean.reasons)),
        str(not client),
        client,  # _CLIENT_SLOT
        clean.partner_type,
        str(minutes or ""),
        str(bool(interpreter)),
        clean.outcome,
        clean.referred_to,
    ]  # fmt: skip


def _row_key(values: list[str], seen: Counter, source: str = "") -> str:
    """The key of a row without `external_id`: its content, how many times the same content
    came before it in the file and, when given, the file's source (identical rows of two
    offices' files are two contacts). The content never holds an identity code (see the
    module's docstring): a known client is in it as `client:<Koto's id>`."""
    digest = hashlib.sha256("\x1f".join([*values, source] if source else values).encode())
    digest = digest.hexdigest()[:40]
    seen[digest] += 1
    return f"h:{digest}:{seen[digest]}"


def _present(organisation: Organisation, keys: list[str]) -> set[str]:
    """The keys among `keys` of contacts the organisation already has."""
    return set(
        Contact.objects.filter(organisation=organisation, import_key__in=keys).values_list(
            "import_key", flat=True
        )
    )


def import_contacts(
    *,
    rows: Iterable[dict[str, str]],
    organisation: Organisation,
    actor=None,
    dry_run: bool = False,
    atomic: bool = False,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
    source_name: str = "",
    source: str = "",
) -> ImportResult:
    """Import rows (dicts of CSV strings). Row numbers count the header as row 1."""
    result = ImportResult(written=not dry_run)
    reasons = reason_map()
    today = clock.today()
    seen_content: Counter = Counter()
    seen_legacy: Counter = Counter()  # known clients' rows, as the earlier version counted
    seen_keys: set[str] = set()
    counts = summary.Counts()  # the day counts of the contacts written

    def parse(number: int, row: dict[str, str]) -> _Row | None:
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        errors: dict[str, str] = {}
        date = None
        try:
            date = _parse_date(row.get("date", ""))
            if date > today:
                errors["date"] = _("The date cannot be in the future.")
            elif not organisation.is_valid_on(date):
                # as when logging a contact: no contacts before the organisation began
                # (a merged municipality's new code) or after it ended (the ELY centres)
                errors["date"] = _("%(organisation)s did not exist on this day.") % {
                    "organisation": organisation.name
                }
        except (ValueError, TypeError):
            errors["date"] = _("Enter a date as YYYY-MM-DD or d.m.yyyy.")
        anonymous = interpreter = None
        try:
            anonymous = _bool(row.get("anonymous"))
        except ValueError:
            errors["anonymous"] = _("Write true or false.")
        try:
            interpreter = _bool(row.get("interpreter"))
        except ValueError:
            errors["interpreter"] = _("Write true or false.")
        minutes = None
        if row.get("minutes"):
            try:
                minutes = int(row["minutes"])
            except ValueError:
                errors["minutes"] = _("Enter a whole number.")
        # as the log form takes it: "240892–005U" pasted with an en dash is found too
        identifier = normalise_identity_code(row.get("client", ""))
        partner_type = row.get("partner_type", "")
        if anonymous and identifier:
            errors["client"] = _("An anonymous contact has no client: leave it empty.")
        elif anonymous is False and not identifier and not partner_type:
            errors["client"] = _("Give the client's identity code or temporary id.")
        reason_codes = [r for r in row.get("reasons", "").split(";") if r.strip()]
        try:
            clean = clean_contact(
                channel=row.get("channel", ""), reasons=reason_codes, reason_map=reasons,
                partner_type=partner_type, language=row.get("language", ""),
                interpreter_used=bool(interpreter), minutes=minutes,
                outcome=row.get("outcome") or "answered", referred_to=row.get("referred_to", ""),
                has_client=bool(identifier),
            )  # fmt: skip
        except ValidationFailed as e:
            clean = None
            for name, msgs in e.fields.items():
                errors.setdefault(name, "; ".join(msgs))
        if len(row.get("external_id", "")) > EXTERNAL_ID_MAX:
            # cut to the key's length, two long ids sharing their start became one
            errors["external_id"] = _("At most %(n)s characters.") % {"n": EXTERNAL_ID_MAX}
        if errors:
            result.errors += [RowError(number, k, m) for k, m in errors.items()]
            return None
        external = row.get("external_id", "")
        if external:
            key = f"x:{external}"
        elif identifier:
            # keyed in `flush`, once the client's id is known; the key an earlier version
            # gave it (the identity code hashed) is only compared, never stored
            legacy = _content(date, clean, identifier, minutes, interpreter)
            legacy_key = _row_key(legacy, seen_legacy, source.strip())
            content = list(legacy)
            content[_CLIENT_SLOT] = ""  # Koto's id of the client, once found
            return _Row(number, "", date, identifier, clean, content, legacy_key)
        else:  # anonymous or a partner: the content and key every version gave it
            content = _content(date, clean, "", minutes, interpreter)
            key = _row_key(content, seen_content, source.strip())
        if key in seen_keys:
            result.errors.append(RowError(number, "external_id", _("Repeated in this file.")))
            return None
        seen_keys.add(key)
        return _Row(number, key, date, identifier, clean)

    def flush(batch: list[_Row]) -> None:
        clients = clients_by_identifier(
            organisation_id=organisation.id,
            on=today,
            identifiers={r.identifier for r in batch if r.identifier},
        )
        keyed: list[_Row] = []
        for r in batch:
            if r.identifier and r.identifier not in clients:
                result.errors.append(
                    RowError(
                        r.number,
                        "client",
                        _("No client of the organisation has this identity code or temporary id."),
                    )
                )
                continue
            if not r.key:  # a known client's row, in the file's order (batches are too)
                r.content[_CLIENT_SLOT] = f"client:{clients[r.identifier]}"
                r.key = _row_key(r.content, seen_content, source.strip())
            keyed.append(r)
        wanted = [r.key for r in keyed] + [r.legacy_key for r in keyed if r.legacy_key]
        user = actor if getattr(actor, "is_authenticated", False) else None
        known, conflict = -1, None
        while True:
            try:
                with transaction.atomic():
                    # read in the batch's transaction (on SQLite it holds the database, so a
                    # second import of the file waits and then finds these rows present)
                    existing = _present(organisation, wanted)
                    if len(existing) <= known:
                        # refused again with nothing new stored by another run: not a race
                        raise conflict
                    known = len(existing)
                    new = [
                        r
                        for r in keyed
                        if r.key not in existing and not (r.legacy_key and r.legacy_key in existing)
                    ]
                    written = None
                    if new and not dry_run:
                        written = _write(new, clients, user)
                        if not atomic:  # this batch commits now; --atomic writes at its end
                            summary.Counts().count(*written).write()
                break
            except IntegrityError as e:
                # Another import of the same rows (the file sent twice at once) stored some of
                # them after the read: on PostgreSQL the unique key waited for its commit.
                # The batch was rolled back whole; read again, and what the other run stored
                # is counted as already present.
                if e is conflict:
                    raise
                conflict = e
        if written is not None and atomic:
            counts.count(*written)
        result.skipped_existing += len(keyed) - len(new)
        result.created += len(new)

    def _write(new: list[_Row], clients: dict, user) -> tuple[list, list]:
        """Store a batch's new contacts, their reasons and audit records (in a transaction)."""
        now = clock.now()  # within the transaction: see `services.contact_log`
        contacts = []
        for r, pk in zip(new, allocate_ids(Contact, len(new)), strict=True):
            c = r.clean
            contacts.append(
                Contact(
                    id=pk,
                    organisation=organisation,
                    logged_by=user,
                    logged_at=now,
                    contacted_at=dt.datetime.combine(r.date, dt.time(12), tzinfo=clock.HELSINKI),
                    contacted_on=r.date,
                    kind=c.kind,
                    partner_type=c.partner_type,
                    client_id=clients.get(r.identifier),
                    channel=c.channel,
                    language=c.language,
                    interpreter_used=c.interpreter_used,
                    minutes=c.minutes,
                    outcome=c.outcome,
                    referred_to=c.referred_to,
                    import_key=r.key,
                )  # fmt: skip
            )
        fast_insert(contacts)
        reason_rows = [
            ContactReason(
                contact_id=contact.id,
                reason_id=reason.id,
                organisation_id=organisation.id,
                contacted_on=contact.contacted_on,
                kind=contact.kind,
            )  # fmt: skip
            for contact, r in zip(contacts, new, strict=True)
            for reason in r.clean.reasons
        ]
        for row, pk in zip(reason_rows, allocate_ids(ContactReason, len(reason_rows)), strict=True):
            row.pk = pk
        fast_insert(reason_rows)
        audit_record_many(
            actor=actor,
            action="create",
            object_type="guidance_contact",
            reason=f"import {source_name}".strip(),
            items=[
                {
                    "object_id": c.id,
                    "client_id": c.client_id,
                    "changes": {"imported": True, "kind": c.kind},
                }
                for c in contacts
            ],
        )
        return contacts, reason_rows

    def run() -> None:
        batch: list[_Row] = []
        for number, row in enumerate(rows, start=2):
            result.rows += 1
            number = getattr(row, "line", number)  # the file's line, when read by read_csv
            misfit = csv_import.shape_error(row)
            if misfit is not None:
                # a cell too many or too few: not stored with its cells shifted or empty
                result.errors.append(RowError(number, "row", misfit))
                if progress:
                    progress(1)
                continue
            parsed = parse(number, row)
            if parsed is not None:
                batch.append(parsed)
            if len(batch) >= batch_size:
                flush(batch)
                batch = []
            if progress:
                progress(1)
        if batch:
            flush(batch)
        # the day rows last and at once: locked until the commit, taken in one order
        counts.write()

    csv_import.run_import(run, result, atomic=atomic, dry_run=dry_run)
    result.errors.sort(key=lambda e: e.row)
    return result
