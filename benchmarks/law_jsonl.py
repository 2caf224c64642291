"""Benchmark: decisions per second of ``python -m koto.law evaluate --jsonl``.

Generates N random but valid facts (deterministic: ``--seed``) into a temporary file, runs
the command as a subprocess ``--runs`` times with stdout to /dev/null, and reports
min/median/max decisions per second. Results go to ``benchmarks/results/law_jsonl.json``.

    .venv/bin/python benchmarks/law_jsonl.py            # 1 000 000 facts, 5 runs
    .venv/bin/python benchmarks/law_jsonl.py -n 100000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "law_jsonl.json"

BASES = [
    "quota_refugee",
    "family_of_quota_refugee",
    "asylum",
    "subsidiary_protection",
    "humanitarian",
    "trafficking_victim_permit",
    "removal_barrier",
    "family_of_protected",
    "temporary_protection",
    "work",
    "study",
    "family",
    "eu_registration",
    "nordic",
    "other_permit",
    "asylum_seeker",
]
FLAGS = [
    "unemployed_jobseeker",
    "social_assistance_long_term",
    "child_home_care_allowance",
    "arrived_as_unaccompanied_minor",
    "trafficking_victim",
    "other_need_identified",
    "welfare_service_needs",
]
START = date(2015, 1, 1)
SPAN_DAYS = (date(2027, 12, 31) - START).days


def random_facts(rng: random.Random) -> dict[str, object]:
    """One valid facts object: dates in order, permit null only for asylum seekers."""
    on = START + timedelta(days=rng.randrange(SPAN_DAYS))
    birth = on - timedelta(days=rng.randrange(0, 70 * 366))
    basis = rng.choice(BASES)
    facts: dict[str, object] = {
        "on": on.isoformat(),
        "birth_date": birth.isoformat(),
        "residence_basis": basis,
    }
    if basis != "asylum_seeker":
        # mostly within 12 years before `on`, sometimes after it (not yet covered)
        permit = max(birth, on - timedelta(days=rng.randrange(-400, 12 * 365)))
        facts["first_permit_on"] = permit.isoformat()
        if rng.random() < 0.7:
            home = permit + timedelta(days=rng.randrange(0, 800))
            facts["home_municipality_on"] = home.isoformat()
    for flag in FLAGS:
        if rng.random() < 0.2:
            facts[flag] = True
    return facts


def generate(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for _ in range(n):
            fh.write(json.dumps(random_facts(rng), separators=(",", ":")))
            fh.write("\n")


def run_once(path: Path) -> float:
    with path.open("rb") as stdin:
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "koto.law", "evaluate", "--jsonl"],
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            check=False,
        )
        elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"koto.law failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="number of facts")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=681_2023)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "facts.jsonl"
        generate(path, args.n, args.seed)
        rates = []
        for i in range(args.runs):
            elapsed = run_once(path)
            rates.append(args.n / elapsed)
            print(f"run {i + 1}: {elapsed:.2f} s, {rates[-1]:,.0f} decisions/s", flush=True)

    result = {
        "benchmark": "law_jsonl",
        "command": "python -m koto.law evaluate --jsonl < facts.jsonl > /dev/null",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),  # noqa: TID251 (benchmark)
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "python": platform.python_version(),
        "n": args.n,
        "runs": args.runs,
        "seed": args.seed,
        "min": round(min(rates)),
        "median": round(statistics.median(rates)),
        "max": round(max(rates)),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"decisions/s: min {result['min']:,}  median {result['median']:,}  max {result['max']:,}")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
