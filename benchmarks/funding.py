"""compensation_report --year at national scale. Usage:
python -m benchmarks.funding --db postgres [--clients 1000000] [--runs 5] [--year 2026]

Builds (once) a separate database (PostgreSQL: koto_bench_funding, or KOTO_BENCH_PG_URL) with
generated clients up to --clients, analyses it, then runs `manage.py compensation_report` as
a child process --runs times (wall time, peak RSS from os.wait4) and once with --detail
(streamed to /dev/null). Writes benchmarks/results/funding_<db>.json."""

import argparse
import os
import statistics
import subprocess
import sys
import time

from benchmarks.common import ROOT, machine, manage, setup_django, write_result

PG_URL = "postgres://postgres@127.0.0.1:5432/koto_bench_funding"


def run(args: list[str], env: dict) -> tuple[float, int]:
    """Wall seconds and peak RSS (kB) of one command."""
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args], stdout=sink, stderr=sink,
            env=env, cwd=ROOT,
        )  # fmt: skip
        _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"command failed: {args}")
    return elapsed, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if args.db == "postgres":
        os.environ.setdefault("KOTO_BENCH_PG_URL", PG_URL)
    setup_django(args.db)
    from django.db import connection

    from koto.clients.models import Client
    from koto.core import clock

    manage("migrate", "--noinput", "-v0", db=args.db)
    have = Client.objects.count()
    if have < args.clients:
        manage("generate_scale_data", "--clients", str(args.clients - have), "--seed",
               str(args.seed), "--no-progress", db=args.db)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    total = Client.objects.count()
    env = {**os.environ}
    command = ["compensation_report", "--year", str(args.year), "--format", "csv"]
    run(command, env)  # warm-up (database cache)
    times, rss = [], []
    for _ in range(args.runs):
        t, r = run(command, env)
        times.append(t)
        rss.append(r)
    detail_t, detail_rss = run([*command, "--detail"], env)
    result = {
        "benchmark": "funding.compensation_report",
        "db": args.db,
        "clients": total,
        "year": args.year,
        "date": clock.today().isoformat(),
        "machine": machine(),
        "command": "manage.py " + " ".join(command),
        "results": {
            "report": {
                "runs": args.runs,
                "median_s": round(statistics.median(times), 2),
                "min_s": round(min(times), 2),
                "max_s": round(max(times), 2),
                "max_rss_mb": round(max(rss) / 1024, 1),
            },
            "report_detail_streamed": {
                "seconds": round(detail_t, 2),
                "max_rss_mb": round(detail_rss / 1024, 1),
            },
        },
        "target": "<= 10 s at 1 000 000 clients on PostgreSQL, memory flat",
    }
    write_result(f"funding_{args.db}", result)
    print(result)


if __name__ == "__main__":
    main()
