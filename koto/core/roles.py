"""Roles and what each may do: the one table that maps roles to permissions.

Permission checks elsewhere ask `role_has(role, Perm.X)`; nothing else lists roles.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    INTEGRATION_COUNSELLOR = "integration_counsellor", _("Integration counsellor")
    EMPLOYMENT_COUNSELLOR = "employment_counsellor", _("Employment counsellor")
    SOCIAL_WORKER = "social_worker", _("Welfare-region social worker")
    GUIDANCE_ADVISER = "guidance_adviser", _("Guidance adviser")
    MANAGER = "manager", _("Manager")
    FINANCE_OFFICER = "finance_officer", _("Finance officer")
    PLACEMENT_OFFICER = "placement_officer", _("ELY placement officer")
    ORG_ADMIN = "org_admin", _("Organisation administrator")
    AUDITOR = "auditor", _("Auditor (read-only)")
    SYSTEM = "system", _("System integration (API token)")


class Perm(models.TextChoices):
    CLIENT_VIEW = "client.view", _("View clients")
    CLIENT_CREATE = "client.create", _("Create clients")
    CLIENT_EDIT = "client.edit", _("Edit clients")
    CLIENT_VIEW_WELFARE = "client.view_welfare", _("Read health and social details")
    CLIENT_BREAK_GLASS = "client.break_glass", _("Emergency access to a client")
    CLIENT_IMPORT = "client.import", _("Import clients")
    AUDIT_VIEW = "audit.view", _("Read the audit trail")
    ORG_ADMIN = "org.admin", _("Administer the organisation and its members")
    API_TOKENS = "org.api_tokens", _("Manage API tokens")
    LAW_VIEW = "law.view", _("See what the law says for a client")
    INSIGHTS_VIEW = "insights.view", _("Read dashboards")
    FUNDING_MANAGE = "funding.manage", _("Manage State compensation")
    PLACEMENT_MANAGE = "placement.manage", _("Manage municipal placement")
    GUIDANCE_LOG = "guidance.log", _("Log guidance contacts")
    GUIDANCE_REPORT = "guidance.report", _("Read guidance reports")
    GUIDANCE_ADMIN = "guidance.admin", _("Manage guidance reason codes")
    REFERRAL_MANAGE = "referral.manage", _("Send and handle referrals")
    OFFERINGS_MANAGE = "offerings.manage", _("Manage the service catalogue")
    ENROL = "offerings.enrol", _("Enrol clients in services")
    PLACEMENT_RESPOND = "placement.respond", _("Answer placement proposals for the municipality")
    PLACEMENT_CONSULT = "placement.consult", _("Give the welfare region's statement on placement")
    FUNDING_DECIDE = "funding.decide", _("Decide actual-cost claims (ELY / vitality centre)")


_CASEWORK = {
    Perm.CLIENT_VIEW,
    Perm.CLIENT_CREATE,
    Perm.CLIENT_EDIT,
    Perm.CLIENT_BREAK_GLASS,
    Perm.LAW_VIEW,
    Perm.GUIDANCE_LOG,
    Perm.REFERRAL_MANAGE,
    Perm.ENROL,
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.INTEGRATION_COUNSELLOR: frozenset(
        _CASEWORK | {Perm.CLIENT_IMPORT, Perm.PLACEMENT_RESPOND}
    ),
    Role.EMPLOYMENT_COUNSELLOR: frozenset(_CASEWORK),
    Role.SOCIAL_WORKER: frozenset(_CASEWORK | {Perm.CLIENT_VIEW_WELFARE, Perm.PLACEMENT_CONSULT}),
    Role.GUIDANCE_ADVISER: frozenset(
        {
            Perm.CLIENT_VIEW,
            Perm.CLIENT_CREATE,
            Perm.LAW_VIEW,
            Perm.GUIDANCE_LOG,
            Perm.GUIDANCE_REPORT,
            Perm.REFERRAL_MANAGE,
        }
    ),
    Role.MANAGER: frozenset(
        {
            Perm.CLIENT_VIEW,
            Perm.LAW_VIEW,
            Perm.INSIGHTS_VIEW,
            Perm.GUIDANCE_REPORT,
            Perm.OFFERINGS_MANAGE,
            Perm.PLACEMENT_RESPOND,
            Perm.FUNDING_MANAGE,
        }
    ),
    Role.FINANCE_OFFICER: frozenset({Perm.CLIENT_VIEW, Perm.LAW_VIEW, Perm.FUNDING_MANAGE}),
    Role.PLACEMENT_OFFICER: frozenset(
        {
            Perm.CLIENT_VIEW,
            Perm.LAW_VIEW,
            Perm.PLACEMENT_MANAGE,
            Perm.FUNDING_DECIDE,
            Perm.INSIGHTS_VIEW,
        }
    ),
    Role.ORG_ADMIN: frozenset(
        {
            Perm.ORG_ADMIN,
            Perm.API_TOKENS,
            Perm.CLIENT_IMPORT,
            Perm.GUIDANCE_ADMIN,
            Perm.OFFERINGS_MANAGE,
        }
    ),
    Role.AUDITOR: frozenset({Perm.CLIENT_VIEW, Perm.AUDIT_VIEW, Perm.LAW_VIEW}),
    Role.SYSTEM: frozenset(
        {
            Perm.CLIENT_VIEW,
            Perm.CLIENT_CREATE,
            Perm.CLIENT_EDIT,
            Perm.LAW_VIEW,
            Perm.GUIDANCE_LOG,
            Perm.ENROL,
        }
    ),
}


def role_has(role: str | None, perm: str) -> bool:
    return role is not None and perm in ROLE_PERMISSIONS.get(role, frozenset())
