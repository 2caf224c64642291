"""Reads of organisations."""

import datetime as dt

from django.db.models import Q, QuerySet

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


def municipalities() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY).order_by("name_fi")


def organisation_by_code(code: str) -> Organisation | None:
    return Organisation.objects.filter(code=code).first()


def all_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.order_by("kind", "name_fi")
