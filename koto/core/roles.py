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
    CLIENT_EXPORT = "client.export", _("Make a client's data-subject export")
    AUDIT_VIEW = "audit.view", _("Read the audit trail")
    ORG_ADMIN = "org.admin", _("Administer the organisation and its members")
    API_TOKENS = "org.api_tokens", _("Manage API tokens")
    API_TOKEN_APPROVE = "org.api_token_approve", _("Approve API tokens")
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
    Perm.CLIENT_EXPORT,
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
            Perm.API_TOKEN_APPROVE,
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


#: The roles an organisation of each kind may give its members (the organisation kinds of
#: `koto.organisations.models.OrganisationKind`, named here so this module stays the one
#: table of roles). Casework roles carry emergency access to any client in the country
#: (`Perm.CLIENT_BREAK_GLASS`) and the social worker's role the health and social details, so
#: they belong to the authorities with a statutory duty for the client: municipalities
#: (which since 2025 also run the employment services, and in Helsinki's case social
#: services), employment authorities and welfare regions. An NGO, a school or another body
#: gives guidance, not casework. The State's centres place and compensate; KEHA leads
#: nationally. API tokens (`Role.SYSTEM`) are made per organisation by `api_token_create`
#: where `api_tokens_allowed`, and work once a manager other than their maker approves them.
_ADMIN_ROLES = {Role.ORG_ADMIN, Role.AUDITOR, Role.MANAGER}
KIND_ROLES: dict[str, frozenset[str]] = {
    "municipality": frozenset(
        _ADMIN_ROLES
        | {
            Role.INTEGRATION_COUNSELLOR,
            Role.EMPLOYMENT_COUNSELLOR,
            Role.SOCIAL_WORKER,
            Role.GUIDANCE_ADVISER,
            Role.FINANCE_OFFICER,
        }
    ),
    "employment_authority": frozenset(
        _ADMIN_ROLES
        | {
            Role.INTEGRATION_COUNSELLOR,
            Role.EMPLOYMENT_COUNSELLOR,
            Role.GUIDANCE_ADVISER,
            Role.FINANCE_OFFICER,
        }
    ),
    "welfare_region": frozenset(
        _ADMIN_ROLES
        | {
            Role.SOCIAL_WORKER,
            Role.INTEGRATION_COUNSELLOR,
            Role.GUIDANCE_ADVISER,
            Role.FINANCE_OFFICER,
        }
    ),
    "regional_state_authority": frozenset(
        _ADMIN_ROLES | {Role.PLACEMENT_OFFICER, Role.FINANCE_OFFICER}
    ),
    "keha": frozenset(_ADMIN_ROLES | {Role.PLACEMENT_OFFICER, Role.FINANCE_OFFICER}),
    "kela": frozenset(_ADMIN_ROLES),
    "migri": frozenset(_ADMIN_ROLES),
    "ngo": frozenset(_ADMIN_ROLES | {Role.GUIDANCE_ADVISER}),
    "educational_institution": frozenset(_ADMIN_ROLES | {Role.GUIDANCE_ADVISER}),
    "other": frozenset(_ADMIN_ROLES | {Role.GUIDANCE_ADVISER}),
}


def api_tokens_allowed(kind: str) -> bool:
    """Whether an organisation of `kind` may have API tokens: a token (`Role.SYSTEM`) may
    do nothing its people may not, so only where the kind's own roles hold every right of
    the token (reading, creating and editing clients, logging guidance, enrolling: the
    authorities with casework roles). An NGO's token could otherwise edit clients."""
    held = frozenset().union(
        *(ROLE_PERMISSIONS.get(r, frozenset()) for r in KIND_ROLES.get(kind, frozenset()))
    )
    return ROLE_PERMISSIONS[Role.SYSTEM] <= held


def kinds_with(perm: str) -> frozenset[str]:
    """The organisation kinds one of whose roles holds `perm`: e.g. who can answer a
    referral (Kela, Migri and the State's centres have no role that handles referrals, so
    one sent to them would wait unanswered for ever)."""
    return frozenset(
        kind for kind, roles in KIND_ROLES.items() if any(role_has(r, perm) for r in roles)
    )


def roles_for_kind(kind: str) -> list[tuple[str, str]]:
    """The (role, label) choices an organisation of `kind` may give, in `Role`'s order."""
    allowed = KIND_ROLES.get(kind, frozenset())
    return [(value, label) for value, label in Role.choices if value in allowed]
