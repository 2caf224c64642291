"""National-scale synthetic data for benchmarks, dashboards and the impact evaluation.

Adds `clients` clients spread over all municipalities (weighted towards the cities that
receive most immigrants) and over the months from 2023-01-01 to today, with their names,
languages, residence and timeline; their assessments (with language skills), integration
plans (ended with an outcome or still in force, some extended), the assessment-start and
guidance-to-service deadline tasks, enrolments in each municipality's services with monthly
attendance and final language test results; guidance contacts (20 per client by default,
60 % of the client contacts linked to a client of the same organisation) with their
reasons; the municipal-placement agreements and placements of a share of municipalities;
access grants, as accepted referrals leave them, from a region's municipalities to its
largest city (`generate_grants`); and clients who moved from another municipality, as an
accepted transfer leaves them (`generate_transfers`). Users: counsellors, guidance advisers and a manager per municipality
(`scale.<code>.<n>`, `scale.<code>.guidance.<n>`, `scale.<code>.manager`), a manager per
welfare region (`scale.hva-NN.manager`) and a national manager at KEHA
(`scale.keha.manager`), all with the password `SCALE_PASSWORD`.

Deterministic for a seed: every draw comes from `random.Random` streams seeded from the seed,
in a fixed order (no `hash()`, no set order). Written in bulk (`koto.demo.scale_writer`:
PostgreSQL COPY, SQLite executemany) outside the audited services: this is load-test data,
never production data, and it has no audit trail."""

import bisect
import csv
import datetime as dt
import json
import math
import random
from array import array
from collections.abc import Callable
from itertools import accumulate

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Min

from koto.accounts.models import Membership, User
from koto.assessments.models import Assessment, LanguageSkill
from koto.assessments.scales import Level, Skill
from koto.clients.models import (
    AccessGrant,
    Client,
    ClientEvent,
    ClientLanguage,
    ClientName,
    HandedOverRecord,
    Meeting,
    Residence,
    ResidenceBasis,
    ResponsibilityChange,
    Task,
)
from koto.clients.services import _sort_key
from koto.clients.synthetic import BASES, HETU_CHECK, ORIGINS, PROTECTION
from koto.core import clock
from koto.core.roles import Role
from koto.core.text import search_key
from koto.demo.scale_writer import PG_NULL, Sink, pg_text
from koto.guidance import summary as guidance_summary
from koto.guidance.models import Channel, Contact, ContactReason, PartnerType, ReasonCode
from koto.guidance.services import DEFAULT_REASONS, reasons_seed
from koto.law import (
    add_months,
    assessment_start_due,
    extension_limit,
    guidance_to_service_due,
    plan_end_limit,
)
from koto.law.params import ParameterMissing
from koto.offerings.models import (
    KIND_THEME,
    Attendance,
    CivicTopic,
    Enrolment,
    LanguageTestResult,
    Service,
    ServiceKind,
    Track,
)
from koto.offerings.services import seats_recount_all
from koto.organisations.models import Organisation, OrganisationKind
from koto.organisations.reference import REFERENCE_DIR, ely_code, load_reference_data
from koto.placement.models import (
    AgreementStatus,
    PlaceCategory,
    Placement,
    PlacementAgreement,
    PlacementPerson,
    PlacementSource,
    PlacementStatus,
    WelfareConsultation,
)
from koto.plans.models import Extension, ExtensionReason, IntegrationPlan, Outcome
from koto.referrals.models import (
    AccessScope,
    Referral,
    ReferralKind,
    ReferralStatus,
    ReferralStep,
    shared_copy,
)
from koto.referrals.response_times import response_due_on

# Relative weights of the largest receiving municipalities; every other municipality weighs 1.
CITY_WEIGHTS = {"091": 120, "049": 45, "092": 45, "837": 35, "853": 30, "564": 20, "398": 18, "179": 15, "297": 12, "286": 10, "109": 8, "743": 6, "405": 6, "609": 5, "245": 5}  # fmt: skip
SCALE_PASSWORD = "Koto-scale-2026"
START = dt.date(2023, 1, 1)  # the history the dashboards show starts here
CONTACTS_PER_CLIENT = 20
CLIENT_CHUNK = 10_000
CONTACT_CHUNK = 50_000
SLOTS = 36  # quarter hours from 8:00 to 16:45
ONE_DAY = dt.timedelta(days=1)
N = PG_NULL  # NULL in the rows
# Meetings of a plan: agreeing it, then a follow-up every three to four months while it runs.
MEETING_AGREE = "Kotoutumissuunnitelman laatiminen"
MEETING_FOLLOW_UP = "Suunnitelman seuranta"
FOLLOW_UPS = 4  # at most, after the first meeting
MEETING_NO_SHOW = 0.08  # of follow-ups; half of them for an acceptable reason
# Interpreting: mode, its share, and the price per minute (€; 75–95 € an hour).
INTERPRETING = (("on_site", 0.5, 1.55), ("remote", 0.3, 1.35), ("phone", 0.2, 1.25))
INTERPRETER_PROVIDER = "Tulkkauspalvelu"
HANDOVER = "Jatkaa työllistymissuunnitelmalla: kielitaito, koulutus ja palvelut kirjattu."

Progress = Callable[[str, int], None]


def generate(
    *,
    clients: int,
    seed: int,
    contacts: int | None = None,
    batch_size: int = CLIENT_CHUNK,
    writers: int = 2,
    progress: Progress | None = None,
    as_of: dt.date | None = None,
) -> dict:
    """Add `clients` clients with their casework and `contacts` guidance contacts (20 per
    client when not given). `writers`: parallel PostgreSQL writer connections. The data is
    made as of the start of `as_of` (default: today, in Helsinki), whatever the hour of the
    run: every row is stamped before it, and the same seed and day give the same data (an
    hour's difference used to move every draw, since today's quarter hours up to the
    moment of the run weighed in)."""
    if clients < 1:
        raise ValueError("clients must be at least 1")
    if contacts is None:
        contacts = CONTACTS_PER_CLIENT * clients
    if contacts < 0 or batch_size < 1 or writers < 1:
        raise ValueError("contacts must be >= 0, batch_size and writers >= 1")
    today = as_of or clock.today()
    if not START <= today <= clock.today():
        raise ValueError(f"as_of ({today}) is not from {START} to today")
    with clock.frozen(dt.datetime.combine(today, dt.time(0), tzinfo=clock.HELSINKI)):
        return _generate(clients, seed, contacts, batch_size, writers, progress)


def _generate(clients, seed, contacts, batch_size, writers, progress) -> dict:
    now = clock.now()
    today = now.astimezone(clock.HELSINKI).date()
    load_reference_data()
    reasons_seed()
    first_id = Client.objects.order_by("-id").values_list("id", flat=True).first() or 0
    sink = Sink(writers=writers)
    try:
        world = World(today=today, clients=clients, sink=sink)
        calendar = Calendar(START, now, sink)
        casework = Casework(world, sink, calendar, seed=seed)
        made = 0
        while made < clients:
            n = min(batch_size, clients - made)
            casework.chunk(made, made + n, clients)
            made += n
            if progress:
                progress("clients", n)
        sink.barrier()  # contacts point at these clients
        placements = generate_placements(world, seed=seed)
        grants = generate_grants(world, seed=seed, after_id=first_id)
        transfers = generate_transfers(world, seed=seed, after_id=first_id)
        guidance = Guidance(world, sink, calendar, casework.client_index(), seed=seed)
        for a in range(0, contacts, CONTACT_CHUNK):
            b = min(contacts, a + CONTACT_CHUNK)
            guidance.chunk(a, b, contacts)
            if progress:
                progress("contacts", b - a)
    except BaseException:
        sink.close(raise_errors=False)
        raise
    sink.close()
    # Enrolments were written as rows: the services' stored seat counts, in one statement.
    seats_recount_all()
    # Contacts too: the guidance report's day counts, recounted from them.
    day_rows = guidance_summary.rebuild()
    sink.analyze()
    return {
        "clients": made,
        "contacts": contacts,
        "municipalities": len(world.municipalities),
        "counsellors": sum(len(v) for v in world.counsellors.values()),
        "users": world.users,
        "services": world.service_count,
        "placements": placements,
        "access_grants": grants,
        "transfers": transfers,
        "guidance_day_rows": sum(day_rows.values()),
        "rows": dict(sorted(sink.written.items())),
        "parallel_writers": sink.parallel_writers,
    }


# ------------------------------------------------------------------------------ the world


class World:
    """Organisations, users and services the generated rows point at, made idempotently (a
    second run reuses them): users with the ORM, services through the sink."""

    def __init__(self, *, today: dt.date, clients: int, sink: Sink):
        self.today = today
        self.clients = clients
        self.municipalities = list(
            Organisation.objects.filter(kind=OrganisationKind.MUNICIPALITY).order_by("code")
        )
        if not self.municipalities:
            raise ValueError("no municipalities: load the reference data first")
        self.weights = [CITY_WEIGHTS.get(m.municipality_code, 1) for m in self.municipalities]
        self.cum_weights = list(accumulate(self.weights))
        self.welfare_regions = list(
            Organisation.objects.filter(kind=OrganisationKind.WELFARE_REGION).order_by("code")
        )
        self.keha = Organisation.objects.filter(kind=OrganisationKind.KEHA).order_by("code").first()
        if self.keha is None:
            raise ValueError("no KEHA centre among the organisations")
        self._users()
        self._services(sink)
        self.reasons = [
            r.id
            for r in ReasonCode.objects.filter(code__in=[c for c, *_ in DEFAULT_REASONS]).order_by(
                "position", "code"
            )
        ]

    def _users(self) -> None:
        wanted: list[tuple[str, Organisation, str, str]] = []
        for m, w in zip(self.municipalities, self.weights, strict=True):
            code = m.municipality_code
            wanted += [(f"scale.{code}.{i}", m, Role.INTEGRATION_COUNSELLOR, f"Neuvoja {i}") for i in range(max(1, w // 4))]  # fmt: skip
            wanted += [(f"scale.{code}.guidance.{i}", m, Role.GUIDANCE_ADVISER, f"Ohjaaja {i}") for i in range(max(1, w // 15))]  # fmt: skip
            wanted.append((f"scale.{code}.manager", m, Role.MANAGER, "Esihenkilö"))
        for region in self.welfare_regions:
            wanted.append((f"scale.{region.code}.manager", region, Role.MANAGER, "Esihenkilö"))
        wanted.append(("scale.keha.manager", self.keha, Role.MANAGER, "Esihenkilö"))
        names = [u for u, *_ in wanted]
        with transaction.atomic():
            existing = set(
                User.objects.filter(username__in=names).values_list("username", flat=True)
            )
            password = make_password(SCALE_PASSWORD) if len(existing) < len(names) else ""
            User.objects.bulk_create(
                User(username=u, password=password, first_name=first, last_name=org.name_fi[:150])
                for u, org, _role, first in wanted
                if u not in existing
            )
            ids = dict(User.objects.filter(username__in=names).values_list("username", "id"))
            Membership.objects.bulk_create(
                [Membership(user_id=ids[u], organisation=org, role=role) for u, org, role, _f in wanted],
                ignore_conflicts=True,
            )  # fmt: skip
        self.users = len(wanted)
        self.counsellors: dict[int, list[int]] = {}
        self.advisers: dict[int, list[int]] = {}
        for u, org, role, _first in wanted:
            if role == Role.INTEGRATION_COUNSELLOR:
                self.counsellors.setdefault(org.id, []).append(ids[u])
            elif role == Role.GUIDANCE_ADVISER:
                self.advisers.setdefault(org.id, []).append(ids[u])

    def _services(self, sink: Sink) -> None:
        """Each municipality produces a civic orientation, an integration training, a literacy
        training and a final language test every year (made once, reused by later runs)."""
        years = range(START.year, self.today.year + 1)
        names = {f"{spec['fi']} {y}": (k, y) for y in years for k, spec in SERVICES.items()}
        self.services: dict[tuple[int, str, int], int] = {}
        for p, n, i in Service.objects.filter(
            producer__in=self.municipalities, name_fi__in=list(names)
        ).values_list("producer_id", "name_fi", "id"):
            kind, year = names[n]
            self.services[(p, kind, year)] = i
        # Room for about half of the municipality's new clients of a year at once.
        per_weight = self.clients / self.cum_weights[-1] / len(years)
        table = sink.table(Service, (
            "id", "created_at", "updated_at", "producer_id", "kind", "theme", "name_fi", "name_sv",
            "name_en", "language", "hours", "topics", "track", "target_level", "capacity",
            "starts_on", "ends_on", "place", "active",
        ))  # fmt: skip
        missing = [
            (m, w, year, kind, spec)
            for m, w in zip(self.municipalities, self.weights, strict=True)
            for year in years
            for kind, spec in SERVICES.items()
            if (m.id, kind, year) not in self.services
        ]
        first = sink.reserve(table, len(missing))
        now = sink.datetime(clock.now())
        rows = []
        for i, (m, w, year, kind, spec) in enumerate(missing, start=first):
            ends = dt.date(year + spec["years"] - 1, 12, 31)
            topics = json.dumps(spec["topics"])
            hours = spec["hours"] if spec["hours"] is not None else N
            rows.append(
                f"{i}\t{now}\t{now}\t{m.id}\t{kind}\t{KIND_THEME[kind]}\t{spec['fi']} {year}\t"
                f"{spec['sv']} {year}\t{spec['en']} {year}\tfi\t{hours}\t{topics}\t{spec['track']}\t"
                f"{spec['target']}\t{max(20, int(w * per_weight / 2))}\t{year}-01-01\t{ends.isoformat()}\t"
                f"{pg_text(m.name_fi)}\t{ends >= self.today}"
            )
            self.services[(m.id, kind, year)] = i
        sink.write({table: rows})
        sink.barrier()  # enrolments point at these
        self.service_count = len(self.services)

    def service(self, org_id: int, kind: str, year: int) -> int:
        return self.services[(org_id, kind, min(max(year, START.year), self.today.year))]


SERVICES = {
    ServiceKind.CIVIC_ORIENTATION: {"fi": "Monikielinen yhteiskuntaorientaatio", "sv": "Flerspråkig samhällsorientering", "en": "Multilingual civic orientation", "hours": 70, "topics": list(CivicTopic.values), "track": "", "target": "", "years": 1},
    ServiceKind.INTEGRATION_TRAINING: {"fi": "Kotoutumiskoulutus", "sv": "Integrationsutbildning", "en": "Integration training", "hours": 1000, "topics": [], "track": Track.STANDARD, "target": Level.B1_1, "years": 2},
    ServiceKind.LITERACY_TRAINING: {"fi": "Lukutaitokoulutus", "sv": "Läs- och skrivutbildning", "en": "Literacy training", "hours": 1000, "topics": [], "track": Track.LITERACY, "target": Level.A1_3, "years": 2},
    ServiceKind.LANGUAGE_TEST: {"fi": "Päättötesti", "sv": "Sluttest", "en": "Final language test", "hours": None, "topics": [], "track": "", "target": "", "years": 1},
}  # fmt: skip


class Calendar:
    """Days as numbers (0 = 1 January four years before `start`) with their ISO dates, the
    weights of the days from `start` to today (weekdays, summer holidays, office hours, a
    growing trend), stratified draws of sorted quarter hours, and each quarter hour's
    datetime in the rows' text form. Nothing is stamped after `now`, the moment the data is
    made: today's quarter hours from then on weigh nothing, and a row placed on one of them
    is stamped `now`."""

    MONTH_FACTOR = (0.9, 1.0, 1.05, 1.0, 1.0, 0.85, 0.45, 0.8, 1.1, 1.05, 1.05, 0.75)
    SLOT_FACTOR = tuple(0.6 if s < 4 or s >= 32 else (0.5 if 16 <= s < 20 else 1.0) for s in range(SLOTS))  # fmt: skip

    def __init__(self, start: dt.date, now: dt.datetime, sink: Sink):
        today = now.astimezone(clock.HELSINKI).date()
        self.now = now
        self.base = dt.date(start.year - 4, 1, 1)
        self.start = (start - self.base).days
        self.today = (today - self.base).days
        last = (dt.date(today.year + 6, 12, 31) - self.base).days
        self.dates = [self.base + dt.timedelta(days=i) for i in range(last + 1)]
        self.iso = [d.isoformat() for d in self.dates]
        self._sink = sink
        cum, running = [], 0.0
        span = self.today - self.start + 1
        for i in range(self.start, self.today + 1):
            on = self.dates[i]
            w = (0.75 + 0.5 * (i - self.start) / span) * (1.0 if on.weekday() < 5 else 0.06)
            w *= self.MONTH_FACTOR[on.month - 1]
            for slot in range(SLOTS):
                if i == self.today and self._time(on, slot) >= now:
                    w = 0.0  # not yet: the rest of today weighs nothing
                running += w * self.SLOT_FACTOR[slot]
                cum.append(running)
        self.cum, self.total = cum, running
        # (day - start) * SLOTS + slot -> datetime text, for start..today (filled when used)
        self.at: list[str | None] = [None] * len(cum)

    @staticmethod
    def _time(on: dt.date, slot: int) -> dt.datetime:
        return dt.datetime.combine(on, dt.time(8 + slot // 4, 15 * (slot % 4)), tzinfo=clock.HELSINKI)  # fmt: skip

    def fill(self, flat: int) -> str:
        """The datetime text of a quarter hour (`now` for one of today's still to come)."""
        day, slot = divmod(flat, SLOTS)
        at = min(self._time(self.dates[self.start + day], slot), self.now)
        text = self.at[flat] = self._sink.datetime(at)
        return text

    def day(self, on: dt.date) -> int:
        return (on - self.base).days

    def at_day(self, day: int, slot: int) -> str:
        flat = (day - self.start) * SLOTS + slot
        return self.at[flat] or self.fill(flat)

    def add_months(self, day: int, months: int) -> int:
        return (add_months(self.dates[day], months) - self.base).days

    def draw(self, rng: random.Random, a: int, b: int, total: int) -> list[int]:
        """Quarter hours (index into `at`) for items a..b-1 of `total` spread over the days by
        weight, in time order over the whole run (each item's share of the cumulative weight
        is stratified)."""
        scale, cum = self.total / total, self.cum
        n = b - a
        xs = sorted([(a + rng.random() * n) * scale for _ in range(n)])
        out: list[int] = []
        slot = min(bisect.bisect_right(cum, xs[0]), len(cum) - 1)
        done = 0
        while done < n:  # how many fall in each quarter hour, one bisect per quarter hour
            upto = n if slot == len(cum) - 1 else bisect.bisect_left(xs, cum[slot], done)
            out += [slot] * (upto - done)
            done = upto
            slot += 1
        return out


def lookup_table(values, weights, size: int = 1 << 20) -> list:
    """`values` repeated in proportion to `weights` (largest remainders) in a list of `size`:
    `rng.choices(table, k=n)` then draws by weight without a bisect per draw."""
    total = sum(weights)
    exact = [w / total * size for w in weights]
    counts = [int(e) for e in exact]
    by_remainder = sorted(range(len(values)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: size - sum(counts)]:
        counts[i] += 1
    return [v for v, c in zip(values, counts, strict=True) for _ in range(c)]


class Choice:
    """A weighted choice drawn with one random number."""

    def __init__(self, values, weights):
        self.values = tuple(values)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random):
        return self.values[bisect.bisect_right(self.cum, rng.random() * self.total)]


# ------------------------------------------------------------------ the law, cached per day


class Law:
    """The deadlines and limits of `koto.law` the rows need, once per day: task fields are
    pre-formatted (due date, then rule code, section, reasons, period and assumed)."""

    def __init__(self, calendar: Calendar):
        self.cal = calendar
        self._assessment: dict[int, tuple[int, str, str]] = {}
        self._service: dict[int, tuple[int, str, str] | None] = {}
        self._plan_limit: dict[int, int] = {}
        self._extension_limit: dict[int, int] = {}

    def _fields(self, deadline) -> tuple[int, str, str]:
        r = deadline.reason
        rule = "\t".join((r.code, pg_text(r.section), pg_text(r.text_fi), pg_text(r.text_sv),
                          pg_text(r.text_en), deadline.period_id, str(deadline.assumed)))  # fmt: skip
        due = self.cal.day(deadline.due_on)
        return due, self.cal.iso[due], rule

    def assessment_start(self, day: int) -> tuple[int, str, str]:
        out = self._assessment.get(day)
        if out is None:
            out = self._assessment[day] = self._fields(assessment_start_due(self.cal.dates[day]))
        return out

    def guidance_to_service(self, day: int) -> tuple[int, str, str] | None:
        if day not in self._service:
            try:
                self._service[day] = self._fields(guidance_to_service_due(self.cal.dates[day]))
            except ParameterMissing:  # the period has no such deadline (before 1.1.2025)
                self._service[day] = None
        return self._service[day]

    def plan_limit(self, day: int) -> int:
        out = self._plan_limit.get(day)
        if out is None:
            out = self._plan_limit[day] = self.cal.day(plan_end_limit(self.cal.dates[day], True, 0).due_on)  # fmt: skip
        return out

    def extension_limit(self, day: int) -> int:
        out = self._extension_limit.get(day)
        if out is None:
            out = self._extension_limit[day] = self.cal.day(extension_limit(self.cal.dates[day], 0).due_on)  # fmt: skip
        return out


# --------------------------------------------------------------------- casework per client

# Time to employment or studies after the plan starts: the share reached by each month
# before group effects (the hazard ratios below bring all plans together to about 15 % by
# 6 months, 35 % by 12 and 55 % by 24, counted with Kaplan–Meier: plans ending otherwise
# are censored).
EMPLOYMENT_CURVE = ((0, 0.0), (3, 0.06), (6, 0.17), (12, 0.39), (18, 0.5), (24, 0.6), (36, 0.7), (48, 0.76))  # fmt: skip
_CURVE_F = [f for _m, f in EMPLOYMENT_CURVE]
# Hazard ratios: who finds work or studies sooner.
BASIS_HAZARD = {
    ResidenceBasis.WORK: 1.6, ResidenceBasis.STUDY: 1.25, ResidenceBasis.FAMILY: 0.9,
    ResidenceBasis.EU_REGISTRATION: 1.3, ResidenceBasis.NORDIC: 1.3,
    ResidenceBasis.TEMPORARY_PROTECTION: 1.0, ResidenceBasis.QUOTA_REFUGEE: 0.65,
    ResidenceBasis.FAMILY_OF_QUOTA_REFUGEE: 0.7, ResidenceBasis.ASYLUM: 0.85,
    ResidenceBasis.SUBSIDIARY_PROTECTION: 0.8, ResidenceBasis.FAMILY_OF_PROTECTED: 0.8,
    ResidenceBasis.HUMANITARIAN: 0.8,
}  # fmt: skip
MOVE_AWAY_PER_MONTH = 0.005
DAYS_PER_MONTH = 30.44
LOW_LITERACY_TONGUES = ("ar", "prs", "so", "ti", "fa", "ku")
L = Assessment.Literacy
LITERACY = Choice((L.LATIN, L.OTHER_SCRIPT, L.LIMITED, L.NONE), (70, 15, 10, 5))
LITERACY_LOW = Choice((L.LATIN, L.OTHER_SCRIPT, L.LIMITED, L.NONE), (35, 40, 15, 10))
EDUCATION = Choice(Assessment.EducationLevel.values, (6, 10, 14, 28, 5, 6, 18, 10, 1, 2))
TRIGGER = Choice(Assessment.Trigger.values, (30, 60, 10))  # request, intake, other authority
START_LEVEL = Choice(("0", "A1.1", "A1.2", "A1.3", "A2.1", "A2.2", "B1.1"), (25, 25, 18, 12, 10, 6, 4))  # fmt: skip
TEST_LEVEL = {
    ServiceKind.INTEGRATION_TRAINING: Choice(("A1.3", "A2.1", "A2.2", "B1.1", "B1.2", "B2.1"), (8, 18, 24, 30, 15, 5)),
    ServiceKind.LITERACY_TRAINING: Choice(("A1.1", "A1.2", "A1.3", "A2.1", "A2.2"), (15, 30, 30, 18, 7)),
}  # fmt: skip
SKILLS = tuple(Skill.values)
ACK_METHODS = ("signature", "oral", "electronic")
EXTENSION_REASONS = (ExtensionReason.PARENTAL_LEAVE, ExtensionReason.ILLNESS, ExtensionReason.OTHER)
INTERRUPTIONS = (
    "Muutto toiselle paikkakunnalle",
    "Terveydelliset syyt",
    "Perhevapaa",
    "Työllistyi",
)
# kind: (share of the plan clients guided to it, days from the plan to the request, days of
# waiting, days of the course, monthly hours when attending fully)
COURSES = {
    ServiceKind.CIVIC_ORIENTATION: (0.45, (0, 45), (7, 60), (56, 100), 28),
    ServiceKind.INTEGRATION_TRAINING: (0.8, (0, 120), (14, 150), (240, 330), 88),
    ServiceKind.LITERACY_TRAINING: (0.8, (0, 120), (14, 150), (300, 420), 80),
}
# People as koto.clients.synthetic makes them (the same bases, origins, ages and facts),
# drawn with fewer random numbers.
BASIS = Choice([(basis, tuple(origins)) for basis, origins, _w in BASES], [w for *_x, w in BASES])
AGE_BANDS = Choice(((0, 6), (7, 17), (18, 29), (30, 64), (65, 80)), (8, 12, 35, 40, 5))
EVENT_CREATED = ClientEvent.Kind.CREATED


def hetu(birth: dt.date, individual: int) -> str:
    """`koto.clients.synthetic.hetu_for`, faster."""
    y = birth.year
    ddmmyy = f"{birth.day:02d}{birth.month:02d}{y % 100:02d}"
    sep = "+" if y < 1900 else ("-" if y < 2000 else "A")
    return f"{ddmmyy}{sep}{individual:03d}{HETU_CHECK[(int(ddmmyy) * 1000 + individual) % 31]}"


class HetuBits:
    """Identity codes in use, one bit per (birth date, individual number): flat memory."""

    BASE = dt.date(1850, 1, 1).toordinal()

    def __init__(self, today: dt.date):
        self.bits = bytearray(((today.toordinal() - self.BASE + 1) * 900) // 8 + 1)
        for birth, code in (
            Client.objects.exclude(hetu=None).values_list("birth_date", "hetu").iterator(chunk_size=20000)
        ):  # fmt: skip
            if birth and code and code[7:10].isdigit():
                self.take(birth, int(code[7:10]))

    def take(self, birth: dt.date, individual: int) -> bool:
        """Mark the code taken; False if it already was."""
        i = (birth.toordinal() - self.BASE) * 900 + individual
        if not 0 <= i < len(self.bits) * 8:
            return True
        byte, bit = i >> 3, 1 << (i & 7)
        if self.bits[byte] & bit:
            return False
        self.bits[byte] |= bit
        return True


class Casework:
    """Clients and everything about them, one chunk of clients at a time (one transaction)."""

    def __init__(self, world: World, sink: Sink, calendar: Calendar, *, seed: int):
        self.world, self.sink, self.cal = world, sink, calendar
        self.law = Law(calendar)
        self.seed = seed
        self.rng = random.Random(f"koto-scale:{seed}:clients")
        self.today = calendar.today
        self.hetus = HetuBits(world.today)
        self.start_count = Client.objects.count()
        self.serial = 0
        self._keys: dict[tuple[str, str], str] = {}
        # organisation id -> packed (day << 32 | client id) of every client, for the
        # contacts; the clients already in the database first.
        self._index: dict[int, list[int]] = {}
        for org_id, cid, created in (
            Client.objects.values_list("responsible_organisation_id", "id", "created_at").iterator(chunk_size=50000)
        ):  # fmt: skip
            day = max(calendar.day(created.astimezone(clock.HELSINKI).date()), 0)
            self._index.setdefault(org_id, []).append((day << 32) | cid)
        t = sink.table
        self.t_client = t(Client, (
            "id", "created_at", "updated_at", "responsible_organisation_id", "first_name", "last_name",
            "sort_key", "birth_date", "hetu", "temporary_id", "gender", "citizenship", "mother_tongue",
            "interpreter_needed", "interpreter_language", "phone", "residence_basis", "first_permit_on",
            "home_municipality_id", "home_municipality_on", "first_home_municipality_on",
            "unemployed_jobseeker", "social_assistance_long_term", "child_home_care_allowance",
            "arrived_as_unaccompanied_minor", "trafficking_victim", "other_need_identified",
            "welfare_service_needs", "counsellor_id",
        ))  # fmt: skip
        self.t_name = t(ClientName, ("client_id", "organisation_id", "kind", "first_name", "last_name", "key_last_first", "key_first_last"))  # fmt: skip
        self.t_language = t(ClientLanguage, ("client_id", "language"))
        self.t_residence = t(Residence, ("client_id", "municipality_id", "from_on"))
        self.t_event = t(ClientEvent, ("client_id", "at", "kind", "actor_id", "organisation_id", "data"))  # fmt: skip
        self.t_task = t(Task, (
            "client_id", "organisation_id", "assignee_id", "kind", "source_type", "source_id", "due_on",
            "status", "rule_code", "rule_section", "reason_fi", "reason_sv", "reason_en", "period_id",
            "assumed", "computed_at",
        ))  # fmt: skip
        self.t_assessment = t(Assessment, (
            "id", "created_at", "updated_at", "client_id", "organisation_id", "counsellor_id", "kind",
            "law_proposed_multisectoral", "trigger", "started_on", "status", "interview_on",
            "interview_language", "interpreter_used", "literacy", "education_level", "education_years",
            "education_country", "recognition_needed", "work_years", "childcare_needed",
            "welfare_needs_flag", "plan_needed", "completed_on", "version",
        ))  # fmt: skip
        self.t_skill = t(LanguageSkill, ("assessment_id", "language", "skill", "level"))
        self.t_plan = t(IntegrationPlan, (
            "id", "created_at", "updated_at", "client_id", "assessment_id", "organisation_id",
            "counsellor_id", "kind", "status", "is_first", "months_used_before", "first_plan_started_on",
            "starts_on", "ends_on", "agreed_on", "end_limit_on", "acknowledged_on",
            "acknowledgement_method", "acknowledgement_interpreter_language", "ended_on", "outcome",
            "handover_summary", "version",
        ))  # fmt: skip
        self.t_meeting = t(Meeting, (
            "id", "client_id", "organisation_id", "counsellor_id", "held_on", "purpose",
            "interpreter_language", "interpreter_mode", "interpreter_provider", "interpreter_minutes",
            "interpreter_cost", "client_no_show", "no_show_reason_accepted", "notes",
        ))  # fmt: skip
        self.t_extension = t(Extension, ("plan_id", "months", "reason", "reason_note", "previous_ends_on", "new_ends_on", "decided_on", "decided_by_id"))  # fmt: skip
        self.t_enrolment = t(Enrolment, (
            "id", "created_at", "updated_at", "service_id", "client_id", "organisation_id", "status",
            "requested_at", "offered_on", "accepted_on", "started_on", "ended_on",
            "interruption_reason", "enrolled_by_id", "version",
        ))  # fmt: skip
        self.t_attendance = t(Attendance, ("enrolment_id", "on", "monthly", "hours", "recorded_by_id"))  # fmt: skip
        self.t_result = t(LanguageTestResult, ("client_id", "enrolment_id", "taken_on", "language", "skill", "level", "recorded_by_id"))  # fmt: skip
        self.tables = (
            self.t_client, self.t_name, self.t_language, self.t_residence, self.t_assessment,
            self.t_skill, self.t_plan, self.t_extension, self.t_meeting, self.t_enrolment,
            self.t_attendance, self.t_result, self.t_task, self.t_event,
        )  # fmt: skip
        # Month starts (day numbers) for the attendance rows.
        self._months = [d for d, on in enumerate(calendar.dates) if on.day == 1]

    def _name(self, first: str, last: str) -> str:
        """first, last and both search keys of a name, tab-separated."""
        row = self._keys.get((first, last))
        if row is None:
            row = self._keys[(first, last)] = "\t".join((
                first, last, search_key(f"{last} {first}")[:310], search_key(f"{first} {last}")[:310]
            ))  # fmt: skip
        return row

    def client_index(self) -> dict[int, tuple[array, array]]:
        """Per organisation, its clients' creation days and ids, sorted by day: the contacts
        link to clients that existed on the day of the contact."""
        out = {}
        mask = (1 << 32) - 1
        for org_id in sorted(self._index):
            packed = sorted(self._index.pop(org_id))
            out[org_id] = (array("l", (p >> 32 for p in packed)), array("q", (p & mask for p in packed)))  # fmt: skip
        return out

    # -- one chunk

    def chunk(self, a: int, b: int, total: int) -> None:
        rng, cal, w, sink = self.rng, self.cal, self.world, self.sink
        n = b - a
        slots = cal.draw(rng, a, b, total)
        munis = rng.choices(w.municipalities, cum_weights=w.cum_weights, k=n)
        first_client = sink.reserve(self.t_client, n)
        ids = {
            "assessment": sink.reserve(self.t_assessment, n),
            "plan": sink.reserve(self.t_plan, n),
            "enrolment": sink.reserve(self.t_enrolment, 3 * n),
            "meeting": sink.reserve(self.t_meeting, (1 + FOLLOW_UPS) * n),
        }
        firsts = dict(ids)
        batch = {t: [] for t in self.tables}
        index = self._index
        for k in range(n):
            flat = slots[k]
            day = cal.start + flat // SLOTS
            m = munis[k]
            cid = first_client + k
            c = self._client(cid, m, day, cal.at[flat] or cal.fill(flat), batch)
            index.setdefault(m.id, []).append((day << 32) | cid)
            if c is not None:
                self._casework(c, ids, batch)
        sink.release(self.t_assessment, firsts["assessment"], n, ids["assessment"] - firsts["assessment"])  # fmt: skip
        sink.release(self.t_plan, firsts["plan"], n, ids["plan"] - firsts["plan"])
        sink.release(self.t_enrolment, firsts["enrolment"], 3 * n, ids["enrolment"] - firsts["enrolment"])  # fmt: skip
        sink.release(self.t_meeting, firsts["meeting"], (1 + FOLLOW_UPS) * n, ids["meeting"] - firsts["meeting"])  # fmt: skip
        sink.write(batch)

    def _client(self, cid: int, m: Organisation, day: int, created_at: str, batch) -> dict | None:
        """The client's own rows; returns what the casework needs when the client has a
        residence permit (asylum seekers have none yet)."""
        rng, cal, today = self.rng, self.cal, self.today
        random_ = rng.random
        basis, origins = BASIS(rng)
        citizenship, tongue, female, male, lasts = ORIGINS[origins[int(random_() * len(origins))]]
        is_female = random_() < 0.5
        names = female if is_female else male
        first = names[int(random_() * len(names))]
        last, variant = lasts[int(random_() * len(lasts))]
        lo, hi = AGE_BANDS(rng)
        age = lo + int(random_() * (hi - lo + 1))
        adult = age >= 18
        if not adult and basis in (ResidenceBasis.WORK, ResidenceBasis.STUDY):
            basis = ResidenceBasis.FAMILY  # children come with a working or studying parent
        birth = cal.dates[day] - dt.timedelta(days=age * 365 + int(random_() * 365))
        permit = home = None
        if basis == ResidenceBasis.TEMPORARY_PROTECTION:
            # A municipality of residence after a year in Finland: a client from then on.
            home = day - int(random_() * 30)
            permit = max(cal.day(birth), home - 366 - int(random_() * 200))
        elif basis != ResidenceBasis.ASYLUM_SEEKER:
            # Most become clients within three months of their permit, some much later.
            r = random_()
            lag = int(r / 0.7 * 90) if r < 0.7 else (91 + int((r - 0.7) / 0.2 * 275) if r < 0.9 else 366 + int((r - 0.9) / 0.1 * 700))  # fmt: skip
            permit = max(cal.day(birth), day - lag)
            home = min(permit + int(random_() * 60), today)
        code = None
        if home is not None and random_() < 0.85:
            individual = 2 + int(random_() * 898)
            while not self.hetus.take(birth, individual):
                individual = 2 + int(random_() * 898)
            code = hetu(birth, individual)
        self.serial += 1
        temporary = (
            N if code else f"TMP-S{self.seed % 1000:03d}{self.start_count + self.serial:09d}"
        )
        interpreter = random_() < 0.6
        phone = f"+35840{1000000 + int(random_() * 9000000)}" if adult else ""
        jobseeker = adult and age < 65 and random_() < 0.35
        social = adult and random_() < 0.12
        home_care = adult and random_() < 0.06
        protection = basis in PROTECTION
        minor_arrival = protection and 16 <= age <= 22 and random_() < 0.3
        trafficking = random_() < 0.01
        other_need = random_() < 0.05
        welfare = protection and random_() < 0.3
        counsellors = self.world.counsellors[m.id]
        counsellor = counsellors[int(random_() * len(counsellors))]
        org = m.id
        iso_home = cal.iso[home] if home is not None else N
        batch[self.t_client].append(
            f"{cid}\t{created_at}\t{created_at}\t{org}\t{first}\t{last}\t{_sort_key(first, last)}\t"
            f"{birth.isoformat()}\t{code or N}\t{temporary}\t{'female' if is_female else 'male'}\t"
            f"{citizenship}\t{tongue}\t{interpreter}\t{tongue if interpreter else ''}\t{phone}\t"
            f"{basis}\t{cal.iso[permit] if permit is not None else N}\t{org if home is not None else N}\t"
            f"{iso_home}\t{iso_home}\t{jobseeker}\t{social}\t{home_care}\t{minor_arrival}\t"
            f"{trafficking}\t{other_need}\t{welfare}\t{counsellor}"
        )
        names_ = batch[self.t_name]
        names_.append(f"{cid}\t{org}\tofficial\t{self._name(first, last)}")
        if variant != last:
            names_.append(f"{cid}\t{org}\ttransliterated\t{self._name(first, variant)}")
        if random_() < 0.4:
            batch[self.t_language].append(f"{cid}\ten")
        if home is not None:
            batch[self.t_residence].append(f"{cid}\t{org}\t{iso_home}")
        batch[self.t_event].append(f'{cid}\t{created_at}\t{EVENT_CREATED}\t{N}\t{org}\t{{"scale": true}}')  # fmt: skip
        if permit is None:
            return None
        return {
            "id": cid, "org": org, "counsellor": counsellor, "day": day, "created_at": created_at,
            "basis": basis, "age": age, "tongue": tongue, "interpreter": interpreter,
            "jobseeker": jobseeker, "welfare": welfare, "protection": protection,
            "country": citizenship[:2],
        }  # fmt: skip

    def _casework(self, c: dict, ids: dict, batch) -> None:
        """Assessment, plan, services and deadline tasks of a client entitled to them."""
        rng, cal, today = self.rng, self.cal, self.today
        random_ = rng.random
        cid, org, counsellor, age = c["id"], c["org"], c["counsellor"], c["age"]
        _due, due_iso, rule = self.law.assessment_start(c["day"])
        started = None
        if random_() < (0.3 if age < 7 else 0.86):
            r = random_()  # most start within a month, some after the two-month deadline
            lag = int(r / 0.6 * 30) if r < 0.6 else (31 + int((r - 0.6) / 0.25 * 29) if r < 0.85 else 61 + int((r - 0.85) / 0.15 * 120))  # fmt: skip
            if c["day"] + lag <= today:
                started = c["day"] + lag
        batch[self.t_task].append(
            f"{cid}\t{org}\t{counsellor}\tassessment_start\tclient\t{cid}\t{due_iso}\t"
            f"{'done' if started is not None else 'open'}\t{rule}\t{c['created_at']}"
        )
        if started is None:
            return
        aid = ids["assessment"]
        ids["assessment"] += 1
        multi = random_() < (0.5 if c["welfare"] else (0.25 if c["protection"] else 0.08))
        kind = "multisectoral" if multi else "basic"
        completed = started + 7 + int(random_() * 53)
        if completed > today:
            completed = None
        if age < 7:
            literacy = L.UNKNOWN
        else:
            literacy = (LITERACY_LOW if c["tongue"] in LOW_LITERACY_TONGUES else LITERACY)(rng)
        education = EDUCATION(rng) if age >= 16 else "9"
        plan = completed is not None and random_() < (0.25 if age < 16 else 0.7)
        slot = int(random_() * SLOTS)
        at_start = cal.at_day(started, slot)
        at_done = cal.at_day(completed, slot) if completed is not None else at_start
        iso_start = cal.iso[started]
        years = N if age < 16 else min(int(random_() * 16), age - 6)
        work = N if age < 18 else int(random_() * 15)
        recognition = age >= 18 and education in ("6", "7", "8")
        childcare = age >= 18 and random_() < 0.2
        batch[self.t_assessment].append(
            f"{aid}\t{at_start}\t{at_done}\t{cid}\t{org}\t{counsellor}\t{kind}\t{multi}\t"
            f"{TRIGGER(rng)}\t{iso_start}\t{'completed' if completed is not None else 'started'}\t"
            f"{iso_start}\t{c['tongue'] or 'fi'}\t{c['interpreter']}\t{literacy}\t{education}\t"
            f"{years}\t{c['country']}\t{recognition}\t{work}\t{childcare}\t{c['welfare']}\t"
            f"{plan if completed is not None else N}\t"
            f"{cal.iso[completed] if completed is not None else N}\t{2 if completed is not None else 1}"
        )
        events = batch[self.t_event]
        events.append(f'{cid}\t{at_start}\tassessment_started\t{counsellor}\t{org}\t{{"assessment_id": {aid}}}')  # fmt: skip
        if completed is None:
            return
        events.append(f'{cid}\t{at_done}\tassessment_completed\t{counsellor}\t{org}\t{{"assessment_id": {aid}, "plan_needed": {"true" if plan else "false"}}}')  # fmt: skip
        if age >= 7 and random_() < 0.5:
            skills = batch[self.t_skill]
            for skill in SKILLS:
                skills.append(f"{aid}\tfi\t{skill}\t{START_LEVEL(rng)}")
        if plan:
            self._plan(c, aid, kind, literacy, completed, ids, batch)

    def _plan(self, c, aid, kind, literacy, completed, ids, batch) -> None:
        rng, cal, today, law = self.rng, self.cal, self.today, self.law
        random_ = rng.random
        cid, org, counsellor, age, basis = c["id"], c["org"], c["counsellor"], c["age"], c["basis"]
        starts = completed + int(random_() * 21)
        if starts > today:
            return
        pid = ids["plan"]
        ids["plan"] += 1
        slot = int(random_() * SLOTS)
        at_starts = cal.at_day(starts, slot)
        events = batch[self.t_event]
        events.append(
            f'{cid}\t{at_starts}\tplan_created\t{counsellor}\t{org}\t{{"plan_id": {pid}}}'
        )
        ends = cal.add_months(starts, 12) - 1
        iso_starts, iso_limit = cal.iso[starts], cal.iso[law.plan_limit(starts)]
        head = f"{pid}\t{at_starts}"
        body = f"{cid}\t{aid}\t{org}\t{counsellor}\t{kind}"
        if today - starts < 14 and random_() < 0.5:  # still being drafted
            batch[self.t_plan].append(
                f"{head}\t{at_starts}\t{body}\tdraft\tTrue\t0\t{iso_starts}\t{iso_starts}\t"
                f"{cal.iso[ends]}\t{N}\t{iso_limit}\t{N}\t\t\t{N}\t\t\t1"
            )
            return
        agreed = starts
        # The services the plan guides to (decided first: they also speed up employment).
        low_literacy = literacy in (L.NONE, L.LIMITED)
        training = (
            ServiceKind.LITERACY_TRAINING if low_literacy else ServiceKind.INTEGRATION_TRAINING
        )
        courses = []
        if random_() < 0.72:
            if random_() < COURSES[ServiceKind.CIVIC_ORIENTATION][0]:
                courses.append(ServiceKind.CIVIC_ORIENTATION)
            if (16 <= age < 65 and random_() < COURSES[training][0]) or not courses:
                courses.append(training)
        hazard = BASIS_HAZARD.get(basis, 1.0)
        hazard *= 0.7 if kind == "multisectoral" else 1.0
        hazard *= 0.6 if literacy == L.NONE else (0.75 if literacy == L.LIMITED else 1.0)
        hazard *= 0.5 if age < 18 else (1.15 if age < 30 else (1.0 if age < 50 else (0.7 if age < 65 else 0.2)))  # fmt: skip
        hazard *= (
            1.2 if ServiceKind.INTEGRATION_TRAINING in courses else (0.85 if not courses else 1.0)
        )
        # Months to employment or studies (the curve's inverse with the group's hazard).
        target = 1.0 - (1.0 - random_()) ** (1.0 / hazard)
        work = None
        if target < _CURVE_F[-1]:
            j = bisect.bisect_right(_CURVE_F, target)
            (m0, f0), (m1, f1) = EMPLOYMENT_CURVE[j - 1], EMPLOYMENT_CURVE[j]
            work = starts + int((m0 + (target - f0) / (f1 - f0) * (m1 - m0)) * DAYS_PER_MONTH)
        moved = starts + int(-math.log(1.0 - random_()) / MOVE_AWAY_PER_MONTH * DAYS_PER_MONTH)
        first_event = min(work if work is not None else moved, moved)
        # Extended for a stated reason when nothing has happened by the end.
        extension = None
        if first_event > ends and random_() < (0.75 if low_literacy else 0.5):
            months = 12 if random_() < 0.7 else 6
            new_end = min(cal.add_months(ends, months), law.extension_limit(ends))
            decided = cal.add_months(ends, -1)
            if decided <= today and new_end > ends:
                extension = (months, new_end, decided)
        final_end = extension[1] if extension else ends
        if work is not None and work <= final_end and work <= moved:
            ended = work
            p_study = (
                0.95 if age < 18 else (0.6 if basis == ResidenceBasis.STUDY or age < 25 else 0.2)
            )
            outcome = Outcome.STUDYING if random_() < p_study else Outcome.EMPLOYED
        elif moved <= final_end:
            ended, outcome = moved, Outcome.MOVED_AWAY
        else:
            ended = final_end
            outcome = Outcome.EMPLOYMENT_PLAN if c["jobseeker"] else Outcome.OTHER
        if ended > today:
            ended, outcome = None, ""
        if extension and ended is not None and ended <= ends:
            extension = None  # ended before the extension was needed
        ack = agreed + int(random_() * 6)
        at_agreed = cal.at_day(agreed, slot)
        if ack <= today:
            ack_fields = f"{cal.iso[ack]}\t{ACK_METHODS[int(random_() * 3)]}\t{c['tongue'] if c['interpreter'] else ''}"  # fmt: skip
        else:
            ack_fields = f"{N}\t\t"
        if ended is not None:
            end_fields = f"{cal.iso[ended]}\t{outcome}\t{HANDOVER if outcome == Outcome.EMPLOYMENT_PLAN else ''}\t3"  # fmt: skip
            updated, status = cal.at_day(ended, slot), "ended"
        else:
            end_fields, updated, status = f"{N}\t\t\t2", at_agreed, "active"
        batch[self.t_plan].append(
            f"{head}\t{updated}\t{body}\t{status}\tTrue\t0\t{iso_starts}\t{iso_starts}\t"
            f"{cal.iso[extension[1] if extension else ends]}\t{cal.iso[agreed]}\t{iso_limit}\t"
            f"{ack_fields}\t{end_fields}"
        )
        events.append(
            f'{cid}\t{at_agreed}\tplan_activated\t{counsellor}\t{org}\t{{"plan_id": {pid}}}'
        )
        if extension:
            months, new_end, decided = extension
            reason = ExtensionReason.ILLITERACY if low_literacy else EXTENSION_REASONS[int(random_() * 3)]  # fmt: skip
            batch[self.t_extension].append(
                f"{pid}\t{months}\t{reason}\tKotoutuminen on kesken: suunnitelmaa jatketaan.\t"
                f"{cal.iso[ends]}\t{cal.iso[new_end]}\t{cal.iso[decided]}\t{counsellor}"
            )
            events.append(f'{cid}\t{cal.at_day(decided, slot)}\tplan_extended\t{counsellor}\t{org}\t{{"plan_id": {pid}, "months": {months}, "reason": "{reason}"}}')  # fmt: skip
        if ended is not None:
            events.append(f'{cid}\t{cal.at_day(ended, slot)}\tplan_ended\t{counsellor}\t{org}\t{{"plan_id": {pid}, "outcome": "{outcome}"}}')  # fmt: skip
        self._meetings(c, agreed, ended, slot, ids, batch)
        first_request = self._enrolments(c, courses, agreed, ended, outcome, ids, batch)
        service_due = law.guidance_to_service(agreed)
        if service_due is not None:
            _due, due_iso, rule = service_due
            status = "open" if ended is None and first_request is None else "done"
            batch[self.t_task].append(
                f"{cid}\t{org}\t{counsellor}\tguidance_to_service\tplan\t{pid}\t{due_iso}\t"
                f"{status}\t{rule}\t{at_agreed}"
            )

    def _meetings(self, c, agreed, plan_end, slot, ids, batch) -> None:
        """The plan's meetings with the client (`meeting_record`): agreeing it, then a
        follow-up every three to four months until it ends (at most `FOLLOW_UPS`), some
        missed; interpreted when the client needs it (the interpreter is paid for a missed
        meeting too)."""
        rng, cal = self.rng, self.cal
        random_ = rng.random
        cid, org, counsellor = c["id"], c["org"], c["counsellor"]
        last = self.today if plan_end is None else min(plan_end, self.today)
        rows, events = batch[self.t_meeting], batch[self.t_event]
        day, k = agreed, 0
        while day <= last and k <= FOLLOW_UPS:
            mid = ids["meeting"]
            ids["meeting"] += 1
            no_show = k > 0 and random_() < MEETING_NO_SHOW
            accepted = no_show and random_() < 0.5
            if c["interpreter"]:
                r, mode, price = random_(), "", 0.0
                for mode, share, price in INTERPRETING:  # noqa: B007 - the last one stays
                    if r < share:
                        break
                    r -= share
                minutes = 45 + int(random_() * 46)
                interpreting = f"{c['tongue']}\t{mode}\t{INTERPRETER_PROVIDER}\t{minutes}\t{minutes * price:.2f}"
            else:
                interpreting = f"\t\t\t{N}\t{N}"
            rows.append(
                f"{mid}\t{cid}\t{org}\t{counsellor}\t{cal.iso[day]}\t"
                f"{MEETING_FOLLOW_UP if k else MEETING_AGREE}\t{interpreting}\t{no_show}\t{accepted}\t"
            )
            events.append(f'{cid}\t{cal.at_day(day, slot)}\tmeeting\t{counsellor}\t{org}\t{{"meeting_id": {mid}, "no_show": {"true" if no_show else "false"}}}')  # fmt: skip
            day += 90 + int(random_() * 31)
            k += 1

    def _enrolments(self, c, courses, agreed, plan_end, outcome, ids, batch) -> int | None:
        """Enrolments in the municipality's services during the plan; returns the day of the
        first request."""
        rng, cal, today, w = self.rng, self.cal, self.today, self.world
        random_ = rng.random
        cid, org, counsellor = c["id"], c["org"], c["counsellor"]
        horizon = min(today, plan_end) if plan_end is not None else today
        first_request = None
        iso = cal.iso
        for kind in courses:
            _share, (r0, r1), (w0, w1), (d0, d1), monthly = COURSES[kind]
            requested = agreed + r0 + int(random_() * (r1 - r0))
            if kind != ServiceKind.CIVIC_ORIENTATION and random_() < 0.1:
                requested += 150 + int(random_() * 120)  # guided late: after the 6-month deadline
            if requested > horizon:
                continue
            if first_request is None or requested < first_request:
                first_request = requested
            eid = ids["enrolment"]
            ids["enrolment"] += 1
            slot = int(random_() * SLOTS)
            req_at = cal.at_day(requested, slot)
            starts = requested + w0 + int(random_() * (w1 - w0))
            offered = max(starts - 7 - int(random_() * 14), requested)
            accepted = min(offered + int(random_() * 5), starts)
            interruption, ended = "", None
            roll = random_()
            if roll < 0.04:  # declined the place offered
                if offered <= today:
                    status, dates = "declined", (offered, None, None, None)
                else:
                    status, dates = "waiting", (None, None, None, None)
            elif plan_end is not None and starts > plan_end:
                status, dates = "cancelled", (None, None, None, None)
            elif starts > today:
                if offered > today:
                    status, dates = "waiting", (None, None, None, None)
                elif accepted > today:
                    status, dates = "offered", (offered, None, None, None)
                else:
                    status, dates = "accepted", (offered, accepted, None, None)
            else:
                planned_end = starts + d0 + int(random_() * (d1 - d0))
                if roll < 0.16:
                    status = "interrupted"
                    ended = starts + int((planned_end - starts) * random_())
                    interruption = INTERRUPTIONS[int(random_() * 3)]
                elif plan_end is not None and plan_end < planned_end and outcome in (Outcome.EMPLOYED, Outcome.STUDYING, Outcome.MOVED_AWAY):  # fmt: skip
                    status, ended = "interrupted", plan_end
                    interruption = INTERRUPTIONS[0 if outcome == Outcome.MOVED_AWAY else 3]
                else:
                    status, ended = "completed", planned_end
                if ended > today:
                    status, ended, interruption = "started", None, ""
                dates = (offered, accepted, starts, ended)
            last = max(d for d in (requested, *dates) if d is not None)
            batch[self.t_enrolment].append(
                f"{eid}\t{req_at}\t{cal.at_day(last, slot)}\t{w.service(org, kind, cal.dates[requested].year)}\t"
                f"{cid}\t{org}\t{status}\t{req_at}\t"
                + "\t".join(iso[d] if d is not None else N for d in dates)
                + f"\t{interruption}\t{counsellor}\t{1 + sum(d is not None for d in dates)}"
            )
            if dates[2] is not None:
                self._attendance(eid, dates[2], dates[3] if dates[3] is not None else today, monthly, status, counsellor, batch)  # fmt: skip
            if status == "completed" and kind in TEST_LEVEL and random_() < 0.6:
                self._test(c, kind, ended, ids, batch)
        return first_request

    def _attendance(self, eid, starts, ends, monthly, status, counsellor, batch) -> None:
        """Hours attended in each month of the course (monthly rows)."""
        rng, cal = self.rng, self.cal
        rate = (0.55 + 0.45 * rng.random()) if status == "interrupted" else (0.75 + 0.25 * rng.random())  # fmt: skip
        rows = batch[self.t_attendance]
        months = self._months
        i = bisect.bisect_right(months, starts) - 1
        while i + 1 < len(months) and months[i] <= ends:
            first, nxt = months[i], months[i + 1]
            days = min(ends + 1, nxt) - max(starts, first)
            hours = monthly * rate * days / (nxt - first)
            if hours >= 1:
                rows.append(f"{eid}\t{cal.iso[first]}\tTrue\t{hours:.2f}\t{counsellor}")
            i += 1

    def _test(self, c, kind, training_ended, ids, batch) -> None:
        """The final language test after a completed training, with a level per skill."""
        rng, cal = self.rng, self.cal
        taken = training_ended + 14 + int(rng.random() * 46)
        if taken > self.today:
            return
        cid, org, counsellor = c["id"], c["org"], c["counsellor"]
        eid = ids["enrolment"]
        ids["enrolment"] += 1
        at = cal.at_day(training_ended, int(rng.random() * SLOTS))
        iso, ended_iso = cal.iso[taken], cal.iso[training_ended]
        service = self.world.service(org, ServiceKind.LANGUAGE_TEST, cal.dates[taken].year)
        batch[self.t_enrolment].append(
            f"{eid}\t{at}\t{cal.at_day(taken, 0)}\t{service}\t{cid}\t{org}\tcompleted\t{at}\t"
            f"{ended_iso}\t{ended_iso}\t{iso}\t{iso}\t\t{counsellor}\t5"
        )
        level = TEST_LEVEL[kind]
        results = batch[self.t_result]
        for skill in SKILLS:
            results.append(f"{cid}\t{eid}\t{iso}\tfi\t{skill}\t{level(rng)}\t{counsellor}")


# ------------------------------------------------------------------------ guidance contacts

# Reasons weighted as in the Lahti guidance service's statistics (benchmarks/guidance.py).
REASON_WEIGHTS = (1831, 1811, 772, 600, 489, 456, 300, 200)
CHANNEL_WEIGHTS = {
    Channel.VISIT_APPOINTMENT: 22, Channel.WALK_IN: 30, Channel.PHONE: 26, Channel.CHAT: 6,
    Channel.EMAIL: 9, Channel.OUTREACH: 3, Channel.VIDEO: 3, Channel.OTHER: 1,
}  # fmt: skip
LANGUAGE_WEIGHTS = {"fi": 22, "ar": 16, "uk": 18, "ru": 10, "so": 7, "en": 12, "fa": 5, "ku": 3, "ti": 3, "prs": 4}  # fmt: skip
MINUTES = {N: 20, "10": 30, "15": 25, "30": 20, "45": 5}
REFERRED = {"": 85, "TE-palvelut": 5, "Kela": 4, "Sosiaalipalvelut": 4, "Oppilaitos": 2}
PARTNER_WEIGHTS = {PartnerType.AUTHORITY: 40, PartnerType.TRAINER: 25, PartnerType.THIRD_SECTOR: 20, PartnerType.EMPLOYER: 15}  # fmt: skip
PARTNER_SHARE = 0.1
LINKED_SHARE = 0.6  # of the client contacts, linked to a client


def _reason_sets(n_reasons: int) -> tuple[list[tuple[int, ...]], list[float]]:
    """The reason sets of a client contact and their probabilities, exactly as drawing one
    reason (60 %) or two with replacement (40 %) by weight gives them."""
    weights = REASON_WEIGHTS[:n_reasons]
    total = sum(weights)
    p = [x / total for x in weights]
    sets: dict[tuple[int, ...], float] = {}
    for i in range(n_reasons):
        sets[(i,)] = sets.get((i,), 0.0) + 0.6 * p[i]
        for j in range(n_reasons):
            key = (i,) if i == j else (min(i, j), max(i, j))
            sets[key] = sets.get(key, 0.0) + 0.4 * p[i] * p[j]
    keys = sorted(sets)
    return keys, [sets[k] for k in keys]


class Guidance:
    """Guidance contacts and their reasons, one chunk at a time, in time order."""

    def __init__(self, world: World, sink: Sink, calendar: Calendar, clients, *, seed: int):
        self.world, self.sink, self.cal = world, sink, calendar
        self.rng = random.Random(f"koto-scale:{seed}:contacts")
        self.clients = clients
        self.t_contact = sink.table(Contact, (
            "id", "organisation_id", "logged_by_id", "logged_at", "contacted_at", "contacted_on",
            "client_id", "kind", "partner_type", "channel", "language", "interpreter_used", "minutes",
            "outcome", "referred_to",
        ))  # fmt: skip
        self.t_reason = sink.table(ContactReason, ("contact_id", "reason_id", "organisation_id", "contacted_on", "kind"))  # fmt: skip
        # Every combination of kind, partner type, channel, language, interpreter, minutes and
        # outcome as its text (after the client column), with its probability.
        combos, weights = [], []
        kinds = [("client", "", 1 - PARTNER_SHARE)] + [("partner", str(t), PARTNER_SHARE * w / 100) for t, w in PARTNER_WEIGHTS.items()]  # fmt: skip
        for kind, partner, wk in kinds:
            for channel, wc in CHANNEL_WEIGHTS.items():
                for language, wl in LANGUAGE_WEIGHTS.items():
                    for interpreter, wi in ((True, 0.2), (False, 0.8)):
                        for minutes, wm in MINUTES.items():
                            for referred, wr in REFERRED.items():
                                outcome = "referred" if referred else "answered"
                                combos.append((kind, f"{kind}\t{partner}\t{channel}\t{language}\t{interpreter}\t{minutes}\t{outcome}\t{referred}"))  # fmt: skip
                                weights.append(wk * wc * wl * wi * wm * wr)
        self.combos = lookup_table(combos, weights)
        reasons = world.reasons[: len(REASON_WEIGHTS)]
        keys, probs = _reason_sets(len(reasons))
        self.reason_sets = lookup_table([tuple(str(reasons[i]) for i in k) for k in keys], probs)
        self.orgs = lookup_table([m.id for m in world.municipalities], world.weights)
        self.loggers = {m.id: (tuple(world.advisers[m.id]), len(world.advisers[m.id])) for m in world.municipalities}  # fmt: skip
        self.day_of = [calendar.iso[calendar.start + i // SLOTS] for i in range(len(calendar.cum))]

    def chunk(self, a: int, b: int, total: int) -> None:
        rng, cal, sink = self.rng, self.cal, self.sink
        n = b - a
        first = sink.reserve(self.t_contact, n)
        slots = cal.draw(rng, a, b, total)
        orgs = rng.choices(self.orgs, k=n)
        combos = rng.choices(self.combos, k=n)
        reason_sets = rng.choices(self.reason_sets, k=n)
        random_ = rng.random
        contacts, reasons = [], []
        append, add_reason = contacts.append, reasons.append
        empty = (array("l"), array("q"))
        loggers, clients, at_of, day_of, start = self.loggers, self.clients, cal.at, self.day_of, cal.start  # fmt: skip
        bisect_left, bisect_right = bisect.bisect_left, bisect.bisect_right
        for cid, flat, org, (kind, combo), rs in zip(
            range(first, first + n), slots, orgs, combos, reason_sets, strict=True
        ):
            at = at_of[flat] or cal.fill(flat)
            on = day_of[flat]
            link = random_()
            client = N
            if kind == "client":
                if link < LINKED_SHARE:
                    cdays, cids = clients.get(org, empty)
                    day = start + flat // SLOTS
                    hi = bisect_right(cdays, day)
                    if hi:
                        v = link / LINKED_SHARE
                        if v < 0.75:  # mostly clients who came in the last year
                            lo, u = bisect_left(cdays, day - 365), v / 0.75
                        else:
                            lo, u = 0, (v - 0.75) / 0.25
                        if lo >= hi:
                            lo = 0
                        client = cids[lo + int(u * (hi - lo))]
            elif link >= 0.3:
                rs = ()  # most partner contacts give no reason
            logger, n_loggers = loggers[org]
            append(f"{cid}\t{org}\t{logger[cid % n_loggers]}\t{at}\t{at}\t{on}\t{client}\t{combo}")
            if rs:
                tail = f"{org}\t{on}\t{kind}"
                for reason in rs:
                    add_reason(f"{cid}\t{reason}\t{tail}")
        sink.write({self.t_contact: contacts, self.t_reason: reasons})


# ------------------------------------------------------------------------ municipal placement


SCALE_GRANT = "scale_referral"  # the grants' source: made here, with no referral row
GRANT_SHARE = 10  # one client in ten of a region's other municipalities


@transaction.atomic
def generate_grants(world: World, *, seed: int, after_id: int) -> int:
    """Access grants as accepted referrals leave them: one client in ten of a region's other
    municipalities was referred to the region's largest city (its literacy training, say),
    which reads their record from the client's registration on (one in three: reads and
    writes), a quarter of them for 180 days only. So the visibility filter's grant branch
    has rows at scale: Helsinki reads about 12 000 clients of Espoo, Vantaa and the rest of
    Uusimaa. For this run's clients (ids above `after_id`), drawn in id order from the seed.
    Returns the number of grants made."""
    rng = random.Random(f"koto-scale:{seed}:grants")
    hubs: dict[str, tuple[Organisation, int]] = {}
    for m, w in zip(world.municipalities, world.weights, strict=True):
        if m.region_code and w > 1 and w > hubs.get(m.region_code, (m, 0))[1]:
            hubs[m.region_code] = (m, w)
    hub_of = {
        m.id: hubs[m.region_code][0].id
        for m in world.municipalities
        if m.region_code in hubs and hubs[m.region_code][0].id != m.id
    }
    candidates = (
        Client.objects.filter(id__gt=after_id, responsible_organisation_id__in=list(hub_of))
        .order_by("id")
        .values_list("id", "responsible_organisation_id", "created_at")
    )
    made, batch = 0, []
    for client_id, org_id, created_at in candidates.iterator(chunk_size=10_000):
        if rng.random() >= 1 / GRANT_SHARE:
            continue
        start = created_at.astimezone(clock.HELSINKI).date()
        batch.append(AccessGrant(
            client_id=client_id, organisation_id=hub_of[org_id],
            scope=AccessGrant.Scope.FULL if rng.random() < 1 / 3 else AccessGrant.Scope.READ,
            source=SCALE_GRANT, valid_from=start,
            valid_to=start + dt.timedelta(days=180) if rng.random() < 0.25 else None,
        ))  # fmt: skip
        if len(batch) == 5000:
            made += len(AccessGrant.objects.bulk_create(batch))
            batch = []
    made += len(AccessGrant.objects.bulk_create(batch))
    return made


MOVE_SHARE = 100  # one client in a hundred moved here from another municipality
TRANSFER_MESSAGE = "Asiakas on muuttanut kuntaanne; siirrämme asiakkuuden."


@transaction.atomic
def generate_transfers(world: World, *, seed: int, after_id: int) -> int:
    """Clients who moved: one in `MOVE_SHARE` of this run's clients (ids above `after_id`)
    was registered by another municipality (drawn by the same weights as the clients' own)
    and transferred to the one holding them now, as `referral_act("accept")` of a transfer
    leaves it: the referral completed with its four steps (sent, received, accepted,
    completed), `transferred_from` the sender, and the sender's read grant to the end of
    the next year. The move falls after the registration day and before any assessment was
    completed or plan started (an assessment started before it was open then, so it passed
    to the receiver, as the generated row has it, and so did the assessment-start task of
    a client not yet assessed: both on record as handed over; one met before the move stays
    the sender's, as its assessment closed it there); the client lived in the sender from
    their municipality of residence's day to the move (a residence row of its own), in the
    receiver from then on. So the dashboards' moves, the rollups' history of responsibility
    (a start with the sender, a completion with the receiver), State compensation by
    residence and the referral pages have rows at scale. Guidance contacts are left as
    generated: the receiver's, some dated before the move (anyone may ask any municipality).
    Returns the number of transfers made."""
    rng = random.Random(f"koto-scale:{seed}:transfers")
    now = clock.now()
    municipalities, cum = world.municipalities, world.cum_weights
    moved = []
    candidates = (
        Client.objects.filter(id__gt=after_id)
        .order_by("id")
        .values_list("id", "responsible_organisation_id", "created_at", "counsellor_id")
    )
    for client_id, org_id, created_at, counsellor_id in candidates.iterator(chunk_size=10_000):
        if rng.random() >= 1 / MOVE_SHARE:
            continue
        sender = municipalities[bisect.bisect(cum, rng.random() * cum[-1])]
        if sender.id == org_id or not world.counsellors.get(sender.id):
            continue
        moved.append((client_id, org_id, created_at, counsellor_id, sender.id,
                      rng.choice(world.counsellors[sender.id]), rng.random(), rng.random()))  # fmt: skip
    ids = [m[0] for m in moved]
    shared: dict[int, dict] = {}
    homes: dict[int, dt.date] = {}
    # the last day the client can have moved on: before anything closed or began that
    # would be the sender's (a completed assessment, a plan)
    latest: dict[int, dt.date] = {}
    for a in range(0, len(ids), 5000):
        chunk = ids[a : a + 5000]
        for client in Client.objects.filter(id__in=chunk):
            shared[client.id] = shared_copy(
                client, include_identity_code=False, include_contact_details=False
            )
            if client.home_municipality_on is not None:
                homes[client.id] = client.home_municipality_on
        for model, field in ((Assessment, "completed_on"), (IntegrationPlan, "starts_on")):
            for cid, first in (
                model.objects.filter(client_id__in=chunk)
                .values("client_id")
                .annotate(first=Min(field))
                .values_list("client_id", "first")
            ):
                if first is not None:
                    latest[cid] = min(first - dt.timedelta(days=1), latest.get(cid, first))
    referrals, details = [], []
    for client_id, org_id, created_at, counsellor_id, sender_id, sender_user, r1, r2 in moved:
        registered = created_at.astimezone(clock.HELSINKI)
        # from the day after the registration (the day itself would be the receiver's) to
        # the first assessment: a client assessed on the day they came is left unmoved
        first_day = registered.date() + dt.timedelta(days=1)
        last_day = min(
            latest.get(client_id, registered.date() + dt.timedelta(days=120)),
            now.date() - dt.timedelta(days=1),
        )
        if last_day < first_day:
            continue
        accepted = dt.datetime.combine(
            first_day + dt.timedelta(days=int(r1 * ((last_day - first_day).days + 1))),
            dt.time(9 + int(r2 * 7), int(r2 * 600) % 60),
            tzinfo=clock.HELSINKI,
        )
        if accepted >= now:
            continue
        sent = accepted - (accepted - registered) * (r2 / 2)
        received = sent + (accepted - sent) / 3
        handler = counsellor_id or world.counsellors[org_id][0]
        referrals.append(Referral(
            client_id=client_id, from_organisation_id=sender_id, sender_id=sender_user,
            to_organisation_id=org_id, kind=ReferralKind.TRANSFER, scope=AccessScope.NONE,
            message=TRANSFER_MESSAGE, shared=shared[client_id], status=ReferralStatus.COMPLETED,
            sent_at=sent,
            due_on=response_due_on(ReferralKind.TRANSFER, sent.date()), received_at=received,
            accepted_at=accepted, completed_at=accepted, handled_by_id=handler,
            transferred_from_id=sender_id, version=4, created_at=sent, updated_at=accepted,
        ))  # fmt: skip
        details.append((sender_id, sender_user, org_id, handler, sent, received, accepted))
    Referral.objects.bulk_create(referrals, batch_size=2000)
    steps, grants, lived = [], [], []
    # the registry's history of responsibility, as the hand-over writes it
    changes = ResponsibilityChange.objects.bulk_create(
        [
            ResponsibilityChange(
                client_id=r.client_id,
                from_organisation_id=r.transferred_from_id,
                to_organisation_id=r.to_organisation_id,
                at=r.accepted_at,
                source_type="referral",
                source_id=r.id,
                recorded_by_id=r.handled_by_id,
            )
            for r in referrals
        ],
        batch_size=5000,
    )
    # and the assessments open at the move, which passed to the receiver with the client,
    # and the assessment-start task of one not assessed by then, open at the move too; one
    # met before the move was closed by the sender's assessment and stays the sender's
    change_of = {c.client_id: c for c in changes}
    sender_of = {r.client_id: r.sender_id for r in referrals}
    moved_ids = sorted(change_of)
    handed, senders_tasks = [], []
    for a in range(0, len(moved_ids), 5000):
        chunk = moved_ids[a : a + 5000]
        assessed = set()
        rows = Assessment.objects.filter(client_id__in=chunk)
        for aid, cid, made in rows.values_list("id", "client_id", "created_at"):
            if made < change_of[cid].at:
                assessed.add(cid)
                handed.append(
                    HandedOverRecord(change=change_of[cid], record_type="assessment", record_id=aid)
                )
        tasks = Task.objects.filter(
            client_id__in=chunk, kind=Task.Kind.ASSESSMENT_START, source_type="client"
        )
        for tid, cid, made in tasks.values_list("id", "client_id", "computed_at"):
            if cid in assessed:
                senders_tasks.append(Task(
                    id=tid, organisation_id=change_of[cid].from_organisation_id,
                    assignee_id=sender_of[cid],
                ))  # fmt: skip
            elif made < change_of[cid].at:
                handed.append(
                    HandedOverRecord(change=change_of[cid], record_type="task", record_id=tid)
                )
    HandedOverRecord.objects.bulk_create(handed, batch_size=5000)
    Task.objects.bulk_update(senders_tasks, ["organisation_id", "assignee_id"], batch_size=2000)
    for referral in referrals:
        day = referral.accepted_at.astimezone(clock.HELSINKI).date()
        home = homes.get(referral.client_id)
        if home is not None and home < day:
            # resident in the sender until the move, in the receiver from its day on
            lived.append(Residence(
                client_id=referral.client_id, municipality_id=referral.from_organisation_id,
                from_on=home, to_on=day - dt.timedelta(days=1),
            ))  # fmt: skip
            Residence.objects.filter(client_id=referral.client_id).update(from_on=day)
            Client.objects.filter(id=referral.client_id).update(home_municipality_on=day)
    Residence.objects.bulk_create(lived, batch_size=5000)
    for referral, (sender_id, sender_user, org_id, handler, sent, received, accepted) in zip(
        referrals, details, strict=True
    ):
        for at, operation, old, new, actor, org in (
            (sent, "send", "", ReferralStatus.SENT, sender_user, sender_id),
            (received, "receive", ReferralStatus.SENT, ReferralStatus.RECEIVED, handler, org_id),
            (accepted, "accept", ReferralStatus.RECEIVED, ReferralStatus.ACCEPTED, handler, org_id),
            (accepted, "complete", ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED, handler, org_id),
        ):  # fmt: skip
            steps.append(ReferralStep(
                referral=referral, at=at, operation=operation, from_status=old, to_status=new,
                actor_id=actor, organisation_id=org,
                note=TRANSFER_MESSAGE if operation == "send" else "",
            ))  # fmt: skip
        day = accepted.astimezone(clock.HELSINKI).date()
        grants.append(AccessGrant(
            client_id=referral.client_id, organisation_id=sender_id,
            scope=AccessGrant.Scope.READ, source="transfer", source_id=str(referral.id),
            valid_from=day, valid_to=dt.date(day.year + 1, 12, 31),
        ))  # fmt: skip
    ReferralStep.objects.bulk_create(steps, batch_size=5000)
    AccessGrant.objects.bulk_create(grants, batch_size=5000)
    return len(referrals)


def _ely_by_region() -> dict[str, str]:
    with (REFERENCE_DIR / "ely_centres.csv").open(encoding="utf-8", newline="") as f:
        return {r: ely_code(row["code"]) for row in csv.DictReader(f) for r in row["region_codes"].split(";")}  # fmt: skip


@transaction.atomic
def generate_placements(world: World, *, seed: int) -> int:
    """Yearly placement agreements for about a third of the municipalities (all the cities)
    and their placements, most of them arrived (fewer places when fewer clients are
    generated); returns the number of placements made.
    Municipalities that already have agreements for a year are left as they are."""
    rng = random.Random(f"koto-scale:{seed}:placement")
    today = world.today
    scale = min(1.0, world.clients / 200_000)  # national numbers from 200 000 clients up
    elys = {o.code: o for o in Organisation.objects.filter(kind=OrganisationKind.REGIONAL_STATE_AUTHORITY)}  # fmt: skip
    ely_of_region = _ely_by_region()
    existing = set(PlacementAgreement.objects.values_list("municipality_id", "year"))
    agreements, plans = [], []
    for m, w in zip(world.municipalities, world.weights, strict=True):
        chosen = rng.random() < (1.0 if w > 1 else 0.3)
        if not chosen:
            continue
        for year in range(START.year, today.year + 1):
            if (m.id, year) in existing:
                continue
            if year >= 2026 or m.regional_state_authority_id is None:
                authority = m.regional_state_authority
            else:
                authority = elys.get(ely_of_region.get(m.region_code, ""), m.regional_state_authority)  # fmt: skip
            if authority is None:
                continue
            signed_on = dt.date(year, 1, 15) + dt.timedelta(days=int(rng.random() * 60))
            signed = signed_on <= today and not (year == today.year and rng.random() < 0.15)
            places = {
                PlaceCategory.QUOTA_REFUGEE: int((w * (0.3 + rng.random() * 0.5) + 2) * scale),
                PlaceCategory.INTERNATIONAL_PROTECTION: int((w * (0.4 + rng.random() * 0.6) + 3) * scale) + 1,
                PlaceCategory.UNACCOMPANIED_MINOR: int((w / 15 + (rng.random() < 0.2)) * scale),
            }  # fmt: skip
            agreement = PlacementAgreement(
                municipality=m, authority=authority, year=year,
                places_quota_refugee=places[PlaceCategory.QUOTA_REFUGEE],
                places_international_protection=places[PlaceCategory.INTERNATIONAL_PROTECTION],
                places_unaccompanied_minor=places[PlaceCategory.UNACCOMPANIED_MINOR],
                status=AgreementStatus.SIGNED if signed else AgreementStatus.DRAFT,
                signed_on=signed_on if signed else None, note="", version=1,
            )  # fmt: skip
            agreements.append(agreement)
            plans.append((agreement, places, signed, signed_on))
    PlacementAgreement.objects.bulk_create(agreements, batch_size=500)
    consultations, placements, people = [], [], []
    for agreement, places, signed, signed_on in plans:
        m = agreement.municipality
        if signed and m.welfare_region_id:
            consultations.append(WelfareConsultation(
                agreement=agreement, agreement_version=1, welfare_region_id=m.welfare_region_id,
                consulted_on=signed_on - dt.timedelta(days=10), statement="Puollamme sopimusta.",
            ))  # fmt: skip
        if not signed:
            continue
        year_end = min(dt.date(agreement.year, 12, 31), today)
        for category, n_places in places.items():
            used = 0
            target = max(1, int(n_places * (0.5 + 0.5 * rng.random()))) if n_places else 0
            while used < target:
                size = 1 if category == PlaceCategory.UNACCOMPANIED_MINOR else rng.choice((1, 1, 2, 3, 4, 5))  # fmt: skip
                used += size
                proposed = signed_on + dt.timedelta(days=int(rng.random() * max((year_end - signed_on).days, 1)))  # fmt: skip
                if proposed > today:
                    continue
                decided = proposed + dt.timedelta(days=3 + int(rng.random() * 17))
                arrived_on = decided + dt.timedelta(days=14 + int(rng.random() * 60))
                roll = rng.random()
                status = PlacementStatus.ARRIVED
                if roll < 0.08:
                    status = PlacementStatus.DECLINED
                elif roll < 0.14:
                    status = PlacementStatus.CANCELLED
                if decided > today:
                    status = PlacementStatus.PROPOSED
                elif status == PlacementStatus.ARRIVED and arrived_on > today:
                    status = PlacementStatus.HOUSING_RESERVED
                placement = Placement(
                    authority=agreement.authority, municipality=m, year=agreement.year,
                    category=category,
                    source=PlacementSource.QUOTA if category == PlaceCategory.QUOTA_REFUGEE else PlacementSource.RECEPTION_CENTRE,
                    status=status, proposed_on=proposed,
                    decided_on=decided if status != PlacementStatus.PROPOSED else None,
                    decline_reason="Ei sopivaa asuntoa." if status == PlacementStatus.DECLINED else "",
                    housing_address="Kotikatu 1" if status in (PlacementStatus.ARRIVED, PlacementStatus.HOUSING_RESERVED) else "",
                    housing_on=arrived_on if status in (PlacementStatus.ARRIVED, PlacementStatus.HOUSING_RESERVED) else None,
                    arrived_on=arrived_on if status == PlacementStatus.ARRIVED else None,
                    cancelled_on=decided if status == PlacementStatus.CANCELLED else None,
                    cancel_reason="Muutti toiseen kuntaan." if status == PlacementStatus.CANCELLED else "",
                )  # fmt: skip
                placements.append(placement)
                people.append((placement, category, size, proposed))
    WelfareConsultation.objects.bulk_create(consultations, batch_size=500)
    Placement.objects.bulk_create(placements, batch_size=500)
    persons = []
    basis_of = {
        PlaceCategory.QUOTA_REFUGEE: ResidenceBasis.QUOTA_REFUGEE,
        PlaceCategory.INTERNATIONAL_PROTECTION: ResidenceBasis.ASYLUM,
        PlaceCategory.UNACCOMPANIED_MINOR: ResidenceBasis.ASYLUM,
    }
    origins = [origin for basis, group, _w in BASES if basis in PROTECTION for origin in group]
    for placement, category, size, proposed in people:
        _c, tongue, female, male, lasts = ORIGINS[rng.choice(origins)]
        last = rng.choice(lasts)[0]
        for i in range(size):
            if category == PlaceCategory.UNACCOMPANIED_MINOR:
                age, role = 14 + int(rng.random() * 4), PlacementPerson.Role.MAIN
            elif i == 0:
                age, role = 22 + int(rng.random() * 35), PlacementPerson.Role.MAIN
            elif i == 1 and size > 2:
                age, role = 20 + int(rng.random() * 35), PlacementPerson.Role.SPOUSE
            else:
                age, role = int(rng.random() * 17), PlacementPerson.Role.CHILD
            gender = rng.choice(("female", "male"))
            persons.append(PlacementPerson(
                placement=placement, first_name=rng.choice(female if gender == "female" else male),
                last_name=last, birth_date=proposed - dt.timedelta(days=age * 365 + int(rng.random() * 364)),
                gender=gender, residence_basis=basis_of[category],
                first_permit_on=proposed - dt.timedelta(days=30 + int(rng.random() * 200)),
                mother_tongue=tongue, relation=role,
            ))  # fmt: skip
    PlacementPerson.objects.bulk_create(persons, batch_size=1000)
    return len(placements)
