"""Reads of organisations."""

import datetime as dt

from django.db.models import CharField, OuterRef, Q, QuerySet, StringAgg, Subquery, Value
from django.db.models.functions import Cast

from koto.organisations.models import Organisation, OrganisationKind, ServiceAgreement


def agreements_in_force(on: dt.date) -> QuerySet[ServiceAgreement]:
    return ServiceAgreement.objects.filter(valid_from__lte=on).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on)
    )


def purchasers_served_by(*, organisation_id: int, on: dt.date) -> set[int]:
    """Organisations whose residents `organisation_id` serves under an agreement in force."""
    return set(
        agreements_in_force(on)
        .filter(producer_id=organisation_id)
        .values_list("purchaser_id", flat=True)
    )


def served_purchasers_subquery(on: dt.date, *, producer: str = "organisation_id") -> Subquery:
    """`purchasers_served_by` as a column of an outer query whose `producer` field names the
    producing organisation: the purchasers' ids as text "3,17" (NULL: none). The request's
    membership read carries it, so the visibility filter needs no query of its own."""
    return Subquery(
        agreements_in_force(on)
        .filter(producer_id=OuterRef(producer))
        .order_by()
        .values("producer_id")
        .annotate(ids=StringAgg(Cast("purchaser_id", CharField()), Value(",")))
        .values("ids")[:1]
    )


def parse_served_purchasers(ids: str | None) -> set[int]:
    """The set written by `served_purchasers_subquery`."""
    return {int(i) for i in ids.split(",")} if ids else set()


def municipalities() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY).order_by("name_fi")


def organisation_by_code(code: str) -> Organisation | None:
    return Organisation.objects.filter(code=code).first()


def all_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.order_by("kind", "name_fi")
