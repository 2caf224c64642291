"""Building the rollups the dashboards read (`Cell`, `ImpactCell`) from the casework rows.

A refresh recomputes the cells of the organisations whose rows changed since the last
refresh (the watermark, `safe_watermark`: `updated_at` of clients, assessments, plans,
enrolments, placements and claims, the time of each change of responsible organisation,
`computed_at` of deadline tasks), adds the guidance contacts logged since then to their
organisations' cells (contacts are never edited or deleted, and an organisation's contacts
were most of its recount: 22 of 33 s for Helsinki at national scale), then rewrites the cells
of the welfare regions, employment areas and the country from the organisations' cells.
`full=True` recomputes every organisation (nightly: it also catches deletions, attendance
or test results, which carry no timestamp, and a client's contacts under the client's
target group and age band of today). Each organisation batch is one transaction, so a
dashboard never sees an organisation half-written; the contacts added, the sums and the
watermark are one transaction. Run by the task worker (`tasks.insights_refresh`).

Every rule comes from where it lives: deadlines from `koto.law`, calculated compensation
from `koto.funding.compensation`. Target groups and age bands are `dimensions`."""

import bisect
import contextlib
import datetime as dt
import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, Min, OuterRef, Q, Sum, Value, When
from django.db.models.functions import ExtractYear, TruncMonth
from django.db.models.lookups import LessThan, LessThanOrEqual

from koto.assessments.models import Assessment
from koto.clients.models import Client, Residence, ResponsibilityChange, Task
from koto.core import clock
from koto.core.bulk import allocate_ids, fast_insert
from koto.core.errors import DomainError
from koto.funding.compensation import (
    RECIPIENT_KINDS,
    Span,
    compensation_report,
    organisation_keys,
)
from koto.funding.models import Claim, ClaimLine, ClaimStatus
from koto.funding.selectors import stored_years_stale
from koto.funding.services import expected_months_prune, expected_months_store
from koto.guidance.models import Contact, ContactReason
from koto.insights.dimensions import (
    AGE_BANDS,
    TARGET_GROUPS,
    UNKNOWN,
    age_band,
    month_start,
    months_between,
    target_group,
)
from koto.insights.models import (
    PERSONS,
    PERSONS_REGION,
    REFRESH_LOCK,
    STALE_RUN,
    Cell,
    ImpactCell,
    Metric,
    RefreshState,
    refresh_session_alive,
)
from koto.law import (
    Authority,
    FactsError,
    assessment_start_due,
    evaluate,
    guidance_to_service_due,
    parse_facts,
)
from koto.law.params import ParameterMissing
from koto.offerings.models import (
    Attendance,
    Enrolment,
    EnrolmentStatus,
    LanguageTestResult,
    ServiceKind,
)
from koto.organisations.models import EmploymentArea, Organisation, OrganisationKind
from koto.placement.models import AgreementStatus, Placement, PlacementAgreement, PlacementPerson
from koto.plans.models import IntegrationPlan, Outcome, PlanStatus

logger = logging.getLogger(__name__)
FIRST_MONTH = dt.date(2023, 1, 1)  # the dashboards' history starts here
#: An incremental refresh runs in full when the stored compensation is stale, but not within
#: this time of the last full run (`_refresh`).
MONEY_RETRY = dt.timedelta(hours=1)
SUCCESS = (Outcome.EMPLOYED, Outcome.STUDYING)
# Services used during a plan, strongest first: a plan counts under the first it used.
SERVICE_ORDER = (
    ServiceKind.INTEGRATION_TRAINING,
    ServiceKind.LITERACY_TRAINING,
    ServiceKind.CIVIC_ORIENTATION,
    ServiceKind.OTHER,
    ServiceKind.LANGUAGE_TEST,
)
NO_SERVICE = "none"
ORG_BATCH = 40
CONTACT_METRICS = (Metric.CONTACTS, Metric.CONTACTS_CHANNEL, Metric.CONTACTS_REASON)
ID_CHUNK = 10_000  # contacts counted by id: this many per query (the counts add up)

Key = tuple  # (org_id, metric, month, target_group, language, age_band, key)


# ---------------------------------------------------------------- scopes


def org_scope(org_id: int) -> str:
    return f"org:{org_id}"


def parent_scopes() -> dict[str, list[int]]:
    """Every aggregate scope and the organisations whose cells add up to it."""
    scopes: dict[str, list[int]] = defaultdict(list)
    for oid, kind, region in Organisation.objects.values_list("id", "kind", "welfare_region_id"):
        if kind == OrganisationKind.WELFARE_REGION:
            scopes[f"region:{oid}"].append(oid)
        elif region is not None:
            scopes[f"region:{region}"].append(oid)
    for area in EmploymentArea.objects.prefetch_related("members"):
        ids = {area.authority_id, area.responsible_municipality_id}
        ids |= {m.id for m in area.members.all()}
        scopes[f"area:{area.authority_id}"] = sorted(i for i in ids if i is not None)
    return dict(scopes)


# ---------------------------------------------------------------- counting


class Counter:
    """Adds values under (org, metric, month, target group, language, age band, key)."""

    def __init__(self) -> None:
        self.values: dict[Key, int] = defaultdict(int)
        # (year, report, organisation ids or None for all): calculated compensation per
        # month, which the refresh also stores for the funding overview
        # (year, report, its organisations or None for all, their fingerprints then)
        self.money_reports: list[tuple[int, object, list[int] | None, dict[int, str]]] = []

    def add(self, org_id, metric, month, *, basis="", lang="", byear=None, key="", n=1, dims=True,
            tg=None, band=None):  # fmt: skip
        """Dimensions either as they come (basis, birth year: folded here) or already folded
        by the database (tg, band: see `_dims`)."""
        if org_id is None or month is None:
            return
        if isinstance(month, dt.datetime):
            month = month.astimezone(clock.HELSINKI).date()
        month = month_start(month)
        if month < FIRST_MONTH:
            return
        if dims:
            tg = tg if tg is not None else target_group(basis)
            band = band if band is not None else age_band(byear, month.year)
            lang = lang or UNKNOWN
        else:
            tg = band = lang = ""
        self.values[(org_id, metric, month, tg, lang, band, key or "")] += int(n)


def _dims(prefix: str, on: str, *, language: str | None = None, tz: bool = False) -> dict:
    """Target group, language and age band folded by the database (so a GROUP BY returns
    the cells themselves): `prefix` leads to the client, `on` is the event's date field,
    `language` the language field when it is not the client's mother tongue."""
    basis = f"{prefix}residence_basis"
    groups = [When(**{f"{basis}__isnull": True}, then=Value(UNKNOWN))] + [
        When(**{f"{basis}__in": list(bases)}, then=Value(group))
        for group, bases in TARGET_GROUPS.items()
        if group != "other"
    ]
    year = ExtractYear(on, tzinfo=clock.HELSINKI) if tz else ExtractYear(on)
    age = year - ExtractYear(f"{prefix}birth_date")
    bands = [When(LessThanOrEqual(age, high), then=Value(code)) for code, _low, high in AGE_BANDS]
    lang = language or f"{prefix}mother_tongue"
    return {
        "tg": Case(*groups, default=Value("other")),
        "lang": Case(
            When(**{f"{lang}__isnull": True}, then=Value(UNKNOWN)),
            When(**{lang: ""}, then=Value(UNKNOWN)),
            default=F(lang),
        ),
        "band": Case(When(LessThan(age, 0), then=Value(UNKNOWN)), *bands, default=Value(UNKNOWN)),
    }


def _in(qs, field: str, org_ids: list[int] | None):
    return qs if org_ids is None else qs.filter(**{f"{field}__in": org_ids})


class Moves:
    """The clients who moved, read once per refresh (`compute` is called per batch of
    organisations) from the registry's history of the responsible organisation
    (`clients.ResponsibilityChange`, which an accepted transfer writes; until 2026-12-08
    read from the transfers themselves, to the same effect): `by_client` client id → their
    changes in order, (day, from, to); before the first the client was the first's `from`
    organisation's, from each day on its `to` organisation's (`held_on`). `clients` the
    dimensions of those clients: (created, residence basis, mother tongue, birth year).
    `read_at`: the counts in SQL leave out only clients who moved by then, so a transfer
    accepted during the refresh leaves its client counted once, as before it (the change
    recounts both organisations in the next refresh)."""

    def __init__(self) -> None:
        self.read_at = clock.now()
        moves: dict[int, list[tuple[dt.date, int, int]]] = defaultdict(list)
        rows = (
            ResponsibilityChange.objects.filter(at__lte=self.read_at)
            .values_list("client_id", "at", "from_organisation_id", "to_organisation_id")
            .order_by("client_id", "at", "id")
        )
        for cid, at, before, to in rows:
            moves[cid].append((at.astimezone(clock.HELSINKI).date(), before, to))
        self.by_client = dict(moves)
        self.clients: dict[int, tuple] = {}
        ids = sorted(self.by_client)
        for start in range(0, len(ids), ID_CHUNK):
            for cid, created, basis, tongue, birth in Client.objects.filter(
                id__in=ids[start : start + ID_CHUNK]
            ).values_list("id", "created_at", "residence_basis", "mother_tongue", "birth_date"):
                self.clients[cid] = (created, basis, tongue, birth.year if birth else None)

    def moved(self, client_ref: str = "pk") -> Exists:
        """A filter: the client (`client_ref` in the outer query) moved, as read."""
        return Exists(
            ResponsibilityChange.objects.filter(
                at__lte=self.read_at, client_id=OuterRef(client_ref)
            )
        )

    def touching(self, wanted) -> list[int]:
        """The clients who moved with a wanted organisation somewhere in their history."""
        return [
            cid
            for cid, moves in self.by_client.items()
            if wanted(moves[0][1]) or any(wanted(to) for _on, _from, to in moves)
        ]


def held_on(moves: list[tuple[dt.date, int, int]], day: dt.date) -> int:
    """The organisation responsible for a client who moved (`Moves`) on `day`: a transfer
    accepted on `day` makes the day the receiver's."""
    org = moves[0][1]
    for on, _from, to in moves:
        if on <= day:
            org = to
    return org


def held_by(moves: list[tuple[dt.date, int, int]] | None, org_id: int, day) -> int:
    """The organisation a record of a client who moved (`Moves`) counts with on `day`: the
    one holding the client that day, when the record's organisation is one of those that
    held them (an open assessment or plan handed over with the client, or one the sender
    kept); another organisation's record (an employment authority's, a producer's) stays
    its own, as does any record of a client who never moved (`moves` None)."""
    if moves is None or day is None:
        return org_id
    if org_id != moves[0][1] and all(org_id != to for _on, _from, to in moves):
        return org_id
    if isinstance(day, dt.datetime):
        day = day.astimezone(clock.HELSINKI).date()
    return held_on(moves, day)


def _count_clients(c: Counter, org_ids, moves: Moves):
    """New clients by the month they became one, with the organisation that registered them
    (not the one holding them now: a client who moved stays in the first one's figures), and
    the moves between organisations (`Moves`) in and out by month."""
    qs = _in(Client.objects.filter(~moves.moved()), "responsible_organisation_id", org_ids)
    rows = (
        qs.annotate(
            m=TruncMonth("created_at", tzinfo=clock.HELSINKI), **_dims("", "created_at", tz=True)
        )
        .values("responsible_organisation_id", "m", "tg", "lang", "band")
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in rows:
        c.add(r["responsible_organisation_id"], Metric.CLIENTS_NEW, r["m"], tg=r["tg"],
              lang=r["lang"], band=r["band"], n=r["n"])  # fmt: skip
    wanted = _wanted(org_ids)
    for cid in moves.touching(wanted):
        created, basis, tongue, byear = moves.clients[cid]
        dims = {"basis": basis, "lang": tongue, "byear": byear}
        history = moves.by_client[cid]
        if wanted(history[0][1]):
            c.add(history[0][1], Metric.CLIENTS_NEW, created, **dims)
        for on, from_org, to_org in history:
            if wanted(from_org):
                c.add(from_org, Metric.CLIENTS_MOVED_OUT, on, **dims)
            if wanted(to_org):
                c.add(to_org, Metric.CLIENTS_MOVED_IN, on, **dims)


def _moved_also(touching: list[int], qs, org_ids, moves: Moves) -> list[int]:
    """The clients who moved whose rows in `qs` (by its `organisation_id`) a count of these
    organisations reads: those with one of them in their history (`touching`), and those
    with a row of one of them that is not in their history (an employment authority's
    assessment), since the count leaves every client who moved out of its SQL."""
    if org_ids is None:
        return touching
    found = _in(qs.filter(moves.moved("client_id")), "organisation_id", org_ids)
    return sorted(
        set(touching) | set(found.values_list("client_id", flat=True).order_by().distinct())
    )


def _wanted(org_ids):
    if org_ids is None:
        return lambda org_id: True
    return set(org_ids).__contains__


def _count_assessments(c: Counter, org_ids, today: dt.date, moves: Moves):
    """Assessments started and completed by month, and whether the first was started by the
    deadline. A client who moved (`Moves`) is counted apart: their assessments with the
    organisation holding them on the day (`held_by`: one started before the move and
    completed after it is the sender's start and the receiver's completion, though the
    record itself passed to the receiver), their first with the organisation holding them
    on its start, and a missed deadline with the one holding them on its day."""
    wanted = _wanted(org_ids)
    touching = moves.touching(wanted)
    moved_ids = _moved_also(touching, Assessment.objects.all(), org_ids, moves)
    qs = _in(Assessment.objects.filter(~moves.moved("client_id")), "organisation_id", org_ids)
    for field, metric in (("started_on", Metric.ASSESSMENTS_STARTED),
                          ("completed_on", Metric.ASSESSMENTS_COMPLETED)):  # fmt: skip
        rows = (
            qs.exclude(**{field: None})
            .annotate(m=TruncMonth(field), **_dims("client__", field))
            .values("organisation_id", "m", "kind", "tg", "lang", "band")
            .annotate(n=Count("id"))
            .order_by()
        )
        for r in rows:
            c.add(r["organisation_id"], metric, r["m"], tg=r["tg"], lang=r["lang"],
                  band=r["band"], key=r["kind"], n=r["n"])  # fmt: skip
    for start in range(0, len(moved_ids), ID_CHUNK):
        for org, cid, kind, started, completed in Assessment.objects.filter(
            client_id__in=moved_ids[start : start + ID_CHUNK]
        ).values_list("organisation_id", "client_id", "kind", "started_on", "completed_on"):
            history = moves.by_client[cid]
            _created, basis, tongue, byear = moves.clients[cid]
            for day, metric in ((started, Metric.ASSESSMENTS_STARTED),
                                (completed, Metric.ASSESSMENTS_COMPLETED)):  # fmt: skip
                holder = held_by(history, org, day)
                if day is not None and wanted(holder):
                    c.add(holder, metric, day, basis=basis, lang=tongue, byear=byear, key=kind)
    # Deadline compliance: was the first assessment started by the statutory deadline
    # counted from becoming a client (koto.law)? Clients entitled but never assessed whose
    # deadline has passed count as missed, from the open deadline tasks of the sweep.
    due_cache: dict[dt.date, dt.date | None] = {}

    def due(on: dt.date) -> dt.date | None:
        if on not in due_cache:
            try:
                due_cache[on] = assessment_start_due(on).due_on
            except ParameterMissing:  # no such deadline in the period in force then
                due_cache[on] = None
        return due_cache[on]

    # The municipality's deadline (koto.law: from becoming its client), so the municipality's
    # assessments only: the employment authority's were timed from the client's creation by
    # the same rule and almost always shown late, and counted a second time in the region's
    # and the country's totals. Counted once the deadline has passed, as the missed ones are,
    # and only for a client the law gave the deadline: one outside the target groups or the
    # three-year window was shown "in time" or "late", never "missed" (no task is opened).
    municipal = Assessment.objects.filter(organisation__kind=OrganisationKind.MUNICIPALITY)
    fields = ("client_id", "organisation_id", "client__created_at", "client__residence_basis",
              "client__mother_tongue", "client__birth_date", "client__first_permit_on",
              "client__first_home_municipality_on", "client__home_municipality_on")  # fmt: skip
    first = (
        _in(municipal.filter(~moves.moved("client_id")), "organisation_id", org_ids)
        .values(*fields)
        .annotate(first=Min("started_on"))
        .order_by()
    )
    assessed = list(first.iterator(chunk_size=20000))
    # a client who moved: their first municipal assessment of all, whichever organisation
    # holds it now, with the organisation that held them on the deadline's day (one that
    # moved after missing it, and was assessed late by the receiver, is the sender's late)
    firsts: dict[int, dict] = {}
    for start in range(0, len(moved_ids), ID_CHUNK):
        for r in (
            municipal.filter(client_id__in=moved_ids[start : start + ID_CHUNK])
            .values(*fields)
            .annotate(first=Min("started_on"))
            .order_by()
        ):
            if r["client_id"] not in firsts or r["first"] < firsts[r["client_id"]]["first"]:
                firsts[r["client_id"]] = r
    for cid, r in firsts.items():
        r["history"] = moves.by_client[cid]  # counted with the holder on the deadline's day
        assessed.append(r)
    # the sweep opens the task only for a client the law gave the deadline: one with the
    # task (of any status) had it, due on the task's day (counted from the day the client
    # became the municipality's: `deadlines_sweep.owed_assessment_since`); the law decides
    # for the others (assessed before a sweep), from the day they became a client
    tasked = _assessment_start_tasked({r["client_id"] for r in assessed}, org_ids)
    timed = []
    for r in assessed:
        if r["client_id"] in tasked:
            d = tasked[r["client_id"]]
            if d < today:
                timed.append((r, None, d))
            continue
        became = r["client__created_at"].astimezone(clock.HELSINKI).date()
        d = due(became)
        if d is not None and d < today:
            timed.append((r, became, d))
    applied = _law_set_deadline([(r, b) for r, b, _d in timed if b is not None])
    for r, became, d in timed:
        if became is not None and not applied[r["client_id"]]:
            continue
        holder = held_by(r.get("history"), r["organisation_id"], d)
        if not wanted(holder):
            continue
        c.add(holder, Metric.ASSESSMENT_DEADLINE, d,
              basis=r["client__residence_basis"], lang=r["client__mother_tongue"],
              byear=r["client__birth_date"].year,
              key="in_time" if r["first"] <= d else "late")  # fmt: skip
    # past its day and not met: still open, or lapsed after its day (closed unmet when the
    # entitlement ended; one that lapsed before its day was never missed)
    unmet = Task.objects.filter(kind=Task.Kind.ASSESSMENT_START, due_on__lt=today).filter(
        Q(status=Task.Status.OPEN) | Q(status=Task.Status.LAPSED, computed_at__date__gt=F("due_on"))
    )
    unmet_moved = _moved_also(touching, unmet, org_ids, moves)
    for start in range(0, len(unmet_moved), ID_CHUNK):
        for org, cid, due in unmet.filter(
            client_id__in=unmet_moved[start : start + ID_CHUNK]
        ).values_list("organisation_id", "client_id", "due_on"):
            holder = held_by(moves.by_client[cid], org, due)
            if wanted(holder):
                _created, basis, tongue, byear = moves.clients[cid]
                c.add(holder, Metric.ASSESSMENT_DEADLINE, due, basis=basis, lang=tongue,
                      byear=byear, key="missed")  # fmt: skip
    missed = (
        _in(unmet.filter(~moves.moved("client_id")), "organisation_id", org_ids)
        .annotate(m=TruncMonth("due_on"), **_dims("client__", "due_on"))
        .values("organisation_id", "m", "tg", "lang", "band")
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in missed:
        c.add(r["organisation_id"], Metric.ASSESSMENT_DEADLINE, r["m"], tg=r["tg"],
              lang=r["lang"], band=r["band"], key="missed", n=r["n"])  # fmt: skip


def _assessment_start_tasked(client_ids: set[int], org_ids) -> dict[int, dt.date]:
    """Those of `client_ids` with an assessment-start task of any status, and its day: first
    the tasks of the organisations counted (where a client's task almost always is: one
    indexed range), then by client the few left (a client who moved, or never swept)."""
    tasks = Task.objects.filter(kind=Task.Kind.ASSESSMENT_START, source_type="client")
    found = {
        cid: due
        for cid, due in _in(tasks, "organisation_id", org_ids).values_list("client_id", "due_on")
        if cid in client_ids
    }
    rest = sorted(client_ids - found.keys())
    for start in range(0, len(rest), ID_CHUNK):
        chunk = rest[start : start + ID_CHUNK]
        found.update(tasks.filter(client_id__in=chunk).values_list("client_id", "due_on"))
    return found


def _law_set_deadline(rows: list[tuple[dict, dt.date]]) -> dict[int, bool]:
    """Client id → whether the law gave the client the assessment-start deadline (`rows`:
    the client's values and the day they became a client): entitled to the assessment and
    the municipality responsible, as the deadline sweep decides before it opens the task
    (`koto.plans.deadlines_sweep`), on the day the client became one. The facts are those
    recorded for that day (`koto.clients.law.decision_for` and `facts_on`: a fact's dated
    history, false without one), the history read for all the rows at once. A record the
    law cannot read (no residence basis, inconsistent dates) sets no deadline, as the sweep
    opens no task for it. Some 50 µs a client: asked only for clients without the task."""
    from koto.clients.models import ClientFactChange, LawFact

    history: dict[int, list[tuple[dt.date, str, bool]]] = defaultdict(list)
    ids = sorted({r["client_id"] for r, _on in rows})
    for start in range(0, len(ids), ID_CHUNK):
        changes = (
            ClientFactChange.objects.filter(client_id__in=ids[start : start + ID_CHUNK])
            .order_by("client_id", "valid_from", "id")
            .values_list("client_id", "valid_from", "fact", "value")
        )
        for cid, valid_from, fact, value in changes.iterator(chunk_size=20000):
            history[cid].append((valid_from, fact, value))
    decided: dict[tuple, bool] = {}
    out: dict[int, bool] = {}
    for r, on in rows:
        recorded = dict.fromkeys(LawFact.values, False)
        for valid_from, fact, value in history.get(r["client_id"], ()):
            if valid_from > on:
                break
            recorded[fact] = value
        basis = r["client__residence_basis"]
        home_on = r["client__first_home_municipality_on"] or r["client__home_municipality_on"]
        key = (on, r["client__birth_date"], basis, r["client__first_permit_on"], home_on,
               *recorded.values())  # fmt: skip
        if key not in decided:
            decided[key] = _assessment_deadline_set({
                "on": on, "birth_date": r["client__birth_date"], "residence_basis": basis,
                "first_permit_on": r["client__first_permit_on"], "home_municipality_on": home_on,
                **recorded,
            })  # fmt: skip
        out[r["client_id"]] = decided[key]
    return out


def _assessment_deadline_set(data: dict) -> bool:
    if not data["residence_basis"]:
        return False
    try:
        decision = evaluate(parse_facts(data))
    except FactsError:
        return False
    return decision.assessment.entitled and decision.responsible_authority == Authority.MUNICIPALITY


def _plans(org_ids):
    return _in(
        IntegrationPlan.objects.exclude(status__in=[PlanStatus.DRAFT, PlanStatus.CANCELLED]),
        "organisation_id",
        org_ids,
    ).exclude(starts_on=None)


def _moved_plans(org_ids, moved_ids: list[int]) -> Iterator:
    """The plans of the clients who moved (`moved_ids`) other than these organisations' own
    (which `_plans` reads): a plan handed over with the client counts its start with the
    sender. By client, a chunk at a time."""
    for start in range(0, len(moved_ids), ID_CHUNK):
        yield (
            _plans(None)
            .filter(client_id__in=moved_ids[start : start + ID_CHUNK])
            .exclude(organisation_id__in=org_ids)
        )


def _of_plan_clients(qs, org_ids, moved_ids=()) -> Iterator:
    """`qs` (enrolments) of the clients of these organisations' plans, then those of the
    clients who moved (`moved_ids`), by chunks: the same client may come twice."""
    if org_ids is None:
        yield qs
        return
    yield qs.filter(client_id__in=_plans(org_ids).values("client_id"))
    for start in range(0, len(moved_ids), ID_CHUNK):
        yield qs.filter(client_id__in=moved_ids[start : start + ID_CHUNK])


def _service_requests_by_client(org_ids, moved_ids=()) -> dict[int, list[dt.date]]:
    """The days each client was guided to a service (an enrolment requested, unless it was
    cancelled), in order: a plan's deadline is met by the first on or after its agreement
    (and not after its end: `_guided_on`). The first enrolment ever (of any status, years
    before, under another plan) made every later plan "in time"."""
    out: dict[int, set[dt.date]] = defaultdict(set)
    enrolments = Enrolment.objects.exclude(status=EnrolmentStatus.CANCELLED)
    for qs in _of_plan_clients(enrolments, org_ids, moved_ids):
        rows = qs.values_list("client_id", "requested_at").order_by()
        for cid, at in rows.iterator(chunk_size=20000):
            out[cid].add(at.astimezone(clock.HELSINKI).date())
    return {cid: sorted(days) for cid, days in out.items()}


def _guided_on(
    days: list[dt.date] | None, agreed: dt.date, ended: dt.date | None = None
) -> dt.date | None:
    """The first day in `days` on or after `agreed` and, for a plan that has ended, on or
    before `ended`: guidance after a plan ended was under the client's next plan (it
    credited an ended plan with the next one's enrolment, as met late)."""
    if not days:
        return None
    i = bisect.bisect_left(days, agreed)
    if i == len(days) or (ended is not None and days[i] > ended):
        return None
    return days[i]


def _services_by_client(org_ids, moved_ids=()) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for qs in _of_plan_clients(Enrolment.objects.exclude(started_on=None), org_ids, moved_ids):
        for cid, kind in (
            qs.values_list("client_id", "service__kind").distinct().iterator(chunk_size=20000)
        ):
            out[cid].add(kind)
    return out


def services_used(kinds: Iterable[str]) -> str:
    kinds = set(kinds)
    for kind in SERVICE_ORDER:
        if kind in kinds:
            return str(kind)
    return NO_SERVICE


def _count_plans(c: Counter, org_ids, today: dt.date, impact: dict, moves: Moves):
    """Plans started and ended, the guidance-to-service deadline and the impact cohorts. A
    plan of a client who moved (`Moves`) counts each event with the organisation holding
    the client on its day (`held_by`): the start and the cohort on the start, the end on
    the end, the deadline on its day."""
    wanted = _wanted(org_ids)
    moved_ids = moves.touching(wanted) if org_ids is not None else ()
    requests = _service_requests_by_client(org_ids, moved_ids)
    services = _services_by_client(org_ids, moved_ids)
    due_cache: dict[dt.date, dt.date | None] = {}

    def service_due(agreed: dt.date) -> dt.date | None:
        """The guidance-to-service deadline of the period the plan was agreed in (one month under
        the old Act, six under 681/2023)."""
        if agreed not in due_cache:
            try:
                due_cache[agreed] = guidance_to_service_due(agreed).due_on
            except ParameterMissing:
                due_cache[agreed] = None
        return due_cache[agreed]

    fields = ("organisation_id", "client_id", "kind", "status", "starts_on", "agreed_on",
              "ended_on", "outcome", "client__residence_basis", "client__mother_tongue",
              "client__birth_date")  # fmt: skip
    rows = itertools.chain.from_iterable(
        qs.values_list(*fields).iterator(chunk_size=20000)
        for qs in (_plans(org_ids), *_moved_plans(org_ids, moved_ids))
    )
    for own, cid, kind, status, starts, agreed, ended, outcome, basis, lang, birth in rows:
        history = moves.by_client.get(cid)
        oid = held_by(history, own, starts)
        byear = birth.year if birth else None
        dims = {"basis": basis, "lang": lang, "byear": byear}
        if wanted(oid):
            c.add(oid, Metric.PLANS_STARTED, starts, key=kind, **dims)
        if status == PlanStatus.ENDED and ended and wanted(end := held_by(history, own, ended)):
            c.add(end, Metric.PLANS_ENDED, ended, key=outcome or "other", **dims)
        # Counted once the deadline has passed (a deadline met early but not yet due made
        # the running month look all "in time"); a plan that ended before its deadline
        # without a service (employed in month two) is not a missed deadline.
        if (
            agreed
            and (d := service_due(agreed)) is not None
            and d < today
            and wanted(due_org := held_by(history, own, d))
        ):
            ended_on = ended if status == PlanStatus.ENDED else None
            guided = _guided_on(requests.get(cid), agreed, ended_on)
            ended_first = ended_on is not None and ended_on < d
            if guided is not None and guided <= d:
                c.add(due_org, Metric.SERVICE_DEADLINE, d, key="in_time", **dims)
            elif ended_first and guided is None:
                pass
            else:
                c.add(due_org, Metric.SERVICE_DEADLINE, d, key="late" if guided else "missed",
                      **dims)  # fmt: skip
        # Impact: months to employment or studies, or to the end of follow-up, in the
        # cohort of the organisation that started the plan.
        start_month = month_start(starts)
        if start_month < FIRST_MONTH or starts > today or not wanted(oid):
            continue
        if status == PlanStatus.ENDED and ended:
            event = outcome in SUCCESS
            months = months_between(starts, ended)
        else:
            event = False
            months = months_between(starts, today)
        key = (oid, start_month, kind, target_group(basis),
               services_used(services.get(cid, ())), max(months, 0), event)  # fmt: skip
        impact[key] += 1


def _count_services(c: Counter, org_ids, moves: "Moves"):
    qs = _in(Enrolment.objects.all(), "organisation_id", org_ids)
    for r in (
        qs.annotate(
            m=TruncMonth("requested_at", tzinfo=clock.HELSINKI),
            **_dims("client__", "requested_at", tz=True),
        )
        .values("organisation_id", "m", "service__kind", "tg", "lang", "band")
        .annotate(n=Count("id"))
        .order_by()
    ):
        c.add(r["organisation_id"], Metric.ENROLMENTS, r["m"], tg=r["tg"], lang=r["lang"],
              band=r["band"], key=r["service__kind"], n=r["n"])  # fmt: skip
    for r in (
        qs.exclude(ended_on=None)
        .filter(status__in=["completed", "interrupted"])
        .annotate(m=TruncMonth("ended_on"), **_dims("client__", "ended_on"))
        .values("organisation_id", "m", "service__kind", "status", "tg", "lang", "band")
        .annotate(n=Count("id"))
        .order_by()
    ):
        c.add(r["organisation_id"], Metric.ENROLMENT_ENDS, r["m"], tg=r["tg"],
              lang=r["lang"], band=r["band"], key=f"{r['service__kind']}:{r['status']}",
              n=r["n"])  # fmt: skip
    att = _in(Attendance.objects.all(), "enrolment__organisation_id", org_ids)
    for r in (
        att.annotate(m=TruncMonth("on"), **_dims("enrolment__client__", "on"))
        .values("enrolment__organisation_id", "m", "enrolment__service__kind", "tg", "lang",
                "band")
        .annotate(h=Sum("hours"))
        .order_by()
    ):  # fmt: skip
        c.add(r["enrolment__organisation_id"], Metric.ATTENDANCE_HOURS, r["m"], tg=r["tg"],
              lang=r["lang"], band=r["band"], key=r["enrolment__service__kind"],
              n=round(r["h"] or 0))  # fmt: skip
    # With the organisation responsible for the client on the test day: a client who moved
    # (`Moves`) is counted apart.
    tests = _in(
        LanguageTestResult.objects.filter(~moves.moved("client_id")),
        "client__responsible_organisation_id",
        org_ids,
    )
    # People, not results: a final test gives a level for up to four skills, so counting
    # results showed two people reaching B1.1 in every skill as "8", past the rule of five.
    for r in (
        tests.annotate(m=TruncMonth("taken_on"), **_dims("client__", "taken_on"))
        .values("client__responsible_organisation_id", "m", "level", "tg", "lang", "band")
        .annotate(n=Count("client_id", distinct=True))
        .order_by()
    ):
        c.add(r["client__responsible_organisation_id"], Metric.LANGUAGE_LEVELS, r["m"],
              tg=r["tg"], lang=r["lang"], band=r["band"], key=r["level"], n=r["n"])  # fmt: skip
    # A person once per level and month in the whole country too: with the organisation
    # holding them on that month's first test of the level (one reaching B1.1 before a
    # move and again after it in the same month is the first's).
    wanted = _wanted(org_ids)
    first: dict[tuple[int, dt.date, str], dt.date] = {}
    ids = moves.touching(wanted)
    for start in range(0, len(ids), ID_CHUNK):
        for cid, taken_on, level in LanguageTestResult.objects.filter(
            client_id__in=ids[start : start + ID_CHUNK]
        ).values_list("client_id", "taken_on", "level"):
            key = (cid, month_start(taken_on), level)
            if key not in first or taken_on < first[key]:
                first[key] = taken_on
    for (cid, month, level), taken_on in first.items():
        org = held_on(moves.by_client[cid], taken_on)
        if wanted(org):
            _created, basis, tongue, byear = moves.clients[cid]
            c.add(org, Metric.LANGUAGE_LEVELS, month, basis=basis, lang=tongue, byear=byear,
                  key=level)  # fmt: skip


def _count_contacts(c: Counter, org_ids, *, upto: dt.datetime | None = None,
                    ids: list[int] | None = None) -> None:  # fmt: skip
    """Contacts (client or partner) with every dimension: the language of the contact, and
    target group and age band when the contact is linked to a client ("unknown" otherwise).
    By reason and by channel only by the language of the contact (target group and age band
    are "not broken down" there): most contacts are anonymous, and the full breakdown would
    store nearly a cell per contact. `upto`: only those logged at or before it; `ids`: only
    these contacts."""
    if ids is not None:
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            _count_contact_rows(c, org_ids, Q(id__in=chunk), Q(contact_id__in=chunk))
    elif upto is not None:
        _count_contact_rows(c, org_ids, Q(logged_at__lte=upto), Q(contact__logged_at__lte=upto))
    else:
        _count_contact_rows(c, org_ids, Q(), Q())


def _count_contact_rows(c: Counter, org_ids, contacts: Q, reasons: Q) -> None:
    qs = _in(Contact.objects.filter(contacts), "organisation_id", org_ids)
    # PostgreSQL: a transaction for its work_mem; SQLite's would take the database's write
    # lock (IMMEDIATE) for a read, and hold every writer back meanwhile.
    postgres = connection.vendor == "postgresql"
    with transaction.atomic() if postgres else contextlib.nullcontext():
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '128MB'")
        for r in (
            qs.annotate(m=TruncMonth("contacted_on"),
                        **_dims("client__", "contacted_on", language="language"))
            .values("organisation_id", "m", "kind", "tg", "lang", "band")
            .annotate(n=Count("id"))
            .order_by()
        ):  # fmt: skip
            c.add(r["organisation_id"], Metric.CONTACTS, r["m"], key=r["kind"], n=r["n"],
                  tg=r["tg"], lang=r["lang"], band=r["band"])  # fmt: skip
        lang_only = _language_only("language")
        for r in (
            qs.annotate(m=TruncMonth("contacted_on"), lang=lang_only)
            .values("organisation_id", "m", "channel", "lang")
            .annotate(n=Count("id"))
            .order_by()
        ):
            c.add(r["organisation_id"], Metric.CONTACTS_CHANNEL, r["m"], key=r["channel"],
                  n=r["n"], tg="", lang=r["lang"], band="")  # fmt: skip
        for r in (
            _in(ContactReason.objects.filter(reasons), "organisation_id", org_ids)
            .annotate(m=TruncMonth("contacted_on"), lang=_language_only("contact__language"))
            .values("organisation_id", "m", "reason__code", "lang")
            .annotate(n=Count("id"))
            .order_by()
        ):
            c.add(r["organisation_id"], Metric.CONTACTS_REASON, r["m"], key=r["reason__code"],
                  n=r["n"], tg="", lang=r["lang"], band="")  # fmt: skip


def _language_only(field: str) -> Case:
    return Case(When(**{field: ""}, then=Value(UNKNOWN)), default=F(field))


def _count_placement(c: Counter, org_ids):
    agreements = _in(
        PlacementAgreement.objects.filter(
            status__in=[AgreementStatus.SIGNED, AgreementStatus.REVISED]
        ),
        "municipality_id",
        org_ids,
    )
    for a in agreements.values(
        "municipality_id", "year", "places_quota_refugee", "places_international_protection",
        "places_unaccompanied_minor",
    ):  # fmt: skip
        jan = dt.date(a["year"], 1, 1)
        for key in ("quota_refugee", "international_protection", "unaccompanied_minor"):
            c.add(a["municipality_id"], Metric.PLACES_AGREED, jan, key=key,
                  n=a[f"places_{key}"], dims=False)  # fmt: skip
    arrived = _in(
        PlacementPerson.objects.exclude(placement__arrived_on=None), "placement__municipality_id",
        org_ids,
    )  # fmt: skip
    for r in (
        arrived.values("placement__municipality_id", "placement__year", "placement__category")
        .annotate(n=Count("id"))
        .order_by()
    ):
        c.add(r["placement__municipality_id"], Metric.PLACES_USED,
              dt.date(r["placement__year"], 1, 1), key=r["placement__category"], n=r["n"],
              dims=False)  # fmt: skip


def _count_money(c: Counter, org_ids, today: dt.date):
    orgs = None if org_ids is None else set(org_ids)
    for year in range(FIRST_MONTH.year, today.year + 1):
        try:
            # The organisations' fingerprints are taken before each report reads them: an
            # edit while it runs (minutes for the whole country) leaves the stored figures
            # under the old fingerprint, so they are seen as stale, not as current.
            if orgs is None:
                keys = organisation_keys(
                    list(
                        Organisation.objects.filter(kind__in=RECIPIENT_KINDS).values_list(
                            "id", flat=True
                        )
                    )
                )
                reports = [compensation_report(span=Span.of(year), per_month=True)]
                c.money_reports.append((year, reports[0], None, keys))
            else:
                reports = []
                for o in Organisation.objects.filter(id__in=orgs, kind__in=RECIPIENT_KINDS):
                    keys = organisation_keys([o.id])
                    r = compensation_report(span=Span.of(year), organisation=o, per_month=True)
                    reports.append(r)
                    c.money_reports.append((year, r, [o.id], keys))
        except DomainError:  # a year without known amounts: nothing to show for it
            continue
        for report in reports:
            region_ids = {r.organisation_id for r in report.rows if r.kind == OrganisationKind.WELFARE_REGION}  # fmt: skip
            for oid, months in report.months.items():
                if orgs is not None and oid not in orgs:
                    continue
                # The persons behind the amount, beside it: the amount is persons × a fixed
                # monthly sum, so outside the viewer's own organisation it is hidden when
                # they are under five (`selectors.compensation_figure`). A welfare region is
                # paid for its municipalities' persons: its count is kept apart, not added.
                persons_key = PERSONS_REGION if oid in region_ids else PERSONS
                for mt in months:
                    month = dt.date(mt.year, mt.month, 1)
                    c.add(oid, Metric.COMPENSATION_CALCULATED, month, n=round(mt.amount),
                          dims=False)  # fmt: skip
                    c.add(oid, Metric.COMPENSATION_CALCULATED, month, key=persons_key,
                          n=mt.persons, dims=False)  # fmt: skip
    claims = _in(Claim.objects.all(), "organisation_id", org_ids)
    submitted = (
        ClaimLine.objects.filter(claim__in=claims.exclude(submitted_on=None))
        .values("claim__organisation_id", "claim__submitted_on")
        .annotate(a=Sum("amount"))
        .order_by()
    )
    for r in submitted:
        c.add(r["claim__organisation_id"], Metric.CLAIMS_SUBMITTED, r["claim__submitted_on"],
              n=round(r["a"] or Decimal(0)), dims=False)  # fmt: skip
    for r in (
        claims.filter(status=ClaimStatus.PAID)
        .exclude(paid_on=None)
        .values("organisation_id", "paid_on")
        .annotate(a=Sum("approved_amount"))
        .order_by()
    ):
        c.add(r["organisation_id"], Metric.CLAIMS_PAID, r["paid_on"],
              n=round(r["a"] or Decimal(0)), dims=False)  # fmt: skip


def compute(
    org_ids: list[int] | None, *, today: dt.date, money: bool = True, moves: Moves | None = None
) -> tuple[Counter, dict]:
    """Count every metric for these organisations (None: all) but the guidance contacts,
    which the refresh counts apart (`_count_contacts`: by time up to the watermark, then
    added by id). `money=False` leaves out calculated compensation and claims (a full
    refresh counts those once for all)."""
    c = Counter()
    impact: dict[tuple, int] = defaultdict(int)
    moves = moves or Moves()
    _count_clients(c, org_ids, moves)
    _count_assessments(c, org_ids, today, moves)
    _count_plans(c, org_ids, today, impact, moves)
    _count_services(c, org_ids, moves)
    _count_placement(c, org_ids)
    if money:
        _count_money(c, org_ids, today)
    return c, impact


# ---------------------------------------------------------------- writing


def _write_orgs(org_ids: list[int], c: Counter, impact: dict, *, keep=()) -> int:
    """Replace the organisations' cells with the counted ones, but for the metrics `keep`."""
    scopes = [org_scope(o) for o in org_ids]
    Cell.objects.filter(scope__in=scopes).exclude(metric__in=keep).delete()
    ImpactCell.objects.filter(scope__in=scopes).delete()
    cells = [
        Cell(metric=m, scope=org_scope(o), month=mo, target_group=tg, language=lang,
             age_band=band, key=key, value=v)
        for (o, m, mo, tg, lang, band, key), v in c.values.items()
        if v
    ]  # fmt: skip
    _insert(Cell, cells)
    rows = [
        ImpactCell(scope=org_scope(o), start_month=sm, plan_kind=kind, target_group=tg,
                   services=svc, months=months, event=event, n=n)
        for (o, sm, kind, tg, svc, months, event), n in impact.items()
    ]  # fmt: skip
    _insert(ImpactCell, rows)
    return len(cells)


def _insert(model, objs: list) -> None:
    """Write rollup rows: COPY on PostgreSQL (ids from the column's identity), batches of
    `executemany` elsewhere."""
    if not objs:
        return
    if connection.vendor == "postgresql":
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        cols = ", ".join(f'"{f.column}"' for f in fields)
        sql = f'COPY "{model._meta.db_table}" ({cols}) FROM STDIN'
        with connection.cursor() as cursor, cursor.connection.cursor() as raw:
            with raw.copy(sql) as copy:
                for obj in objs:
                    copy.write_row([getattr(obj, f.attname) for f in fields])
        return
    for start in range(0, len(objs), 20000):
        chunk = objs[start : start + 20000]
        for obj, pk in zip(chunk, allocate_ids(model, len(chunk)), strict=True):
            obj.pk = pk
        fast_insert(chunk, batch_size=5000)


def _add_to_cells(c: Counter) -> int:
    """Add counted values to the organisations' cells (the contacts logged since the last
    refresh): each (organisation, metric, month) touched is read, summed and written again."""
    if not c.values:
        return 0
    touched = {(org_scope(o), m, mo) for (o, m, mo, *_dims) in c.values}
    merged: dict[tuple, int] = defaultdict(int)
    for (o, m, mo, tg, lang, band, key), v in c.values.items():
        merged[(org_scope(o), m, mo, tg, lang, band, key)] += v
    months_of: dict[str, set] = defaultdict(set)
    for scope, _m, month in touched:
        months_of[scope].add(month)
    where = Q()
    for scope, months in months_of.items():
        where |= Q(scope=scope, month__in=months)
    old = Cell.objects.filter(where, metric__in=CONTACT_METRICS).values_list(
        "id", "scope", "metric", "month", "target_group", "language", "age_band", "key", "value"
    )
    replaced = []
    for cid, scope, metric, month, tg, lang, band, key, value in old:
        if (scope, metric, month) in touched:
            replaced.append(cid)
            merged[(scope, metric, month, tg, lang, band, key)] += value
    for start in range(0, len(replaced), ID_CHUNK):
        Cell.objects.filter(id__in=replaced[start : start + ID_CHUNK]).delete()
    cells = [
        Cell(scope=scope, metric=m, month=mo, target_group=tg, language=lang, age_band=band,
             key=key, value=v)
        for (scope, m, mo, tg, lang, band, key), v in merged.items()
        if v
    ]  # fmt: skip
    _insert(Cell, cells)
    return len(cells)


_CELL_COLS = "metric, month, target_group, language, age_band, key"
_IMPACT_COLS = "start_month, plan_kind, target_group, services, months, event"


def _aggregate(scope: str, members: list[str] | None) -> None:
    """Rewrite `scope`'s cells as the sums of its members' organisation cells
    (members None: every organisation, the national scope)."""
    Cell.objects.filter(scope=scope).delete()
    ImpactCell.objects.filter(scope=scope).delete()
    if members is None:
        where, params = "scope LIKE %s", ["org:%"]
    else:
        if not members:
            return
        where = "scope IN (" + ", ".join(["%s"] * len(members)) + ")"
        params = list(members)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO insights_cell (scope, {_CELL_COLS}, value) "  # noqa: S608 - fixed names
            f"SELECT %s, {_CELL_COLS}, SUM(value) FROM insights_cell WHERE {where} "
            f"GROUP BY {_CELL_COLS}",
            [scope, *params],
        )
        cursor.execute(
            f"INSERT INTO insights_impactcell (scope, {_IMPACT_COLS}, n) "  # noqa: S608
            f"SELECT %s, {_IMPACT_COLS}, SUM(n) FROM insights_impactcell WHERE {where} "
            f"GROUP BY {_IMPACT_COLS}",
            [scope, *params],
        )


def changed_organisations(since: dt.datetime) -> set[int]:
    """Organisations with rows written after `since` (but guidance contacts, which are
    added, not recounted: `_contacts_after`), and the welfare regions of the municipalities a
    changed client lives or lived in (a region's calculated compensation comes from its
    municipalities' residents; a plan does not change it)."""
    out: set[int] = set()
    lived_in: set[int] = set()
    changed_clients = Client.objects.filter(updated_at__gt=since)
    # the assessment-start tasks only: the one kind the rollups read
    changed_tasks = Task.objects.filter(kind=Task.Kind.ASSESSMENT_START, computed_at__gt=since)
    sources = [  # (rows, organisation field, whether it is where a client lives or lived)
        (changed_clients, "responsible_organisation_id", False),
        # compensation goes to the municipality of residence: a move, or a client whom
        # another organisation serves, changes the figures of every municipality the
        # client has lived in (a residence row carries no timestamp; its client does),
        # superseded residences included: a correction takes the month from their municipality
        (changed_clients, "home_municipality_id", True),
        (Residence.objects.filter(client__in=changed_clients), "municipality_id", True),
        # a changed client's dimensions (target group, language, age band) move in every
        # organisation that counts them: their assessments', plans' and services' too
        (Assessment.objects.filter(client__in=changed_clients), "organisation_id", False),
        (IntegrationPlan.objects.filter(client__in=changed_clients), "organisation_id", False),
        (Enrolment.objects.filter(client__in=changed_clients), "organisation_id", False),
        (Assessment.objects.filter(updated_at__gt=since), "organisation_id", False),
        (IntegrationPlan.objects.filter(updated_at__gt=since), "organisation_id", False),
        (Enrolment.objects.filter(updated_at__gt=since), "organisation_id", False),
        (Enrolment.objects.filter(updated_at__gt=since), "client__responsible_organisation_id", False),
        # the "guided to a service in time" figure and the impact's "services used" of every
        # plan of the client read all the client's enrolments: the plans' organisations too
        # (a plan by an employment authority, an enrolment by a third organisation)
        (
            IntegrationPlan.objects.filter(
                client__in=Enrolment.objects.filter(updated_at__gt=since).values("client_id")
            ),
            "organisation_id",
            False,
        ),
        (Placement.objects.filter(updated_at__gt=since), "municipality_id", False),
        (PlacementAgreement.objects.filter(updated_at__gt=since), "municipality_id", False),
        (Claim.objects.filter(updated_at__gt=since), "organisation_id", False),
        # a deadline task opened, closed or lapsed by the nightly sweep, with no other row
        # written: the deadline compliance reads the tasks (its day, missed when still open
        # or lapsed after its day). `computed_at` is stamped only when the sweep changes one
        (changed_tasks, "organisation_id", False),
        # a client who moved: out of the one organisation's figures, into the other's; and
        # a changed client who moved before, counted also by the organisations that held them
        # (their registration, their moves, their tests of the time)
        # and a moved client's assessment or plan written: counted with whoever held them
        # on its days (`held_by`), the record's organisation now or not
        *(
            (ResponsibilityChange.objects.filter(when), field, False)
            for when in (
                Q(at__gt=since),
                Q(client__in=changed_clients),
                Q(client__in=Assessment.objects.filter(updated_at__gt=since).values("client_id")),
                Q(client__in=IntegrationPlan.objects.filter(updated_at__gt=since).values("client_id")),
                # the plans' deadlines and cohorts read all the client's enrolments
                Q(client__in=Enrolment.objects.filter(updated_at__gt=since).values("client_id")),
                Q(client__in=changed_tasks.values("client_id")),
            )
            for field in ("from_organisation_id", "to_organisation_id")
        ),
    ]  # fmt: skip
    for qs, field, lived in sources:
        ids = set(qs.values_list(field, flat=True).distinct().order_by())
        out |= ids
        if lived:
            lived_in |= ids
    out |= set(
        Organisation.objects.filter(
            id__in=lived_in - {None},
            kind=OrganisationKind.MUNICIPALITY,
            welfare_region__isnull=False,
        ).values_list("welfare_region_id", flat=True)
    )
    out.discard(None)
    return out


def _contacts_after(since: dt.datetime) -> list[tuple[int, int, dt.datetime]]:
    """(id, organisation, logged at) of the contacts logged after `since` that are
    committed now."""
    return list(
        Contact.objects.filter(logged_at__gt=since)
        .order_by("id")
        .values_list("id", "organisation_id", "logged_at")
    )


def _store_expected(money_reports: list, computed_at: dt.datetime) -> None:
    """The stored compensation figures from the reports the money count computed."""
    for year, report, org_ids, keys in money_reports:
        expected_months_store(
            report=report, year=year, organisation_ids=org_ids, computed_at=computed_at,
            organisation_keys_then=keys,
        )  # fmt: skip


class RefreshTakenOver(RuntimeError):
    """Another refresh took over from this one (it ran longer than STALE_RUN)."""


def _hold(started_at: dt.datetime) -> RefreshState:
    """Within a write's transaction: lock the state and make sure this run still holds the
    refresh. A run taken over as dead (STALE_RUN) while it was only slow must write nothing
    more beside the run that took over: neither an organisation's cells (counted up to its
    own, older watermark) nor the contacts it would add."""
    state = RefreshState.objects.select_for_update().get(id=1)
    if state.running_since != started_at:
        raise RefreshTakenOver(f"the refresh started at {started_at} was taken over")
    return state


# A row's timestamp is taken by the application a moment before its statement runs, and the
# application's clock may differ a little from the database's.
WRITE_SKEW = dt.timedelta(seconds=5)
# A transaction open longer than this is not waited for (it holds the watermark back no
# further; the nightly full refresh counts what it writes).
LONGEST_WRITE = dt.timedelta(hours=1)


def safe_watermark(started_at: dt.datetime) -> dt.datetime:
    """The moment before which every change is committed when this refresh starts reading.

    A refresh reads after `started_at`, but a transaction still open then may already have
    stamped its rows with an earlier time and commit only after the refresh has read them.
    Taking `started_at` as the next watermark would skip those rows until the nightly full
    refresh. So the watermark goes back to the start of the oldest transaction then open
    (PostgreSQL tells; SQLite writes one transaction at a time and cannot), less a margin
    for the clocks. The next refresh recomputes the organisations of the rows in between
    once more: a recompute gives the same cells, at the cost of the recompute (a long
    transaction, up to `LONGEST_WRITE`, makes every refresh meanwhile redo what changed
    since it began). PostgreSQL shows another role's transactions only to a superuser or a
    member of `pg_read_all_stats` (docs/insights.md)."""
    oldest = started_at
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # (the activity view is read once per transaction unless told to read it again)
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                " AND xact_start IS NOT NULL"
            )
            (xact_start,) = cursor.fetchone()
        if xact_start is not None:
            oldest = max(min(oldest, xact_start), started_at - LONGEST_WRITE)
    return oldest - WRITE_SKEW


@contextlib.contextmanager
def _liveness_lock():
    """Yields whether a refresh's mark found now can only be a dead run's.

    On PostgreSQL a running refresh holds a session-level advisory lock, which the server
    releases when the process or its connection dies (a worker killed, a machine
    restarted). Getting the lock while `running_since` is set means the run that set it is
    gone: the next refresh takes over at once instead of waiting for STALE_RUN (three
    hours of stale dashboards). SQLite has no such lock: there the mark alone decides, as it
    does for a refresh started inside one (the lock is the session's, taken again at will)."""
    if connection.vendor != "postgresql" or refresh_session_alive(own=True):
        yield False
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [REFRESH_LOCK])
        (got,) = cursor.fetchone()
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [REFRESH_LOCK])


def refresh(*, full: bool = False) -> dict:
    """Bring the rollups up to date; returns what was done. Only one refresh runs at a time:
    when another is running, this one returns at once with `skipped`; a full one skipped
    so leaves its request, and the next refresh to start is a full one (the nightly full
    refresh must not be lost to a regular one that happened to run at the time)."""
    with _liveness_lock() as holder_dead:
        return _refresh_once(full=full, holder_dead=holder_dead)


def _refresh_once(*, full: bool, holder_dead: bool) -> dict:
    started_at = clock.now()
    with transaction.atomic():
        RefreshState.get()
        state = RefreshState.objects.select_for_update().get(id=1)
        running = state.running_since and started_at - state.running_since < STALE_RUN
        if running and holder_dead:
            logger.warning("the refresh marked running since %s died (its database session "
                           "is gone): this one takes over", state.running_since)  # fmt: skip
        elif running:
            if full:  # the latest request: one made while a requested full run runs stays owed
                state.full_requested_at = started_at
                state.save(update_fields=["full_requested_at"])
            return {"full": full, "skipped": True, "organisations": 0, "aggregate_scopes": 0,
                    "cells_written": 0, "seconds": 0.0}  # fmt: skip
        state.running_since = started_at
        state.save(update_fields=["running_since"])
    try:
        return _refresh(state, full=full, started_at=started_at,
                        watermark=safe_watermark(started_at))  # fmt: skip
    finally:
        # only its own mark: a run taken over leaves the mark of the one that took over
        RefreshState.objects.filter(id=1, running_since=started_at).update(running_since=None)


def _refresh(
    state: RefreshState, *, full: bool, started_at: dt.datetime, watermark: dt.datetime
) -> dict:
    t0 = time.perf_counter()
    today = clock.today()
    full = full or state.watermark_at is None or state.full_requested_at is not None
    if (
        not full
        and (state.full_refreshed_at is None or started_at - state.full_refreshed_at > MONEY_RETRY)
        and stored_years_stale(range(FIRST_MONTH.year, today.year + 1))
    ):
        # the stored compensation no longer matches amounts, rules or organisations edited
        # since (an administrator's change touches every organisation at once); at most one
        # such full run an hour, should the store stay stale for another reason
        logger.warning("stored compensation is stale (amounts, rules or organisations "
                       "edited since): this refresh runs in full")  # fmt: skip
        full = True
    if full:
        # Contacts logged up to the watermark are counted by their time, those after it by
        # id (a contact committed during the count is left to the next refresh, not
        # half-counted). Read before the organisations: each contact's is among them.
        after = _contacts_after(watermark)
        org_ids = list(Organisation.objects.order_by("id").values_list("id", flat=True))
        new_contacts: list[tuple[int, int, dt.datetime]] = []
        counted_after = [cid for cid, _org, _at in after]
        # Until this run commits its watermark, a refresh after it must count everything
        # again: the batches it commits already hold contacts the old watermark does not
        # account for.
        RefreshState.objects.filter(id=1).update(watermark_at=None)
    else:
        # The contacts logged since the last refresh that its cells do not include yet.
        watermark = max(watermark, state.watermark_at)
        already = set(state.contacts_after_watermark)
        after = _contacts_after(state.watermark_at)
        new_contacts = [row for row in after if row[0] not in already]
        counted_after = [cid for cid, _org, at in after if at > watermark]
        org_ids = sorted(changed_organisations(state.watermark_at))
    written = 0
    if full:
        # Money is counted once for the whole country (calculated compensation streams every
        # client once); everything else per batch of organisations, so memory stays bounded.
        money = Counter()
        _count_money(money, None, today)
        money_reports = money.money_reports
        money_by_org: dict[int, dict] = defaultdict(dict)
        for k, v in money.values.items():
            money_by_org[k[0]][k] = v
        stale = {
            s
            for s in Cell.objects.filter(scope__startswith="org:")
            .values_list("scope", flat=True)
            .distinct()
            .order_by()
        } - {org_scope(o) for o in org_ids}
        with transaction.atomic():
            _hold(started_at)
            Cell.objects.filter(scope__in=stale).delete()
            ImpactCell.objects.filter(scope__in=stale).delete()
    # The compensation figures are stored in the last transaction, all at once, so the
    # State's view, which reads every organisation's rows, never shows some batches of this
    # refresh beside others of the last one. (Each batch is still counted at its own
    # moment: a move committed between two batches' counts can show the person in both or
    # neither until the next refresh counts both again.)
    if not full:
        money_reports = []
    moves = Moves()  # the clients who moved, read once for every batch
    for start in range(0, len(org_ids), ORG_BATCH):
        batch = org_ids[start : start + ORG_BATCH]
        c, impact = compute(batch, today=today, money=not full, moves=moves)
        if full:
            for oid in batch:
                c.values.update(money_by_org.get(oid, {}))
            members = set(batch)
            _count_contacts(c, batch, upto=watermark)
            _count_contacts(c, batch, ids=[cid for cid, org, _at in after if org in members])
        with transaction.atomic():
            _hold(started_at)
            written += _write_orgs(batch, c, impact, keep=() if full else CONTACT_METRICS)
        money_reports += c.money_reports
    contacts = Counter()
    _count_contacts(contacts, None, ids=[cid for cid, _org, _at in new_contacts])
    parents = parent_scopes()
    touched = set(org_ids) | {org for _cid, org, _at in new_contacts}
    aggregated = 0
    with transaction.atomic():
        held = _hold(started_at)
        written += _add_to_cells(contacts)
        for scope, members in parents.items():
            if full or touched & set(members):
                _aggregate(scope, [org_scope(m) for m in members])
                aggregated += 1
        if full or touched:
            _aggregate("national", None)
            aggregated += 1
        _store_expected(money_reports, started_at)
        if full:
            expected_months_prune(before=started_at)
        state.watermark_at = watermark
        state.contacts_after_watermark = counted_after
        state.refreshed_at = clock.now()
        state.refreshed_on = today
        state.generation += 1
        if full:
            state.full_refreshed_at = state.refreshed_at
        # a full refresh asked for while this one ran is still owed (it may see more)
        state.full_requested_at = (
            None
            if full and (held.full_requested_at is None or held.full_requested_at <= started_at)
            else held.full_requested_at
        )
        state.seconds = round(time.perf_counter() - t0, 2)
        state.scopes = len(touched) + aggregated
        state.cells = Cell.objects.count()
        state.running_since = started_at
        state.save()
    if connection.vendor == "postgresql" and full:
        # A full refresh replaces every row: without a vacuum the dashboards' index scans
        # step over the dead ones until autovacuum comes (EXPLAIN: 3× the rows fetched).
        verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            cursor.execute(f"{verb} insights_cell")
            cursor.execute(f"{verb} insights_impactcell")
    return {
        "full": full,
        "skipped": False,
        "organisations": len(touched),
        "contacts_added": len(new_contacts),
        "aggregate_scopes": aggregated,
        "cells_written": written,
        "seconds": state.seconds,
    }
