"""Who may do what in the guidance log (visibility itself is in selectors: a contact of
another organisation answers 404)."""

from koto.core.roles import Perm


def can_log_contacts(user) -> bool:
    return user.is_authenticated and user.has_perm_in_org(Perm.GUIDANCE_LOG)


def can_read_report(user) -> bool:
    return user.is_authenticated and user.has_perm_in_org(Perm.GUIDANCE_REPORT)


def can_view_contacts(user) -> bool:
    return can_log_contacts(user) or can_read_report(user)


def can_manage_reasons(user) -> bool:
    return user.is_authenticated and user.has_perm_in_org(Perm.GUIDANCE_ADMIN)
