"""Fast bulk inserts for imports and generated data.

Django's `bulk_create` prepares every value through the query compiler, which costs more
than the database itself when a hundred thousand rows are written. `fast_insert` writes
model instances with one `executemany` per table, converting values once per field type,
and `allocate_ids` reserves primary keys first so related rows can point at them. Use it
only inside `transaction.atomic()` (on SQLite the immediate transaction holds the write
lock that makes the id reservation safe)."""

import datetime as dt
import json
from collections.abc import Callable, Sequence

from django.db import connection, models


def allocate_ids(model: type[models.Model], n: int) -> list[int]:
    """Reserve `n` new primary keys for `model`."""
    if n <= 0:
        return []
    table = model._meta.db_table
    pk = model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [table, pk, n],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT COALESCE(MAX("{pk}"), 0) FROM "{table}"')  # noqa: S608 - identifiers from _meta
        start = cursor.fetchone()[0] + 1
        return list(range(start, start + n))


def _converter(field: models.Field) -> Callable:
    if isinstance(field, models.JSONField):
        return lambda v: json.dumps(v, ensure_ascii=False)
    if isinstance(field, models.DateTimeField):
        return lambda v: connection.ops.adapt_datetimefield_value(v)
    if isinstance(field, models.DateField):
        return lambda v: v.isoformat() if isinstance(v, dt.date) else v
    if isinstance(field, models.DecimalField):
        return lambda v: connection.ops.adapt_decimalfield_value(
            v, field.max_digits, field.decimal_places
        )
    return lambda v: v


def insert_statement(model: type[models.Model]) -> tuple[str, list[tuple[str, Callable]]]:
    """The INSERT of one row of `model` (every concrete column, primary key included) and the
    converters that turn an instance into its parameters (`insert_params`)."""
    fields = list(model._meta.concrete_fields)
    columns = ", ".join(f'"{f.column}"' for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f'INSERT INTO "{model._meta.db_table}" ({columns}) VALUES ({placeholders})'  # noqa: S608
    return sql, [(f.attname, _converter(f)) for f in fields]


def insert_params(obj: models.Model, converters: list[tuple[str, Callable]]) -> list:
    return [None if (v := getattr(obj, attname)) is None else conv(v) for attname, conv in converters]  # fmt: skip


def fast_insert(objs: Sequence[models.Model], *, batch_size: int = 2000) -> None:
    """Insert model instances (of one model, primary keys already set)."""
    if not objs:
        return
    sql, converters = insert_statement(type(objs[0]))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            rows = [insert_params(o, converters) for o in objs[start : start + batch_size]]
            cursor.executemany(sql, rows)
