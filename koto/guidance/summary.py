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

The upserts lock their rows until commit. Every writer takes them in one order (the three
tables in turn, each table's rows sorted), so two writers never wait on each other in a
circle."""

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


def _upsert(table: _Table, rows: list[tuple]) -> None:
    if not rows:
        return
    columns = (*table.key, *table.sums)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {', '.join([one] * len(rows))} "
        f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET "
        + ", ".join(f"{s} = {table.name}.{s} + excluded.{s}" for s in table.sums)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [v for row in rows for v in row])


def add(contacts: Iterable[Contact], reasons: Iterable[ContactReason]) -> None:
    """Count contacts just written (and their reason rows) into the day rows. Call it
    inside the transaction that wrote them."""
    days: Counter = Counter()
    minutes: Counter = Counter()
    languages: Counter = Counter()
    for c in contacts:
        anonymous = c.kind == ContactKind.CLIENT and c.client_id is None
        k = (c.organisation_id, c.contacted_on, c.kind, c.partner_type, c.channel, anonymous)
        days[k] += 1
        minutes[k] += c.minutes or 0
        languages[(c.organisation_id, c.contacted_on, c.kind, c.language)] += 1
    mentions = Counter((r.organisation_id, r.contacted_on, r.reason_id, r.kind) for r in reasons)
    contact_days, language_days, reason_days = TABLES
    with transaction.atomic():
        _upsert(contact_days, [(*k, n, minutes[k]) for k, n in sorted(days.items())])
        _upsert(language_days, [(*k, n) for k, n in sorted(languages.items())])
        _upsert(reason_days, [(*k, n) for k, n in sorted(mentions.items())])


def _where(organisation_ids: list[int] | None) -> tuple[str, list]:
    if organisation_ids is None:
        return "", []
    marks = ", ".join(["%s"] * len(organisation_ids))
    return f"WHERE organisation_id IN ({marks})", list(organisation_ids)


@transaction.atomic
def rebuild(organisation_ids: list[int] | None = None) -> dict[str, int]:
    """Recount the day rows of these organisations (all by default) from their contacts.
    Returns the rows written per table."""
    where, params = _where(organisation_ids)
    written = {}
    with connection.cursor() as cursor:
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
    """Where the day rows and a recount from the contacts disagree (empty when exact)."""
    where, params = _where(organisation_ids)
    out: list[str] = []
    with connection.cursor() as cursor:
        for t in TABLES:
            n = len(t.key)
            cursor.execute(t.recount.format(where=where), params)
            counted = {tuple(r[:n]): tuple(r[n:]) for r in cursor.fetchall()}
            cursor.execute(f"SELECT {', '.join((*t.key, *t.sums))} FROM {t.name} {where}", params)
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
