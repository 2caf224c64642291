"""What the BRIN index on `guidance_contact.logged_at` costs a contact write, at national
scale: N single-row inserts as contacts are logged (`logged_at` = the clock, rising), in a
transaction that is rolled back, with the index and with it dropped inside the transaction
(so nothing changes), alternating, several rounds after one discarded warm-up pair; the
median and range of each.
Usage: python -m benchmarks.contact_write [--rounds 9] [--inserts 20000]

Needs the national database (koto_national, or KOTO_NATIONAL_PG_URL / --db-url) made by
`python -m benchmarks.scale_data`; a benchmark database, not one in use: the DROP INDEX
locks `guidance_contact` against every read and write for the round it lasts (the
rollback brings the index back, the rolled-back rows use up contact ids). The inserts are
the bare table write with its nine indexes (the foreign keys, deferred to a commit that
never comes, are not checked); a contact logged through Koto also writes its reasons, the
day counts and an audit event (`log_contact_*` in the table: 6–10 ms)."""

import argparse
import os
import statistics
import time

from benchmarks.common import machine, setup_django_url, write_result
from benchmarks.national import DB_URL_DEFAULT

INDEX = "guidance_contact_logged_brin"

INSERTS = """
DO $$
DECLARE i int;
BEGIN
  FOR i IN 1..{n} LOOP
    INSERT INTO guidance_contact (logged_at, contacted_at, contacted_on, kind, partner_type,
      channel, language, interpreter_used, outcome, referred_to, import_key, organisation_id)
    VALUES (clock_timestamp(), clock_timestamp(), current_date, 'client', '', 'visit', 'fi',
      false, '', '', '', {org});
  END LOOP;
END $$
"""


def main() -> None:
    import psycopg

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db-url", default=os.environ.get("KOTO_NATIONAL_PG_URL", DB_URL_DEFAULT))
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--inserts", type=int, default=20000)
    args = parser.parse_args()
    setup_django_url(args.db_url)
    from koto.core import clock

    seconds: dict[str, list[float]] = {"with_brin": [], "without_brin": []}
    with psycopg.connect(args.db_url, autocommit=True) as conn:
        contacts = conn.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'guidance_contact'").fetchone()[0]  # fmt: skip
        org = conn.execute("SELECT min(id) FROM organisations_organisation").fetchone()[0]
        if not conn.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [INDEX]).fetchone():
            raise SystemExit(f"{INDEX} is missing: migrate the national database first")
        sql = INSERTS.format(n=args.inserts, org=int(org))
        try:
            for r in range(-1, args.rounds):  # round -1: the warm-up, not kept
                order = ("with_brin", "without_brin") if r % 2 else ("without_brin", "with_brin")
                for variant in order:
                    with conn.transaction(force_rollback=True):
                        if variant == "without_brin":
                            conn.execute(f"DROP INDEX {INDEX}")
                        t0 = time.perf_counter()
                        conn.execute(sql)
                        if r >= 0:
                            seconds[variant].append(round(time.perf_counter() - t0, 4))
        finally:
            conn.execute("VACUUM guidance_contact")  # the rolled-back rows
    per = {k: statistics.median(v) * 1e6 / args.inserts for k, v in seconds.items()}
    result = {
        "date": clock.today().isoformat(),
        "machine": machine(),
        "contacts": contacts,
        "inserts": args.inserts,
        "rounds": args.rounds,
        "seconds": seconds,
        "us_per_insert": {k: round(v, 2) for k, v in per.items()},
        "us_per_insert_range": {
            k: [round(min(v) * 1e6 / args.inserts, 1), round(max(v) * 1e6 / args.inserts, 1)]
            for k, v in seconds.items()
        },
        "brin_us_per_insert": round(per["with_brin"] - per["without_brin"], 2),
    }
    path = write_result("contact_write_postgres", result)
    print(
        f"median per insert: {per['with_brin']:.1f} µs with the BRIN index, "
        f"{per['without_brin']:.1f} µs without ({result['brin_us_per_insert']:+.2f} µs); {path}"
    )


if __name__ == "__main__":
    main()
