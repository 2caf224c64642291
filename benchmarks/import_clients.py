"""import_clients throughput and memory: N rows into a fresh SQLite database.
Usage: python -m benchmarks.import_clients [--rows 100000]

Runs the real management command as a child process and reports wall time, rows per
second and peak memory (max RSS); a run with a fifth of the rows is measured beside it to
show that memory stays flat as the file grows."""

import argparse
import csv
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, machine, write_result
from koto.core import clock


def write_csv(path: Path, rows: int, seed: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "koto.settings")
    import django

    django.setup()
    from koto.clients.importing import COLUMNS
    from koto.clients.synthetic import hetu_for, synthetic_person

    rng = random.Random(seed)
    used: set[str] = set()
    today = dt.date(2026, 11, 1)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(COLUMNS))
        w.writeheader()
        for _ in range(rows):
            p = synthetic_person(rng, on=today)
            hetu = p.get("hetu")
            while hetu and hetu in used:
                hetu = hetu_for(p["birth_date"], rng.randint(2, 899))
            if hetu:
                used.add(hetu)
            row = {
                k: ("true" if v is True else "false" if v is False else v)
                for k, v in p.items()
                if k in COLUMNS
            }
            row["hetu"] = hetu or ""
            row["other_languages"] = ";".join(p["other_languages"])
            row["other_names"] = ";".join(p["transliterated_names"])
            row["home_municipality"] = "398" if p["home_municipality_on"] else ""
            for k in ("birth_date", "first_permit_on", "home_municipality_on"):
                row[k] = p[k].isoformat() if p[k] else ""
            w.writerow(row)


def run_import(csv_path: Path, db_path: Path) -> dict:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], check=True, env=env, cwd=ROOT)
    subprocess.run(
        [*manage, "load_reference_data"], check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL
    )
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            [*manage, "import_clients", str(csv_path), "--organisation", "398", "--no-progress"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own peak memory
        seconds = time.perf_counter() - t0
        out.seek(0)
        summary = out.read().strip()
    return {
        "seconds": round(seconds, 2),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "exit": os.waitstatus_to_exitcode(status),
        "summary": summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    out = {
        "benchmark": "import_clients",
        "db": "sqlite",
        "date": clock.today().isoformat(),
        "machine": machine(),
        "runs": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for rows in (args.rows // 5, args.rows):
            csv_path = Path(tmp) / f"clients_{rows}.csv"
            write_csv(csv_path, rows, args.seed)
            r = run_import(csv_path, Path(tmp) / f"import_{rows}.sqlite3")
            r["rows"] = rows
            r["rows_per_second"] = round(rows / r["seconds"])
            out["runs"][str(rows)] = r
            print(
                f"{rows} rows: {r['seconds']} s, {r['rows_per_second']} rows/s, max RSS {r['max_rss_mb']} MB; {r['summary']}"
            )
    print(write_result("import_clients_sqlite", out))


if __name__ == "__main__":
    main()
