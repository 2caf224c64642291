"""Shared helpers for benchmarks: a database chosen by --db, timing in-process requests
(server time: from the WSGI handler's entry to the finished response) and query counts."""

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PG_URL_DEFAULT = "postgres://postgres@127.0.0.1:5432/koto_bench"


def database_url(db: str) -> str:
    if db == "sqlite":
        return f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"
    return os.environ.get("KOTO_BENCH_PG_URL", PG_URL_DEFAULT)


def setup_django(db: str) -> None:
    os.environ["DATABASE_URL"] = database_url(db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koto.settings")
    os.environ["KOTO_SECURE_COOKIES"] = "false"
    if db == "postgres":
        _ensure_pg_database(os.environ["DATABASE_URL"])
    import django

    django.setup()


def _ensure_pg_database(url: str) -> None:
    import psycopg

    dbname = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", [dbname]).fetchone():
            conn.execute(f'create database "{dbname}"')


def manage(*args: str, db: str = "", url: str = "") -> None:
    """`manage.py` on the database `db` names (`database_url`), or on `url`."""
    env = {**os.environ, "DATABASE_URL": url or database_url(db)}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, env=env, cwd=ROOT)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(client, urls: list[str], *, warmup: int = 20) -> dict:
    """Request each url in turn; return median/p95 milliseconds and the query counts seen."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in urls[:warmup]:
        client.get(url)
    times, queries, statuses = [], [], set()
    for url in urls:
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
        queries.append(len(ctx.captured_queries))
        statuses.add(response.status_code)
    return {
        "n": len(urls),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "max_ms": round(max(times), 2),
        "queries_min": min(queries),
        "queries_max": max(queries),
        "statuses": sorted(statuses),
    }


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def write_result(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def setup_django_url(url: str) -> None:
    """Django against an existing database given by URL (nothing is created), DEBUG off as in
    production and plain-http cookies for the test client and loopback servers."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koto.settings")
    os.environ["KOTO_SECURE_COOKIES"] = "false"
    os.environ["KOTO_DEBUG"] = "false"
    import django

    django.setup()


def pg_database_exists(url: str) -> bool:
    import psycopg

    dbname = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute("select 1 from pg_database where datname = %s", [dbname]).fetchone()
    return row is not None


def time_requests(
    client, urls: list[str], *, warmup: int = 20, before_each=None
) -> tuple[list, list, dict]:
    """Like measure(), but returns the raw milliseconds, query counts and a count per status.
    `before_each` (untimed) runs before every timed request, e.g. to empty a cache."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for url in urls[:warmup]:
        client.get(url)
    times, queries, statuses = [], [], {}
    for url in urls:
        if before_each is not None:
            before_each()
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
        queries.append(len(ctx.captured_queries))
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    return times, queries, statuses


def summarise(times: list[float], queries: list[int], statuses: dict) -> dict:
    """The figures measure() reports, from raw timings (statuses counted per code)."""
    return {
        "n": len(times),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "max_ms": round(max(times), 2),
        "queries_min": min(queries),
        "queries_max": max(queries),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def search_queries(rng, rows: list[tuple], n: int) -> list[str]:
    """Realistic client-search input, as benchmarks/clients.py makes it: 40 % a 3-letter
    surname prefix, 30 % a first name and two letters of the surname, 30 % an identity code
    (or the surname when there is none). `rows` are (first_name, last_name, hetu)."""
    out = []
    for _ in range(n):
        first, last, hetu = rng.choice(rows)
        kind = rng.random()
        out.append(
            last[:3] if kind < 0.4 else (f"{first} {last[:2]}" if kind < 0.7 else (hetu or last))
        )
    return out
