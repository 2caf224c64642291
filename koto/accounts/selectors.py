"""Reads of users and memberships."""

from django.db.models import QuerySet

from koto.accounts.models import Membership, User


def active_membership_for(*, user: User, membership_id: int | None) -> Membership | None:
    qs = Membership.objects.filter(user=user, is_active=True).select_related("organisation")
    if membership_id:
        m = qs.filter(id=membership_id).first()
        if m is not None:
            return m
    return qs.order_by("id").first()


def memberships_of_organisation(*, organisation_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation_id=organisation_id)
        .select_related("user", "organisation")
        .order_by("user__last_name", "user__first_name", "role")
    )
