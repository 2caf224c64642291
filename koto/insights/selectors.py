"""Reads of the dashboards and the impact evaluation, already limited to what the viewer
may see: which scopes (their own organisation; their welfare region or employment area;
the whole country for ELY / vitality-centre and KEHA staff) and, outside their own
organisation, counts below five shown as "<5" (`docs/insights.md`).

Every figure comes from the rollups (`Cell`, `ImpactCell`): one or two indexed queries per
page whatever the size of the registry."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace

from django.core.cache import cache
from django.db.models import Sum
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from koto.core import clock
from koto.core.errors import NotFound, PermissionDenied
from koto.core.roles import Perm
from koto.core.text import as_id
from koto.insights.dimensions import add_months, month_range, quarter_of
from koto.insights.models import (
    FULL_OVERDUE,
    MONEY,
    PERSONS,
    PERSONS_REGION,
    REGULAR_OVERDUE,
    STALE_RUN,
    Cell,
    ImpactCell,
    Metric,
    RefreshState,
    refresh_session_alive,
)
from koto.insights.statistics import kaplan_meier, survival_at, wilson_interval
from koto.organisations.models import (
    NATIONAL_KINDS,
    EmploymentArea,
    Organisation,
    OrganisationKind,
)
from koto.organisations.reference import single_municipality_region_names
from koto.organisations.selectors import organisation_names

SUPPRESS_BELOW = 5
FOLLOW_UP_MONTHS = (6, 12, 24)
# Amounts that are not counts of people (euros, hours): never suppressed.
NOT_PERSONS = MONEY | {Metric.ATTENDANCE_HOURS}


# ---------------------------------------------------------------- scopes


@dataclass(frozen=True)
class Scope:
    code: str  # "org:12", "region:5", "area:3", "national"
    label: str
    level: str  # organisation / region / area / national
    own: bool  # the viewer's own organisation: nothing suppressed


def can_view_insights(user) -> bool:
    return user.is_authenticated and user.has_perm_in_org(Perm.INSIGHTS_VIEW)


def _own_org(user) -> Organisation:
    m = user.active_membership
    return m.organisation


def scopes_for(*, user) -> list[Scope]:
    """The scopes this viewer may open, their own organisation first. Kept on the request's
    user for its membership and language: a dashboard page asks twice (the figures' scope,
    then the filter's options)."""
    if not can_view_insights(user):
        raise PermissionDenied
    key = (user.active_membership.id, get_language())
    kept = getattr(user, "_insights_scopes", None)
    if kept is not None and kept[0] == key:
        return list(kept[1])
    scopes = _scopes_for(user)
    user._insights_scopes = (key, tuple(scopes))
    return scopes


def _scopes_for(user) -> list[Scope]:
    org = _own_org(user)
    scopes = [Scope(f"org:{org.id}", org.name, "organisation", True)]
    region_id = org.id if org.kind == OrganisationKind.WELFARE_REGION else org.welfare_region_id
    if region_id is not None and org.kind != OrganisationKind.WELFARE_REGION:
        region = Organisation.objects.filter(id=region_id).first()
        if region is not None:
            scopes.append(Scope(f"region:{region.id}", _region_label(region), "region", False))
    elif org.kind == OrganisationKind.WELFARE_REGION:
        scopes.append(Scope(f"region:{org.id}", _region_label(org), "region", False))
    areas = EmploymentArea.objects.select_related("authority")
    if org.kind == OrganisationKind.EMPLOYMENT_AUTHORITY:
        areas = areas.filter(authority=org)
    else:
        areas = areas.filter(members=org) | areas.filter(responsible_municipality=org)
    for area in areas.distinct():
        name = area.authority.name
        if name == org.name:  # a municipality's own area, named as it is (Lahti)
            name = _("%(area)s (employment area)") % {"area": name}
        scopes.append(Scope(f"area:{area.authority_id}", name, "area", False))
    if org.kind in NATIONAL_KINDS:
        scopes.append(Scope("national", _("Whole country"), "national", False))
    return scopes


def _region_label(region: Organisation | str) -> str:
    """A region scope adds up the welfare region's own clients and its municipalities':
    said in its label, which would otherwise repeat the region's own scope for its manager.
    `region`: the organisation or its name."""
    name = region if isinstance(region, str) else region.name
    if name in single_municipality_region_names():
        # the City of Helsinki: the region and its one municipality
        return _("%(region)s and its municipality") % {"region": name}
    return _("%(region)s and its municipalities") % {"region": name}


def scope_get_for(*, user, code: str | None) -> Scope:
    """The scope named by `code` (default: the viewer's own organisation; a national
    viewer's, the whole country: KEHA and the vitality centres have no clients of their own).
    National viewers may open any organisation, region or area; anything else answers
    NotFound."""
    scopes = scopes_for(user=user)
    if not code:
        return next((s for s in scopes if s.level == "national"), scopes[0])
    for s in scopes:
        if s.code == code:
            return s
    if any(s.level == "national" for s in scopes):
        extra = _scope_by_code(code)
        if extra is not None:  # its own, written otherwise ("org:02"), is still its own
            return next((s for s in scopes if s.code == extra.code), extra)
    raise NotFound("scope")


def _scope_by_code(code: str) -> Scope | None:
    kind, _sep, ident = code.partition(":")
    org_id = as_id(ident)
    if org_id is None:
        return None
    org = Organisation.objects.filter(id=org_id).first()
    if org is None:
        return None
    code = f"{kind}:{org.id}"  # as the lists write it ("org:02" is "org:2")
    if kind == "org":
        return Scope(code, org.name, "organisation", False)
    if kind == "region" and org.kind == OrganisationKind.WELFARE_REGION:
        return Scope(code, _region_label(org), "region", False)
    if kind == "area" and org.kind == OrganisationKind.EMPLOYMENT_AUTHORITY:
        return Scope(code, org.name, "area", False)
    return None


def national_scope_groups() -> list[tuple[str, list[Scope]]]:
    """What a national viewer chooses from besides its own scopes (it may open any): every
    welfare region, employment area and municipality, one group each, named and sorted in
    the current language (read as values: three small queries)."""
    kinds = OrganisationKind
    groups = [
        (_("Welfare regions"), "region", "region", organisation_names(kinds.WELFARE_REGION)),
        (_("Employment areas"), "area", "area", organisation_names(
            kinds.EMPLOYMENT_AUTHORITY, employment_area__isnull=False)),
        (_("Municipalities"), "org", "organisation", organisation_names(kinds.MUNICIPALITY)),
    ]  # fmt: skip
    # a region's option is labelled as the page it opens is (`_region_label`)
    named = {"region": _region_label}
    return [
        (label, [Scope(f"{prefix}:{i}", named.get(level, str)(name), level, False)
                 for i, name in names])
        for label, prefix, level, names in groups
    ]  # fmt: skip


def scope_choices_for(*, user, current: Scope | None = None) -> list:
    """Scopes for the filter form: the viewer's own, and a national viewer's groups
    (`national_scope_groups`: a select with an optgroup each). `current`, the scope shown,
    is added after the viewer's own when no option is it (a national viewer opened another
    organisation by its address): the select must not claim another scope than the page."""
    scopes = scopes_for(user=user)
    out: list = [(s.code, s.label) for s in scopes]
    listed = {s.code for s in scopes}
    if any(s.level == "national" for s in scopes):
        for label, group in national_scope_groups():
            out.append((label, [(s.code, s.label) for s in group]))
            listed |= {s.code for s in group}
    if current is not None and current.code not in listed:
        out.insert(len(scopes), (current.code, current.label))
    return out


# ---------------------------------------------------------------- figures


# A figure hidden only so that a hidden small count cannot be worked out from it (a total
# of hidden parts): it may be any size, so it is not shown as "<5".
COMPLEMENTARY = ".."


@dataclass(frozen=True)
class Figure:
    """A number as the viewer may see it. `suppressed`: hidden (a count below five, or
    `complementary`: hidden because a hidden count could be worked out from it); `guarded`:
    a count of people outside the viewer's own organisation (the rules apply)."""

    value: int
    suppressed: bool
    guarded: bool = False
    complementary: bool = False

    @property
    def display(self) -> str:
        if self.complementary:
            return COMPLEMENTARY
        return f"<{SUPPRESS_BELOW}" if self.suppressed else f"{self.value:,}".replace(",", "\u00a0")

    @property
    def shown(self) -> int | None:
        return None if self.suppressed else self.value

    def as_json(self) -> int | str:
        return self.display if self.suppressed else self.value

    def hidden_to_protect(self) -> "Figure":
        """This figure hidden because a hidden count could be worked out from it."""
        return Figure(self.value, True, self.guarded, complementary=True)


@dataclass(frozen=True)
class Share:
    """numerator / denominator with its Wilson interval; hidden when either is hidden, and
    when the people not counted in the numerator (`n - k`) are a count that would be hidden:
    "10 of 12 employed" tells that two were not. `complement_counts` is off where `n - k`
    is not a number of people (places agreed but not used)."""

    k: Figure
    n: Figure
    complement_counts: bool = True

    @property
    def hidden(self) -> bool:
        if self.k.suppressed or self.n.suppressed or self.n.value == 0:
            return True
        rest = self.n.value - self.k.value
        return self.complement_counts and self.n.guarded and 0 < rest < SUPPRESS_BELOW

    @property
    def value(self) -> float | None:
        return None if self.hidden else self.k.value / self.n.value

    @property
    def interval(self) -> tuple[float, float] | None:
        if self.hidden or self.k.value > self.n.value:
            # more than all: places used beyond those agreed (a family placed whole) is a
            # share over 100 %, not a proportion with an interval
            return None
        return wilson_interval(self.k.value, self.n.value)

    @property
    def display(self) -> str:
        return "–" if self.hidden else f"{100 * self.value:.0f}\u00a0%"

    @property
    def interval_display(self) -> str:
        ci = self.interval
        return "" if ci is None else f"{100 * ci[0]:.0f}–{100 * ci[1]:.0f}\u00a0%"


# A share shown as "–" whatever it was (its counts are not given either).
HIDDEN_SHARE = Share(Figure(0, True, True), Figure(0, True, True))


def figure(value: int, *, suppress: bool, money: bool = False) -> Figure:
    guarded = suppress and not money
    return Figure(int(value), guarded and 0 < value < SUPPRESS_BELOW, guarded)


def compensation_figure(amount: int, persons: int, *, suppress: bool) -> Figure:
    """The calculated compensation of a month: persons × a fixed monthly sum, so a small
    amount tells exactly how many people (326 € is two aged seven or over). Outside the
    viewer's own organisation it is hidden ("..") when the persons behind it are under five."""
    if suppress and 0 < persons < SUPPRESS_BELOW:
        return Figure(int(amount), True, True).hidden_to_protect()
    return figure(amount, suppress=suppress, money=True)


def total_of(parts: list[Figure], total: Figure) -> Figure:
    """`total` as it may be shown beside `parts`: hidden when a part is hidden and the total
    is not, or the hidden part would be the total less the parts shown."""
    if not total.suppressed and any(p.suppressed for p in parts):
        return total.hidden_to_protect()
    return total


INF = float("inf")


class _Slot:
    """Where a figure sits (a list and an index, or an object and an attribute), so that
    `protect_partitions` can hide it in place."""

    def __init__(self, holder, key) -> None:
        self.holder, self.key = holder, key

    def get(self) -> Figure:
        return self.holder[self.key] if isinstance(self.holder, list) else getattr(self.holder, self.key)  # fmt: skip

    @property
    def value(self) -> int:
        return self.get().value

    @property
    def hidden(self) -> bool:
        return self.get().suppressed

    def bounds(self) -> tuple[float, float]:
        """What a viewer knows of the figure: "<5" is 1 to 4, ".." at least 5."""
        f = self.get()
        if not f.suppressed:
            return f.value, f.value
        return (SUPPRESS_BELOW, INF) if f.complementary else (1, SUPPRESS_BELOW - 1)

    def tells(self, value: float) -> bool:
        """Whether learning that the hidden figure is `value` gives something away (here:
        always; a curve's figures say otherwise, `_PointSlot`)."""
        return True

    def hide(self) -> None:
        hidden = self.get().hidden_to_protect()
        if isinstance(self.holder, list):
            self.holder[self.key] = hidden
        else:
            setattr(self.holder, self.key, hidden)


class _ShareSlot(_Slot):
    """One count of a share (`part`: "n", "k" or "rest" = n - k) in a dict of shares: a
    hidden share tells nothing of its counts (0 or more); hiding it hides the share."""

    def __init__(self, shares: dict, key, part: str) -> None:
        super().__init__(shares, key)
        self.part = part

    @property
    def value(self) -> int:
        share = self.holder[self.key]
        n, k = share.n.value, share.k.value
        return {"n": n, "k": k, "rest": n - k}[self.part]

    @property
    def hidden(self) -> bool:
        # a share with nobody followed that long is "–" but tells a count all the same:
        # whoever sees when the cohort started knows that none was followed that long
        share = self.holder[self.key]
        return share.hidden and (share is HIDDEN_SHARE or share.n.value > 0)

    def bounds(self) -> tuple[float, float]:
        return (0, INF) if self.hidden else (self.value, self.value)

    def hide(self) -> None:
        self.holder[self.key] = HIDDEN_SHARE


# Hidden beside a count of 1 to 4, a figure of at least 8 keeps it anywhere from 1 to 4
# for whoever knows the sum and that ".." is at least 5 (1 + 8 = 9 = 5 + 4).
COVER_AT_LEAST = 2 * SUPPRESS_BELOW - 2


def _cover(shown: list[_Slot]) -> _Slot:
    """The figure to hide with a hidden count: the smallest of at least `COVER_AT_LEAST`,
    or the largest there is."""
    big = [s for s in shown if s.value >= COVER_AT_LEAST]
    if big:
        return min(big, key=lambda s: s.value)
    return max(shown, key=lambda s: s.value)


def _given_away(partitions: tuple[list[_Slot], ...]) -> int | None:
    """The index of a partition one of whose hidden figures has only one possible value,
    given what is shown: every partition sums to the same total, each hidden figure lies in
    its `bounds`. None when every hidden figure keeps more than one possible value."""
    sums = []
    for part in partitions:
        shown = sum(s.value for s in part if not s.hidden)
        lo = sum(s.bounds()[0] for s in part if s.hidden)
        hi = sum(s.bounds()[1] for s in part if s.hidden)
        sums.append((shown, lo, hi))
    total_lo = max(shown + lo for shown, lo, _hi in sums)
    total_hi = min(shown + hi for shown, _lo, hi in sums)
    for i, (part, (shown, lo, hi)) in enumerate(zip(partitions, sums, strict=True)):
        h_lo, h_hi = max(lo, total_lo - shown), min(hi, total_hi - shown)
        hidden = [s for s in part if s.hidden]
        for slot in hidden:
            c_lo, c_hi = slot.bounds()
            if c_lo == c_hi:
                # known whatever the table shows (a curve's point between two equal ones
                # shown): hiding more of the table cannot change that; what it was hidden
                # to protect, pinned through it, is found as pinned in turn
                continue
            others = [o.bounds() for o in hidden if o is not slot]  # (no INF - INF)
            own_lo = max(c_lo, h_lo - sum(b[1] for b in others))
            own_hi = min(c_hi, h_hi - sum(b[0] for b in others))
            if own_lo == own_hi and slot.tells(own_lo):
                return i
    return None


class _PointSlot(_Slot):
    """One count behind a Kaplan–Meier curve's point at month `t` (`part`: "followed"; "k",
    the plans that reached the outcome by then; "rest", the curve's other plans), as the
    point is shown: a ".." followed is at least five, a "–" share tells nothing of its
    counts but what the curve's points shown around it do (the followed only go down and
    those reached only up: a hidden figure lies between its neighbours shown), a curve that
    has ended by `t` had fewer than five followed (`removed`, one not drawn at all because
    its number of plans is hidden: nothing known)."""

    def __init__(self, points: list, t: int, part: str, *, removed: bool = False) -> None:
        super().__init__(points, t // 3)  # a point every three months from month 0
        self.part, self.removed = part, removed

    @property
    def point(self) -> "KmPoint | None":
        return self.holder[self.key] if self.key < len(self.holder) else None

    @property
    def value(self) -> int:
        p = self.point
        if self.part == "followed":
            return p.at_risk.value
        return p.events if self.part == "k" else p.plans - p.events

    @property
    def hidden(self) -> bool:
        p = self.point
        if p is None:
            return True
        return p.at_risk.suppressed if self.part == "followed" else p.reached is None

    def bounds(self) -> tuple[float, float]:
        p = self.point
        if p is not None and not self.hidden:
            return self.value, self.value
        if not self.holder:  # never drawn: fewer than five plans, or their number hidden
            return (0, INF) if self.removed else (0, SUPPRESS_BELOW - 1)
        followed = self.part == "followed"

        def shown(q: "KmPoint") -> bool:
            return not q.at_risk.suppressed if followed else q.reached is not None

        def count(q: "KmPoint") -> int:
            return q.at_risk.value if followed else q.events

        before = [count(q) for q in self.holder[: self.key] if shown(q)]
        after = [count(q) for q in self.holder[self.key + 1 :] if shown(q)]
        last = before[-1] if before else None
        following = after[0] if after else None
        if followed:  # only goes down: at most the last shown, at least the next one
            if p is None:
                lo, hi = 0, SUPPRESS_BELOW - 1  # the curve has ended
            else:
                lo, hi = (SUPPRESS_BELOW, INF) if p.at_risk.complementary else (1, SUPPRESS_BELOW - 1)  # fmt: skip
            return max(lo, following or 0), min(hi, INF if last is None else last)
        k_lo, k_hi = last or 0, INF if following is None else following
        if self.part == "k":
            return k_lo, k_hi
        plans = self.holder[0].plans
        return max(plans - k_hi, 0), plans - k_lo

    def tells(self, value: float) -> bool:
        """Nobody followed (0) is no secret. A point's share is hidden by the curve's own
        rule only while those reached, or the curve's others, are 1 to 4: a number of
        plans reached that leaves both at 0 or five or more tells no hidden count (what it
        tells along time, between points, is not protected: `docs/insights.md`)."""
        if self.part == "followed":
            return value != 0
        if not self.holder:
            return 0 < value < SUPPRESS_BELOW
        other = self.holder[0].plans - value
        return 0 < value < SUPPRESS_BELOW or 0 < other < SUPPRESS_BELOW

    def hide(self) -> None:
        p = self.point
        if self.part == "followed":
            p.at_risk = p.at_risk.hidden_to_protect()
        else:
            p.reached = p.low = p.high = None


class _BothSlot(_Slot):
    """A group's share at `t` months and its curve's point at `t` when every plan of the
    group has been followed that long: the same counts (the plans that reached the outcome
    within `t` months, and the others) shown twice. Known when either shows it; hiding it
    hides both."""

    def __init__(self, share: _ShareSlot, point: _PointSlot) -> None:
        super().__init__(share.holder, share.key)
        self.share, self.point_slot = share, point

    @property
    def value(self) -> int:
        return self.point_slot.value if self.share.hidden else self.share.value

    @property
    def hidden(self) -> bool:
        return self.share.hidden and self.point_slot.hidden

    def bounds(self) -> tuple[float, float]:
        # hidden in both: what the curve's points shown around it tell
        return self.point_slot.bounds() if self.hidden else (self.value, self.value)

    def hide(self) -> None:
        if not self.share.hidden:
            self.share.hide()
        if not self.point_slot.hidden:
            self.point_slot.hide()


def _protect_impact(cohorts: list, groups: list, overall: list, group_curves: dict,
                    removed: set, fully_followed: dict) -> None:  # fmt: skip
    """The impact page's figures outside the viewer's organisation, protected together.

    The Kaplan–Meier curves split the same plans as the cohorts and groups: at each month
    the groups' curves' followed and reached split the overall curve's. Each point is taken
    as shown (a ".." or a "–" is not known, a curve that has ended had fewer than five
    followed), and month by month the groups' counts are protected as partitions of the
    overall curve's (`protect_partitions`: one figure more hidden, a group's or the overall
    curve's, where one could be worked out). At 6, 12 and 24 months the shares' counts
    (followed, reached, not reached) by cohort and by group split the same plans too, and
    where every plan has been followed that long they are the curve's counts: a group's
    share and its curve's point are then one figure (`_BothSlot`), and the overall curve's
    point is a third partition of the cohorts' and groups'. A group's point is hidden
    wherever its share at the same months is ("–": 25 % of 20 on the curve told the 5 that
    the hidden share kept). Repeated until nothing more is hidden.

    `removed`: the labels of the curves not drawn because their number of plans is hidden
    (the overall's as ""); `fully_followed`: (row key or "", months) of the groups, and of
    all the plans (""), followed that long."""
    by_label = {r.label: r for r in groups}

    def point(label: str, t: int, part: str) -> _PointSlot:
        points = overall if label == "" else group_curves[label]
        return _PointSlot(points, t, part, removed=label in removed)

    def group_slot(label: str, t: int, part: str, *, share: bool) -> _Slot:
        r = by_label.get(label)
        if r is not None and t in r.shares and fully_followed.get((r.key, t)):
            return _BothSlot(_ShareSlot(r.shares, t, part), point(label, t, part))
        return _ShareSlot(r.shares, t, part) if share else point(label, t, part)

    def state() -> tuple:
        rows = tuple(s.hidden for r in (*cohorts, *groups) for s in r.shares.values())
        curves = (overall, *group_curves.values())
        return rows, tuple((p.at_risk.suppressed, p.reached is None) for c in curves for p in c)

    last = max((p.months for c in (overall, *group_curves.values()) for p in c), default=0)
    for _round in range(20):
        before = state()
        for r in groups:
            for t in FOLLOW_UP_MONTHS:
                at = point(r.label, t, "k") if r.label in group_curves else None
                if at is not None and at.point is not None and not at.hidden:
                    if t in r.shares and _ShareSlot(r.shares, t, "k").hidden:
                        at.hide()
        for t in FOLLOW_UP_MONTHS:
            protect_partitions(
                [_ShareSlot(r.shares, t, "n") for r in cohorts],
                [_ShareSlot(r.shares, t, "n") for r in groups],
            )
            for part in ("k", "rest"):
                everyone = [point("", t, part)] if fully_followed.get(("", t)) else []
                protect_partitions(
                    [_ShareSlot(r.shares, t, part) for r in cohorts],
                    [group_slot(r.label, t, part, share=True) for r in groups],
                    everyone,
                )
        for t in range(3, last + 1, 3):
            for part in ("followed", "k", "rest"):
                if part == "followed":
                    parts = [point(label, t, part) for label in group_curves]
                else:
                    parts = [group_slot(label, t, part, share=False) for label in group_curves]
                protect_partitions(parts, [point("", t, part)])
        if state() == before:
            return


def protect_partitions(*partitions: list[_Slot]) -> None:
    """Partitions of the same people shown in one answer (contacts by channel and by
    language; plans ended by month and by outcome; impact by cohort, by group and at the
    curve's start; the impact shares' counts): they all sum to the same total, so what one
    shows bounds the others' hidden figures. While a hidden figure has only one possible
    value (`_given_away`), hide one more figure still shown in its partition (`_cover`) or,
    with none left there, in another partition."""
    partitions = tuple(p for p in partitions if p)  # an empty table tells no total
    if len(partitions) < 2:
        return
    for _round in range(sum(len(p) for p in partitions) + 1):
        i = _given_away(partitions)
        if i is None:
            return
        for candidates in (partitions[i], *(p for j, p in enumerate(partitions) if j != i)):
            shown = [s for s in candidates if not s.hidden and s.value > 0]
            if shown:
                _cover(shown).hide()
                break
        else:
            return  # nothing left to hide


def protect_at_least(part: list[_Slot], total: int) -> None:
    """A partition that sums to at least `total` (the reasons of the contacts: every client
    contact has one or more, so they add up to at least the contacts): what is shown gives
    the hidden figures a lower bound, total less the shown. While a hidden figure can only
    be its largest possible value ("<5" forced to 4: 114 contacts, reasons 60, 50 and "<5"),
    hide one more figure still shown (`_cover`). The worst case is assumed: no partner
    contacts (which may have no reason), so `total` is all the contacts."""
    for _round in range(len(part) + 1):
        shown = [s for s in part if not s.hidden]
        hidden = [s for s in part if s.hidden]
        need = total - sum(s.value for s in shown)  # the hidden figures add up to at least this
        forced = False
        for slot in hidden:
            c_lo, c_hi = slot.bounds()
            others_hi = sum(o.bounds()[1] for o in hidden if o is not slot)
            if max(c_lo, need - others_hi) >= c_hi:
                forced = True
        candidates = [s for s in shown if s.value > 0]
        if not forced or not candidates:
            return
        _cover(candidates).hide()


@dataclass
class Filters:
    month_from: dt.date
    month_to: dt.date
    target_group: str = ""
    language: str = ""
    age_band: str = ""

    @property
    def any_person_filter(self) -> bool:
        return bool(self.target_group or self.language or self.age_band)

    def as_query(self) -> dict:
        return {
            "from": self.month_from.strftime("%Y-%m"),
            "to": self.month_to.strftime("%Y-%m"),
            "target_group": self.target_group,
            "language": self.language,
            "age_band": self.age_band,
        }


def default_filters(today: dt.date | None = None) -> Filters:
    today = today or clock.today()
    last = today.replace(day=1)
    return Filters(month_from=add_months(last, -11), month_to=last)


def _cells(scope: Scope, f: Filters):
    qs = Cell.objects.filter(scope=scope.code, month__gte=f.month_from, month__lte=f.month_to)
    if f.target_group:
        qs = qs.filter(target_group=f.target_group)
    if f.language:
        qs = qs.filter(language=f.language)
    if f.age_band:
        qs = qs.filter(age_band=f.age_band)
    return qs


@dataclass
class Table:
    """One table of the dashboard (and the chart drawn from it)."""

    id: str
    title: str
    key_label: str
    columns: list[str]
    rows: list[tuple[str, str, list]]  # (key, label, [Figure | Share | str])
    chart: str = "bars"  # bars (vertical, by month) / hbars / none
    note: str = ""
    # a share's column → the columns of its numerator and denominator, shown beside it
    shares_of: dict[int, tuple[int, int]] = field(default_factory=dict)

    def csv_rows(self) -> list[list[str]]:
        """The table as the page shows it: a share with its 95 % interval beside it, as
        under it on the page ("67 % (55–78 %)")."""
        out = [[self.title], [self.key_label, *self.columns]]
        for _key, label, cells in self.rows:
            out.append([label, *[_cell_text(c) for c in cells]])
        return out


def _cell_text(c) -> str:
    if isinstance(c, Share) and c.interval_display:
        return f"{c.display} ({c.interval_display})"
    return c.display if hasattr(c, "display") else str(c)


@dataclass
class Dashboard:
    scope: Scope
    filters: Filters
    months: list[dt.date]
    tables: list[Table] = field(default_factory=list)
    refreshed_at: dt.datetime | None = None
    # the nightly full recount is late (`RefreshState.full_overdue`): some figures may lag
    full_refreshed_at: dt.datetime | None = None
    full_overdue: bool = False
    suppressed_any: bool = False
    not_broken_down: bool = False

    def table(self, table_id: str) -> Table:
        return next(t for t in self.tables if t.id == table_id)


def _labels():
    from koto.guidance.models import Channel, ReasonCode
    from koto.offerings.models import ServiceKind
    from koto.placement.models import PlaceCategory
    from koto.plans.models import Outcome

    reasons = {r.code: r.label(_lang()) for r in ReasonCode.objects.all()}
    return {
        "channel": dict(Channel.choices),
        "reason": reasons,
        "service": dict(ServiceKind.choices),
        "outcome": dict(Outcome.choices),
        "category": dict(PlaceCategory.choices),
    }


def _lang() -> str:
    from django.utils.translation import get_language

    return (get_language() or "fi")[:2]


def _language_names() -> dict[str, str]:
    from koto.clients import codes

    return dict(codes.language_choices())


MONTH_FLOWS = (
    (Metric.CLIENTS_NEW, gettext_lazy("New clients")),
    (Metric.ASSESSMENTS_STARTED, gettext_lazy("Assessments started")),
    (Metric.ASSESSMENTS_COMPLETED, gettext_lazy("Assessments completed")),
    (Metric.PLANS_STARTED, gettext_lazy("Plans started")),
    (Metric.PLANS_ENDED, gettext_lazy("Plans ended")),
)


SUMS_CACHE_SECONDS = 24 * 60 * 60


def _cell_sums(scope: Scope, filters: Filters, generation: int):
    """The dashboard's sums of the rollup cells: by metric, month and key, and the contacts
    by language. Cells change only when the rollups are refreshed, so the sums are cached
    (Django's cache, per server process) under the refresh's generation: the next refresh
    makes a new key. Nothing about the viewer is in them (suppression comes after)."""
    key = "insights:sums:" + ":".join(
        [scope.code, str(generation), *(str(v) for v in filters.as_query().values())]
    )
    sums = cache.get(key)
    if sums is None:
        cells = _cells(scope, filters)
        sums = (
            list(cells.values_list("metric", "month", "key").annotate(v=Sum("value")).order_by()),
            list(
                cells.filter(metric=Metric.CONTACTS)
                .values_list("language")
                .annotate(v=Sum("value"))
                .order_by()
            ),
        )
        cache.set(key, sums, SUMS_CACHE_SECONDS)
    return sums


def _own_part_of(user, scope: Scope) -> Scope | None:
    """The viewer's own organisation's scope when `scope` is one of theirs that sums it with
    others (their welfare region, employment area, the country), else None."""
    if scope.own or scope.level == "organisation":
        return None
    scopes = scopes_for(user=user)
    if not any(s.code == scope.code for s in scopes):
        return None  # a national viewer's look at a region it is not part of
    return scopes[0]


def dashboard_for(*, user, scope_code: str | None, filters: Filters) -> Dashboard:
    scope = scope_get_for(user=user, code=scope_code)
    state = RefreshState.get()
    sums = _cell_sums(scope, filters, state.generation)
    d = _dashboard(scope, filters, state, sums)
    own_scope = _own_part_of(user, scope)
    if own_scope is not None:
        # The viewer sees their own organisation's figures unhidden, so this scope's less
        # theirs is known too: what the rules hide in that rest (each figure, a share, a
        # total, a partition) is hidden here as well.
        own_sums = _cell_sums(own_scope, filters, state.generation)
        rest = _dashboard(scope, filters, state, _less(sums, own_sums, _own_org(user)))
        _hide_where_hidden(d, rest)
    _note_hidden_months(d, own_part=own_scope is not None)
    return d


def _note_hidden_months(d: Dashboard, *, own_part: bool) -> None:
    """Say under the shares in time by month why a month is "–" (a national column of "–"
    read as missing data): no deadline fell due, or the share is hidden because with the
    compliance row, the other months or (`own_part`: the scope holds the viewer's own
    organisation) the viewer's own figures it would tell a count below five. Each deadline
    whose months are hidden is named: all of its months with deadlines due, or some."""
    table = d.table("compliance_months")
    note = [_("A month with no deadline due has no share (–).")]
    for i, label in enumerate(table.columns):
        cells = [cells[i] for _k, _l, cells in table.rows]
        if not any(c is HIDDEN_SHARE for c in cells):
            continue
        if any(c.n.value and not c.hidden for c in cells):
            note.append(_("%(deadline)s: some months are hidden (–).") % {"deadline": label})
        else:
            note.append(
                _("%(deadline)s: every month with deadlines due is hidden (–).")
                % {"deadline": label}
            )
    if len(note) > 1:
        note.append(
            _(
                "With the counts in the table “Deadline compliance” above, the other months or "
                "your own organisation's figures, they would tell a count below five. A month "
                "when only your organisation had deadlines due is hidden too: showing only "
                "those would tell when the others had some."
            )
            if own_part
            else _(
                "With the counts in the table “Deadline compliance” above and the other "
                "months, they would tell a count below five."
            )
        )
    table.note = " ".join(note)


def _less(sums, own_sums, own_org: Organisation | None = None):
    """The scope's cell sums less the viewer's own organisation's (`_cell_sums`' shape).

    The persons behind a welfare region's calculated compensation (`PERSONS_REGION`) are
    its municipalities' residents, the viewer's own among them, whom the viewer's own cells
    count only as `PERSONS`: left in, they made the rest's persons "everyone in the region"
    (20 of Lahti's and 2 of Heinola's: 22), and the region's amount less Lahti's told
    Heinola's 2. A municipality with an integration programme is paid for the same persons
    as its welfare region (`koto.funding.calculations.recipients`), so its persons are taken
    out of the region's too (a person who moved within the region in a month was counted
    once by the region: taking them out leaves the rest fewer, so more is hidden, never
    less). One without a programme is paid nothing and its cells do not tell how many of
    its residents the region is paid for: the rest's persons behind the region's amount are
    then taken as few (1), so the amount shows only while the other municipalities' own
    persons are five or more."""
    (rows, languages), (own_rows, own_languages) = sums, own_sums
    mine = defaultdict(int, {(m, mo, k): v for m, mo, k, v in own_rows})
    my_languages = defaultdict(int, dict(own_languages))
    rest = [(m, mo, k, v - mine[(m, mo, k)]) for m, mo, k, v in rows]
    if (
        own_org is not None
        and own_org.kind == OrganisationKind.MUNICIPALITY
        and own_org.welfare_region_id is not None
    ):
        money = Metric.COMPENSATION_CALCULATED
        for i, (m, mo, k, v) in enumerate(rest):
            if m != money or k != PERSONS_REGION or v <= 0:
                continue
            if own_org.has_integration_programme:
                v = max(v - mine[(m, mo, PERSONS)], 0)
            else:
                v = 1
            rest[i] = (m, mo, k, v)
    return rest, [(lang, v - my_languages[lang]) for lang, v in languages]


def _is_hidden(cell) -> bool:
    if isinstance(cell, Figure):
        return cell.suppressed
    return isinstance(cell, Share) and cell.hidden


def _hide_where_hidden(d: Dashboard, rest: Dashboard) -> None:
    """Hide in `d` each figure and share that is hidden at the same place in `rest` (a
    count of 5 or more as "..": it is not a count below five)."""
    rest_rows = {t.id: {key: cells for key, _l, cells in t.rows} for t in rest.tables}
    for table in d.tables:
        rows = rest_rows.get(table.id, {})
        for i, (key, label, cells) in enumerate(table.rows):
            hidden = [_is_hidden(c) for c in rows.get(key, [])]
            for at, (k, n) in table.shares_of.items():
                # a share of the counts shown beside it tells nothing they do not: hidden
                # with them, not for the rest's share (of none: all of a region's places
                # are the viewer's own, 0 of 30 used, and the share was "–" beside them)
                if at < len(hidden):
                    hidden[at] = hidden[k] or hidden[n] or _is_hidden(cells[at])
            if not any(hidden):
                continue
            table.rows[i] = (key, label, [_hidden_cell(c) if h else c for c, h in zip(cells, hidden, strict=False)] + cells[len(hidden):])  # fmt: skip
            d.suppressed_any = True


def _hidden_cell(cell):
    if isinstance(cell, Share):
        return cell if cell.hidden else HIDDEN_SHARE
    if isinstance(cell, Figure) and not cell.suppressed:
        return cell.hidden_to_protect()
    return cell


def _dashboard(scope: Scope, filters: Filters, state, sums) -> Dashboard:
    suppress = not scope.own
    months = month_range(filters.month_from, filters.month_to)
    d = Dashboard(
        scope, filters, months, refreshed_at=state.refreshed_at,
        full_refreshed_at=state.full_refreshed_at, full_overdue=state.full_overdue(clock.now()),
    )  # fmt: skip
    by_month: dict[tuple[str, dt.date], int] = defaultdict(int)
    by_key: dict[tuple[str, str], int] = defaultdict(int)
    by_mk: dict[tuple[str, dt.date, str], int] = defaultdict(int)
    languages: dict[str, int] = defaultdict(int)
    cell_sums, language_sums = sums
    for metric, month, key, v in cell_sums:
        by_month[(metric, month)] += v
        by_key[(metric, key)] += v
        by_mk[(metric, month, key)] += v
    for language, v in language_sums:
        languages[language] += v
    d.not_broken_down = filters.any_person_filter

    def fig(v: int, metric: str = "") -> Figure:
        f = figure(v, suppress=suppress, money=metric in NOT_PERSONS)
        d.suppressed_any = d.suppressed_any or f.suppressed
        return f

    labels = _labels()
    # the running month is counted so far: said in its label (a dip in the last column of
    # a flow is the month not yet over, not fewer clients)
    running = clock.today().replace(day=1)
    month_label = [
        _("%(month)s (so far)") % {"month": m.strftime("%m/%Y")}
        if m == running
        # a month ahead: its zeros are not a drop (its compensation, within the current
        # year, is what the law would give for the persons as they stand; a later year's
        # is not computed, as the compensation table's note says)
        else _("%(month)s (not yet begun)") % {"month": m.strftime("%m/%Y")}
        if m > running
        else m.strftime("%m/%Y")
        for m in months
    ]

    # 1. Flows by month.
    d.tables.append(
        Table(
            "flows",
            _("Flows by month"),
            _("Month"),
            [str(t) for _m, t in MONTH_FLOWS],
            [
                (
                    m.isoformat(),
                    month_label[i],
                    [fig(by_month[(metric, m)]) for metric, _t in MONTH_FLOWS],
                )
                for i, m in enumerate(months)
            ],
        )  # fmt: skip
    )

    # Clients who moved (a transfer between organisations) by month: a client stays in the
    # new clients of the organisation that registered them, and moves out of its figures
    # into the receiver's in the month of the transfer. For one organisation only: summed
    # over an area, a move within it counts in and out, and a viewer who knows where their
    # own clients went could take them from the area's moves in and read another
    # organisation's count below five.
    moves = (Metric.CLIENTS_MOVED_IN, Metric.CLIENTS_MOVED_OUT)
    if scope.level == "organisation":
        d.tables.append(
            Table(
                "moves",
                _("Clients who moved"),
                _("Month"),
                [_("Moved in"), _("Moved out")],
                [
                    (
                        m.isoformat(),
                        month_label[i],
                        [fig(by_month[(metric, m)]) for metric in moves],
                    )
                    for i, m in enumerate(months)
                ],
                note=_(
                    "A client transferred to another municipality or employment authority moves "
                    "out of the figures of the organisation responsible for them into the "
                    "receiver's in the month of the transfer, with their open assessment and "
                    "plans; they stay among the new clients of the organisation that "
                    "registered them. Shown for one organisation, not summed over an area."
                ),
            )  # fmt: skip
        )

    # 2. Deadline compliance.
    def compliance_row(metric: str, label: str) -> tuple[str, str, list]:
        in_time = by_key[(metric, "in_time")]
        late = by_key[(metric, "late")]
        missed = by_key[(metric, "missed")]
        parts = [fig(in_time), fig(late), fig(missed)]
        n = total_of(parts, fig(in_time + late + missed))
        return (metric, label, [*parts, n, Share(parts[0], n)])

    d.tables.append(
        Table(
            "compliance",
            _("Deadline compliance"),
            _("Deadline"),
            [
                _("In time"),
                _("Late"),
                _("Missed, still not done"),
                _("Deadlines due"),
                _("Share in time"),
            ],
            [
                compliance_row(Metric.ASSESSMENT_DEADLINE, _("Assessment started in time")),
                compliance_row(Metric.SERVICE_DEADLINE, _("Guided to a service in time")),
            ],
            chart="hbars",
            note=_(
                "A deadline counts in the month it fell due. Deadlines follow the Integration "
                "Act: the assessment's start from becoming a client, the guidance to a service "
                "from the plan's agreement."
            ),
        )  # fmt: skip
    )

    def share_in_time(metric: str, m: dt.date) -> Share:
        in_time = by_mk[(metric, m, "in_time")]
        total = in_time + by_mk[(metric, m, "late")] + by_mk[(metric, m, "missed")]
        return Share(fig(in_time), fig(total))

    # A share and its interval tell its counts, and the months' counts add up to the
    # compliance row: one month hidden, or a hidden count in the row, and the months would
    # give it away. Then no month of that deadline is shown.
    month_shares = {}
    for metric, cells in ((r[0], r[2]) for r in d.table("compliance").rows):
        shares = [share_in_time(metric, m) for m in months]
        if suppress and (
            any(c.suppressed for c in cells[:4]) or any(s.hidden and s.n.value for s in shares)
        ):
            shares = [HIDDEN_SHARE if s.n.value else s for s in shares]
        month_shares[metric] = shares

    d.tables.append(
        Table(
            "compliance_months",
            _("Share in time by month"),
            _("Month"),
            [_("Assessment started in time"), _("Guided to a service in time")],
            [
                (
                    m.isoformat(),
                    month_label[i],
                    [
                        month_shares[Metric.ASSESSMENT_DEADLINE][i],
                        month_shares[Metric.SERVICE_DEADLINE][i],
                    ],
                )
                for i, m in enumerate(months)
            ],
            chart="lines",
        )  # fmt: skip
    )

    # 3. Services.
    from koto.offerings.models import ServiceKind

    service_rows = []
    for kind in ServiceKind.values:
        completed = by_key[(Metric.ENROLMENT_ENDS, f"{kind}:completed")]
        interrupted = by_key[(Metric.ENROLMENT_ENDS, f"{kind}:interrupted")]
        enrolled = by_key[(Metric.ENROLMENTS, kind)]
        hours = by_key[(Metric.ATTENDANCE_HOURS, kind)]
        if not (completed or interrupted or enrolled or hours):
            continue
        k, n = fig(completed), fig(completed + interrupted)
        service_rows.append(
            (
                kind,
                str(labels["service"].get(kind, kind)),
                [
                    fig(enrolled),
                    fig(hours, Metric.ATTENDANCE_HOURS),
                    k,
                    fig(interrupted),
                    Share(k, n),
                ],
            )  # fmt: skip
        )
    d.tables.append(
        Table(
            "services",
            _("Services"),
            _("Service"),
            [
                _("Enrolments"),
                _("Attendance hours"),
                _("Completed"),
                _("Interrupted"),
                _("Completion rate"),
            ],
            service_rows,
            chart="hbars",
        )  # fmt: skip
    )
    levels = sorted({k for (m, k) in by_key if m == Metric.LANGUAGE_LEVELS})
    d.tables.append(
        Table(
            "levels",
            _("Language levels reached"),
            _("Level"),
            [_("People")],
            [(lv, lv, [fig(by_key[(Metric.LANGUAGE_LEVELS, lv)])]) for lv in levels],
            chart="hbars",
            note=_(
                "People who reached the level in a final language test (in any skill tested), "
                "counted once a month."
            ),
        )  # fmt: skip
    )

    # 4. Guidance contacts.
    # Contacts by reason and by channel are counted by language only (the contact's): with a
    # target group or an age band chosen they are left out (the page says so), not zeros.
    if not (filters.target_group or filters.age_band):
        reason_rows = sorted(
            ((k, v) for (m, k), v in by_key.items() if m == Metric.CONTACTS_REASON),
            key=lambda kv: (-kv[1], kv[0]),
        )
        d.tables.append(
            Table(
                "contacts_reason",
                _("Guidance contacts by reason"),
                _("Reason"),
                [_("Contacts")],
                [(k, str(labels["reason"].get(k, k)), [fig(v)]) for k, v in reason_rows],
                chart="hbars",
                note=_("A contact with several reasons counts under each of them."),
            )  # fmt: skip
        )
        channel_rows = sorted(
            ((k, v) for (m, k), v in by_key.items() if m == Metric.CONTACTS_CHANNEL),
            key=lambda kv: (-kv[1], kv[0]),
        )
        d.tables.append(
            Table(
                "contacts_channel",
                _("Guidance contacts by channel"),
                _("Channel"),
                [_("Contacts")],
                [(k, str(labels["channel"].get(k, k)), [fig(v)]) for k, v in channel_rows],
                chart="hbars",
            )  # fmt: skip
        )
    names = _language_names()
    d.tables.append(
        Table(
            "contacts_language",
            _("Guidance contacts by language"),
            _("Language"),
            [_("Contacts")],
            [
                (k, names.get(k, _("not known") if k == "unknown" else k), [fig(v)])
                for k, v in sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            chart="hbars",
        )  # fmt: skip
    )

    # 5. Plan outcomes.
    from koto.plans.models import Outcome

    d.tables.append(
        Table(
            "outcomes",
            _("Plan outcomes"),
            _("Outcome"),
            [_("Plans ended")],
            [
                (o, str(labels["outcome"].get(o, o)), [fig(by_key[(Metric.PLANS_ENDED, o)])])
                for o in Outcome.values
                if by_key[(Metric.PLANS_ENDED, o)]
            ],
            chart="hbars",
        )  # fmt: skip
    )

    # 6.-7. Placements and money have no person dimensions: with a target group, language
    # or age band chosen they are left out (the page says so), not shown as zeros.
    if not filters.any_person_filter:
        # 6. Placements (by year: an agreement is for a calendar year).
        cats = ("quota_refugee", "international_protection", "unaccompanied_minor")
        d.tables.append(
            Table(
                "placements",
                _("Municipal placement: places agreed and used"),
                _("Category"),
                [_("Places agreed"), _("Places used"), _("Share used")],
                [
                    (
                        c,
                        str(labels["category"].get(c, c)),
                        [
                            fig(by_key[(Metric.PLACES_AGREED, c)]),
                            fig(by_key[(Metric.PLACES_USED, c)]),
                            Share(
                                fig(by_key[(Metric.PLACES_USED, c)]),
                                fig(by_key[(Metric.PLACES_AGREED, c)]),
                                complement_counts=False,  # places left unused, shown anyway
                            ),
                        ],
                    )
                    for c in cats
                ],
                chart="hbars",
                note=_(
                    "Agreements are per calendar year: a year counts when its January is in the period."
                ),
                shares_of={2: (1, 0)},  # used of agreed
            )  # fmt: skip
        )

        # 7. Compensation.
        d.tables.append(
            Table(
                "compensation",
                _("State compensation by month (€)"),
                _("Month"),
                [
                    _("Calculated compensation"),
                    _("Actual-cost claims submitted"),
                    _("Actual-cost claims paid"),
                ],
                [
                    (
                        m.isoformat(),
                        month_label[i],
                        [
                            compensation_figure(
                                by_mk[(Metric.COMPENSATION_CALCULATED, m, "")],
                                max(
                                    by_mk[(Metric.COMPENSATION_CALCULATED, m, PERSONS)],
                                    by_mk[(Metric.COMPENSATION_CALCULATED, m, PERSONS_REGION)],
                                ),
                                suppress=suppress,
                            ),
                            fig(by_month[(Metric.CLAIMS_SUBMITTED, m)], Metric.CLAIMS_SUBMITTED),
                            fig(by_month[(Metric.CLAIMS_PAID, m)], Metric.CLAIMS_PAID),
                        ],  # fmt: skip
                    )
                    for i, m in enumerate(months)
                ],
                note=_(
                    "Calculated compensation is what the law gives for the persons in the "
                    "period; claims are the actual-cost claims as submitted "
                    "and as paid after the ELY / vitality centre's decision."
                )
                + (
                    # a later year's months are not computed: 0 there is no stop
                    " "
                    + _(
                        "Calculated compensation is computed up to the end of %(year)s: the "
                        "months after it show 0 until their year begins."
                    )
                    % {"year": running.year}
                    if months and months[-1].year > running.year
                    else ""
                )
                + (
                    # a region's (and the country's) calculated compensation is more than
                    # its municipalities' (Helsinki's region and city differ only there)
                    " "
                    + _(
                        "Calculated compensation here adds up what the municipalities and "
                        "the welfare regions are paid: a welfare region is paid for its "
                        "municipalities' persons too."
                    )
                    if scope.level in ("region", "national")
                    else ""
                ),
            )  # fmt: skip
        )
    if suppress and not (filters.target_group or filters.age_band):
        # the same contacts by channel and by language; each has at least one reason
        protect_partitions(_column(d.table("contacts_channel")), _column(d.table("contacts_language")))  # fmt: skip
        protect_at_least(
            _column(d.table("contacts_reason")),
            sum(s.value for s in _column(d.table("contacts_channel"))),
        )
    if suppress:
        ended = [m for m, _t in MONTH_FLOWS].index(Metric.PLANS_ENDED)
        protect_partitions(_column(d.table("flows"), ended), _column(d.table("outcomes")))
    return d


def _column(table: Table, index: int = 0) -> list[_Slot]:
    return [_Slot(cells, index) for _k, _l, cells in table.rows]


# ---------------------------------------------------------------- impact


GROUPINGS = {
    "plan_kind": gettext_lazy("Plan type"),
    "target_group": gettext_lazy("Target group"),
    "services": gettext_lazy("Services used"),
}


def _less_impact(data: tuple[dict, dict], own: tuple[dict, dict]) -> tuple[dict, dict]:
    """The impact cells (by cohort, by group) less the viewer's own organisation's."""
    out = []
    for mine_by_key, theirs_by_key in zip(own, data, strict=True):
        less: dict[str, dict] = defaultdict(lambda: defaultdict(int))
        for key, cells in theirs_by_key.items():
            mine = mine_by_key.get(key, {})
            for cell, n in cells.items():
                if n - mine.get(cell, 0):
                    less[key][cell] = n - mine.get(cell, 0)
        out.append(less)
    return out[0], out[1]


def _hide_impact_where_hidden(i: "Impact", rest: "Impact") -> None:
    """Hide in `i` what is hidden at the same place in `rest`: a row's number of plans and
    shares, and a curve from the month the rest's curve stops or hides a point."""
    for rows, rest_rows in ((i.cohorts, rest.cohorts), (i.groups, rest.groups)):
        by_key = {r.key: r for r in rest_rows}
        for r in rows:
            other = by_key.get(r.key)
            if other is None:
                continue
            if other.plans.suppressed and not r.plans.suppressed:
                r.plans = r.plans.hidden_to_protect()
                i.suppressed_any = True
            if r.plans.suppressed:
                r.shares = dict.fromkeys(r.shares, HIDDEN_SHARE)
                continue
            for t, share in other.shares.items():
                if share.hidden and t in r.shares and not r.shares[t].hidden:
                    r.shares[t] = HIDDEN_SHARE
                    i.suppressed_any = True

    def cut(points: list, rest_points: list | None) -> list:
        if rest_points is None:  # none of the rest's plans: nothing of theirs to tell
            return points
        rest_at = {p.months: p for p in rest_points}
        out = []
        for p in points:
            other = rest_at.get(p.months)
            if other is None:
                break  # the rest's curve stopped (too few followed): so does this one
            if other.reached is None and p.reached is not None:
                p = replace(p, reached=None, low=None, high=None)
            if other.at_risk.suppressed and not p.at_risk.suppressed:
                p = replace(p, at_risk=p.at_risk.hidden_to_protect())
            out.append(p)
        return out

    i.curve = cut(i.curve, rest.curve if (rest.cohorts or rest.groups) else None)
    for label, points in i.group_curves.items():
        i.group_curves[label] = cut(points, rest.group_curves.get(label))


def _cohort_label(quarter: str, month_from: dt.date, month_to: dt.date) -> str:
    """ "2025 Q1", or with the months it holds when the period cuts the quarter ("2025 Q1
    (02–03/2025)"): a cohort of two months is not the quarter's."""
    year, q = int(quarter[:4]), int(quarter[-1])
    first, last = dt.date(year, 3 * q - 2, 1), dt.date(year, 3 * q, 1)
    start, end = max(first, month_from), min(last, month_to)
    if (start, end) == (first, last):
        return quarter
    return f"{quarter} ({start:%m}–{end:%m/%Y})" if start != end else f"{quarter} ({start:%m/%Y})"


@dataclass
class ImpactRow:
    key: str
    label: str
    plans: Figure
    shares: dict[int, Share]  # months → share employed or studying by then


@dataclass
class KmPoint:
    months: int
    at_risk: Figure
    reached: float | None
    low: float | None
    high: float | None
    # the counts behind the point, never shown (`_protect_impact` reads them): the plans
    # that reached the outcome within `months`, and all the curve's plans
    events: int = field(default=0, repr=False)
    plans: int = field(default=0, repr=False)

    @property
    def display(self) -> str:
        return "–" if self.reached is None else f"{100 * self.reached:.0f}\u00a0%"

    @property
    def interval_display(self) -> str:
        if self.low is None or self.high is None:
            return "–"
        return f"{100 * self.low:.0f}–{100 * self.high:.0f}\u00a0%"


@dataclass
class Impact:
    scope: Scope
    month_from: dt.date
    month_to: dt.date
    grouping: str
    target_group: str
    cohorts: list[ImpactRow]
    groups: list[ImpactRow]
    curve: list[KmPoint]
    group_curves: dict[str, list[KmPoint]]
    follow_up: tuple[int, ...] = FOLLOW_UP_MONTHS
    refreshed_at: dt.datetime | None = None
    full_refreshed_at: dt.datetime | None = None
    full_overdue: bool = False
    suppressed_any: bool = False


def _group_labels(grouping: str) -> dict[str, str]:
    from koto.insights.dimensions import TARGET_GROUP_LABELS
    from koto.offerings.models import ServiceKind
    from koto.plans.models import IntegrationPlan

    if grouping == "plan_kind":
        return {k: str(v) for k, v in IntegrationPlan.Kind.choices}
    if grouping == "target_group":
        return {k: str(v) for k, v in TARGET_GROUP_LABELS.items()}
    return {**{k: str(v) for k, v in ServiceKind.choices}, "none": _("No service")}


def impact_for(
    *,
    user,
    scope_code: str | None,
    month_from: dt.date,
    month_to: dt.date,
    grouping: str = "plan_kind",
    target_group: str = "",
) -> Impact:
    """Plans started in [month_from, month_to] (cohorts by quarter): the share employed or
    studying by 6, 12 and 24 months among plans followed that long, with 95 % Wilson
    intervals, and the Kaplan–Meier estimate of time to employment or studies (plans still
    going, or ended otherwise, are censored). Observational: no comparison group."""
    if grouping not in GROUPINGS:
        raise NotFound("grouping")
    scope = scope_get_for(user=user, code=scope_code)
    suppress = not scope.own
    state = RefreshState.get()
    # The day the follow-up reaches: the last full refresh's (an organisation the regular
    # refreshes since have not touched has its plans' months as of then).
    as_of = min(
        d
        for d in (
            state.refreshed_on,
            state.full_refreshed_at and state.full_refreshed_at.astimezone(clock.HELSINKI).date(),
            clock.today(),
        )
        if d is not None
    )

    def cells_of(code: str):
        qs = ImpactCell.objects.filter(
            scope=code, start_month__gte=month_from, start_month__lte=month_to
        )
        return qs.filter(target_group=target_group) if target_group else qs

    def collect(qs) -> tuple[dict, dict]:
        cohort_data: dict[str, dict] = defaultdict(lambda: defaultdict(int))
        group_data: dict[str, dict] = defaultdict(lambda: defaultdict(int))
        for r in qs.values("start_month", "months", "event").annotate(n=Sum("n")).order_by():
            cohort_data[quarter_of(r["start_month"])][(r["start_month"], r["months"], r["event"])] += r["n"]  # fmt: skip
        for r in qs.values(grouping, "start_month", "months", "event").annotate(n=Sum("n")).order_by():  # fmt: skip
            group_data[r[grouping]][(r["start_month"], r["months"], r["event"])] += r["n"]
        return cohort_data, group_data

    def build(cohort_data: dict, group_data: dict) -> Impact:
        found_suppressed = False

        def fig(v: int) -> Figure:
            nonlocal found_suppressed
            f = figure(v, suppress=suppress)
            found_suppressed = found_suppressed or f.suppressed
            return f

        def rows_for(
            data: dict[str, dict[tuple[dt.date, int, bool], int]], labels
        ) -> list[ImpactRow]:
            out = []
            for key in sorted(data, key=lambda k: labels.get(k, k) if labels else k):
                cells = data[key]
                total = sum(cells.values())
                shares = {}
                for t in FOLLOW_UP_MONTHS:
                    n = k = 0
                    for (start, months, event), count in cells.items():
                        # followed t months whatever the day of the start month: from its
                        # last day (a plan of 31 January has its 6 months on 31 July)
                        if add_months(start, t + 1) - dt.timedelta(days=1) > as_of:
                            continue  # not followed that long yet
                        n += count
                        # `months` are whole months, rounded down: an outcome in month 6
                        # (6 months and some days) came after 6 months, not within them
                        if event and months < t:
                            k += count
                    shares[t] = Share(fig(k), fig(n))
                label = labels.get(key, key) if labels else key
                out.append(ImpactRow(key, label, fig(total), shares))
            return out

        def curve(cells: dict[tuple[dt.date, int, bool], int]) -> list[KmPoint]:
            table: dict[int, list[int]] = defaultdict(lambda: [0, 0])
            for (_start, months, event), count in cells.items():
                table[months][0 if event else 1] += count
            steps = kaplan_meier({t: (e, c) for t, (e, c) in table.items()})
            total = sum(cells.values())
            points = []
            last_shown = total
            for t in range(0, 37, 3):
                # `months` are whole months, rounded down: the outcomes within t months are
                # those of months 0 to t - 1, as in the shares (the same month's plans ended
                # otherwise count as after them, the usual tie rule)
                step = survival_at(steps, t - 1)
                # followed that long: plans whose follow-up (to the outcome or to now) reaches t
                followed = sum(n for (_s, months, _e), n in cells.items() if months >= t)
                if step is None or (not followed and step.survival > 0):
                    break
                at_risk = fig(followed)
                if at_risk.suppressed:
                    break  # too few followed that long to show outside the organisation
                # the plans no longer followed since the last number shown (40, then 38: two
                # ended) are a count too: ".." while 1 to 4
                if suppress and 0 < last_shown - followed < SUPPRESS_BELOW:
                    at_risk = at_risk.hidden_to_protect()
                else:
                    last_shown = followed
                lo = None if step.high is None else 1 - step.high
                hi = None if step.low is None else 1 - step.low
                reached = step.reached
                # the first steps of a curve tell their counts (2 of 40 employed in the first
                # month is 5 %): outside the organisation a point is "–" while the plans that
                # reached the outcome by then, or those that did not, are 1 to 4, as a share's
                events = sum(n for (_s, months, event), n in cells.items() if event and months < t)
                if suppress and (
                    0 < events < SUPPRESS_BELOW or 0 < total - events < SUPPRESS_BELOW
                ):
                    reached = lo = hi = None
                if not followed and reached is None:
                    break  # a hidden end point would still tell that everyone reached it
                points.append(KmPoint(t, at_risk, reached, lo, hi, events, total))
                if not followed:
                    break  # every plan reached the outcome by then: the curve ends at 100 %
            return points

        all_cells: dict[tuple[dt.date, int, bool], int] = defaultdict(int)
        for cells in cohort_data.values():
            for k, v in cells.items():
                all_cells[k] += v
        labels = _group_labels(grouping)
        cohorts, groups = rows_for(cohort_data, None), rows_for(group_data, labels)
        for r in cohorts:
            r.label = _cohort_label(r.key, month_from, month_to)
        overall = curve(all_cells)
        # in the groups' order (by label), as the table of shares beside it
        group_curves = {r.label: curve(group_data[r.key]) for r in groups}
        if suppress:
            # Who has been followed 6, 12 and 24 months, before any share is hidden: the
            # group whose every plan has, and all the plans ("").
            fully_followed = {(r.key, t): s.n.value == r.plans.value
                              for r in groups for t, s in r.shares.items()}  # fmt: skip
            plans = sum(r.plans.value for r in cohorts)
            for t in FOLLOW_UP_MONTHS:
                fully_followed[("", t)] = sum(r.shares[t].n.value for r in cohorts) == plans
            # Everyone is followed at month 0: the curve's first point is the number of plans.
            start = [_Slot(overall[0], "at_risk")] if overall and overall[0].months == 0 else []
            protect_partitions(
                [_Slot(r, "plans") for r in cohorts], [_Slot(r, "plans") for r in groups], start
            )
            # A row whose number of plans is hidden: its shares' counts (and a group's curve,
            # which starts at its number of plans) would tell it.
            removed = set()
            for r in (*cohorts, *groups):
                if r.plans.suppressed:
                    r.shares = dict.fromkeys(r.shares, HIDDEN_SHARE)
            for r in groups:
                if r.plans.suppressed:
                    group_curves[r.label] = []
                    removed.add(r.label)
            if overall and overall[0].at_risk.suppressed:
                overall = []
                removed.add("")
            # The shares' counts (followed, reached, not reached) by cohort and by group,
            # and the curves' month by month, split the same plans.
            _protect_impact(cohorts, groups, overall, group_curves, removed, fully_followed)
            found_suppressed = found_suppressed or any(
                p.at_risk.suppressed or p.reached is None
                for c in (overall, *group_curves.values())
                for p in c
            )
        return Impact(
            scope=scope,
            month_from=month_from,
            month_to=month_to,
            grouping=grouping,
            target_group=target_group,
            cohorts=cohorts,
            groups=groups,
            curve=overall,
            group_curves=group_curves,
            refreshed_at=state.refreshed_at,
            full_refreshed_at=state.full_refreshed_at,
            full_overdue=state.full_overdue(clock.now()),
            suppressed_any=found_suppressed,
        )

    data = collect(cells_of(scope.code))
    impact = build(*data)
    own_scope = _own_part_of(user, scope)
    if own_scope is not None:
        # as on the dashboards: what the rules hide in this scope's plans less the viewer's
        # own organisation's is hidden here as well
        rest = build(*_less_impact(data, collect(cells_of(own_scope.code))))
        _hide_impact_where_hidden(impact, rest)
    return impact


def refresh_health(now: dt.datetime) -> dict:
    """Whether the rollup refreshes run as scheduled, for whoever runs Koto (the status
    endpoint): the regular one (every few minutes), the nightly full one, and a refresh that
    has been running past the point where the next one takes over (it died)."""
    state = RefreshState.objects.filter(id=1).first() or RefreshState(id=1)
    problems = []
    if state.refreshed_at is None:
        problems.append("never_refreshed")
    elif state.regular_overdue(now):
        problems.append("refresh_late")
    if state.full_overdue(now):
        problems.append("full_refresh_late")
    if state.running_since is not None and (
        now - state.running_since >= STALE_RUN or refresh_session_alive() is False
    ):
        # on PostgreSQL a refresh whose session is gone has died whatever its age
        problems.append("refresh_died")
    return {
        "ok": not problems,
        "problems": problems,
        "refreshed_at": state.refreshed_at,
        "refresh_limit_minutes": int(REGULAR_OVERDUE.total_seconds() // 60),
        "full_refreshed_at": state.full_refreshed_at,
        "full_refresh_limit_hours": int(FULL_OVERDUE.total_seconds() // 3600),
        "running_since": state.running_since,
        "last_seconds": state.seconds if state.refreshed_at else None,
    }
