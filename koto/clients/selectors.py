"""Every read of client data, already filtered to what the viewer may see.

Visibility: the organisation responsible for the client, organisations serving it under a
service agreement in force, organisations with an access grant (an accepted referral), and
a user with an open break-glass access. Anyone else gets NotFound (404).
"""

import base64
import json
import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from koto.audit.models import AuditEvent
from koto.audit.services import audit_record
from koto.clients.models import AccessGrant, BreakGlass, Client, ClientEvent, ClientName
from koto.core import clock
from koto.core.errors import NotFound
from koto.core.roles import Perm
from koto.core.text import prefix_q, search_key
from koto.organisations.selectors import purchasers_served_by


@dataclass(frozen=True)
class Reach:
    """The organisations whose clients a viewer reaches in full, plus their own org id."""

    organisation_id: int
    full_org_ids: frozenset[int]


def reach_of(user) -> Reach | None:
    m = getattr(user, "active_membership", None)
    if m is None or not m.has_perm(Perm.CLIENT_VIEW):
        return None
    cached = getattr(user, "_koto_reach", None)
    if cached is not None and cached.organisation_id == m.organisation_id:
        return cached
    served = purchasers_served_by(organisation_id=m.organisation_id, on=clock.today())
    reach = Reach(m.organisation_id, frozenset({m.organisation_id, *served}))
    user._koto_reach = reach
    return reach


def _grants(reach: Reach, scope: str | None = None):
    today = clock.today()
    qs = AccessGrant.objects.filter(
        organisation_id=reach.organisation_id, valid_from__lte=today
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
    if scope:
        qs = qs.filter(scope=scope)
    return qs


def client_list_for(*, user) -> QuerySet[Client]:
    """All clients the viewer may see (without break-glass ones, which are opened one by one)."""
    reach = reach_of(user)
    if reach is None:
        return Client.objects.none()
    granted = _grants(reach).filter(client_id=OuterRef("pk"))
    return Client.objects.filter(
        Q(responsible_organisation_id__in=reach.full_org_ids) | Exists(granted)
    )


def _access_level(user, reach: Reach, client: Client) -> str | None:
    if client.responsible_organisation_id in reach.full_org_ids:
        return "full"
    grant_scopes = set(_grants(reach).filter(client=client).values_list("scope", flat=True))
    if AccessGrant.Scope.FULL in grant_scopes:
        return "full"
    if grant_scopes:
        return "read"
    if BreakGlass.objects.filter(user=user, client=client, expires_at__gt=clock.now()).exists():
        return "read"
    return None


def client_get_for(*, user, client_id: int, purpose: str = "view", audit: bool = True) -> Client:
    """One client the viewer may see, with `access` set to "full" or "read"; the read is
    audited. Raises NotFound for a client that does not exist or that the viewer may not see."""
    reach = reach_of(user)
    if reach is None:
        raise NotFound("client")
    client = (
        Client.objects.select_related("responsible_organisation", "home_municipality", "counsellor")
        .filter(pk=client_id)
        .first()
    )
    if client is None:
        raise NotFound("client")
    access = _access_level(user, reach, client)
    if access is None:
        raise NotFound("client")
    client.access = access
    if audit:
        audit_record(
            actor=user,
            action="read",
            object_type="client",
            object_id=client.id,
            client_id=client.id,
            reason=purpose,
        )
    return client


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


def decode_cursor(cursor: str | None) -> list | None:
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        return None
    return values if isinstance(values, list) and len(values) == 2 else None


def _keyset(qs: QuerySet[Client], cursor: str | None, limit: int) -> Page:
    after = decode_cursor(cursor)
    if after is not None:
        key, pk = after
        qs = qs.filter(Q(sort_key__gt=key) | Q(sort_key=key, id__gt=pk))
    rows = list(qs.order_by("sort_key", "id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].sort_key, rows[-1].id]) if more and rows else None
    return Page(rows, nxt)


IDENTIFIER = re.compile(r"^(\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]|TMP-[A-Z0-9]+)$")


def client_search_for(
    *, user, query: str = "", cursor: str | None = None, limit: int = 25, mine: bool = False
) -> Page:
    """Search by any recorded name form (either word order, prefix), identity code or
    temporary id. Keyset-paginated by name. Audited as one read of the result list.

    A name search starts from the names of the viewer's reach (names carry the client's
    responsible organisation) and clients granted to the viewer's organisation, so its cost
    follows the matches, not the size of the registry."""
    reach = reach_of(user)
    qs = client_list_for(user=user).select_related("home_municipality", "responsible_organisation")
    if mine:
        qs = qs.filter(counsellor=user)
    raw = query.strip()
    if raw and reach is not None:
        upper = raw.upper()
        if IDENTIFIER.match(upper):
            qs = qs.filter(Q(hetu=upper) | Q(temporary_id=upper))
        else:
            key = search_key(raw)
            vendor = connection.vendor
            prefix = prefix_q("key_last_first", key, vendor=vendor) | prefix_q(
                "key_first_last", key, vendor=vendor
            )
            granted = _grants(reach).values("client_id")
            names = ClientName.objects.filter(prefix).filter(
                Q(organisation_id__in=reach.full_org_ids) | Q(client_id__in=granted)
            )
            qs = qs.filter(id__in=names.values("client_id"))
    page = _keyset(qs, cursor, limit)
    if raw or not mine:
        audit_record(
            actor=user,
            action="read",
            object_type="client_search",
            changes={"query": raw, "results": len(page.items)},
        )
    return page


def client_timeline(*, client: Client, limit: int = 100) -> list[ClientEvent]:
    return list(
        client.events.select_related("actor", "organisation").order_by("-at", "-id")[:limit]
    )


def possible_duplicates(
    *, first_name: str, last_name: str, birth_date, exclude_id: int | None = None
) -> list[Client]:
    """Clients with the same birth date and a similar name (same last name key, or the same
    first word of the first names), across the whole registry: the warning names them by id
    only when the viewer may see them."""
    last = search_key(last_name)
    first = search_key(first_name).split(" ")[0] if first_name else ""
    qs = Client.objects.filter(birth_date=birth_date).filter(
        Q(names__key_last_first__startswith=last) | Q(names__key_first_last__startswith=first)
    )
    if exclude_id:
        qs = qs.exclude(id=exclude_id)
    return list(qs.distinct()[:5])


def client_viewers(*, client_id: int, limit: int = 200):
    """Everything the audit trail holds about this client, newest first (auditor screen)."""
    return list(AuditEvent.objects.filter(client_id=client_id).order_by("-id")[:limit])


def client_by_identifier_for(*, user, identifier: str) -> Client:
    """A client the viewer may see, by identity code or temporary id (no audit: the caller
    links records, it does not show them)."""
    upper = identifier.strip().upper()
    client = client_list_for(user=user).filter(Q(hetu=upper) | Q(temporary_id=upper)).first()
    if client is None:
        raise NotFound("client")
    return client
