"""Reads of users and memberships."""

from django.db.models import QuerySet

from koto.accounts.models import Membership, User
from koto.core import clock
from koto.organisations.selectors import parse_served_purchasers, served_purchasers_subquery


def active_memberships_of(*, user_id: int) -> list[Membership]:
    """The user's active memberships in id order, each with its organisation, the user and
    the purchasers its organisation serves today (`served_purchasers`, `served_on`: the
    visibility filter's reach, `koto.clients.selectors.reach_of`), in one query."""
    on = clock.today()
    memberships = list(
        Membership.objects.filter(user_id=user_id, is_active=True)
        .select_related("user", "organisation")
        .annotate(served_ids=served_purchasers_subquery(on))
        .order_by("id")
    )
    for m in memberships:
        m.served_purchasers = frozenset(parse_served_purchasers(m.served_ids))
        m.served_on = on
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
