"""Guidance contacts counted per organisation and day: what the report reads.

A year of Helsinki's contacts is a million rows; the report's breakdowns read a few
thousand day rows each instead: `ContactDay` (kind, partner type, channel, anonymity, with
minutes), `LanguageDay` (kind, language) and `ReasonDay` (reason, kind). Contacts are only
ever added (never edited or deleted), so adding each written contact to its day rows in
the same transaction keeps the counts exact and current: `add` is called by every writer
of contacts (`services.contact_log`, `importing.import_contacts`; the national data
generator calls `rebuild` once at its end). `rebuild` recounts from the contacts (the
migration's backfill, a repair) and `differences` compares the two; the
`guidance_summary` command runs them.

The upserts lock their rows until commit, so a writer takes them last, after its audit
record's lane, and all at once (`Counts.write`: the three tables in turn, each table's rows
sorted; an import run in one transaction writes its counts once, at its end). Two writers
therefore never wait on each other in a circle."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction

from koto.guidance.models import (
    Contact,
    ContactDay,
    ContactKind,
    ContactReason,
    LanguageDay,
    ReasonDay,
)


@dataclass(frozen=True)
class _Table:
    model: type
    key: tuple[str, ...]
    sums: tuple[str, ...]
    recount: str  # SELECT key..., sums... FROM the contacts {where} GROUP BY the key

    @property
    def name(self) -> str:
        return self.model._meta.db_table


# The recounts are shared with the migration that made the tables (its backfill).
TABLES = (
    _Table(
        ContactDay,
        ("organisation_id", "day", "kind", "partner_type", "channel", "anonymous"),
        ("contacts", "minutes"),
        "SELECT organisation_id, contacted_on, kind, partner_type, channel, "
        "(kind = 'client' AND client_id IS NULL), COUNT(*), COALESCE(SUM(minutes), 0) "
        "FROM guidance_contact {where} GROUP BY 1, 2, 3, 4, 5, 6",
    ),
    _Table(
        LanguageDay,
        ("organisation_id", "day", "kind", "language"),
        ("contacts",),
        "SELECT organisation_id, contacted_on, kind, language, COUNT(*) "
        "FROM guidance_contact {where} GROUP BY 1, 2, 3, 4",
    ),
    _Table(
        ReasonDay,
        ("organisation_id", "day", "reason_id", "kind"),
        ("contacts",),
        "SELECT organisation_id, contacted_on, reason_id, kind, COUNT(*) "
        "FROM guidance_contactreason {where} GROUP BY 1, 2, 3, 4",
    ),
)


_ROWS_PER_STATEMENT = 500  # 4 000 parameters at most: within SQLite's limit too


def _upsert(table: _Table, rows: list[tuple]) -> None:
    columns = (*table.key, *table.sums)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for i in range(0, len(rows), _ROWS_PER_STATEMENT):
            chunk = rows[i : i + _ROWS_PER_STATEMENT]
            cursor.execute(
                f"INSERT INTO {table.name} ({', '.join(columns)}) "
                f"VALUES {', '.join([one] * len(chunk))} "
                f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET "
                + ", ".join(f"{s} = {table.name}.{s} + excluded.{s}" for s in table.sums),
                [v for row in chunk for v in row],
            )


class Counts:
    """Day counts of contacts being written, gathered (`count`) and then added to the day
    rows in one go (`write`, which empties them)."""

    def __init__(self) -> None:
        self.days: Counter = Counter()
        self.minutes: Counter = Counter()
        self.languages: Counter = Counter()
        self.mentions: Counter = Counter()

    def count(self, contacts: Iterable[Contact], reasons: Iterable[ContactReason]) -> "Counts":
        for c in contacts:
            anonymous = c.kind == ContactKind.CLIENT and c.client_id is None
            k = (c.organisation_id, c.contacted_on, c.kind, c.partner_type, c.channel, anonymous)
            self.days[k] += 1
            self.minutes[k] += c.minutes or 0
            self.languages[(c.organisation_id, c.contacted_on, c.kind, c.language)] += 1
        for r in reasons:
            self.mentions[(r.organisation_id, r.contacted_on, r.reason_id, r.kind)] += 1
        return self

    def write(self) -> None:
        """Add the counts to the day rows (inside the transaction that wrote the contacts)."""
        contact_days, language_days, reason_days = TABLES
        # within the writer's transaction: no savepoint (two more round trips per contact)
        with transaction.atomic(savepoint=False):
            _upsert(contact_days, [(*k, n, self.minutes[k]) for k, n in sorted(self.days.items())])
            _upsert(language_days, [(*k, n) for k, n in sorted(self.languages.items())])
            _upsert(reason_days, [(*k, n) for k, n in sorted(self.mentions.items())])
        for counter in (self.days, self.minutes, self.languages, self.mentions):
            counter.clear()


def add(contacts: Iterable[Contact], reasons: Iterable[ContactReason]) -> None:
    """Count contacts just written (and their reason rows) into the day rows. Call it
    inside the transaction that wrote them, as its last write."""
    Counts().count(contacts, reasons).write()


def _where(organisation_ids: list[int] | None) -> tuple[str, list]:
    if organisation_ids is None:
        return "", []
    marks = ", ".join(["%s"] * len(organisation_ids))
    return f"WHERE organisation_id IN ({marks})", list(organisation_ids)


@transaction.atomic
def rebuild(organisation_ids: list[int] | None = None) -> dict[str, int]:
    """Recount the day rows of these organisations (all by default) from their contacts.
    Returns the rows written per table. Logging contacts waits while it runs (seconds for
    one organisation, about two minutes for the whole country at 20 M contacts)."""
    if organisation_ids is not None and not organisation_ids:
        return {t.model.__name__: 0 for t in TABLES}
    where, params = _where(organisation_ids)
    written = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Writers wait until the recount commits: one that commits a contact between the
            # DELETE and the INSERT below would otherwise add a row the recount adds again.
            # (SQLite has one writer at a time anyway.)
            cursor.execute("LOCK TABLE " + ", ".join(t.name for t in TABLES) + " IN EXCLUSIVE MODE")
        for t in TABLES:
            cursor.execute(f"DELETE FROM {t.name} {where}", params)
            cursor.execute(
                f"INSERT INTO {t.name} ({', '.join((*t.key, *t.sums))}) "
                + t.recount.format(where=where),
                params,
            )
            written[t.model.__name__] = cursor.rowcount
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE " + ", ".join(t.name for t in TABLES))
    return written


def differences(organisation_ids: list[int] | None = None, limit: int = 20) -> list[str]:
    """Where the day rows and a recount from the contacts disagree (empty when exact). One
    snapshot on PostgreSQL (writers may go on meanwhile); ten organisations at a time, so
    memory stays at the size of the largest ones."""
    out: list[str] = []
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if snapshot:  # the transaction's first statement (inside another, its snapshot rules)
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if organisation_ids is None:
            cursor.execute(
                " UNION ".join(
                    f"SELECT DISTINCT organisation_id FROM {name}"
                    for name in ("guidance_contact", *(t.name for t in TABLES))
                )
            )
            organisation_ids = sorted(r[0] for r in cursor.fetchall())
        for i in range(0, len(organisation_ids), 10):
            where, params = _where(organisation_ids[i : i + 10])
            for t in TABLES:
                n = len(t.key)
                cursor.execute(t.recount.format(where=where), params)
                counted = {tuple(r[:n]): tuple(r[n:]) for r in cursor.fetchall()}
                columns = ", ".join((*t.key, *t.sums))
                cursor.execute(f"SELECT {columns} FROM {t.name} {where}", params)
                stored = {tuple(r[:n]): tuple(r[n:]) for r in cursor.fetchall()}
                for k in sorted(counted.keys() | stored.keys(), key=str):
                    if stored.get(k) != counted.get(k):
                        out.append(
                            f"{t.model.__name__} {dict(zip(t.key, k, strict=True))}: "
                            f"stored {stored.get(k)}, counted {counted.get(k)}"
                        )
                        if len(out) >= limit:
                            return out
    return out
