"""Who may do what with a client. Visibility itself is in selectors (a record another
organisation owns answers 404)."""

from koto.core import clock
from koto.core.roles import Perm
from koto.organisations.selectors import purchasers_served_by


def can_create_client(user) -> bool:
    return user.is_authenticated and user.has_perm_in_org(Perm.CLIENT_CREATE)


def can_edit_client(user, client) -> bool:
    """Editing needs the edit permission and a write relationship: the client's responsible
    organisation, an organisation serving it under an agreement, or a full access grant.
    `client.access` is set by the selector that fetched it."""
    return user.has_perm_in_org(Perm.CLIENT_EDIT) and getattr(client, "access", None) == "full"


def can_assign_counsellor(user, client) -> bool:
    """Choosing the client's counsellor: an editor of the client's own organisation, or of
    one serving it under an agreement; not of one reaching it by a grant (a referral, the
    welfare region's for a placed minor), which edits the record but does not take the
    client and its statutory tasks over."""
    if not can_edit_client(user, client):
        return False
    m = user.active_membership
    if m.organisation_id == client.responsible_organisation_id:
        return True
    today = clock.today()
    # the purchasers served came with the membership at sign-in (`accounts.selectors`)
    served = (
        m.served_purchasers
        if getattr(m, "served_on", None) == today
        else purchasers_served_by(organisation_id=m.organisation_id, on=today)
    )
    return client.responsible_organisation_id in served


def can_read_welfare_details(user) -> bool:
    return user.has_perm_in_org(Perm.CLIENT_VIEW_WELFARE)


def can_export_client(user, client) -> bool:
    """The data-subject export: by a role that answers such requests, of a client whose
    record the user's organisation keeps (full access, not through emergency access), or
    who was transferred from it (its read grant of the transfer: it still answers for the
    records it kept; `client_get_for` sets `former_holder`)."""
    return (
        user.is_authenticated
        and user.has_perm_in_org(Perm.CLIENT_EXPORT)
        and (getattr(client, "access", None) == "full" or getattr(client, "former_holder", False))
        and getattr(client, "break_glass_id", None) is None
    )


def can_view_audit(user) -> bool:
    return user.is_authenticated and user.has_perm_in_org(Perm.AUDIT_VIEW)
