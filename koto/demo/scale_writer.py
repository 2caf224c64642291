"""Writing generated load-test rows fast, for `koto.demo.scale` only.

On PostgreSQL the rows go in with `COPY ... FROM STDIN` (text format, one block per table
and chunk). When the generator is not inside a transaction, the blocks are written by
parallel writer threads, each with its own connection and one transaction per chunk, so
PostgreSQL works on one chunk while Python generates the next. Inside a transaction (tests)
the blocks are written on Django's own connection, in that transaction. Elsewhere (SQLite)
rows are written with `executemany`.

Primary keys are reserved from the table's sequence in blocks (`setval(nextval + n - 1)`),
so the sequences stay right; a concurrent writer to the same table in the instant between
`nextval` and `setval` could be given an id of the block, so generate on a database nobody
else writes to at the same time. Writer connections of a superuser skip the foreign-key
triggers (`session_replication_role = replica`): the generator builds every reference from
rows it has written or read, and its tests check the relationships."""

import datetime as dt
import json
import queue
import threading
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction

PG_NULL = r"\N"
_PG_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NOT_LIBPQ = ("cursor_factory", "context", "prepare_threshold")


def pg_text(value: str) -> str:
    """A string escaped for COPY's text format."""
    return value.translate(_PG_ESCAPES)


class Table:
    """One table as the generator writes it. A row is one line of COPY's text format without
    its line end: the values of `columns` (attribute names) in order, separated by tabs,
    `\\N` for NULL, booleans as `True`/`False`, dates ISO, datetimes from `Sink.datetime`,
    strings escaped with `pg_text` when they could hold a tab, newline or backslash. When the
    first column is the primary key the generator reserves the ids itself (rows other rows
    point at); otherwise ids are reserved when the rows are written. Every other concrete
    field is written with its default (a field without one is an error here, so a new
    required field is noticed at once)."""

    def __init__(self, model: type[models.Model], columns: Sequence[str], *, vendor: str):
        meta = model._meta
        fields = {f.attname: f for f in meta.concrete_fields}
        unknown = [c for c in columns if c not in fields]
        if unknown:
            raise ImproperlyConfigured(f"{model.__name__} has no field {', '.join(unknown)}")
        self.model = model
        self.name = meta.db_table
        self.pk = meta.pk.attname
        self.keyed = columns[0] == self.pk
        given = list(columns) if self.keyed else [self.pk, *columns]
        rest = [f for f in meta.concrete_fields if f.attname not in given]
        defaults = []
        for f in rest:
            value = f.get_default()
            if value is None and not f.null:
                raise ImproperlyConfigured(
                    f"{model.__name__}.{f.name} is required and the scale generator gives no "
                    "value for it: add it to the generator's columns"
                )
            defaults.append((f, value))
        names = [fields[c].column for c in given] + [f.column for f, _v in defaults]
        self.column_sql = ", ".join(f'"{n}"' for n in names)
        self.columns = len(given)
        self.width = len(names)
        if vendor == "postgresql":
            self.line_end = "".join("\t" + _pg_literal(v) for _f, v in defaults) + "\n"
            self.defaults = ()
        else:
            self.line_end = "\n"
            self.defaults = tuple(_sqlite_value(f, v) for f, v in defaults)
            self.converters = [_sqlite_converter(fields[c]) for c in given]

    def __repr__(self) -> str:
        return f"<Table {self.name}>"


def _pg_literal(value) -> str:
    if value is None:
        return PG_NULL
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return pg_text(json.dumps(value, ensure_ascii=False))
    return pg_text(str(value))


_PG_UNESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def _pg_unescape(value: str) -> str:
    if "\\" not in value:
        return value
    out, i = [], 0
    while i < len(value):
        pair = value[i : i + 2]
        if pair in _PG_UNESCAPES:
            out.append(_PG_UNESCAPES[pair])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _sqlite_converter(field: models.Field):
    """A text-format value -> the value SQLite stores (its column affinity turns digits
    into numbers)."""
    if isinstance(field, models.BooleanField):
        values = {"True": True, "False": False, "t": True, "f": False, PG_NULL: None}
        return values.__getitem__
    return lambda v: None if v == PG_NULL else _pg_unescape(v)


def _sqlite_value(field: models.Field, value):
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class Sink:
    """Reserves ids and writes batches ({Table: [row lines]}) to the default database."""

    NULL = PG_NULL

    def __init__(self, *, writers: int = 2):
        self.vendor = connection.vendor
        self.postgres = self.vendor == "postgresql"
        self._sequences: dict[str, str] = {}
        self._next_id: dict[str, int] = {}
        self.written: dict[str, int] = {}
        self._pool = None
        if self.postgres and not connection.in_atomic_block and writers > 0:
            self._pool = _CopyPool(writers)
        self.parallel_writers = writers if self._pool is not None else 0

    def table(self, model: type[models.Model], columns: Sequence[str]) -> Table:
        return Table(model, columns, vendor=self.vendor)

    def datetime(self, value: dt.datetime) -> str:
        """An aware datetime in the form the rows carry."""
        if self.postgres:
            return value.isoformat(" ")
        return connection.ops.adapt_datetimefield_value(value)

    def reserve(self, table: Table, n: int) -> int:
        """Reserve `n` consecutive primary keys; returns the first."""
        if n <= 0:
            return 0
        with connection.cursor() as cursor:
            if self.postgres:
                seq = self._sequences.get(table.name)
                if seq is None:
                    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table.name, "id"])
                    seq = self._sequences[table.name] = cursor.fetchone()[0]
                cursor.execute("SELECT setval(%s, nextval(%s) + %s - 1)", [seq, seq, n])
                return cursor.fetchone()[0] - n + 1
            start = self._next_id.get(table.name)
            if start is None:
                cursor.execute(f'SELECT COALESCE(MAX("id"), 0) + 1 FROM "{table.name}"')  # noqa: S608 - from _meta
                start = cursor.fetchone()[0]
            self._next_id[table.name] = start + n
            return start

    def release(self, table: Table, first: int, n: int, used: int) -> None:
        """Give back the unused end of a block of `n` ids from `reserve` (when no other
        ids have been taken since)."""
        if used >= n:
            return
        if self.postgres:
            seq = self._sequences[table.name]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT setval(%s, %s, false) FROM {seq} WHERE last_value = %s",  # noqa: S608 - the catalog's name
                    [seq, first + used, first + n - 1],
                )
        elif self._next_id.get(table.name) == first + n:
            self._next_id[table.name] = first + used

    def write(self, batch: dict[Table, list[str]]) -> None:
        """Write one chunk: every table of it in one transaction."""
        jobs = []
        for table, rows in batch.items():
            if not rows:
                continue
            first = 0 if table.keyed else self.reserve(table, len(rows))
            self.written[table.name] = self.written.get(table.name, 0) + len(rows)
            if self.postgres:
                jobs.append((table, _copy_block(table, rows, first)))
            else:
                jobs.append((table, _sqlite_rows(table, rows, first)))
        if not jobs:
            return
        if self._pool is not None:
            self._pool.submit([(f"COPY {t.name} ({t.column_sql}) FROM STDIN", d) for t, d in jobs])
            return
        with transaction.atomic(), connection.cursor() as cursor:
            for table, data in jobs:
                if self.postgres:
                    with cursor.cursor.copy(
                        f"COPY {table.name} ({table.column_sql}) FROM STDIN"
                    ) as copy:
                        copy.write(data)
                else:
                    marks = ", ".join(["%s"] * table.width)
                    cursor.executemany(
                        f'INSERT INTO "{table.name}" ({table.column_sql}) VALUES ({marks})',  # noqa: S608
                        data,
                    )

    def barrier(self) -> None:
        """Wait until everything written so far is committed."""
        if self._pool is not None:
            self._pool.join()

    def close(self, *, raise_errors: bool = True) -> None:
        """Wait for the writers and close their connections (re-raising their first error
        unless `raise_errors` is false: the caller is already failing)."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.close(raise_errors=raise_errors)

    def analyze(self) -> None:
        """Statistics for every table, not only those written here: the generator writes
        some through the ORM (users, access grants, placements), and a table never
        analysed is planned as nearly empty until autovacuum comes to it, which after a
        load of 15 GB can take a while (Helsinki's 17 493 access grants estimated at 62
        made the name search hash them all and probe the names 13 774 times: 100 ms of
        SQL for "pat", against 14 ms once analysed). On PostgreSQL, outside a transaction, a VACUUM too: it marks the new
        pages all-visible, as autovacuum does in time for tables written once, so index-only
        scans read no heap from the start (the name search's p95 in Helsinki: 42 → 32 ms).
        At national scale 6 s for ANALYZE, 23 s for both."""
        outside = connection.get_autocommit() and not connection.in_atomic_block
        verb = "VACUUM (ANALYZE)" if self.postgres and outside else "ANALYZE"
        with connection.cursor() as cursor:
            cursor.execute(verb)


def _copy_block(table: Table, rows: list[str], first: int) -> str:
    end = table.line_end
    if not table.keyed:
        rows = [f"{i}\t{r}" for i, r in enumerate(rows, start=first)]
    return end.join(rows) + end


def _sqlite_rows(table: Table, rows: list[str], first: int) -> list[tuple]:
    tail, converters, width = table.defaults, table.converters, table.columns
    if not table.keyed:
        rows = [f"{i}\t{r}" for i, r in enumerate(rows, start=first)]
    out = []
    for row in rows:
        values = row.split("\t")
        if len(values) != width:
            raise ValueError(f"{table.name}: {len(values)} values for {width} columns: {row!r}")
        out.append((*(c(v) for c, v in zip(converters, values, strict=True)), *tail))
    return out


class _CopyPool:
    """Writer threads, each with its own PostgreSQL connection: a job (the COPY blocks of one
    chunk) is one transaction. The queue holds one waiting job (the next one is generated
    meanwhile), so memory stays flat; the first error stops the run."""

    def __init__(self, writers: int):
        import psycopg

        params = {
            k: v for k, v in connection.get_connection_params().items() if k not in _NOT_LIBPQ
        }
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._errors: list[BaseException] = []
        self._connections = []
        for _ in range(writers):
            conn = psycopg.connect(**params)
            superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]  # fmt: skip
            conn.execute("SET synchronous_commit = off")
            if superuser:
                conn.execute("SET session_replication_role = replica")
            conn.commit()
            self._connections.append(conn)
        self._threads = [
            threading.Thread(target=self._run, args=(conn,), daemon=True, name=f"scale-copy-{i}")
            for i, conn in enumerate(self._connections)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, conn) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                if self._errors:
                    continue
                with conn.transaction(), conn.cursor() as cursor:
                    for sql, data in job:
                        with cursor.copy(sql) as copy:
                            copy.write(data)
            except BaseException as error:  # noqa: BLE001 - reported to the main thread
                self._errors.append(error)
            finally:
                self._queue.task_done()

    def _raise(self) -> None:
        if self._errors:
            raise self._errors[0]

    def submit(self, job: list[tuple[str, str]]) -> None:
        self._raise()
        self._queue.put(job)

    def join(self) -> None:
        self._queue.join()
        self._raise()

    def close(self, *, raise_errors: bool = True) -> None:
        if not raise_errors:
            self._errors.append(RuntimeError("stopped"))  # skip the jobs still queued
        try:
            self._queue.join()
        finally:
            for _ in self._threads:
                self._queue.put(None)
            for thread in self._threads:
                thread.join()
            for conn in self._connections:
                conn.close()
        if raise_errors:
            self._raise()
