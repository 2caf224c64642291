"""Every read of client data, already filtered to what the viewer may see.

Visibility: the organisation responsible for the client, organisations serving it under a
service agreement in force, organisations with an access grant (an accepted referral), and
a user with an open break-glass access. Anyone else gets NotFound (404).
"""

import base64
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.utils.translation import gettext

from koto.accounts.models import Membership, User
from koto.audit.models import AuditEvent, AuditListedClient
from koto.audit.services import audit_record
from koto.clients.models import (
    AccessGrant,
    BreakGlass,
    Client,
    ClientEvent,
    ClientName,
    Meeting,
    ResponsibilityChange,
)
from koto.clients.permissions import can_view_audit
from koto.core import clock, pagination
from koto.core.errors import NotFound, ValidationFailed
from koto.core.roles import Perm, Role, role_has
from koto.core.text import normalise_identity_code, prefix_q, prefix_range_q, search_key
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
    today = clock.today()
    if getattr(m, "served_on", None) == today:  # read with the membership (accounts.selectors)
        served = m.served_purchasers
    else:
        served = purchasers_served_by(organisation_id=m.organisation_id, on=today)
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


def set_access_of_listed(*, user, clients) -> None:
    """Set `access` ("full" or "read", as `client_get_for` does) on clients a list read
    through `client_list_for`: the reach's own are "full" as they are, the others by their
    grants, in one query."""
    reach = reach_of(user)
    if reach is None:
        return
    others = {c.id for c in clients if c.responsible_organisation_id not in reach.full_org_ids}
    full = set(
        _grants(reach, AccessGrant.Scope.FULL)
        .filter(client_id__in=others)
        .values_list("client_id", flat=True)
    ) if others else set()  # fmt: skip
    for c in clients:
        c.access = "read" if c.id in others and c.id not in full else "full"


def _access_level(user, reach: Reach, client: Client) -> tuple[str | None, int | None]:
    """("full" or "read" or None, the emergency access it came from, if it did)."""
    if client.responsible_organisation_id in reach.full_org_ids:
        return "full", None
    grants = set(_grants(reach).filter(client=client).values_list("scope", "source", "source_id"))
    if any(scope == AccessGrant.Scope.FULL for scope, _source, _id in grants):
        return "full", None
    if grants:
        # the organisation the client was transferred from still answers for its records
        # (the data-subject export): a producer of it, which holds the same grant, does not
        transfers = [int(i) for scope, source, i in grants if source == "transfer" and i.isdigit()]
        client.former_holder = bool(transfers) and (
            ResponsibilityChange.objects.filter(
                client_id=client.id, source_type="referral", source_id__in=transfers,
                from_organisation_id=reach.organisation_id,
            ).exists()
        )  # fmt: skip
        return "read", None
    # emergency access opened through this organisation, still held with the right to it:
    # not usable from the user's other memberships, nor once the role that opened it ended
    m = getattr(user, "active_membership", None)
    if m is None or not m.has_perm(Perm.CLIENT_BREAK_GLASS):
        return None, None
    glass = (
        BreakGlass.objects.filter(
            user=user,
            organisation_id=reach.organisation_id,
            client=client,
            expires_at__gt=clock.now(),
        )
        .order_by("-expires_at")
        .values_list("id", flat=True)
        .first()
    )
    if glass is not None:
        return "read", glass
    return None, None


def organisation_keeps_record(*, organisation_id: int, client: Client) -> bool:
    """Whether the organisation keeps the client's record now (is responsible for them,
    serves the responsible one under a service agreement, or holds a full grant): what may
    pass access to the record on. Not audited: a check before a write, not a read."""
    today = clock.today()
    if client.responsible_organisation_id in {
        organisation_id,
        *purchasers_served_by(organisation_id=organisation_id, on=today),
    }:
        return True
    reach = Reach(organisation_id, frozenset({organisation_id}))
    return _grants(reach, AccessGrant.Scope.FULL).filter(client=client).exists()


Period = tuple[dt.datetime | None, dt.datetime | None, int]


def responsibility_history(client: Client) -> list[Period]:
    """Whose client the client was when, from the registry's history of the responsible
    organisation (`ResponsibilityChange`): periods `(after, until, organisation id)` in
    order, covering all time, each holding what was made after `after` and up to `until`
    (None: open-ended). A change at the very instant a record was made came after it (the
    sender's record), as in the Koto-AJ export. A client never transferred was their
    responsible organisation's all along. Not audited: it says whose the client's records
    are, not what they hold."""
    changes = list(
        ResponsibilityChange.objects.filter(client_id=client.id)
        .order_by("at", "id")
        .values_list("at", "from_organisation_id", "to_organisation_id")
    )
    if not changes:
        return [(None, None, client.responsible_organisation_id)]
    periods: list[Period] = []
    start: dt.datetime | None = None
    held = changes[0][1]  # the first holder's from the start
    for at, _from, to in changes:
        periods.append((start, at, held))
        held, start = to, at
    periods.append((start, None, held))
    return periods


def responsibility_changes(client: Client) -> list[ResponsibilityChange]:
    """The client's changes of responsible organisation, oldest first, with the
    organisations: for the client page (the client's read is audited there)."""
    _require_read(client)
    return list(
        ResponsibilityChange.objects.filter(client_id=client.id)
        .select_related("from_organisation", "to_organisation")
        .order_by("at", "id")
    )


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
    access, glass = _access_level(user, reach, client)
    if access is None:
        raise NotFound("client")
    client.access = access
    client.break_glass_id = glass
    if audit:
        audit_record(
            actor=user,
            action="read",
            object_type="client",
            object_id=client.id,
            client_id=client.id,
            reason=read_reason(client, purpose),
        )
    return client


def read_reason(client: Client, purpose: str) -> str:
    """The audit reason of a read of (a record of) `client` as `client_get_for` answered it:
    a read through emergency access says so, for each is reviewed (docs/access-and-audit.md)."""
    glass = getattr(client, "break_glass_id", None)
    return purpose if glass is None else f"{purpose} (break_glass:{glass})"


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


# the largest id a cursor may carry (PostgreSQL's bigint)
_MAX_ID = 2**63 - 1


def decode_cursor(cursor: str | None) -> list | None:
    """A search page's cursor: [name key, client id], as `encode_cursor` wrote it. One that
    cannot be read raises `ValidationFailed` naming `cursor` (422 in the API; the pages show
    the first page, `page_at`)."""
    if not cursor:
        return None
    try:
        if len(cursor) > pagination.MAX_CURSOR_LENGTH:
            raise ValueError("cursor too long")
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(values, list) and values and isinstance(values[0], str):
            values[0].encode("utf-8")  # a lone surrogate: the database cannot take it
            if "\x00" in values[0]:
                raise ValueError("NUL")
    except (ValueError, RecursionError):
        values = None
    if not (
        isinstance(values, list)
        and len(values) == 2
        and isinstance(values[0], str)
        and type(values[1]) is int
        and 0 < values[1] <= _MAX_ID
    ):
        raise ValidationFailed(
            {"cursor": gettext("Invalid cursor: use the next_cursor of the previous page.")}
        )
    return values


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


# The century signs of an identity code (1800s, 1900s, 2000s), for a code typed without one.
CENTURY_SIGNS = "+-UVWXYABCDEF"
UNSIGNED = re.compile(r"^\d{9}[0-9A-Y]$")


def identity_code_forms(query: str) -> list[str]:
    """The identity codes (or temporary id) a query may mean, as typed or pasted: any dash
    a hyphen, spaces dropped ("240892–005U"); without a century sign ("240892 005U",
    "240892005U"), each sign (the check character does not depend on it). Empty for a
    query that is no code."""
    code = normalise_identity_code(query)
    if IDENTIFIER.match(code):
        return [code]
    if UNSIGNED.match(code):
        return [code[:6] + sign + code[6:] for sign in CENTURY_SIGNS]
    return []


# An identity code anywhere in a query, however typed: any dash, spaces, a missing sign.
HETU_ANYWHERE = re.compile(
    r"(\d{6})\s*([-+A-FU-Y\u2010-\u2014\u2212]?)\s*\d{3}\s*[0-9A-Y]", re.IGNORECASE
)


def _query_for_audit(raw: str) -> str:
    """A search as the audit trail keeps it: an identity code with its individual part
    masked ("170590-****"), as an update's audit masks it, wherever it is in the query and
    however it is typed ("hetu 170590–123A", an en dash, was kept in clear). The
    hash-chained trail cannot be edited later, and the code was kept in clear even when
    nothing matched; the results it found are named in the event anyway."""
    return HETU_ANYWHERE.sub(lambda m: f"{m[1]}{m[2].upper()}****", raw)


NAME_FIELDS = ("key_last_first", "key_first_last")


def _name_rows(
    reach: Reach, key: str, after: list | None, n: int
) -> tuple[list[tuple[str, int]], bool]:
    """The (matching name key, client id) pairs after `after` in key order, read up to `n`
    per branch, and whether that is all of them. Per name field one branch for the
    organisations of the reach (an index range on `(organisation, key, client)`: read in
    order for one organisation, so the LIMIT reads n entries; for several, PostgreSQL reads
    each one's range and keeps the first n, 6 ms for "a" over Lahti's ten) and one for the
    clients granted to the viewer's organisation, never an OR that hides the index. Where a
    branch was cut at n, the merged list is cut at that branch's last pair, so nothing
    before it is skipped; at most the first n merged pairs are returned.

    The reach's branches are read first (on PostgreSQL one UNION ALL of the two): where one
    is cut, nothing after its last key can be kept, so the granted branches read only up to
    it, each name probing the viewer's grants by client (`_granted`). Without that bound
    they read the prefix nationwide: Helsinki, with 13 774 grants, spent 25 ms of each
    search for "far" hashing its grants against 12 329 names; bounded, 1 279 names and
    1 ms (docs/performance.md)."""
    orgs = sorted(reach.full_org_ids)
    own: list[QuerySet] = []
    for field in NAME_FIELDS:
        names = _after(ClientName.objects.filter(prefix_range_q(field, key)), field, after)
        own.append(
            names.filter(organisation_id=orgs[0])
            if len(orgs) == 1
            else names.filter(organisation_id__in=orgs)
        )
    parts = _branches(own, n)
    full = [max(part) for part in parts if len(part) == n]
    bound = min(full)[0] if full else None
    granted = []
    for field in NAME_FIELDS:
        names = _after(ClientName.objects.filter(prefix_range_q(field, key)), field, after)
        if bound is not None:
            names = names.filter(**{f"{field}__lte": bound})
        granted.append(_granted(names, reach, n, bounded=bound is not None))
    parts += _branches(granted, n)
    rows: set[tuple[str, int]] = set()
    cut: tuple[str, int] | None = None
    for part in parts:
        rows.update(part)
        if len(part) == n and (cut is None or max(part) < cut):
            cut = max(part)
    merged = sorted(rows)
    if cut is not None:
        merged = [row for row in merged if row <= cut]
    if len(merged) > n:  # many branches: the first n are enough for this round
        return merged[:n], False
    return merged, cut is None


def _after(names: QuerySet, field: str, after: list | None) -> QuerySet:
    """The names after the keyset position `after` = (key, client id) in `field`'s order."""
    if after is None:
        return names
    k, pk = after
    return names.filter(**{f"{field}__gte": k}).filter(
        Q(**{f"{field}__gt": k}) | Q(**{field: k, "client_id__gt": pk})
    )


def _branches(branches: list[QuerySet], n: int) -> list[list[tuple[str, int]]]:
    """Each branch (one per name field, in NAME_FIELDS' order) ordered by its key and cut at
    n: on PostgreSQL in one round trip, a UNION ALL of the ordered, limited branches."""
    queries = [
        b.annotate(branch=Value(i)).order_by(NAME_FIELDS[i], "client_id")
        .values_list(NAME_FIELDS[i], "client_id", "branch")[:n]
        for i, b in enumerate(branches)
    ]  # fmt: skip
    if connection.features.supports_slicing_ordering_in_compound:
        got = list(queries[0].union(*queries[1:], all=True))
    else:
        got = [row for q in queries for row in q]
    parts: list[list[tuple[str, int]]] = [[] for _ in branches]
    for k, cid, i in got:
        parts[i].append((k, cid))
    return parts


class _Probe(Exists):
    """EXISTS that PostgreSQL evaluates row by row, in the outer query's order: an OFFSET
    (Django's own EXISTS carries `LIMIT 1`) keeps the planner from turning it into a join."""

    template = "EXISTS(%(subquery)s OFFSET 0)"


def _granted(names: QuerySet, reach: Reach, n: int, *, bounded: bool) -> QuerySet:
    """The names of clients granted to the viewer's organisation. As a semi-join the planner
    starts from the grants (few, for most organisations) or hashes them all; for a city with
    many, that is most of the search (Helsinki: 13 774 grants, 25 ms). When the range of
    names is bounded (`bounded`) and the grants outnumber the names it holds, each name in
    it probes its grant instead, in name order until the LIMIT is met (`_Probe`: 1 ms).
    SQLite: always the semi-join (its data sets are small)."""
    grants = _grants(reach)
    if bounded and connection.vendor == "postgresql" and _probe_pays(reach, n):
        return names.filter(_Probe(grants.filter(client_id=OuterRef("client_id"))))
    return names.filter(client_id__in=grants.values("client_id"))


SEARCH_SHAPE_SECONDS = 600


def _probe_pays(reach: Reach, n: int) -> bool:
    """Whether probing beats the join: a bounded range holds about n × (names nationwide /
    names of the reach) names, the join reads the organisation's grants. The counts only
    choose a plan, so they are the planner's estimates (EXPLAIN; at national scale
    Helsinki's 287 750 names were estimated at 285 203 and its 13 741 grants in force at
    13 165, the two estimates took 2-6 ms where the two counts took 560 ms cold, and eight
    cities got the same choice either way), kept for ten minutes (per process)."""
    reached = hashlib.sha1(",".join(map(str, sorted(reach.full_org_ids))).encode()).hexdigest()
    key = f"koto:search-shape:{reach.organisation_id}:{reached[:16]}"
    shape = cache.get(key)
    if shape is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                [ClientName._meta.db_table],
            )
            row = cursor.fetchone()
        shape = (
            _estimated_rows(_grants(reach)),
            _estimated_rows(ClientName.objects.filter(organisation_id__in=reach.full_org_ids)),
            max(row[0] if row else 0, 0),
        )
        cache.set(key, shape, SEARCH_SHAPE_SECONDS)
    grants, own, total = shape
    return grants * own > n * total


def _estimated_rows(rows: QuerySet) -> float:
    """The planner's estimate of how many rows `rows` holds (PostgreSQL)."""
    plan = json.loads(rows.values("pk").explain(format="json"))
    plan = plan[0] if isinstance(plan, list) else plan  # PostgreSQL's list of one plan
    return float(plan["Plan"]["Plan Rows"])


def _first_match(client_ids: set[int], key: str) -> dict[int, tuple[str, int]]:
    """Each client's smallest matching (name key, client id): a client whose names match
    more than once is listed once, at that position, on every page. Reads all the names of
    these clients (a client has one or two) by client and matches them here: with the
    prefix in the SQL the planner read the prefix's names nationwide (4 804 for "rania al",
    2 303 heap blocks, 100 ms cold) to keep the page's 104."""
    first: dict[int, tuple[str, int]] = {}
    rows = ClientName.objects.filter(client_id__in=client_ids)
    for cid, *keys in rows.values_list("client_id", *NAME_FIELDS):
        for k in keys:
            if k.startswith(key) and (cid not in first or (k, cid) < first[cid]):
                first[cid] = (k, cid)
    return first


def _name_search(user, reach: Reach, key: str, cursor: str | None, limit: int) -> Page:
    """A name search paged in the order of the matching name key (keyset on it), so its cost
    follows the page, not the number of matches or the size of the registry."""
    after = decode_cursor(cursor)
    visible = client_list_for(user=user).select_related(
        "home_municipality", "responsible_organisation"
    )
    batch = 2 * (limit + 1)
    found: list[tuple[tuple[str, int], Client]] = []
    while len(found) <= limit:
        rows, complete = _name_rows(reach, key, after, batch)
        if rows:
            first = _first_match({cid for _k, cid in rows}, key)
            canonical = [row for row in rows if first.get(row[1]) == row]
            clients = visible.in_bulk([cid for _k, cid in canonical])
            found += [(row, clients[row[1]]) for row in canonical if row[1] in clients]
        if complete or not rows:
            break
        after = list(rows[-1])
    more = len(found) > limit
    found = found[:limit]
    nxt = encode_cursor(list(found[-1][0])) if more and found else None
    return Page([c for _row, c in found], nxt)


def client_search_for(
    *, user, query: str = "", cursor: str | None = None, limit: int = 25, mine: bool = False
) -> Page:
    """Search by any recorded name form (either word order, prefix), identity code or
    temporary id. Keyset-paginated: a name search by the matching name key, other lists by
    name. Audited as one read of the result list.

    A name search starts from the names of the viewer's reach (names carry the client's
    responsible organisation) and clients granted to the viewer's organisation, so its cost
    follows the page, not the size of the registry; `mine` (the counsellor's own clients,
    a short list) filters those clients by the matching names instead."""
    reach = reach_of(user)
    qs = client_list_for(user=user).select_related("home_municipality", "responsible_organisation")
    if mine:
        qs = qs.filter(counsellor=user)
    raw = query.strip()
    upper = raw.upper()
    codes = identity_code_forms(raw)
    if codes:
        upper = codes[0]
    if raw and reach is not None and not IDENTIFIER.match(upper) and not mine:
        page = _name_search(user, reach, search_key(raw), cursor, limit)
    else:
        if raw and reach is not None:
            if IDENTIFIER.match(upper):
                qs = qs.filter(Q(hetu__in=codes or [upper]) | Q(temporary_id=upper))
            else:
                key = search_key(raw)
                vendor = connection.vendor
                prefix = prefix_q(NAME_FIELDS[0], key, vendor=vendor) | prefix_q(
                    NAME_FIELDS[1], key, vendor=vendor
                )
                qs = qs.filter(id__in=ClientName.objects.filter(prefix).values("client_id"))
        page = _keyset(qs, cursor, limit)
    changes = {"query": _query_for_audit(raw), "results": len(page.items)}
    if mine:
        changes["mine"] = True
    audit_record(
        actor=user,
        action="read",
        object_type="client_search" if raw else "client_list",
        changes=changes,
        listed=[c.id for c in page.items],
    )
    return page


def _require_read(client: Client) -> None:
    """A client not read through `client_get_for` (which sets `access`) is refused: the
    selectors below trust that read for visibility and audit."""
    if getattr(client, "access", None) not in ("full", "read"):
        raise NotFound("client")


TIMELINE_ORDER = ("-at", "-id")
MEETING_ORDER = ("-held_on", "-id")


def client_timeline_page(
    *, client: Client, cursor: str | None = None, limit: int = 100
) -> pagination.Page[ClientEvent]:
    """The client's timeline, newest first, a page at a time (keyset by `(at, id)` on the
    index `(client, -at)`). `client` as `client_get_for` answered it: that checked that the
    viewer may see it and audited the read."""
    _require_read(client)
    qs = client.events.select_related("actor", "organisation")
    return pagination.keyset_page(qs, order=TIMELINE_ORDER, cursor=cursor, limit=limit)


def client_meeting_page(
    *, client: Client, cursor: str | None = None, limit: int = 50
) -> pagination.Page[Meeting]:
    """The client's meetings, latest first, a page at a time (keyset by `(held_on, id)` on
    the index `(client, -held_on)`); `client` as `client_get_for` answered it, as above."""
    _require_read(client)
    qs = client.meetings.select_related("organisation", "counsellor")
    return pagination.keyset_page(qs, order=MEETING_ORDER, cursor=cursor, limit=limit)


def family_of(*, user, client: Client) -> list:
    """The client's family links, each with `relative_visible`: whether the viewer may see
    the relative (named and linked only then; a relative another organisation recorded is
    shown as a family member without a name)."""
    links = list(client.family_links.select_related("relative"))
    visible = set(
        client_list_for(user=user)
        .filter(id__in=[f.relative_id for f in links])
        .values_list("id", flat=True)
    )
    for f in links:
        f.relative_visible = f.relative_id in visible
    if visible:
        # the relatives are named on the page: a read of them, as a list names its clients
        audit_record(
            actor=user, action="read", object_type="family", object_id=client.id,
            client_id=client.id, listed=sorted(visible),
        )  # fmt: skip
    return links


def possible_duplicates(
    *, user, first_name: str, last_name: str, birth_date, exclude_id: int | None = None
) -> list[Client]:
    """Clients the viewer may see with the same birth date and a similar name (same last
    name key, or the same first word of the first names, in either order: "Ali Hassan"
    recorded as "Hassan Ali" is the commonest slip with names of other traditions, and went
    unwarned). Not those of other organisations:
    naming them (or telling that they exist) would let anyone who may create a client list
    the registry by birth date and initial."""
    last = search_key(last_name)
    first = search_key(first_name).split(" ")[0] if first_name else ""
    qs = (
        client_list_for(user=user)
        .filter(birth_date=birth_date)
        .filter(
            Q(names__key_last_first__startswith=last)
            | Q(names__key_first_last__startswith=first)
            | Q(names__key_first_last__startswith=last)
            | Q(names__key_last_first__startswith=first)
        )
    )
    if exclude_id:
        qs = qs.exclude(id=exclude_id)
    return list(qs.distinct()[:5])


AUDIT_TRAIL_ORDER = ("-id",)


def client_audit_page(
    *, user, client_id: int, cursor: str | None = None, limit: int = 100
) -> pagination.Page[AuditEvent]:
    """Everything the audit trail holds about this client, newest first, a page at a time
    (keyset by id on the index `(client_id, -id)`): the auditor's screen reaches every event,
    also the lists that showed the client's name (a search's results, a work list: by the
    index `AuditListedClient`). Only for a viewer with the audit permission (`NotFound`
    otherwise)."""
    if not can_view_audit(user):
        raise NotFound("client")
    # Two index ranges merged here, newest first: one query with `client_id = x OR id IN
    # (listed)` could use neither index and would walk the whole trail backwards.
    limit = max(1, min(limit, pagination.MAX_LIMIT))
    direct = AuditEvent.objects.filter(client_id=client_id)
    listed = AuditListedClient.objects.filter(client_id=client_id)
    if cursor:
        (before,) = pagination.decode_cursor(cursor, [AuditEvent._meta.pk])
        direct, listed = direct.filter(id__lt=before), listed.filter(event_id__lt=before)
    ids = {*direct.order_by("-id").values_list("id", flat=True)[: limit + 1]}
    ids |= {*listed.order_by("-event_id").values_list("event_id", flat=True)[: limit + 1]}
    top = sorted(ids, reverse=True)[: limit + 1]
    rows = list(AuditEvent.objects.filter(id__in=top).order_by(*AUDIT_TRAIL_ORDER))
    more = len(rows) > limit
    rows = rows[:limit]
    return pagination.Page(rows, str(rows[-1].id) if more else None)


def client_by_identifier_for(*, user, identifier: str) -> Client:
    """A client the viewer may see, by identity code or temporary id, with `access` set as
    `client_get_for` sets it (no audit: the caller links records, it does not show them)."""
    upper = normalise_identity_code(identifier)
    client = client_list_for(user=user).filter(Q(hetu=upper) | Q(temporary_id=upper)).first()
    if client is None:
        raise NotFound("client")
    set_access_of_listed(user=user, clients=[client])
    return client


def counsellor_candidates(*, organisation_id: int) -> list:
    """The people of an organisation who may be a client's counsellor: active members
    (not API tokens) whose role edits clients, by name."""
    roles = [r for r in Role.values if r != Role.SYSTEM and role_has(r, Perm.CLIENT_EDIT)]
    ids = Membership.objects.filter(
        organisation_id=organisation_id, role__in=roles, is_active=True,
        user__is_active=True, user__is_system=False,
    ).values("user_id")  # fmt: skip
    return list(User.objects.filter(id__in=ids).order_by("last_name", "first_name", "id"))
