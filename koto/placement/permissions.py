"""Who may do what in placement. Visibility itself is in selectors (a record of another
organisation answers 404); these say what a viewer who sees a record may do with it.

- the regional State authority's placement officers (`placement.manage`) make agreements,
  propose and cancel placements;
- the municipality's managers and integration counsellors (`placement.respond`) answer
  proposals, reserve housing and record arrival;
- the welfare region's social workers (`placement.consult`) give statements on the agreements
  and placements of their municipalities and do the initial health check.
"""

from django.db.models import Q

from koto.core.roles import Perm
from koto.organisations.models import Organisation


def _org(user, perm: str) -> int | None:
    m = getattr(user, "active_membership", None)
    if m is None or not m.has_perm(perm):
        return None
    return m.organisation_id


def authority_of(user) -> int | None:
    """The regional State authority on whose behalf the user manages placement, or None."""
    return _org(user, Perm.PLACEMENT_MANAGE)


def authority_records(org: int, prefix: str = "") -> Q:
    """The agreements and placements an authority manages: its own, and those its
    predecessors made (the ELY centres, to the end of 2025) with municipalities now in its
    area, so that what was open at the change of authority is not left without one.
    `prefix` reaches them through a relation (`"placement__"`)."""
    predecessors = list(Organisation.objects.filter(successors=org).values_list("pk", flat=True))
    q = Q(**{f"{prefix}authority_id": org})
    if predecessors:
        q |= Q(
            **{
                f"{prefix}authority_id__in": predecessors,
                f"{prefix}municipality__regional_state_authority_id": org,
            }
        )
    return q


def _manages(user, record) -> bool:
    org = authority_of(user)
    if org is None:
        return False
    if org == record.authority_id:
        return True
    return (
        record.municipality.regional_state_authority_id == org
        and Organisation.objects.filter(pk=record.authority_id, successors=org).exists()
    )


def municipality_of(user) -> int | None:
    return _org(user, Perm.PLACEMENT_RESPOND)


def welfare_region_of(user) -> int | None:
    return _org(user, Perm.PLACEMENT_CONSULT)


def has_placement_role(user) -> bool:
    return any(f(user) is not None for f in (authority_of, municipality_of, welfare_region_of))


def can_manage_agreement(user, agreement) -> bool:
    return _manages(user, agreement)


def can_consult_on_agreement(user, agreement) -> bool:
    """The welfare region itself, or the municipality recording the statement it received."""
    region = welfare_region_of(user)
    if region is not None and region == agreement.municipality.welfare_region_id:
        return True
    municipality = municipality_of(user)
    return municipality is not None and municipality == agreement.municipality_id


def can_manage_placement(user, placement) -> bool:
    return _manages(user, placement)


def can_respond_to_placement(user, placement) -> bool:
    org = municipality_of(user)
    return org is not None and org == placement.municipality_id


def can_consult_on_placement(user, placement) -> bool:
    region = welfare_region_of(user)
    return region is not None and region == placement.municipality.welfare_region_id


def can_edit_minor_care(user, client) -> bool:
    """A full-access viewer of the client (set by the client selector) who works with
    clients or placement: the municipality or the welfare region arranging the care."""
    if getattr(client, "access", None) != "full":
        return False
    return any(
        user.has_perm_in_org(p)
        for p in (Perm.CLIENT_EDIT, Perm.PLACEMENT_RESPOND, Perm.PLACEMENT_CONSULT)
    )
