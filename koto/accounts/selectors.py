"""Reads of users and memberships."""

import functools

from django.db import connections, router
from django.db.models import QuerySet

from koto.accounts.models import Membership, User
from koto.core import clock
from koto.organisations.models import Organisation
from koto.organisations.selectors import parse_served_purchasers, served_purchasers_sql


def _columns(model, alias: str) -> tuple[list, str]:
    fields = list(model._meta.concrete_fields)
    return fields, ", ".join(f'{alias}."{f.column}"' for f in fields)


@functools.cache
def _memberships_read(alias: str):
    """The SQL of `active_memberships_of` and, per model, its fields with their converters
    (made once per process and database: building it with the ORM cost more than the
    query)."""
    conn = connections[alias]
    parts, columns = [], []
    for model, table_alias in ((Membership, "m"), (User, "u"), (Organisation, "o")):
        fields, sql = _columns(model, table_alias)
        cols = [f.get_col(model._meta.db_table) for f in fields]
        converters = [
            conn.ops.get_db_converters(col) + f.get_db_converters(conn)
            for f, col in zip(fields, cols, strict=True)
        ]
        parts.append((model, [f.attname for f in fields], converters, cols))
        columns.append(sql)
    served = served_purchasers_sql('m."organisation_id"', conn.vendor)
    sql = (
        f"SELECT {', '.join(columns)}, {served} "  # noqa: S608 - names from _meta
        f'FROM "{Membership._meta.db_table}" m '
        f'JOIN "{User._meta.db_table}" u ON u."id" = m."user_id" '
        f'JOIN "{Organisation._meta.db_table}" o ON o."id" = m."organisation_id" '
        'WHERE m."user_id" = %s AND m."is_active" '
        # an organisation that has ended (an ELY centre after 2025) acts no more, and one
        # that has not begun (a vitality centre before 2026) not yet: its members and
        # tokens have no access
        'AND (o."valid_to" IS NULL OR o."valid_to" >= %s) '
        'AND (o."valid_from" IS NULL OR o."valid_from" <= %s) ORDER BY m."id"'
    )
    return sql, parts


def _instance(alias: str, model, attnames, converters, cols, values):
    conn = connections[alias]
    converted = []
    for value, convs, col in zip(values, converters, cols, strict=True):
        for conv in convs:
            value = conv(value, col, conn)
        converted.append(value)
    return model.from_db(alias, attnames, converted)


def active_memberships_of(*, user_id: int) -> list[Membership]:
    """The user's active memberships of organisations in being today (begun, not ended), in
    id order, each with its organisation, the user and the purchasers its organisation
    serves today (`served_purchasers`, `served_on`: the visibility filter's reach,
    `koto.clients.selectors.reach_of`), in one query. Plain SQL: every signed-in request
    runs it."""
    alias = router.db_for_read(Membership)
    sql, parts = _memberships_read(alias)
    on = clock.today()
    day = connections[alias].ops.adapt_datefield_value(on)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, [day, day, user_id, day, day])
        rows = cursor.fetchall()
    memberships, user = [], None
    for row in rows:
        at, made = 0, []
        for model, attnames, converters, cols in parts:
            n = len(attnames)
            made.append(_instance(alias, model, attnames, converters, cols, row[at : at + n]))
            at += n
        m, u, org = made
        user = user or u
        m.user, m.organisation = user, org
        m.served_purchasers = frozenset(parse_served_purchasers(row[at]))
        m.served_on = on
        memberships.append(m)
    return memberships


def active_membership_for(*, user: User, membership_id: int | None) -> Membership | None:
    """The membership chosen in the session (`membership_id`), else the user's first active
    one. Uses the memberships the authentication backend read with the user
    (`koto.accounts.backends`), else reads them once; either way they stay on `user` as
    `active_memberships` (the organisation switcher lists them without a second query)."""
    memberships = getattr(user, "active_memberships", None)
    if memberships is None:
        memberships = active_memberships_of(user_id=user.pk)
        for m in memberships:
            m.user = user
        user.active_memberships = memberships
    chosen = [m for m in memberships if membership_id and m.id == membership_id]
    return (chosen or memberships or [None])[0]


def memberships_of_organisation(*, organisation_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation_id=organisation_id)
        .select_related("user", "organisation")
        .order_by("user__last_name", "user__first_name", "role")
    )
