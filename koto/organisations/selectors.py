"""Reads of organisations."""

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils.translation import get_language

from koto.core.text import sort_key
from koto.organisations.models import (
    AgreementScope,
    Organisation,
    OrganisationKind,
    ServiceAgreement,
)

# Agreements under which the producer keeps the purchaser's clients' records (casework);
# a guidance agreement is advice given, not records kept.
RECORD_SCOPES = frozenset({AgreementScope.INTEGRATION_SERVICES, AgreementScope.EMPLOYMENT_SERVICES})


def agreements_in_force(on: dt.date) -> QuerySet[ServiceAgreement]:
    return ServiceAgreement.objects.filter(valid_from__lte=on).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on)
    )


def purchasers_served_by(*, organisation_id: int, on: dt.date) -> set[int]:
    """Organisations whose residents `organisation_id` serves under an agreement in force
    that keeps their records (`RECORD_SCOPES`): a guidance-only agreement (an NGO's advice
    desk) gives no reach over the purchaser's client records."""
    return set(
        agreements_in_force(on)
        .filter(producer_id=organisation_id, scope__in=RECORD_SCOPES)
        .values_list("purchaser_id", flat=True)
    )


def producers_serving(*, organisation_id: int, on: dt.date | None = None) -> set[int]:
    """The organisations keeping `organisation_id`'s client records under an agreement in
    force on `on`, or with `on=None` under any agreement, in force or ended
    (`purchasers_served_by` the other way round)."""
    agreements = agreements_in_force(on) if on is not None else ServiceAgreement.objects.all()
    return set(
        agreements.filter(purchaser_id=organisation_id, scope__in=RECORD_SCOPES).values_list(
            "producer_id", flat=True
        )
    )


def served_purchasers_sql(producer_column: str, vendor: str) -> str:
    """`purchasers_served_by` as a correlated subquery for plain SQL whose
    `producer_column` holds the producing organisation: the purchasers' ids as text "3,17"
    (NULL: none); its two parameters are the day, twice (`agreements_in_force`'s rule). The
    request's membership read carries it, so the visibility filter needs no query of its
    own."""
    table = ServiceAgreement._meta.db_table
    scopes = ", ".join(f"'{s}'" for s in sorted(RECORD_SCOPES))  # constants, not input
    ids = "CAST(a.purchaser_id AS TEXT)"
    agg = f"string_agg({ids}, ',')" if vendor == "postgresql" else f"group_concat({ids}, ',')"
    return (
        f'(SELECT {agg} FROM "{table}" a WHERE a.producer_id = {producer_column} '  # noqa: S608 - names from _meta
        f"AND a.scope IN ({scopes}) "
        "AND a.valid_from <= %s AND (a.valid_to IS NULL OR a.valid_to >= %s))"
    )


def parse_served_purchasers(ids: str | None) -> set[int]:
    """The set written by `served_purchasers_sql`."""
    return {int(i) for i in ids.split(",")} if ids else set()


def municipalities() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY).order_by("name_fi")


def municipality_names() -> list[tuple[int, str, str]]:
    """(id, municipality code, name in the current language) of every municipality, in the
    order of `municipalities()`: for choice lists, read as values (the 308 model instances
    cost the client form 8 ms of its 24)."""
    rows = municipalities().values_list("id", "municipality_code", "name_fi", "name_sv", "name_en")
    pick = _name_column(2)
    return [(r[0], r[1], r[pick] or r[2]) for r in rows]


def _name_column(fi: int) -> int:
    """Which of the columns name_fi, name_sv, name_en (from index `fi` on) the current
    language reads; a missing translation falls back to Finnish."""
    return fi + {"sv": 1, "en": 2}.get((get_language() or "fi")[:2], 0)


def organisation_names(kind: str, **filters) -> list[tuple[int, str]]:
    """(id, name in the current language) of the organisations of `kind`, sorted by that
    name; read as values, for choice lists of hundreds."""
    rows = Organisation.objects.filter(kind=kind, **filters).values_list(
        "id", "name_fi", "name_sv", "name_en"
    )
    pick = _name_column(1)
    lang = get_language() or "fi"
    return sorted(
        ((r[0], r[pick] or r[1]) for r in rows), key=lambda r: (sort_key(r[1], lang), r[0])
    )


def organisation_by_code(code: str) -> Organisation | None:
    return Organisation.objects.filter(code=code).first()


def all_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.order_by("kind", "name_fi")
