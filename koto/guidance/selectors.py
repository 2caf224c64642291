"""Reads of the guidance log, filtered to the viewer's organisation, and the report.

The report is computed by one function, `report_compute`, for the page, the API and the
`guidance_report` command. Counting rules (docs/guidance.md):
- `contacts` counts client contacts (anonymous and known clients), `partner_contacts`
  counts partner contacts; every contact is counted once in the totals, by channel, by
  language and by month. `minutes` are the client contacts' minutes, as `contacts` counts
  them; `partner_minutes` the partner contacts'.
- By reason, a contact with two reasons counts under each of them, so the reason rows add
  up to `reason_mentions`, not to the total of contacts.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import get_language

from koto.audit.services import audit_record
from koto.clients import codes
from koto.clients.models import Client
from koto.clients.selectors import client_list_for
from koto.core.errors import NotFound, PermissionDenied
from koto.guidance.models import (
    URA_CHANNEL,
    Channel,
    Contact,
    ContactDay,
    ContactKind,
    ContactReason,
    LanguageDay,
    PartnerType,
    ReasonCode,
    ReasonDay,
    Theme,
)
from koto.guidance.permissions import can_read_report, can_view_contacts
from koto.organisations.selectors import purchasers_served_by


def _organisation_id(user) -> int:
    m = getattr(user, "active_membership", None)
    if m is None or not can_view_contacts(user):
        raise NotFound("contact")
    return m.organisation_id


def contact_list_for(*, user) -> QuerySet[Contact]:
    """Contacts of the viewer's organisation (needs GUIDANCE_LOG or GUIDANCE_REPORT)."""
    m = getattr(user, "active_membership", None)
    if m is None or not can_view_contacts(user):
        return Contact.objects.none()
    return Contact.objects.filter(organisation_id=m.organisation_id)


def _with_reasons(contacts: list[Contact]) -> list[Contact]:
    """Attach `reason_codes` (ordered by the codes' position) in one query."""
    by_contact: dict[int, list[str]] = defaultdict(list)
    if contacts:
        rows = (
            ContactReason.objects.filter(contact_id__in=[c.id for c in contacts])
            .order_by("reason__position", "reason__code")
            .values_list("contact_id", "reason__code")
        )
        for contact_id, code in rows:
            by_contact[contact_id].append(code)
    for c in contacts:
        c.reason_codes = by_contact[c.id]
    return contacts


def _reachable_clients(user, contacts: list[Contact]) -> list[int]:
    """Mark each contact's `client_reachable`: whether the viewer may still see its client
    (a grant ends, the client moves). A contact keeps its link, but one the viewer no longer
    reaches shows as "known client" without it, and is not read (nor audited) as theirs.
    Returns the reachable clients' ids, for the audit record."""
    ids = {c.client_id for c in contacts if c.client_id}
    reachable = (
        set(client_list_for(user=user).filter(id__in=ids).values_list("id", flat=True))
        if ids
        else set()
    )
    for c in contacts:
        c.client_reachable = c.client_id in reachable
    return [c.client_id for c in contacts if c.client_reachable]


def contact_get_for(*, user, contact_id: int, purpose: str = "view") -> Contact:
    """One contact of the viewer's organisation; another organisation's answers NotFound.
    Reading a known client's contact is audited."""
    org_id = _organisation_id(user)
    contact = (
        Contact.objects.select_related("referred_to_organisation", "logged_by")
        .filter(pk=contact_id, organisation_id=org_id)
        .first()
    )
    if contact is None:
        raise NotFound("contact")
    if _reachable_clients(user, [contact]):
        audit_record(
            actor=user, action="read", object_type="guidance_contact", object_id=contact.id,
            client_id=contact.client_id, reason=purpose,
        )  # fmt: skip
    return _with_reasons([contact])[0]


@dataclass(frozen=True)
class ContactPage:
    items: list[Contact]
    next_cursor: int | None


def contact_page_for(
    *,
    user,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    cursor: int | None = None,
    limit: int = 50,
) -> ContactPage:
    """Newest first, keyset by id. Audited as one read when the page holds known clients."""
    qs = contact_list_for(user=user).select_related("referred_to_organisation")
    if date_from:
        qs = qs.filter(contacted_on__gte=date_from)
    if date_to:
        qs = qs.filter(contacted_on__lte=date_to)
    if cursor:
        qs = qs.filter(id__lt=cursor)
    rows = list(qs.order_by("-id")[: limit + 1])
    more = len(rows) > limit
    rows = _with_reasons(rows[:limit])
    known = _reachable_clients(user, rows)
    if known:
        audit_record(
            actor=user, action="read", object_type="guidance_contact_list",
            changes={"contacts": len(rows), "clients": len(set(known))}, listed=known,
        )  # fmt: skip
    return ContactPage(rows, rows[-1].id if more and rows else None)


def contacts_today_for(*, user, on: dt.date, limit: int = 20) -> list[Contact]:
    """The adviser's own contacts of the day (no names: a known client shows as a link, with
    the contact's reasons, so the list is audited as a read of those clients)."""
    qs = contact_list_for(user=user).filter(logged_by=user, contacted_on=on).order_by("-id")
    rows = _with_reasons(list(qs[:limit]))
    known = _reachable_clients(user, rows)
    if known:
        audit_record(
            actor=user, action="read", object_type="guidance_contact_list",
            changes={"contacts": len(rows), "clients": len(set(known)), "day": on.isoformat()},
            listed=known,
        )  # fmt: skip
    return rows


def contacts_today_count_for(*, user, on: dt.date) -> int:
    """How many contacts the adviser logged for the day (the list shows the latest only)."""
    return contact_list_for(user=user).filter(logged_by=user, contacted_on=on).count()


def last_used_for(*, user) -> dict:
    """The adviser's last channel and language, to preselect on the log form."""
    row = (
        Contact.objects.filter(logged_by=user).order_by("-id").values("channel", "language").first()
    )
    return row or {}


def active_reasons() -> list[ReasonCode]:
    return list(ReasonCode.objects.filter(active=True).order_by("position", "code"))


def reason_labels(language: str) -> dict[str, str]:
    """Every reason's label by code, those no longer offered too: a contact logged with a
    reason since retired still shows its name, not its code."""
    return {r.code: r.label(language) for r in ReasonCode.objects.all()}


def clients_by_identifier(*, organisation_id: int, on: dt.date, identifiers: set[str]) -> dict:
    """Clients an organisation reaches in full (its own and those it serves under an
    agreement), by identity code and temporary id: {identifier: client_id}. For imports."""
    if not identifiers:
        return {}
    orgs = {organisation_id, *purchasers_served_by(organisation_id=organisation_id, on=on)}
    rows = Client.objects.filter(responsible_organisation_id__in=orgs).filter(
        Q(hetu__in=identifiers) | Q(temporary_id__in=identifiers)
    )
    out = {}
    for cid, hetu, temp in rows.values_list("id", "hetu", "temporary_id"):
        if hetu:
            out[hetu] = cid
        if temp:
            out[temp] = cid
    return out


# ---------------------------------------------------------------------------- report


@dataclass
class Row:
    code: str
    label: str
    contacts: int = 0
    partner_contacts: int = 0
    extra: dict = field(default_factory=dict)


@dataclass
class Report:
    organisation_id: int
    date_from: dt.date
    date_to: dt.date
    contacts: int = 0
    anonymous: int = 0
    known_client: int = 0
    partner_contacts: int = 0
    reason_mentions: int = 0
    minutes: int = 0  # of client contacts, as `contacts` counts them
    partner_minutes: int = 0
    by_reason: list[Row] = field(default_factory=list)
    by_channel: list[Row] = field(default_factory=list)
    by_language: list[Row] = field(default_factory=list)
    by_month: list[Row] = field(default_factory=list)
    by_partner_type: list[Row] = field(default_factory=list)

    DIMENSIONS = ("reason", "channel", "language", "month", "partner_type")

    def as_dict(self) -> dict:
        def rows(items: list[Row]) -> list[dict]:
            out = []
            for r in items:
                d = asdict(r)
                d.update(d.pop("extra"))
                out.append(d)
            return out

        return {
            "organisation_id": self.organisation_id,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "totals": {
                "contacts": self.contacts,
                "anonymous": self.anonymous,
                "known_client": self.known_client,
                "partner_contacts": self.partner_contacts,
                "reason_mentions": self.reason_mentions,
                "minutes": self.minutes,
                "partner_minutes": self.partner_minutes,
            },
            **{f"by_{d}": rows(getattr(self, f"by_{d}")) for d in self.DIMENSIONS},
        }

    def csv_rows(self) -> list[list]:
        """One table: dimension, code, label, contacts, partner_contacts."""
        out: list[list] = [["dimension", "code", "label", "contacts", "partner_contacts"]]
        out.append(["total", "all", "", self.contacts, self.partner_contacts])
        out.append(["total", "anonymous", "", self.anonymous, 0])
        out.append(["total", "known_client", "", self.known_client, 0])
        out.append(["total", "reason_mentions", "", self.reason_mentions, 0])
        for d in self.DIMENSIONS:
            for r in getattr(self, f"by_{d}"):
                out.append([d, r.code, r.label, r.contacts, r.partner_contacts])
        return out


def report_compute(*, organisation_id: int, date_from: dt.date, date_to: dt.date) -> Report:
    """The guidance report of one organisation for a date range (both ends included).

    Counted from the day rows (`koto.guidance.summary`), never from the contacts: a year of
    Helsinki is a million contacts but some ten thousand day rows per breakdown. Four small
    GROUP BY queries: contact days by (kind, partner type, channel) and by (kind, day),
    folded into months here, language days by (kind, language), reason days by (reason,
    kind)."""
    return _report(organisation_id, date_from, date_to)


def _report(organisation_id: int, date_from: dt.date, date_to: dt.date) -> Report:
    lang = get_language()
    report = Report(organisation_id, date_from, date_to)
    days = ContactDay.objects.filter(
        organisation_id=organisation_id, day__gte=date_from, day__lte=date_to
    )
    channel: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    language: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    month: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    partner: dict[str, int] = defaultdict(int)
    by_channel = (
        days.values("kind", "partner_type", "channel")
        .annotate(
            n=Sum("contacts"),
            anon=Sum("contacts", filter=Q(anonymous=True)),
            mins=Sum("minutes"),
        )
        .order_by()
    )
    for g in by_channel:
        i = 1 if g["kind"] == ContactKind.PARTNER else 0
        n = g["n"]
        if i:
            report.partner_contacts += n
            report.partner_minutes += g["mins"] or 0
            partner[g["partner_type"]] += n
        else:
            report.contacts += n
            report.anonymous += g["anon"] or 0
            report.minutes += g["mins"] or 0
        channel[g["channel"]][i] += n
    languages = LanguageDay.objects.filter(
        organisation_id=organisation_id, day__gte=date_from, day__lte=date_to
    )
    for g in languages.values("kind", "language").annotate(n=Sum("contacts")).order_by():
        language[g["language"] or ""][1 if g["kind"] == ContactKind.PARTNER else 0] += g["n"]
    for g in days.values("kind", "day").annotate(n=Sum("contacts")).order_by():
        key = g["day"].strftime("%Y-%m")
        month[key][1 if g["kind"] == ContactKind.PARTNER else 0] += g["n"]
    report.known_client = report.contacts - report.anonymous
    labels = dict(Channel.choices)
    report.by_channel = [
        Row(c, str(labels.get(c, c)), *channel[c], extra={"ura_code": URA_CHANNEL.get(c, "")})
        for c in Channel.values
        if c in channel
    ]
    language_names = dict(codes.language_choices())  # cached per UI language
    report.by_language = [
        Row(code, language_names.get(code, code) if code else "–", a, b)
        for code, (a, b) in sorted(language.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    ]
    report.by_month = [Row(m, m, a, b) for m, (a, b) in sorted(month.items())]
    ptypes = dict(PartnerType.choices)
    report.by_partner_type = [
        Row(p, str(ptypes[p]), 0, partner[p]) for p in PartnerType.values if p in partner
    ]
    reason_counts = (
        ReasonDay.objects.filter(
            organisation_id=organisation_id, day__gte=date_from, day__lte=date_to
        )
        .values("reason_id", "kind")
        .annotate(n=Sum("contacts"))
        .order_by()
    )
    per_reason: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for r in reason_counts:
        per_reason[r["reason_id"]][1 if r["kind"] == ContactKind.PARTNER else 0] += r["n"]
    reasons = ReasonCode.objects.filter(Q(active=True) | Q(id__in=list(per_reason)))
    themes = dict(Theme.choices)
    report.by_reason = [
        Row(
            r.code,
            r.label(lang),
            *per_reason.get(r.id, [0, 0]),
            extra={"theme": r.theme, "theme_label": str(themes.get(r.theme, r.theme))},
        )
        for r in reasons.order_by("position", "code")
    ]
    report.reason_mentions = sum(a for a, _ in per_reason.values())
    return report


def report_for(*, user, date_from: dt.date, date_to: dt.date) -> Report:
    """The report of the viewer's organisation; needs GUIDANCE_REPORT there."""
    m = getattr(user, "active_membership", None)
    if m is None:
        raise NotFound("report")
    if not can_read_report(user):
        raise PermissionDenied()
    return report_compute(organisation_id=m.organisation_id, date_from=date_from, date_to=date_to)
