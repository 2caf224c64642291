"""Who may do what with a client. Visibility itself is in selectors (a record another
organisation owns answers 404)."""

from koto.core.roles import Perm


def can_create_client(user) -> bool:
    return user.is_authenticated and user.has_perm_in_org(Perm.CLIENT_CREATE)


def can_edit_client(user, client) -> bool:
    """Editing needs the edit permission and a write relationship: the client's responsible
    organisation, an organisation serving it under an agreement, or a full access grant.
    `client.access` is set by the selector that fetched it."""
    return user.has_perm_in_org(Perm.CLIENT_EDIT) and getattr(client, "access", None) == "full"


def can_read_welfare_details(user) -> bool:
    return user.has_perm_in_org(Perm.CLIENT_VIEW_WELFARE)


def can_view_audit(user) -> bool:
    return user.is_authenticated and user.has_perm_in_org(Perm.AUDIT_VIEW)
