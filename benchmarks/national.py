"""National scale on PostgreSQL: every main page and every API read beside the trivial view
measured in the same run, then a mixed load test on a real WSGI server (gunicorn, driven by
wrk on 127.0.0.1) whose writes are reconciled with the database afterwards.

Usage: python -m benchmarks.national [--db-url URL] [--requests 200] [--skip-pages]
       [--skip-load] [--load-seconds 300] [--users 50] [--worker-class gthread]
       [--workers 2] [--threads 8] [--tune] [--skip-refresh] [--mix-exclude CATEGORIES]

The database is koto_national (KOTO_NATIONAL_PG_URL or --db-url overrides it), made by
`python -m benchmarks.scale_data` (`make bench-national` runs both). Writes
benchmarks/results/national_postgres.json (pages) and benchmarks/results/load_test.json.

Pages: in-process with Django's test client (server time, SQL queries per request), as a
demo user of Lahti and a generated user of Helsinki (091), counsellor pages as the
counsellor, reports and dashboards as the municipality's manager, national dashboards as the
manager at KEHA. The URLs are the tables PAGES, NATIONAL_PAGES and the GET operations of
/api/v1/openapi.json; a URL that answers 404 is recorded as missing, not measured.

Load: gunicorn with DEBUG off on a free loopback port, wrk with benchmarks/load/mixed.lua and
a data file of prepared requests (session cookies of logged-in counsellors and managers,
bearer tokens made for this run). Every write is marked (its token's system user, a meeting
purpose naming the run) and counted afterwards: lost writes = 201 responses seen by wrk -
rows found. The audit chain is then verified."""

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import resource
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import threading
import time
from urllib.parse import quote

from benchmarks.common import (
    ROOT,
    machine,
    percentile,
    pg_database_exists,
    search_queries,
    setup_django_url,
    summarise,
    time_requests,
    write_result,
)

DB_URL_DEFAULT = "postgres://postgres@127.0.0.1:5432/koto_national"
LUA_SCRIPT = ROOT / "benchmarks" / "load" / "mixed.lua"
WORK_DIR = ROOT / "var" / "load"
HINT = "run `python -m benchmarks.scale_data` first (or `make bench-national`)"

# Who is measured: a demo city and the largest city of the generated data.
PERSONAS = [
    # key, counsellor, manager (own organisation)
    ("lahti", "lahti.neuvoja", "lahti.esihenkilo"),
    ("helsinki", "scale.091.0", "scale.091.manager"),
]
NATIONAL_MANAGER = "scale.keha.manager"

TARGETS = {
    "counsellor": {"p95_ms": 50, "p95_vs_trivial": 3},
    "dashboard": {"p95_ms": 500},
    "manager": None,  # reports and manager pages: measured, the issue sets no target
}
PERIOD = "from={from_month}&to={to_month}"

# Pages: name, who (counsellor | manager), path template, kind (selects the target).
# Placeholders: {client_id} {q} {plan_id} {assessment_id} {contact_id} {service_id}
# {enrolment_id} {referral_id} {placement_id} {agreement_id} {care_id} {claim_id} are filled
# with objects visible to the user; {org_id} {region_id} {area_id} {year} {from_month}
# {to_month} {group} are constants of the user's organisation and today (area: the employment
# authority of the area the municipality belongs to, as koto.insights names scopes).
PAGES = [
    ("my_clients", "counsellor", "/clients/", "counsellor"),
    ("client_search", "counsellor", "/clients/search/?q={q}", "counsellor"),
    ("client_detail", "counsellor", "/clients/{client_id}/", "counsellor"),
    ("client_edit_form", "counsellor", "/clients/{client_id}/edit/", "counsellor"),
    ("client_timeline", "counsellor", "/clients/{client_id}/timeline/", "counsellor"),
    ("client_meetings", "counsellor", "/clients/{client_id}/meetings/", "counsellor"),
    ("my_work", "counsellor", "/plans/my-work/", "counsellor"),
    ("my_team", "counsellor", "/plans/my-work/?view=team", "counsellor"),
    ("my_work_group", "counsellor", "/plans/my-work/?group={group}", "counsellor"),
    ("assessment", "counsellor", "/assessments/{assessment_id}/", "counsellor"),
    ("plan", "counsellor", "/plans/{plan_id}/", "counsellor"),
    ("plan_document", "counsellor", "/plans/{plan_id}/document/", "counsellor"),
    ("guidance_log", "counsellor", "/guidance/", "counsellor"),
    ("guidance_contact", "counsellor", "/guidance/contacts/{contact_id}/", "counsellor"),
    ("services_catalogue", "counsellor", "/services/", "counsellor"),
    ("service_detail", "counsellor", "/services/{service_id}/", "counsellor"),
    ("enrol_form", "counsellor", "/services/clients/{client_id}/enrol/", "counsellor"),
    ("attendance", "counsellor", "/services/enrolments/{enrolment_id}/attendance/", "counsellor"),
    ("referrals_inbox", "counsellor", "/referrals/", "counsellor"),
    ("referral_detail", "counsellor", "/referrals/{referral_id}/", "counsellor"),
    ("placement_list", "counsellor", "/placement/", "counsellor"),
    ("placement_detail", "counsellor", "/placement/{placement_id}/", "counsellor"),
    ("placement_agreements", "counsellor", "/placement/agreements/", "counsellor"),
    ("minors", "counsellor", "/placement/minors/", "counsellor"),
    ("guidance_report", "manager", "/guidance/report/", "manager"),
    ("funding_overview", "manager", "/funding/", "manager"),
    ("funding_claims", "manager", "/funding/claims/", "manager"),
    ("funding_claim", "manager", "/funding/claims/{claim_id}/", "manager"),
    ("funding_report", "manager", "/funding/report/?year={year}", "manager"),
    ("dashboard", "manager", "/insights/", "dashboard"),
    ("dashboard_org", "manager", "/insights/?scope=org:{org_id}&" + PERIOD, "dashboard"),
    (
        "dashboard_org_filtered",
        "manager",
        "/insights/?scope=org:{org_id}&" + PERIOD + "&target_group=protection&language=ar"
        "&age_band=18_29",
        "dashboard",
    ),
    ("impact_org", "manager", "/insights/impact/?scope=org:{org_id}&" + PERIOD, "dashboard"),
    ("export_csv_org", "manager", "/insights/export.csv?scope=org:{org_id}&" + PERIOD, "dashboard"),
    (
        "api_dashboard_org",
        "manager",
        "/api/v1/insights/dashboard?scope=org:{org_id}&" + PERIOD,
        "dashboard",
    ),
    (
        "api_impact_org",
        "manager",
        "/api/v1/insights/impact?scope=org:{org_id}&" + PERIOD,
        "dashboard",
    ),
]
# As the manager at KEHA: the whole country, Helsinki's welfare region and employment area
# (a city's that has one when Helsinki has none in the reference data).
NATIONAL_PAGES = [  # name, path template, kind (selects the target)
    ("dashboard_national", "/insights/?scope=national&" + PERIOD, "dashboard"),
    ("dashboard_region", "/insights/?scope=region:{region_id}&" + PERIOD, "dashboard"),
    ("dashboard_area", "/insights/?scope=area:{area_id}&" + PERIOD, "dashboard"),
    (
        "dashboard_national_filtered",
        "/insights/?scope=national&" + PERIOD + "&target_group=protection&language=ar"
        "&age_band=18_29",
        "dashboard",
    ),
    ("impact_national", "/insights/impact/?scope=national&" + PERIOD, "dashboard"),
    ("export_csv_national", "/insights/export.csv?scope=national&" + PERIOD, "dashboard"),
    ("api_dashboard_national", "/api/v1/insights/dashboard?scope=national&" + PERIOD, "dashboard"),
    ("api_impact_national", "/api/v1/insights/impact?scope=national&" + PERIOD, "dashboard"),
    # the State's compensation report: every municipality and welfare region
    ("funding_report_national", "/funding/report/?year={year}", "manager"),
]
# API GET operations come from the OpenAPI schema; these add realistic query strings.
API_QUERY = {"/api/v1/clients/": "q={q}"}
# The insights API is measured with its scopes in the tables above; the status endpoint is
# the monitoring probe, not a counsellor's read (it answers 503 while a job is late).
API_SKIP = ("/api/v1/insights", "/api/v1/status")

# The placeholders each pool of visible objects fills.
POOL_KEYS = {
    "client": {"client_id", "q"},
    "plan": {"plan_id"},
    "assessment": {"assessment_id"},
    "pdf": {"plan_id", "pdf_id"},
    "contact": {"contact_id"},
    "enrolment": {"enrolment_id"},
    "service": {"service_id"},
    "referral": {"referral_id"},
    "placement": {"placement_id"},
    "agreement": {"agreement_id"},
    "care": {"care_id"},
    "claim": {"claim_id"},
}
# Pools read from list endpoints (so visible by construction): pool -> (list URLs, id key).
API_POOLS = {
    "referral": (["/api/v1/referrals?box=incoming&limit=200", "/api/v1/referrals?box=outgoing&limit=200"], "id"),
    "service": (["/api/v1/services/"], "id"),
    "placement": (["/api/v1/placement/placements"], "id"),
    "agreement": (["/api/v1/placement/agreements"], "id"),
    "care": (["/api/v1/placement/minors"], "id"),
    "claim": (["/api/v1/funding/claims"], "id"),
}  # fmt: skip

ENTRY_BUDGET_S = 20.0  # time budget for one URL: slow URLs get fewer requests (at least 20)
MIN_REQUESTS = 20
SLOW_PROBE_MS, SLOW_REQUESTS = 3000, 5  # a URL whose first answer takes over 3 s: 5 requests
STATEMENT_TIMEOUT_MS = 60_000  # in-process only: a page whose query runs longer is an error


# ---------------------------------------------------------------------------------------
# Setup


def db_url_from(args) -> str:
    return args.db_url or os.environ.get("KOTO_NATIONAL_PG_URL", DB_URL_DEFAULT)


def require_data(url: str) -> dict:
    """Counts of the national database, or exit with what to do."""
    dbname = url.rsplit("/", 1)[1]
    if not pg_database_exists(url):
        sys.exit(f"The database {dbname} does not exist: {HINT}.")
    from django.db import connection

    if "clients_client" not in connection.introspection.table_names():
        sys.exit(f"The database {dbname} has no Koto tables: {HINT}.")
    from koto.accounts.models import User
    from koto.clients.models import Client

    clients = Client.objects.count()
    missing = [u for u in ("lahti.neuvoja", "scale.091.0") if not User.objects.filter(username=u).exists()]  # fmt: skip
    if clients == 0 or missing:
        sys.exit(
            f"The database {dbname} lacks data ({clients} clients"
            f"{', no user ' + ', '.join(missing) if missing else ''}): {HINT}."
        )
    return table_counts()


def client_count(url: str) -> int:
    """Clients in the database (0 when it or its tables are missing), without Django."""
    import psycopg

    if not pg_database_exists(url):
        return 0
    with psycopg.connect(url) as conn:
        if conn.execute("select to_regclass('clients_client')").fetchone()[0] is None:
            return 0
        return conn.execute("select count(*) from clients_client").fetchone()[0]


def table_counts() -> dict:
    """Row counts of the main tables (planner estimates for the largest, exact otherwise)."""
    from django.db import connection

    tables = {
        "clients": "clients_client",
        "contacts": "guidance_contact",
        "assessments": "assessments_assessment",
        "plans": "plans_integrationplan",
        "enrolments": "offerings_enrolment",
        "referrals": "referrals_referral",
        "meetings": "clients_meeting",
        "audit_events": "audit_auditevent",
        "users": "accounts_user",
    }
    out = {}
    with connection.cursor() as cursor:
        for name, table in tables.items():
            cursor.execute("select reltuples::bigint from pg_class where relname = %s", [table])
            row = cursor.fetchone()
            estimate = row[0] if row else -1
            if estimate < 2_000_000:
                cursor.execute(f"select count(*) from {table}")
                out[name] = cursor.fetchone()[0]
            else:
                out[name] = estimate
    return out


def bound_statements() -> None:
    """Bound every query of this process (not the server's): a page that would run for
    minutes answers 500 and is recorded as an error. Django's request log is silenced here:
    errors are recorded in the results with their exception."""
    import logging

    from django.db import connection
    from django.db.backends.signals import connection_created

    def on_connect(sender, connection, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute(f"set statement_timeout = {STATEMENT_TIMEOUT_MS}")

    connection_created.connect(on_connect, weak=False)
    connection.close()
    logging.getLogger("django.request").setLevel(logging.CRITICAL)


def login(user):
    from django.test import Client as HttpClient

    http = HttpClient(raise_request_exception=False)
    http.force_login(user, backend="koto.accounts.backends.MembershipModelBackend")
    return http


def constants_for(org) -> dict:
    from koto.core import clock
    from koto.organisations.models import EmploymentArea

    today = clock.today()
    start = (today.replace(day=1) - dt.timedelta(days=335)).replace(day=1)
    area = EmploymentArea.objects.filter(members=org).values_list("authority_id", flat=True).first()
    return {
        "org_id": org.id,
        "region_id": org.welfare_region_id or "",
        "area_id": area or "",
        "year": today.year,
        "from_month": start.strftime("%Y-%m"),
        "to_month": today.strftime("%Y-%m"),
        "group": "overdue",  # my work's largest group in the generated data
    }


class Persona:
    """A logged-in user with the objects it may see, read once and sampled."""

    def __init__(self, username: str, rng: random.Random):
        from koto.accounts.models import User
        from koto.accounts.selectors import active_membership_for

        self.username = username
        self.user = User.objects.filter(username=username).first()
        self.rng = rng
        self.pools: dict[str, list[dict]] = {}
        if self.user is None:
            self.http = self.org = None
            self.constants = {}
            return
        membership = active_membership_for(user=self.user, membership_id=None)
        self.org = membership.organisation if membership else None
        self.http = login(self.user)
        self.constants = constants_for(self.org) if self.org else {}

    @property
    def key(self) -> str:
        return self.username.replace(".", "_")

    def pool(self, name: str) -> list[dict]:
        if name not in self.pools:
            self.pools[name] = self._build(name)
        return self.pools[name]

    def _build(self, name: str) -> list[dict]:
        from koto.assessments.models import Assessment
        from koto.clients.models import Client
        from koto.guidance.models import Contact
        from koto.offerings.models import Enrolment
        from koto.plans.models import IntegrationPlan, PlanPdf

        rng, org_id = self.rng, self.org.id
        by_client = {"client__responsible_organisation_id": org_id}
        if name == "client":
            ids = list(
                Client.objects.filter(responsible_organisation_id=org_id).values_list(
                    "id", flat=True
                )
            )
            ids = rng.sample(ids, min(3000, len(ids)))
            rows = Client.objects.filter(id__in=ids).values_list(
                "id", "first_name", "last_name", "hetu", "temporary_id"
            )
            return [
                {
                    "client_id": pk,
                    "q": search_queries(rng, [(first, last, hetu or temp or last)], 1)[0],
                }
                for pk, first, last, hetu, temp in rows
            ]
        if name in ("plan", "assessment", "enrolment"):
            model = {"plan": IntegrationPlan, "assessment": Assessment, "enrolment": Enrolment}[
                name
            ]
            ids = list(model.objects.filter(**by_client).order_by("?").values_list("id", flat=True)[:2000])  # fmt: skip
            return [{f"{name}_id": pk} for pk in ids]
        if name == "pdf":
            rows = PlanPdf.objects.filter(plan__client__responsible_organisation_id=org_id)
            return [{"plan_id": p, "pdf_id": i} for p, i in rows.values_list("plan_id", "id")[:500]]
        if name == "contact":
            ids = list(
                Contact.objects.filter(organisation_id=org_id)
                .order_by("-id")
                .values_list("id", flat=True)[:20000]
            )
            return [{"contact_id": pk} for pk in rng.sample(ids, min(2000, len(ids)))]
        urls, key = API_POOLS[name]
        ids = []
        for url in urls:
            response = self.http.get(url)
            if response.status_code != 200:
                continue
            data = response.json()
            items = data.get("items", []) if isinstance(data, dict) else data
            ids += [item[key] for item in items if key in item]
        return [{f"{name}_id": pk} for pk in ids]


# ---------------------------------------------------------------------------------------
# Page benchmark


def placeholders(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def fill(template: str, values: dict) -> str:
    return template.format(**{k: quote(str(v), safe=":") for k, v in values.items()})


def urls_for(persona: Persona, template: str, n: int) -> tuple[list[str] | None, str]:
    """n URLs from the template with objects the persona may see, or None and why not."""
    needed = placeholders(template) - set(persona.constants)
    if not needed:
        return [fill(template, persona.constants)] * n, ""
    candidates = [p for p, keys in POOL_KEYS.items() if needed <= keys]
    if not candidates:
        return None, f"no object pool fills {sorted(needed)}"
    pool_name = min(candidates, key=lambda p: len(POOL_KEYS[p]))
    rows = persona.pool(pool_name)
    if not rows:
        return None, f"no {pool_name} visible to {persona.username}"
    return [fill(template, {**persona.constants, **persona.rng.choice(rows)}) for _ in range(n)], ""


def bench_url(
    persona: Persona, template: str, kind: str, requests: int, *, before_each=None
) -> dict:
    """Probe once (404: missing), then time up to `requests` requests within the budget."""
    urls, why = urls_for(persona, template, requests)
    base = {"url": template, "user": persona.username, "kind": kind}
    if urls is None:
        return {**base, "skipped": why}
    t0 = time.perf_counter()
    response = persona.http.get(urls[0])
    probe_ms = (time.perf_counter() - t0) * 1000
    if response.status_code == 404:
        return {**base, "missing": True, "status": 404}
    if response.status_code >= 400:
        exc = getattr(response, "exc_info", None)
        why = f"{type(exc[1]).__name__}: {str(exc[1])[:300]}" if exc else ""
        return {**base, "error": True, "status": response.status_code, "exception": why}
    n = max(MIN_REQUESTS, min(requests, int(ENTRY_BUDGET_S * 1000 / max(probe_ms, 0.1))))
    if probe_ms > SLOW_PROBE_MS:
        n = SLOW_REQUESTS
    times, queries, statuses = time_requests(
        persona.http, urls[:n], warmup=min(10, n // 10), before_each=before_each
    )
    return {**base, **summarise(times, queries, statuses), "probe_ms": round(probe_ms, 1)}


def api_get_operations(persona: Persona) -> list[tuple[str, str]]:
    """(path template with query, operation id) of every GET in the OpenAPI schema."""
    schema = persona.http.get("/api/v1/openapi.json").json()
    ops = []
    for path, methods in sorted(schema["paths"].items()):
        op = methods.get("get")
        if op is None or path.startswith(API_SKIP):
            continue
        query = [API_QUERY[path]] if path in API_QUERY else []
        for param in op.get("parameters", []):
            if param.get("in") == "query" and param.get("required"):
                query.append(f"{param['name']}={{{param['name']}}}")
        ops.append((path + ("?" + "&".join(query) if query else ""), op.get("operationId", path)))
    return ops


def with_targets(entry: dict, floor_p95: float, signed_in_p95: float | None = None) -> dict:
    if "p95_ms" not in entry:
        return entry
    entry["p95_vs_trivial"] = round(entry["p95_ms"] / floor_p95, 1) if floor_p95 else None
    if signed_in_p95:
        entry["p95_vs_trivial_signed_in"] = round(entry["p95_ms"] / signed_in_p95, 1)
    target = TARGETS.get(entry["kind"])
    if target:
        entry["meets_p95_ms"] = entry["p95_ms"] <= target["p95_ms"]
        if "p95_vs_trivial" in target:
            entry["meets_p95_vs_trivial"] = entry["p95_vs_trivial"] <= target["p95_vs_trivial"]
    bad = {s for s in entry["statuses"] if int(s) >= 400}
    if bad:
        entry["error_statuses"] = sorted(bad)
    return entry


def insights_state(url: str, refresh: bool = True) -> dict:
    """When the dashboards' rollups were last built; never: build them now, as the task
    worker would (`manage.py refresh_insights`), so the dashboards show real figures."""
    from django.db import connection

    def state():
        with connection.cursor() as cursor:
            cursor.execute("select refreshed_at, cells, seconds from insights_refreshstate where id = 1")  # fmt: skip
            row = cursor.fetchone()
        return {"refreshed_at": row[0].isoformat() if row and row[0] else None, "cells": row[1] if row else 0}  # fmt: skip

    if "insights_refreshstate" not in connection.introspection.table_names():
        return {"installed": False}
    before = state()
    if before["refreshed_at"] is not None or not refresh:
        return {**before, "refreshed_by_benchmark": False}
    print("== dashboards have no rollups yet: manage.py refresh_insights", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "manage.py", "refresh_insights"],
        env={**os.environ, "DATABASE_URL": url}, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    out = {**state(), "refreshed_by_benchmark": True, "refresh_s": round(time.perf_counter() - t0, 1)}  # fmt: skip
    if proc.returncode != 0:
        # Measured all the same (on empty rollups), and said so in the results.
        out["refresh_failed"] = (proc.stdout + proc.stderr).strip().splitlines()[-1][:300]
        print(f"refresh_insights failed: {out['refresh_failed']}", flush=True)
    return out


def vacuum_state(url: str) -> dict:
    """Vacuum the tables no vacuum has visited yet, as autovacuum would after the bulk load:
    until then a table has no visibility map, so PostgreSQL reads the heap behind every index
    entry (a count of 45 705 open tasks: 426 ms from the heap, 23 ms index-only after it)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE n_live_tup > 0 AND "
                "last_vacuum IS NULL AND last_autovacuum IS NULL ORDER BY relname"
            )
        ]
        t0 = time.perf_counter()
        for table in tables:
            conn.execute(f'VACUUM (ANALYZE) "{table}"')  # noqa: S608 - catalog names
    return {"vacuumed_tables": len(tables), "seconds": round(time.perf_counter() - t0, 1)}


def page_benchmark(args, counts: dict) -> dict:
    from django.test import Client as HttpClient

    from koto.core import clock

    rng = random.Random(args.seed)
    insights = insights_state(args.url, refresh=not args.skip_refresh)
    vacuum = args.vacuum
    print(f"== vacuum: {json.dumps(vacuum)}", flush=True)
    load_before = os.getloadavg()
    started = time.perf_counter()
    trivial = HttpClient()
    floor_start = time_requests(trivial, ["/healthz"] * (args.requests * 2))
    # The same view as a signed-in counsellor: what any page of a signed-in user pays
    # before its own work (the session, the user, the memberships). Reported beside it.
    signed_in = login(Persona(PERSONAS[0][1], rng).user)
    signed_in_start = time_requests(signed_in, ["/healthz"] * (args.requests * 2))
    results: dict[str, dict] = {}

    def record(name: str, entry: dict) -> None:
        results[name] = entry
        if "p95_ms" in entry:
            print(
                f"{name:58} median {entry['median_ms']:8.2f}  p95 {entry['p95_ms']:8.2f} ms  "
                f"n {entry['n']:3}  queries {entry['queries_min']}-{entry['queries_max']}  "
                f"{entry['statuses']}",
                flush=True,
            )
        else:
            why = "missing (404)" if entry.get("missing") else entry.get("skipped") or entry
            print(f"{name:58} {why}", flush=True)

    for _key, counsellor_name, manager_name in PERSONAS:
        counsellor = Persona(counsellor_name, rng)
        manager = Persona(manager_name, rng)
        for persona in (counsellor, manager):
            if persona.user is None:
                print(f"(no user {persona.username} in this database)", flush=True)
        for name, who, template, kind in PAGES:
            persona = counsellor if who == "counsellor" else manager
            label = f"{name}__{persona.key}"
            if persona.user is None:
                record(label, {"url": template, "user": persona.username, "kind": kind, "skipped": "no such user"})  # fmt: skip
                continue
            record(label, bench_url(persona, template, kind, args.requests))
            if name == "dashboard_org":  # the same with the sums' cache emptied, as above
                from django.core.cache import cache

                record(f"dashboard_org_uncached__{persona.key}", bench_url(persona, template, kind, args.requests, before_each=cache.clear))  # fmt: skip
        if counsellor.user is None:
            continue
        for template, op_id in api_get_operations(counsellor):
            # As the counsellor; what a counsellor may not read, as the manager.
            entry = bench_url(counsellor, template, "counsellor", args.requests)
            if (
                entry.get("error") or entry.get("missing") or entry.get("skipped")
            ) and manager.user:
                second = bench_url(manager, template, "manager", args.requests)
                if "p95_ms" in second:
                    entry = second
            entry["operation_id"] = op_id
            path = template.removeprefix("/api/v1").split("?")[0]
            record(f"api {path}__{entry['user'].replace('.', '_')}", entry)
    national = Persona(NATIONAL_MANAGER, rng)
    if national.user is not None:
        # Helsinki's welfare region and employment area, else the first city that has one.
        cities = [Persona(PERSONAS[1][1], rng), Persona(PERSONAS[0][1], rng)]
        for key in ("region_id", "area_id"):
            national.constants[key] = next((c.constants[key] for c in cities if c.constants.get(key)), "")  # fmt: skip
        for name, template, kind in NATIONAL_PAGES:
            record(f"{name}__{national.key}", bench_url(national, template, kind, args.requests))  # fmt: skip
        # The dashboards' sums are cached until the next refresh (docs/insights.md): the
        # first view of a scope and period after a refresh, measured with the cache emptied.
        from django.core.cache import cache

        for name, template, _kind in NATIONAL_PAGES[:1]:
            record(f"{name}_uncached__{national.key}", bench_url(national, template, "dashboard", args.requests, before_each=cache.clear))  # fmt: skip
    else:
        print(f"(no user {NATIONAL_MANAGER}: national dashboards not measured)", flush=True)

    floor_end = time_requests(trivial, ["/healthz"] * (args.requests * 2))
    signed_in_end = time_requests(signed_in, ["/healthz"] * (args.requests * 2))
    counts_after = table_counts()
    statuses = {
        k: floor_start[2].get(k, 0) + floor_end[2].get(k, 0)
        for k in {*floor_start[2], *floor_end[2]}
    }
    floor = summarise(floor_start[0] + floor_end[0], floor_start[1] + floor_end[1], statuses)
    floor["p95_start_ms"] = round(percentile(floor_start[0], 0.95), 2)
    floor["p95_end_ms"] = round(percentile(floor_end[0], 0.95), 2)
    floor_signed_in = summarise(
        signed_in_start[0] + signed_in_end[0],
        signed_in_start[1] + signed_in_end[1],
        {"200": len(signed_in_start[0]) + len(signed_in_end[0])},
    )
    for entry in results.values():
        with_targets(entry, floor["p95_ms"], floor_signed_in["p95_ms"])
    measured = [e for e in results.values() if "p95_ms" in e]
    summary = {
        "measured": len(measured),
        "missing": sorted(k for k, e in results.items() if e.get("missing")),
        "skipped": sorted(k for k, e in results.items() if e.get("skipped")),
        "errors": sorted(
            k for k, e in results.items() if e.get("error") or e.get("error_statuses")
        ),  # fmt: skip
        "counsellor_over_50ms": sorted(
            k
            for k, e in results.items()
            if e.get("kind") == "counsellor" and e.get("meets_p95_ms") is False  # fmt: skip
        ),
        "dashboard_over_500ms": sorted(
            k
            for k, e in results.items()
            if e.get("kind") == "dashboard" and e.get("meets_p95_ms") is False  # fmt: skip
        ),
    }
    return {
        "benchmark": "national",
        "db": "postgres",
        "database": db_name(args.url),
        "clients": counts["clients"],
        "counts": counts,
        "counts_after": counts_after,  # the same unless someone else wrote meanwhile
        "date": clock.today().isoformat(),
        "machine": machine(),
        "requests": args.requests,
        "minutes": round((time.perf_counter() - started) / 60, 1),
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "targets": TARGETS,
        "insights_rollups": insights,
        "vacuum": vacuum,
        "trivial_view": floor,
        "trivial_view_signed_in": floor_signed_in,
        "summary": summary,
        "results": {"trivial_view": floor, **results},
    }


def db_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


# ---------------------------------------------------------------------------------------
# Load test

# Category: weight, method, what it is. Paths are made per user in build_mix().
MIX = [
    ("client_search", 24, "GET", "counsellor: client search page, realistic name prefixes"),
    ("client_detail", 18, "GET", "counsellor: client page (audited read)"),
    ("my_clients", 6, "GET", "counsellor: my clients"),
    ("my_work", 8, "GET", "counsellor: my work (deadline tasks)"),
    ("api_client_read", 6, "GET", "counsellor: API client read (session)"),
    ("guidance_log", 5, "GET", "counsellor: guidance log page"),
    ("contact_post", 18, "POST", "write: guidance contact, API bearer token"),
    ("meeting_post", 8, "POST", "write: client meeting, API bearer token"),
    ("dashboard", 3, "GET", "manager: dashboard of own organisation / national"),
    ("api_dashboard", 1, "GET", "manager: dashboard API"),
]
EXCLUDED: set[str] = set()  # --mix-exclude
OPTIONAL = {"dashboard", "api_dashboard"}  # dropped (recorded missing) when they answer 404
MARKERS = [["meeting_post", '"fee_may_be_charged"'], ["contact_post", '"ura_channel"']]
# Counsellors for the load: the demo users and generated counsellors of the largest cities.
LOAD_CITIES = ["091", "049", "092", "837", "853", "564", "398", "179"]
LANGUAGES = ["ar", "uk", "ru", "so", "en", "fa", "ku", "ti", "fi"]
# Access-log path -> category, to count statuses and server time per category.
CATEGORY_PATHS = [
    ("client_search", "GET", r"^/clients/search/$"),
    ("client_detail", "GET", r"^/clients/\d+/$"),
    ("my_clients", "GET", r"^/clients/$"),
    ("my_work", "GET", r"^/plans/my-work/$"),
    ("api_client_read", "GET", r"^/api/v1/clients/\d+$"),
    ("guidance_log", "GET", r"^/guidance/$"),
    ("contact_post", "POST", r"^/api/v1/guidance/contacts$"),
    ("meeting_post", "POST", r"^/api/v1/clients/\d+/meetings$"),
    ("dashboard", "GET", r"^/insights/$"),
    ("api_dashboard", "GET", r"^/api/v1/insights/dashboard$"),
]


def load_users(n: int) -> tuple[list, list]:
    """Up to n counsellors spread over the largest cities, and their cities' managers."""
    from django.db.models import Q

    from koto.accounts.models import User

    per_city = max(1, -(-n // len(LOAD_CITIES)))
    counsellors = list(User.objects.filter(username__in=["lahti.neuvoja", "tampere.neuvoja"]))
    for code in LOAD_CITIES:
        qs = User.objects.filter(username__regex=rf"^scale\.{code}\.[0-9]+$").order_by("id")
        counsellors += list(qs[:per_city])
    counsellors = counsellors[:n]
    names = [f"scale.{c}.manager" for c in LOAD_CITIES] + ["lahti.esihenkilo", NATIONAL_MANAGER]
    managers = list(User.objects.filter(Q(username__in=names)))
    return counsellors, managers


def token_for(org, run_id: str):
    """A bearer token of the organisation made for this run through the audited services."""
    from koto.accounts.models import Membership, User
    from koto.accounts.services import api_token_approve, api_token_create, membership_add
    from koto.core.roles import Role

    def bench_member(username: str, role: str) -> User:
        user, created = User.objects.get_or_create(username=username)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        membership_add(actor=None, user=user, organisation=org, role=role, check=False)
        user.active_membership = Membership.objects.get(user=user, organisation=org, role=role)
        return user

    admin = bench_member(f"bench.admin.{org.code}", Role.ORG_ADMIN)
    token, key = api_token_create(actor=admin, organisation=org, name=f"load test {run_id}")
    # the second pair of eyes: a manager of the organisation approves it
    approver = bench_member(f"bench.approver.{org.code}", Role.MANAGER)
    token = api_token_approve(actor=approver, token=token)
    return admin, token, key


def browser_cookies(persona: Persona) -> dict:
    """The Cookie header a browser sends once logged in: the session and the CSRF cookie
    (set by the first page with a form; without it every page would mint a new one)."""
    response = persona.http.get("/clients/search/")
    jar = persona.http.cookies
    if "csrftoken" not in jar:
        sys.exit(
            f"{persona.username}: no CSRF cookie from /clients/search/ ({response.status_code})"
        )
    return {"Cookie": f"sessionid={jar['sessionid'].value}; csrftoken={jar['csrftoken'].value}"}


def build_mix(args, run_id: str) -> dict:
    """Prepared requests per category (session cookies, tokens, visible ids) and the state to
    reconcile: the tokens' system users and the meeting purpose of this run."""
    from koto.accounts.selectors import active_membership_for
    from koto.core import clock
    from koto.guidance.selectors import active_reasons
    from koto.guidance.services import reasons_ensure

    rng = random.Random(args.seed)
    counsellors, managers = load_users(args.users)
    if not counsellors:
        sys.exit(f"No counsellors for the load test: {HINT}.")
    reasons_ensure()
    reason_codes = [r.code for r in active_reasons()]
    today = clock.today().isoformat()
    purpose = f"Load test {run_id}"
    reqs: dict[str, list] = {name: [] for name, *_ in MIX}
    tokens: dict[int, tuple] = {}
    users = []
    for user in counsellors:
        membership = active_membership_for(user=user, membership_id=None)
        org = membership.organisation
        persona = Persona(user.username, rng)
        cookie = browser_cookies(persona)
        if org.id not in tokens:
            tokens[org.id] = token_for(org, run_id)
        _admin, token, key = tokens[org.id]
        bearer = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        from koto.clients.models import Client

        rows = list(
            Client.objects.filter(responsible_organisation=org)
            .order_by("?")
            .values_list("id", "first_name", "last_name", "hetu", "temporary_id")[:200]
        )
        if not rows:
            continue
        users.append({"username": user.username, "organisation": org.code})
        queries = search_queries(rng, [(f, la, h or t or la) for _, f, la, h, t in rows], 100)
        reqs["client_search"] += [["GET", f"/clients/search/?q={quote(q)}", cookie] for q in queries]  # fmt: skip
        reqs["client_detail"] += [["GET", f"/clients/{r[0]}/", cookie] for r in rows[:100]]
        reqs["my_clients"].append(["GET", "/clients/", cookie])
        reqs["my_work"].append(["GET", "/plans/my-work/", cookie])
        reqs["api_client_read"] += [["GET", f"/api/v1/clients/{r[0]}", cookie] for r in rows[100:]]
        reqs["guidance_log"].append(["GET", "/guidance/", cookie])
        for i in range(60):
            body = {
                "channel": rng.choice(["walk_in", "phone", "chat", "email", "visit_appointment"]),
                "reasons": rng.sample(reason_codes, rng.choice([1, 1, 2])),
                "language": rng.choice(LANGUAGES),
                "outcome": "answered",
                "client_identifier": (rows[i][3] or rows[i][4] or "")
                if rng.random() < 0.3
                else "",  # fmt: skip
            }
            reqs["contact_post"].append(["POST", "/api/v1/guidance/contacts", bearer, json.dumps(body)])  # fmt: skip
        for r in rows[:40]:
            body = {"held_on": today, "purpose": purpose, "notes": f"{user.username} {r[0]}"}
            reqs["meeting_post"].append(["POST", f"/api/v1/clients/{r[0]}/meetings", bearer, json.dumps(body)])  # fmt: skip
    for user in managers:
        persona = Persona(user.username, rng)
        cookie = browser_cookies(persona)
        c = persona.constants
        scope = "national" if user.username == NATIONAL_MANAGER else f"org:{c['org_id']}"
        period = f"from={c['from_month']}&to={c['to_month']}"
        reqs["dashboard"].append(["GET", f"/insights/?scope={scope}&{period}", cookie])
        reqs["api_dashboard"].append(["GET", f"/api/v1/insights/dashboard?scope={scope}&{period}", cookie])  # fmt: skip
    return {
        "requests": reqs,
        "users": users,
        "managers": [u.username for u in managers],
        "tokens": list(tokens.values()),
        "purpose": purpose,
    }


def lua(value) -> str:
    """A Lua literal (the data file wrk's script loads)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        out = []
        for ch in value:
            o = ord(ch)
            if ch in '"\\':
                out.append("\\" + ch)
            elif 32 <= o < 127:
                out.append(ch)
            else:
                out.append("".join(f"\\{b}" for b in ch.encode()))
        return '"' + "".join(out) + '"'
    if isinstance(value, dict):
        return "{" + ",".join(f"[{lua(k)}]={lua(v)}" for k, v in value.items()) + "}"
    return "{" + ",".join(lua(v) for v in value) + "}"


def write_lua_data(path, categories: list[tuple[str, int, list]], seed: int) -> None:
    data = {
        "seed": seed,
        "markers": MARKERS,
        "categories": [{"name": n, "weight": w, "requests": r} for n, w, r in categories],
    }
    path.write_text("return " + lua(data) + "\n", encoding="ascii")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn on 127.0.0.1 with production settings (DEBUG off, a throwaway secret key)."""

    def __init__(self, url: str, secret: str, worker_class: str, workers: int, threads: int):
        self.port = free_port()
        self.config = {"worker_class": worker_class, "workers": workers, "threads": threads}
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        self.access_log = WORK_DIR / f"access-{self.port}.log"
        self.error_log = WORK_DIR / f"error-{self.port}.log"
        self.output = WORK_DIR / f"server-{self.port}.out"  # Django's own log (errors)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "koto.settings",
            "KOTO_DEBUG": "false",
            "KOTO_ALLOWED_HOSTS": "127.0.0.1",
            "KOTO_SECURE_COOKIES": "false",
            "KOTO_SECRET_KEY": secret,
            "KOTO_LOG_LEVEL": "WARNING",
        }
        cmd = [
            sys.executable, "-m", "gunicorn", "koto.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}", "--worker-class", worker_class,
            "--workers", str(workers), "--threads", str(threads), "--timeout", "60",
            "--keep-alive", "5", "--backlog", "2048", "--config", "/dev/null",
            "--access-logfile", str(self.access_log),
            "--access-logformat", "%(m)s %(U)s %(s)s %(M)s",
            "--error-logfile", str(self.error_log), "--log-level", "warning",
        ]  # fmt: skip
        with open(self.output, "w") as out:
            self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=out)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"gunicorn exited ({self.proc.returncode}): see {self.error_log}")
            try:
                status, _ = self.request("GET", "/healthz", {})
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        sys.exit("gunicorn did not answer /healthz within 90 s")

    def request(self, method: str, path: str, headers: dict, body: str | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # graceful: in-flight requests finish
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def process_cpu() -> dict[int, tuple[str, int, float]]:
    """Every live process: pid -> (name, parent pid, CPU seconds so far, user + system)."""
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:  # exited meanwhile
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        procs[int(entry)] = (name, int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return procs


class CpuByKind(threading.Thread):
    """CPU seconds spent while it runs by kind of process: the gunicorn server (master and
    workers), PostgreSQL (backends and helpers), everything else. Sampled every half second,
    so a process that ends (a database connection closed after KOTO_CONN_MAX_AGE) loses
    at most its last half second; wrk's own CPU comes from its rusage."""

    def __init__(self, server_pid: int):
        super().__init__(daemon=True)
        self.server_pid = server_pid
        self.spent = {"server": 0.0, "postgres": 0.0, "other": 0.0}
        self.halt = threading.Event()

    def kind(self, pid: int, name: str, ppid: int) -> str | None:
        if pid == self.server_pid or ppid == self.server_pid:
            return "server"
        if name.startswith("postgres"):
            return "postgres"
        return None if name == "wrk" else "other"

    def run(self) -> None:
        self.started_at = time.perf_counter()
        last = process_cpu()
        while not self.halt.wait(0.5):
            now = process_cpu()
            for pid, (name, ppid, cpu) in now.items():
                kind = self.kind(pid, name, ppid)
                if kind is not None:
                    self.spent[kind] += max(0.0, cpu - (last[pid][2] if pid in last else 0.0))
            last = now
        self.seconds = time.perf_counter() - self.started_at

    def stop(self) -> tuple[dict[str, float], float]:
        self.halt.set()
        self.join()
        return self.spent, self.seconds


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [float(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def run_wrk(server: Server, data_path, out_path, *, seconds: int, connections: int) -> dict:
    env = {**os.environ, "KOTO_WRK_DATA": str(data_path), "KOTO_WRK_OUT": str(out_path)}
    cmd = [
        "wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
        "-s", str(LUA_SCRIPT), f"http://127.0.0.1:{server.port}",
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy0, total0 = cpu_times()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    sampler = CpuByKind(server.proc.pid)
    sampler.start()
    stdout, stderr = proc.communicate(timeout=seconds + 120)
    kinds, window = sampler.stop()
    busy1, total1 = cpu_times()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"wrk failed ({proc.returncode}):\n{stdout}\n{stderr}")
    result = json.loads(out_path.read_text())
    result["wrk_cpu_s"] = round(
        (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 1
    )
    result["machine_cpu_busy_pct"] = round(100 * (busy1 - busy0) / max(total1 - total0, 1), 1)
    result["wrk_stdout"] = stdout
    result["cpu_by_process_kind_s"] = {k: round(kinds[k], 1) for k in ("server", "postgres", "other")}  # fmt: skip
    result["cpu_window_s"] = round(window, 1)
    return result


def access_log_stats(path) -> dict:
    """Statuses and server time per category from gunicorn's access log."""
    patterns = [(name, method, re.compile(rx)) for name, method, rx in CATEGORY_PATHS]
    per: dict[str, dict] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        method, path_, status, ms = parts
        name = next((n for n, m, rx in patterns if m == method and rx.match(path_)), "other")
        entry = per.setdefault(name, {"statuses": {}, "ms": []})
        entry["statuses"][status] = entry["statuses"].get(status, 0) + 1
        entry["ms"].append(int(ms))
    out = {}
    for name, entry in sorted(per.items()):
        ms = entry["ms"]
        out[name] = {
            "n": len(ms),
            "statuses": entry["statuses"],
            "server_p50_ms": round(percentile(ms, 0.5), 1),
            "server_p95_ms": round(percentile(ms, 0.95), 1),
            "server_p99_ms": round(percentile(ms, 0.99), 1),
        }
    return out


def write_counts(mix: dict) -> dict:
    from koto.clients.models import Meeting
    from koto.guidance.models import Contact

    system_users = [token.user_id for _admin, token, _key in mix["tokens"]]
    return {
        "contact_post": Contact.objects.filter(logged_by_id__in=system_users).count(),
        "meeting_post": Meeting.objects.filter(
            counsellor_id__in=system_users, purpose=mix["purpose"]
        ).count(),
    }


def audit_head() -> int:
    """The largest audit event id so far (ids come from one sequence, across lanes)."""
    from django.db.models import Max

    from koto.audit.models import AuditEvent

    return AuditEvent.objects.aggregate(m=Max("id"))["m"] or 0


def verify_chain_from(first_id: int) -> dict:
    """The audit trail's own verification (koto.audit.verification) from the load test's
    first event on: every lane's events after it, linked to the lane's event before it, and
    every lane's end against its head."""
    from koto.audit.verification import verify_chain

    t0 = time.perf_counter()
    report = verify_chain(from_id=first_id)
    out = {
        "ok": report.ok,
        "from_id": first_id,
        "to_id": audit_head(),
        "checked": report.checked,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if not report.ok:
        out.update(broken_at=report.broken_at, problem=report.problem, lane=report.lane)
    return out


def full_audit_verify(url: str, limit: int) -> dict:
    events = audit_head()
    if events > limit:
        return {"ran": False, "events": events, "why": f"more than --full-audit-limit {limit} events"}  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "manage.py", "audit_verify"],
        env={**os.environ, "DATABASE_URL": url}, cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    return {
        "ran": True,
        "ok": proc.returncode == 0,
        "output": (proc.stdout + proc.stderr).strip()[-500:],
        "seconds": round(time.perf_counter() - t0, 1),
    }


def run_phase(args, mix, server: Server, seconds: int, label: str) -> dict:
    """One wrk run on a fresh server with the full mix; writes reconciled afterwards."""
    from koto.audit.models import AuditEvent

    categories = mix["categories"]
    data_path = WORK_DIR / f"wrk-data-{label}.lua"
    write_lua_data(data_path, categories, args.seed)
    read_only = [(n, w, r) for n, w, r in categories if not n.endswith("_post")]
    warm_path = WORK_DIR / "wrk-data-warmup.lua"
    write_lua_data(warm_path, read_only, args.seed + 1)
    print(f"== {label}: warm-up {args.warmup_seconds} s (reads only)", flush=True)
    run_wrk(server, warm_path, WORK_DIR / "wrk-warmup.json", seconds=args.warmup_seconds, connections=args.users)  # fmt: skip
    server.access_log.write_text("")  # gunicorn appends; count only the measured run
    before = write_counts(mix)
    first_event = audit_head() + 1
    print(f"== {label}: {seconds} s, {args.users} connections, {server.config}", flush=True)
    load_before = os.getloadavg()
    wrk = run_wrk(server, data_path, WORK_DIR / f"wrk-{label}.json", seconds=seconds, connections=args.users)  # fmt: skip
    server.stop()  # graceful: requests in flight when wrk stopped finish before counting
    after = write_counts(mix)
    log = access_log_stats(server.access_log)
    reconcile = {}
    for name, _marker in MARKERS:
        ok = wrk["created"].get(name, 0)
        rows = after[name] - before[name]
        server_201 = log.get(name, {}).get("statuses", {}).get("201", 0)
        reconcile[name] = {
            "successes_seen_by_wrk": ok,
            "rows_created": rows,
            "server_201": server_201,
            # successes - rows; more rows than successes is no loss: responses still in
            # flight when wrk stopped (the server finished them, the server log counts them)
            "lost": max(0, ok - rows),
            "unseen_by_wrk": max(0, rows - ok),
            "server_log_matches_rows": server_201 == rows,
        }
    errors = wrk["errors"]
    socket_errors = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
    seconds_run = wrk["duration_us"] / 1e6
    return {
        "label": label,
        "server": server.config,
        "seconds": round(seconds_run, 1),
        "connections": args.users,
        "requests": wrk["requests"],
        "requests_per_s": round(wrk["requests"] / seconds_run, 1),
        "latency_ms": {k: round(v / 1000, 1) for k, v in wrk["latency_us"].items()},
        "statuses": wrk["statuses"],
        "errors": {**errors, "socket": socket_errors, "total": socket_errors + errors["status"]},
        "writes": reconcile,
        "lost_writes": sum(r["lost"] for r in reconcile.values()),
        "per_category_server": log,
        "audit_events": {
            "first_id": first_event,
            "events_written": AuditEvent.objects.filter(id__gte=first_event).count(),
        },  # fmt: skip
        "created_unmatched": wrk["created"].get("other", 0),  # a 201 without a marker: 0
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "wrk_cpu_s": wrk["wrk_cpu_s"],
        "machine_cpu_busy_pct": wrk["machine_cpu_busy_pct"],
        # CPU the whole machine spent per request (server, PostgreSQL, wrk and anything else
        # running): what bounds req/s on 2 cores
        "machine_cpu_ms_per_request": round(
            wrk["machine_cpu_busy_pct"]
            / 100
            * (os.cpu_count() or 1)
            * seconds_run
            * 1000
            / max(wrk["requests"], 1),
            1,
        ),  # fmt: skip
        # the same per kind of process (server, PostgreSQL, other), over the sampling window
        # inside the run, with wrk's own from its rusage over the whole run
        "cpu_ms_per_request_by_kind": {
            **{
                kind: round(
                    cpu * 1000 / max(wrk["requests"] * wrk["cpu_window_s"] / seconds_run, 1), 2
                )  # fmt: skip
                for kind, cpu in wrk["cpu_by_process_kind_s"].items()
            },
            "wrk": round(wrk["wrk_cpu_s"] * 1000 / max(wrk["requests"], 1), 2),
        },
        "wrk_stdout": wrk["wrk_stdout"],
    }


def probe_categories(server: Server, reqs: dict) -> tuple[list, dict]:
    """Send each category's first request; drop optional ones that answer 404."""
    categories, missing = [], {}
    for name, weight, method, _what in MIX:
        if name in EXCLUDED:
            missing[name] = "left out (--mix-exclude)"
            continue
        items = reqs[name]
        if not items:
            if name in OPTIONAL:
                missing[name] = "no users"
                continue
            sys.exit(f"load test: no requests for {name}: {HINT}.")
        status, body = server.request(method, items[0][1], items[0][2], items[0][3] if len(items[0]) > 3 else None)  # fmt: skip
        if status == 404 and name in OPTIONAL:
            missing[name] = f"{items[0][1]} answered 404"
            continue
        if status >= 400:
            server.stop()
            sys.exit(f"load test: {method} {items[0][1]} answered {status}: {body[:300]!r}")
        categories.append((name, weight, items))
    return categories, missing


def ceiling(args, config: tuple, cookie: dict) -> dict:
    """What this machine serves at most through the same server and connections, without
    Koto's work: wrk on the trivial view (/healthz), first anonymous (Django and gunicorn
    alone), then with a counsellor's session (plus what every signed-in request reads: the
    session, the user and the memberships). No page of the mix can be cheaper."""
    out = {}
    for label, headers in (("trivial_view", {}), ("trivial_view_signed_in", cookie)):
        server = Server(args.url, args.secret, *config)
        cmd = ["wrk", "-t", "2", "-c", str(args.users), "-d", f"{args.ceiling_seconds}s", "--timeout", "10s"]  # fmt: skip
        for k, v in headers.items():
            cmd += ["-H", f"{k}: {v}"]
        run = subprocess.run([*cmd, f"http://127.0.0.1:{server.port}/healthz"], capture_output=True, text=True)  # fmt: skip
        server.stop()
        rps = re.search(r"Requests/sec:\s+([\d.]+)", run.stdout)
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", run.stdout)
        out[label] = {
            "requests_per_s": float(rps.group(1)) if rps else None,
            "non_2xx": int(bad.group(1)) if bad else 0,
            "wrk_stdout": run.stdout,
        }
        print(f"ceiling {label}: {out[label]['requests_per_s']} req/s", flush=True)
    return out


def load_test(args, counts: dict) -> dict:
    from koto.accounts.services import api_token_revoke
    from koto.core import clock

    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: install the Debian package (apt-get install wrk).")
    run_id = clock.now().strftime("%Y%m%dT%H%M%S")
    print(f"== load test {run_id}: preparing sessions, tokens and requests", flush=True)
    mix = build_mix(args, run_id)
    configs = [(args.worker_class, args.workers, args.threads)]
    tuning = []
    if args.tune:
        for config in TUNE_CONFIGS:
            server = Server(args.url, args.secret, *config)
            mix["categories"], missing = probe_categories(server, mix["requests"])
            tuning.append(run_phase(args, mix, server, args.tune_seconds, f"tune-{config[0]}-{config[1]}x{config[2]}"))  # fmt: skip
            print(summary_line(tuning[-1]), flush=True)
        clean = [t for t in tuning if t["errors"]["total"] == 0 and t["lost_writes"] == 0] or tuning
        best = max(clean, key=lambda t: t["requests_per_s"])["server"]
        configs = [(best["worker_class"], best["workers"], best["threads"])]
    server = Server(args.url, args.secret, *configs[0])
    mix["categories"], missing = probe_categories(server, mix["requests"])
    main = run_phase(args, mix, server, args.load_seconds, "main")
    print(summary_line(main), flush=True)
    limits = ceiling(args, configs[0], mix["requests"]["my_clients"][0][2]) if args.ceiling_seconds else {}  # fmt: skip
    for admin, token, _key in mix["tokens"]:
        api_token_revoke(actor=admin, token=token)
    print("== audit chain", flush=True)
    audit = {
        "from_load_test": verify_chain_from(
            min(p["audit_events"]["first_id"] for p in [*tuning, main])
        ),
        "full": full_audit_verify(args.url, args.full_audit_limit),
    }
    print(json.dumps(audit), flush=True)
    weights = {name: w for name, w, _ in mix["categories"]}
    total_w = sum(weights.values())
    return {
        "benchmark": "load_test",
        "db": "postgres",
        "database": db_name(args.url),
        "clients": counts["clients"],
        "counts": counts,
        "date": clock.today().isoformat(),
        "run_id": run_id,
        "machine": machine(),
        "targets": {"requests_per_s": 300, "errors": 0, "lost_writes": 0},
        "tool": "wrk -t 2 (benchmarks/load/mixed.lua)",
        "server": main["server"],
        "mix": [
            {
                "category": n,
                "share_pct": round(100 * weights[n] / total_w, 1),
                "method": m,
                "what": what,
            }  # fmt: skip
            for n, _w, m, what in MIX
            if n in weights
        ],
        "missing": missing,
        "users": mix["users"],
        "managers": mix["managers"],
        "vacuum": args.vacuum,
        "main": main,
        "ceiling": limits,
        "tuning": tuning,
        "audit": audit,
        "ok": main["requests_per_s"] >= 300
        and main["errors"]["total"] == 0
        and main["lost_writes"] == 0
        and audit["from_load_test"]["ok"],
    }


TUNE_CONFIGS = [("sync", 4, 1), ("sync", 8, 1), ("gthread", 4, 4), ("gthread", 2, 8)]


def summary_line(phase: dict) -> str:
    lat = phase["latency_ms"]
    return (
        f"{phase['label']}: {phase['requests_per_s']} req/s, p50 {lat['p50']} ms, "
        f"p95 {lat['p95']} ms, p99 {lat['p99']} ms, errors {phase['errors']['total']}, "
        f"lost writes {phase['lost_writes']}, statuses {phase['statuses']}"
    )


# ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--db-url", help=f"default: KOTO_NATIONAL_PG_URL or {DB_URL_DEFAULT}")
    parser.add_argument("--requests", type=int, default=200, help="per URL (slow ones fewer)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument(
        "--skip-refresh", action="store_true", help="never build missing dashboard rollups"
    )
    parser.add_argument("--load-seconds", type=int, default=300)
    parser.add_argument("--warmup-seconds", type=int, default=15)
    parser.add_argument(
        "--ceiling-seconds", type=int, default=30, help="wrk on the trivial view (0: skip)"
    )
    parser.add_argument("--users", type=int, default=50, help="concurrent connections")
    parser.add_argument("--worker-class", default="gthread", choices=["sync", "gthread"])
    # 2 processes for 2 cores, 8 threads each to overlap waits on PostgreSQL (on the same
    # machine) and on the audit chain's lock: the best of TUNE_CONFIGS at 1 000 000 clients
    # (docs/performance.md).
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--tune", action="store_true", help="try TUNE_CONFIGS first, keep the best")  # fmt: skip
    parser.add_argument("--tune-seconds", type=int, default=40)
    parser.add_argument(
        "--mix-exclude",
        default="",
        help="diagnosis: comma-separated load categories to leave out (results then go to "
        "load_test__without_<categories>.json, not load_test.json)",
    )
    parser.add_argument(
        "--load-result",
        help="diagnosis: write the load test to benchmarks/results/<name>.json instead",
    )
    parser.add_argument("--full-audit-limit", type=int, default=3_000_000)
    parser.add_argument(
        "--has-clients",
        type=int,
        metavar="N",
        help="only check: exit 0 when the database exists with at least N clients, else 1",
    )
    args = parser.parse_args()
    args.url = db_url_from(args)
    EXCLUDED.update(c for c in args.mix_exclude.split(",") if c)
    if args.has_clients is not None:
        sys.exit(0 if client_count(args.url) >= args.has_clients else 1)
    # One throwaway key for this process and the server: sessions made here are valid there.
    args.secret = secrets.token_urlsafe(50)
    os.environ["KOTO_SECRET_KEY"] = args.secret
    setup_django_url(args.url)
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]  # this process's test client (the server has its own)
    counts = require_data(args.url)
    # before pages and load alike: this server may run without autovacuum (CI's does)
    args.vacuum = vacuum_state(args.url)
    print(f"vacuum: {json.dumps(args.vacuum)}", flush=True)
    bound_statements()
    print(f"{db_name(args.url)}: {json.dumps(counts)}", flush=True)
    if not args.skip_pages:
        pages = page_benchmark(args, counts)
        print(write_result("national_postgres", pages))
        print(json.dumps(pages["summary"], indent=1))
    if not args.skip_load:
        load = load_test(args, counts)
        excluded = sorted(c for c in args.mix_exclude.split(",") if c)
        name = args.load_result or (
            "load_test" + (f"__without_{'_'.join(excluded)}" if excluded else "")
        )
        print(write_result(name, load))


if __name__ == "__main__":
    main()
