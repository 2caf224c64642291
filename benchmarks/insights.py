"""Dashboards at national scale: the rollup refresh (full and incremental) and the
dashboard and impact pages per scope, beside the trivial view measured in the same run.
Usage: python -m benchmarks.insights [--requests 30] [--skip-full]

Runs against the national-scale database that `python -m benchmarks.scale_data` builds
(PostgreSQL `koto_national`, or KOTO_NATIONAL_PG_URL): 1 000 000 clients, 20 000 000
guidance contacts with their casework. The refresh runs as `manage.py refresh_insights`
in a child process (wall time, peak RSS); pages are timed in-process (server time, the full
middleware stack) with their SQL query counts. Writes benchmarks/results/insights_postgres.json."""

import argparse
import os
import subprocess
import sys
import time

from benchmarks.common import ROOT, machine, measure, write_result

PG_URL = "postgres://postgres@127.0.0.1:5432/koto_national"


def run_manage(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and output of one manage.py command."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env=os.environ, cwd=ROOT,
    )  # fmt: skip
    out = proc.stdout.read().decode()
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{out}")
    return round(elapsed, 1), round(usage.ru_maxrss / 1024, 1), out.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--skip-full", action="store_true", help="reuse the last full refresh")
    parser.add_argument("--new-contacts", type=int, default=200)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = os.environ.get("KOTO_NATIONAL_PG_URL", PG_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koto.settings")
    os.environ["KOTO_SECURE_COOKIES"] = "false"
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client as HttpClient

    from koto.accounts.models import User
    from koto.clients.models import Client
    from koto.core import clock
    from koto.guidance.models import Contact
    from koto.guidance.services import contact_log
    from koto.insights.models import Cell, ImpactCell, RefreshState

    settings.ALLOWED_HOSTS = ["*"]
    clients = Client.objects.count()
    if clients < 100_000:
        raise SystemExit(
            f"{os.environ['DATABASE_URL']} has {clients} clients: run "
            "`python -m benchmarks.scale_data` first."
        )
    result = {
        "benchmark": "insights",
        "db": "postgres",
        "clients": clients,
        "contacts": Contact.objects.count(),
        "date": clock.today().isoformat(),
        "machine": machine(),
        "targets": {"dashboard_p95_ms": 500},
        "refresh": {},
        "results": {},
    }
    if not args.skip_full:
        seconds, rss, out = run_manage(["refresh_insights", "--full"])
        result["refresh"]["full"] = {"seconds": seconds, "max_rss_mb": rss, "output": out}
        print("full refresh:", seconds, "s", rss, "MB", flush=True)
    result["refresh"]["cells"] = Cell.objects.count()
    result["refresh"]["impact_cells"] = ImpactCell.objects.count()

    # Incremental: a Helsinki counsellor logs contacts, then the worker's refresh picks them up.
    adviser = User.objects.get(username="scale.091.0")
    adviser.active_membership = adviser.memberships.select_related("organisation").first()
    for _ in range(args.new_contacts):
        contact_log(actor=adviser, channel="phone", reasons=["job_search"], language="ar")
    seconds, rss, out = run_manage(["refresh_insights"])
    result["refresh"]["incremental"] = {
        "seconds": seconds, "max_rss_mb": rss, "output": out,
        "new_contacts": args.new_contacts, "organisations": 1,
    }  # fmt: skip
    print("incremental refresh:", seconds, "s", flush=True)
    result["refresh"]["state_seconds"] = RefreshState.get().seconds

    http = HttpClient()
    result["results"]["trivial_view"] = measure(http, ["/healthz"] * (args.requests * 3))
    helsinki = User.objects.get(username="scale.091.manager")
    keha = User.objects.get(username="scale.keha.manager")
    h_org = helsinki.memberships.first().organisation
    region = f"region:{h_org.welfare_region_id}"
    year = "from=2025-12&to=2026-11"
    cases = [
        ("dashboard_own_org", helsinki, f"/insights/?{year}"),
        ("dashboard_own_org_filtered", helsinki, f"/insights/?{year}&target_group=protection&language=ar&age_band=30_49"),
        ("dashboard_region", helsinki, f"/insights/?scope={region}&{year}"),
        ("dashboard_national", keha, f"/insights/?scope=national&{year}"),
        ("dashboard_national_3_years", keha, "/insights/?scope=national&from=2023-12&to=2026-11"),
        ("dashboard_national_filtered", keha, f"/insights/?scope=national&{year}&target_group=temporary_protection&language=uk"),
        ("dashboard_api_national", keha, f"/api/v1/insights/dashboard?scope=national&{year}"),
        ("export_csv_national", keha, f"/insights/export.csv?scope=national&{year}"),
        ("impact_own_org", helsinki, "/insights/impact/?from=2023-01&to=2026-11"),
        ("impact_national", keha, "/insights/impact/?scope=national&from=2023-01&to=2026-11"),
        ("impact_national_by_services", keha, "/insights/impact/?scope=national&from=2023-01&to=2026-11&group=services"),
        ("impact_api_national", keha, "/api/v1/insights/impact?scope=national&from=2023-01&to=2026-11"),
    ]  # fmt: skip
    for name, user, url in cases:
        c = HttpClient()
        c.force_login(user, backend="koto.accounts.backends.MembershipModelBackend")
        result["results"][name] = measure(c, [url] * args.requests, warmup=3)
        r = result["results"][name]
        print(f"{name:32} median {r['median_ms']:8.1f} ms  p95 {r['p95_ms']:8.1f} ms  "
              f"queries {r['queries_max']}  {r['statuses']}", flush=True)  # fmt: skip
    floor = result["results"]["trivial_view"]["p95_ms"]
    for r in result["results"].values():
        r["p95_vs_trivial"] = round(r["p95_ms"] / floor, 1) if floor else None
    print(write_result("insights_postgres", result))


if __name__ == "__main__":
    main()


def table_rows(r: dict) -> list[str]:
    """Rows of the summary table in docs/performance.md (called by benchmarks.run_all)."""
    rows = []
    where = f"{r['clients']:,} clients, {r['contacts']:,} contacts, PostgreSQL"
    full = r["refresh"].get("full")
    if full:
        rows.append(
            f"| `refresh_insights --full` ({where}; {r['refresh']['cells']:,} cells) | "
            f"{full['seconds']} s, max RSS {full['max_rss_mb']} MB | nightly, memory bounded | {r['date']} |"
        )
    inc = r["refresh"]["incremental"]
    rows.append(
        f"| `refresh_insights` after {inc['new_contacts']} new contacts in Helsinki ({where}) | "
        f"{inc['seconds']} s, max RSS {inc['max_rss_mb']} MB | every few minutes | {r['date']} |"
    )
    floor = r["results"]["trivial_view"]
    rows.append(
        f"| trivial Django view (dashboard run) | median {floor['median_ms']} ms, p95 {floor['p95_ms']} ms | floor | {r['date']} |"
    )
    for name, m in r["results"].items():
        if name == "trivial_view":
            continue
        rows.append(
            f"| {name} ({where}) | median {m['median_ms']} ms, p95 {m['p95_ms']} ms "
            f"({m['p95_vs_trivial']}× trivial), {m['queries_max']} queries | p95 ≤ 500 ms | {r['date']} |"
        )
    return rows
