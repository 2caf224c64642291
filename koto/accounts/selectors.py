"""Reads of users and memberships."""

from django.db.models import QuerySet

from koto.accounts.models import Membership, User


def active_membership_for(*, user: User, membership_id: int | None) -> Membership | None:
    """The membership chosen in the session (`membership_id`), else the user's first active
    one. Reads all the user's active memberships once and keeps them on `user` as
    `active_memberships` (the organisation switcher lists them without a second query)."""
    memberships = list(
        Membership.objects.filter(user=user, is_active=True)
        .select_related("organisation")
        .order_by("id")
    )
    user.active_memberships = memberships
    chosen = [m for m in memberships if membership_id and m.id == membership_id]
    return (chosen or memberships or [None])[0]


def memberships_of_organisation(*, organisation_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(organisation_id=organisation_id)
        .select_related("user", "organisation")
        .order_by("user__last_name", "user__first_name", "role")
    )
