"""Guidance: logging a contact (page POST and API POST, in-process server time) and the
guidance report over N contacts (median of several runs), read from the day counts, and
the recount of those counts from the contacts (what a report cost before them).
Usage: python -m benchmarks.guidance --db postgres|sqlite [--contacts 1000000] [--runs 5]

Uses its own database (PostgreSQL: koto_bench_guidance, or KOTO_BENCH_GUIDANCE_PG_URL;
SQLite: var/bench_guidance.sqlite3). Contacts are generated once with
koto.core.bulk.fast_insert + allocate_ids (and the reason rows likewise) for Lahti, plus a
tenth as many for another organisation so the report really filters."""

import argparse
import datetime as dt
import json
import os
import random
import statistics
import time

from benchmarks.common import ROOT, _ensure_pg_database, machine, percentile, write_result

PG_URL = "postgres://postgres@127.0.0.1:5432/koto_bench_guidance"
START, DAYS = dt.date(2023, 1, 1), 3 * 365


def setup(db: str) -> None:
    if db == "postgres":
        url = os.environ.get("KOTO_BENCH_GUIDANCE_PG_URL", PG_URL)
        _ensure_pg_database(url)
    else:
        (ROOT / "var").mkdir(exist_ok=True)
        url = f"sqlite:///{ROOT / 'var' / 'bench_guidance.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koto.settings")
    os.environ["KOTO_SECURE_COOKIES"] = "false"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


def organisation_and_user(code: str, name: str, username: str):
    from koto.accounts.models import Membership, User
    from koto.core.roles import Role
    from koto.organisations.models import Organisation, OrganisationKind

    org, _ = Organisation.objects.get_or_create(
        code=code,
        defaults={
            "kind": OrganisationKind.MUNICIPALITY,
            "name_fi": name,
            "municipality_code": code,
        },
    )
    user, created = User.objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save()
    membership, _ = Membership.objects.get_or_create(
        user=user, organisation=org, defaults={"role": Role.GUIDANCE_ADVISER}
    )
    user.active_membership = membership
    return org, user


def generate(org, n: int, seed: int, chunk: int = 50_000) -> None:
    """Add generated contacts until the organisation has `n` imported-looking ones."""
    from django.db import transaction

    from koto.core import clock
    from koto.core.bulk import allocate_ids, fast_insert
    from koto.guidance import summary
    from koto.guidance.models import Channel, Contact, ContactReason, ReasonCode

    have = Contact.objects.filter(organisation=org).count()
    rng = random.Random(seed + have)
    reasons = list(ReasonCode.objects.order_by("position"))
    weights = [1831, 1811, 772, 600, 489, 456, 300, 200]
    channels = Channel.values
    languages = ["fi", "ar", "uk", "ru", "so", "en", "fa", "ku", "ti", "prs"]
    partner_types = ["authority", "trainer", "third_sector", "employer"]
    now = clock.now()
    t0 = time.perf_counter()
    while have < n:
        size = min(chunk, n - have)
        with transaction.atomic():
            ids = allocate_ids(Contact, size)
            contacts, rows = [], []
            for pk in ids:
                day = START + dt.timedelta(days=rng.randrange(DAYS))
                partner = rng.random() < 0.1
                c = Contact(
                    id=pk, organisation_id=org.id, logged_at=now,
                    contacted_at=dt.datetime.combine(day, dt.time(12), tzinfo=clock.HELSINKI),
                    contacted_on=day, kind="partner" if partner else "client",
                    partner_type=rng.choice(partner_types) if partner else "",
                    channel=rng.choice(channels), language=rng.choice(languages),
                    interpreter_used=rng.random() < 0.2, minutes=rng.choice([None, 10, 15, 30]),
                    outcome="answered", referred_to="", import_key="",
                )  # fmt: skip
                contacts.append(c)
                k = 0 if partner and rng.random() < 0.7 else (1 if rng.random() < 0.6 else 2)
                for reason in set(rng.choices(reasons[: len(weights)], weights, k=k)):
                    rows.append(
                        ContactReason(
                            contact_id=pk,
                            reason_id=reason.id,
                            organisation_id=org.id,
                            contacted_on=day,
                            kind=c.kind,
                        )  # fmt: skip
                    )
            fast_insert(contacts, batch_size=5000)
            for row, pk in zip(rows, allocate_ids(ContactReason, len(rows)), strict=True):
                row.pk = pk
            fast_insert(rows, batch_size=5000)
            summary.add(contacts, rows)  # as the importer does
        have += size
        print(f"  {org.code}: {have} contacts ({time.perf_counter() - t0:.0f} s)", flush=True)


def analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE guidance_contact")
            cursor.execute("VACUUM ANALYZE guidance_contactreason")
            cursor.execute(
                "VACUUM ANALYZE guidance_contactday, guidance_languageday, guidance_reasonday"
            )
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def time_post(http, url: str, payloads: list, *, json_body: bool, warmup: int = 20) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def post(p):
        if json_body:
            return http.post(url, json.dumps(p), content_type="application/json")
        return http.post(url, p)

    for p in payloads[:warmup]:
        post(p)
    times, queries, statuses = [], [], set()
    for p in payloads:
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = post(p)
            times.append((time.perf_counter() - t0) * 1000)
        queries.append(len(ctx.captured_queries))
        statuses.add(response.status_code)
    return {
        "n": len(payloads),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "max_ms": round(max(times), 2),
        "queries_min": min(queries),
        "queries_max": max(queries),
        "statuses": sorted(statuses),
    }


def time_report(org, date_from: dt.date, date_to: dt.date, runs: int) -> dict:
    from koto.guidance.selectors import report_compute

    times = []
    for _ in range(runs + 1):
        t0 = time.perf_counter()
        report = report_compute(organisation_id=org.id, date_from=date_from, date_to=date_to)
        times.append((time.perf_counter() - t0) * 1000)
    times = times[1:]  # the first run warms the cache
    return {
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "contacts_counted": report.contacts + report.partner_contacts,
        "runs": runs,
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    setup(args.db)
    from django.conf import settings
    from django.test import Client as HttpClient

    from koto.core import clock
    from koto.guidance.models import Contact, ContactDay, LanguageDay, ReasonDay
    from koto.guidance.services import reasons_seed

    settings.ALLOWED_HOSTS = ["*"]
    reasons_seed()
    lahti, adviser = organisation_and_user("398", "Lahti", "bench.guidance.398")
    other, _ = organisation_and_user("837", "Tampere", "bench.guidance.837")
    generate(lahti, args.contacts, args.seed)
    generate(other, args.contacts // 10, args.seed + 1)
    analyze()
    total = Contact.objects.count()

    result = {
        "benchmark": "guidance",
        "db": args.db,
        "contacts_total": total,
        "contacts_lahti": Contact.objects.filter(organisation=lahti).count(),
        "date": clock.today().isoformat(),
        "machine": machine(),
        "targets": {"log_contact_p95_ms": 100, "report_s": 2},
        "results": {},
    }
    http = HttpClient()
    http.force_login(adviser, backend="koto.accounts.backends.MembershipModelBackend")
    rng = random.Random(args.seed)
    codes = ["immigration_process", "job_search", "benefits", "housing_family_school"]
    pages = [
        {"channel": rng.choice(["walk_in", "phone", "chat"]), "reasons": rng.sample(codes, 2),
         "outcome": "answered", "language": "ar"}
        for _ in range(args.requests)
    ]  # fmt: skip
    result["results"]["log_contact_page_post"] = time_post(
        http, "/guidance/", pages, json_body=False
    )
    result["results"]["log_contact_api_post"] = time_post(
        http, "/api/v1/guidance/contacts", pages, json_body=True
    )
    today = clock.today()
    result["results"]["report_all_3_years"] = time_report(
        lahti, START, START + dt.timedelta(days=DAYS), args.runs
    )
    result["results"]["report_one_year"] = time_report(
        lahti, dt.date(2023, 1, 1), dt.date(2023, 12, 31), args.runs
    )
    # What the report no longer does per request: count Lahti's contacts themselves (the
    # recount of its day rows, which reads every contact and reason row of Lahti).
    from koto.guidance import summary

    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        summary.rebuild([lahti.id])
        times.append((time.perf_counter() - t0) * 1000)
    result["results"]["recount_from_contacts"] = {
        "runs": args.runs,
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
    }
    result["day_rows_lahti"] = {
        m.__name__: m.objects.filter(organisation_id=lahti.id).count()
        for m in (ContactDay, LanguageDay, ReasonDay)
    }
    t0 = time.perf_counter()
    http.get(f"/guidance/report/?date_from={START.isoformat()}&date_to={today.isoformat()}")
    result["results"]["report_page_all_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    path = write_result(f"guidance_{args.db}", result)
    print(path)
    print(json.dumps(result["results"], indent=2))


if __name__ == "__main__":
    main()
