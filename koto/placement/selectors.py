"""Reads of placement. An agreement or a placement is seen by the regional State authority
that made it, by the municipality it concerns and by that municipality's welfare region, by
their members with a placement role; anyone else gets NotFound (404). Placements name
people, so reading one (or a list) is audited; agreements hold only numbers."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from koto.audit.services import audit_record
from koto.clients.selectors import client_get_for, client_list_for
from koto.core.errors import NotFound
from koto.core.pagination import DEFAULT_LIMIT, Page, keyset_page
from koto.placement import permissions
from koto.placement.models import (
    MinorCare,
    PlaceCategory,
    Placement,
    PlacementAgreement,
    PlacementPerson,
    PlacementStatus,
    WelfareConsultation,
)
from koto.placement.states import COMMITTED, OPEN


def _reach(user, welfare_region) -> Q | None:
    """Records the user reaches through their placement role: the authority's, the
    municipality's, and the welfare region's by `welfare_region(region_id)`; None for a
    user with no placement role."""
    q = Q(pk__in=[])
    found = False
    if (org := permissions.authority_of(user)) is not None:
        q |= permissions.authority_records(org)
        found = True
    if (org := permissions.municipality_of(user)) is not None:
        q |= Q(municipality_id=org)
        found = True
    if (org := permissions.welfare_region_of(user)) is not None:
        q |= welfare_region(org)
        found = True
    return q if found else None


def _visible(user) -> Q | None:
    """Agreements the user reaches: the authority's, the municipality's and those of the
    welfare region's municipalities (it is consulted on them; they hold numbers only)."""
    return _reach(user, lambda region: Q(municipality__welfare_region_id=region))


# What the welfare region needs a placement for: its statement before a placement with
# evident social or health needs is accepted, the housing of an unaccompanied minor and a
# request for supported housing (it arranges them), the initial health check after arrival,
# and the placements it gave a statement on. Not the other proposals, the declined ones
# (with the municipality's reasons) nor the cancelled ones.
_CLOSED_UNANSWERED = frozenset({PlacementStatus.DECLINED, PlacementStatus.CANCELLED})
WELFARE_REGION_STATUSES = frozenset(
    {PlacementStatus.SUPPORTED_HOUSING_REQUESTED, PlacementStatus.ARRIVED}
)
# Fields the welfare region is not shown (the municipality's and the authority's own
# reasons, the address the municipality reserved): blanked on what it reads.
WELFARE_REGION_HIDDEN = ("decline_reason", "cancel_reason", "housing_address")


def _welfare_region_placements(region: int) -> Q:
    gave_statement = Exists(
        WelfareConsultation.objects.filter(placement=OuterRef("pk"), welfare_region_id=region)
    )
    needs_region = (
        (Q(evident_welfare_needs=True) & Q(status__in=OPEN))
        | (Q(category=PlaceCategory.UNACCOMPANIED_MINOR) & ~Q(status__in=_CLOSED_UNANSWERED))
        | Q(status__in=WELFARE_REGION_STATUSES)
        | Q(gave_statement)
    )
    return Q(municipality__welfare_region_id=region) & needs_region


def _visible_placements(user) -> Q | None:
    """Placements the user reaches: the authority's, the municipality's, and of the welfare
    region's municipalities only those it has a task in (`_welfare_region_placements`)."""
    return _reach(user, _welfare_region_placements)


def _minimise(user, placements) -> None:
    """What the welfare region reads leaves out what it has no task with (the fields of
    `WELFARE_REGION_HIDDEN`); the authority and the municipality see everything."""
    if permissions.authority_of(user) is not None or permissions.municipality_of(user) is not None:
        return
    for placement in placements:
        for name in WELFARE_REGION_HIDDEN:
            setattr(placement, name, "")
        placement.minimised = True


# ---------------------------------------------------------------- agreements


@dataclass(frozen=True)
class Usage:
    """Places of one category: agreed, used (people arrived), committed (accepted, not yet
    arrived) and what is left."""

    category: str
    label: str
    agreed: int
    used: int
    committed: int

    @property
    def remaining(self) -> int:
        return self.agreed - self.used - self.committed

    @property
    def over(self) -> int:
        """People arrived or accepted beyond the places agreed (0: within them)."""
        return max(0, -self.remaining)


def _usage_counts(pairs: set[tuple[int, int]]) -> dict[tuple[int, int, str, str], int]:
    """People per (municipality, year, category, arrived|committed) in one query."""
    if not pairs:
        return {}
    q = Q(pk__in=[])
    for municipality_id, year in pairs:
        q |= Q(placement__municipality_id=municipality_id, placement__year=year)
    rows = (
        PlacementPerson.objects.filter(q)
        .filter(placement__status__in=[PlacementStatus.ARRIVED, *COMMITTED])
        .values(
            "placement__municipality_id",
            "placement__year",
            "placement__category",
            "placement__status",
        )
        .annotate(n=Count("id"))
    )
    out: dict[tuple[int, int, str, str], int] = defaultdict(int)
    for r in rows:
        kind = "used" if r["placement__status"] == PlacementStatus.ARRIVED else "committed"
        key = (
            r["placement__municipality_id"],
            r["placement__year"],
            r["placement__category"],
            kind,
        )
        out[key] += r["n"]
    return out


def _attach_usage(agreements: list[PlacementAgreement]) -> list[PlacementAgreement]:
    counts = _usage_counts({(a.municipality_id, a.year) for a in agreements})
    for a in agreements:
        a.usage = [
            Usage(
                category=c.value,
                label=str(c.label),
                agreed=a.places_for(c.value),
                used=counts.get((a.municipality_id, a.year, c.value, "used"), 0),
                committed=counts.get((a.municipality_id, a.year, c.value, "committed"), 0),
            )
            for c in PlaceCategory
        ]
        a.places_total = sum(u.agreed for u in a.usage)
        a.used_total = sum(u.used for u in a.usage)
        a.committed_total = sum(u.committed for u in a.usage)
    return agreements


def _agreements() -> QuerySet[PlacementAgreement]:
    return PlacementAgreement.objects.select_related(
        "municipality", "municipality__welfare_region", "authority"
    )


AGREEMENT_ORDER = ("-year", "-id")


def agreement_page_for(
    *, user, year: int | None = None, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[PlacementAgreement]:
    """Agreements the viewer may see, latest year first, keyset by (year, id), each with
    `usage` per category (two queries)."""
    q = _visible(user)
    qs = _agreements().filter(q) if q is not None else PlacementAgreement.objects.none()
    if year is not None:
        qs = qs.filter(year=year)
    page = keyset_page(qs, order=AGREEMENT_ORDER, cursor=cursor, limit=limit)
    _attach_usage(page.items)
    return page


def agreement_get_for(*, user, agreement_id: int) -> PlacementAgreement:
    q = _visible(user)
    if q is None:
        raise NotFound("placement_agreement")
    agreement = _agreements().filter(q).filter(pk=agreement_id).first()
    if agreement is None:
        raise NotFound("placement_agreement")
    _attach_usage([agreement])
    agreement.consultation_list = list(
        agreement.consultations.select_related("welfare_region", "recorded_by")
    )
    return agreement


def agreement_for_placement(placement: Placement) -> PlacementAgreement | None:
    """The agreement of the placement's municipality and year, if one exists."""
    return PlacementAgreement.objects.filter(
        municipality_id=placement.municipality_id, year=placement.year
    ).first()


def consultation_current(agreement: PlacementAgreement) -> WelfareConsultation | None:
    """The consultation recorded on the agreement's current version (after its last change)."""
    return (
        agreement.consultations.filter(agreement_version=agreement.version)
        .order_by("-recorded_at", "-id")
        .first()
    )


@dataclass(frozen=True)
class PlacesCheck:
    """A placement against the places its municipality agreed for the year and category:
    `agreed` (None without an agreement), the people `used` (arrived), `committed`
    (accepted, not yet arrived) and `proposed` (open proposals) by the other placements,
    and `this` placement's people."""

    municipality: str
    year: int
    category: str
    label: str
    agreement_status: str | None
    agreed: int | None
    used: int
    committed: int
    proposed: int
    this: int

    @property
    def over_if_accepted(self) -> int:
        """People beyond the agreement once this placement is accepted (0: within it)."""
        if self.agreed is None:
            return self.this
        return max(0, self.used + self.committed + self.this - self.agreed)

    @property
    def over_with_proposals(self) -> int:
        """People beyond the agreement were every open proposal, this one too, accepted."""
        if self.agreed is None:
            return self.this
        return max(0, self.used + self.committed + self.proposed + self.this - self.agreed)

    def warning(self, *, with_proposals: bool) -> str | None:
        """The warning to show the officer (`with_proposals`) or the municipality, or None."""
        if self.agreed is None:
            return _(
                "%(municipality)s has no placement agreement for %(year)s: the placement is "
                "beyond any places agreed."
            ) % {"municipality": self.municipality, "year": self.year}
        over = self.over_with_proposals if with_proposals else self.over_if_accepted
        if not over:
            return None
        return _(
            "Beyond the agreement by %(over)s: %(municipality)s agreed %(agreed)s places "
            "(%(category)s) for %(year)s; %(used)s people have arrived, %(committed)s are "
            "accepted, %(proposed)s are in other open proposals and this placement has %(this)s."
        ) % {
            "over": over,
            "municipality": self.municipality,
            "agreed": self.agreed,
            "category": self.label,
            "year": self.year,
            "used": self.used,
            "committed": self.committed,
            "proposed": self.proposed,
            "this": self.this,
        }


def places_check(placement: Placement) -> PlacesCheck:
    """The placement against its municipality's agreement (numbers only: not audited)."""
    agreement = agreement_for_placement(placement)
    rows = (
        PlacementPerson.objects.filter(
            placement__municipality_id=placement.municipality_id,
            placement__year=placement.year,
            placement__category=placement.category,
            placement__status__in=[PlacementStatus.ARRIVED, *OPEN],
        )
        .exclude(placement_id=placement.pk)
        .values("placement__status")
        .annotate(n=Count("id"))
    )
    by_status = {r["placement__status"]: r["n"] for r in rows}
    return PlacesCheck(
        municipality=placement.municipality.name,
        year=placement.year,
        category=placement.category,
        label=str(PlaceCategory(placement.category).label),
        agreement_status=agreement.status if agreement else None,
        agreed=agreement.places_for(placement.category) if agreement else None,
        used=by_status.get(PlacementStatus.ARRIVED, 0),
        committed=sum(by_status.get(s, 0) for s in COMMITTED),
        proposed=by_status.get(PlacementStatus.PROPOSED, 0),
        this=len(placement.persons.all()),
    )


# ---------------------------------------------------------------- placements


def _placements() -> QuerySet[Placement]:
    return Placement.objects.select_related(
        "municipality", "municipality__welfare_region", "authority"
    ).prefetch_related(Prefetch("persons", queryset=PlacementPerson.objects.order_by("id")))


PLACEMENT_ORDER = ("-id",)


def placement_page_for(
    *,
    user,
    status: str | None = None,
    year: int | None = None,
    municipality_id: int | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page[Placement]:
    """Placements the viewer may see, newest first, keyset by id, with their people (two
    queries); audited as one read (they name people)."""
    q = _visible_placements(user)
    if q is None:
        return keyset_page(Placement.objects.none(), order=PLACEMENT_ORDER, cursor=cursor)
    qs = _placements().filter(q)
    if status:
        qs = qs.filter(status=status)
    if year is not None:
        qs = qs.filter(year=year)
    if municipality_id is not None:
        qs = qs.filter(municipality_id=municipality_id)
    page = keyset_page(qs, order=PLACEMENT_ORDER, cursor=cursor, limit=limit)
    _minimise(user, page.items)
    audit_record(
        actor=user,
        action="read",
        object_type="placement_list",
        reason=f"status={status or ''}",
        changes={"ids": [p.id for p in page.items]},
        listed=[person.client_id for p in page.items for person in p.persons.all()],
    )
    return page


def placement_get_for(*, user, placement_id: int, purpose: str = "view") -> Placement:
    """One placement the viewer may see, with its consultations and health check; audited."""
    q = _visible_placements(user)
    if q is None:
        raise NotFound("placement")
    placement = _placements().filter(q).filter(pk=placement_id).first()
    if placement is None:
        raise NotFound("placement")
    placement.consultation_list = list(
        placement.consultations.select_related("welfare_region", "recorded_by")
    )
    _minimise(user, [placement])
    audit_record(
        actor=user,
        action="read",
        object_type="placement",
        object_id=placement.id,
        reason=purpose,
        # the people shown, once clients: the read is on their "who has viewed" pages too
        listed=[person.client_id for person in placement.persons.all()],
    )
    return placement


def placement_counts_by_status(*, user) -> dict[str, int]:
    q = _visible_placements(user)
    if q is None:
        return {}
    rows = Placement.objects.filter(q).values("status").annotate(n=Count("id"))
    return {r["status"]: r["n"] for r in rows}


def has_welfare_consultation(placement: Placement) -> bool:
    return placement.consultations.exists()


# ---------------------------------------------------------------- unaccompanied minors


MINOR_CARE_ORDER = ("turns_18_on", "id")


def minor_care_page_for(
    *, user, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[MinorCare]:
    """Care records of the clients the viewer may see, the soonest 18th birthday first,
    keyset by (turns_18_on, id): one query; audited as one read when the page is not empty."""
    qs = MinorCare.objects.filter(client__in=client_list_for(user=user)).select_related(
        "client", "client__responsible_organisation"
    )
    page = keyset_page(qs, order=MINOR_CARE_ORDER, cursor=cursor, limit=limit)
    if page.items:
        audit_record(
            actor=user,
            action="read",
            object_type="minor_care_list",
            listed=[c.client_id for c in page.items],
        )
    return page


def minor_care_get_for(*, user, care_id: int, purpose: str = "view") -> MinorCare:
    """One care record; the read of the client is audited by the client selector."""
    care = MinorCare.objects.filter(pk=care_id).first()
    if care is None:
        raise NotFound("minor_care")
    care.client = client_get_for(user=user, client_id=care.client_id, purpose=purpose)
    return care


def minor_care_for_client(*, client) -> MinorCare | None:
    return MinorCare.objects.filter(client=client).first()
