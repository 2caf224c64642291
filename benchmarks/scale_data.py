"""Loading the national-scale data set into PostgreSQL. Usage:
python -m benchmarks.scale_data [--clients 1000000] [--contacts 20000000] [--seed 1]
       [--writers 2] [--force]

Drops and recreates the database koto_national (KOTO_NATIONAL_PG_URL overrides it; while
other sessions use it the script refuses, unless --force), migrates, loads the demo data
(`manage.py load_demo`: the demo users other benchmarks log in as, their referrals, claims,
a minor's care and a plan PDF, which the task worker renders once), then times
`manage.py generate_scale_data` as a child process (wall seconds, peak RSS from os.wait4),
counts the rows of every table and writes benchmarks/results/scale_data_postgres.json. The
database is left in place for the other national-scale benchmarks (benchmarks/national.py,
benchmarks/insights.py)."""

import argparse
import os
import subprocess
import sys
import time

from benchmarks.common import ROOT, machine, write_result

PG_URL = "postgres://postgres@127.0.0.1:5432/koto_national"
TARGET_S = 15 * 60


def recreate_database(url: str, *, force: bool) -> None:
    """Drop and create the database; refuse while others are connected to it (another
    benchmark may be reading it) unless `force`, which disconnects them."""
    import psycopg

    dbname = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        users = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [dbname]
        ).fetchone()[0]
        if users and not force:
            raise SystemExit(
                f"{dbname} is in use ({users} connections): wait for them to finish, or pass "
                "--force to disconnect them."
            )
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')


def manage(args: list[str], env: dict, *, quiet: bool = True) -> tuple[float, int]:
    """Run manage.py; wall seconds and peak RSS (kB) of the child."""
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        out = sink if quiet else None
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), *args], stdout=out, env=env, cwd=ROOT
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed")
    return elapsed, usage.ru_maxrss


def count_rows(url: str) -> tuple[dict[str, int], str]:
    """Exact row counts of every table that has rows, and the database's size."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        counts = {}
        for table in tables:
            n = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608 - catalog names
            if n:
                counts[table] = n
        size = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]  # fmt: skip
    return counts, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=20_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--as-of", help="the day the data is made as of (default today)")
    parser.add_argument(
        "--force", action="store_true", help="recreate the database even while others use it"
    )
    args = parser.parse_args()
    if args.clients < 1:
        parser.error("--clients: give a positive number")
    if args.contacts < 0:
        parser.error("--contacts: give zero or a positive number")
    from koto.core import clock

    as_of = args.as_of or clock.today().isoformat()
    url = os.environ.get("KOTO_NATIONAL_PG_URL", PG_URL)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "koto.settings"}
    print(f"Recreating {url.rsplit('/', 1)[1]}", flush=True)
    recreate_database(url, force=args.force)
    migrate_s, _ = manage(["migrate", "--noinput", "-v0"], env)
    demo_s, _ = manage(["load_demo", "--demo-server"], env)
    # what the demo queued (the plan PDF), done as the task worker of `make run` would
    manage(["db_worker", "--batch", "--no-startup-delay", "--no-reload", "-v0"], env)
    command = [
        "generate_scale_data", "--clients", str(args.clients), "--contacts", str(args.contacts),
        "--seed", str(args.seed), "--writers", str(args.writers), "--as-of", as_of,
        "--no-progress",
    ]  # fmt: skip
    print("manage.py " + " ".join(command), flush=True)
    seconds, rss = manage(command, env, quiet=False)
    counts, size = count_rows(url)
    total = sum(counts.values())
    result = {
        "benchmark": "scale_data",
        "db": "postgres",
        "database": url.rsplit("/", 1)[1],
        "clients": args.clients,
        "contacts": args.contacts,
        "seed": args.seed,
        "writers": args.writers,
        "as_of": as_of,
        "date": clock.today().isoformat(),
        "machine": machine(),
        "command": "manage.py " + " ".join(command),
        "results": {
            "seconds": round(seconds, 1),
            "max_rss_mb": round(rss / 1024, 1),
            "rows_total": total,
            "rows_per_second": round(total / seconds),
            "database_size": size,
            "migrate_seconds": round(migrate_s, 1),
            "load_demo_seconds": round(demo_s, 1),
        },
        "rows": counts,
        "target": f"<= {TARGET_S} s for 1 000 000 clients and 20 000 000 contacts, memory flat",
    }
    path = write_result("scale_data_postgres", result)
    print(path)
    print(f"{seconds:.0f} s, max RSS {rss / 1024:.0f} MB, {total:,} rows, {size}")


if __name__ == "__main__":
    main()
