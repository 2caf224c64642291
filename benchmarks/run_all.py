"""Run every benchmark and rewrite the summary table in docs/performance.md from the JSON
results. Usage: python -m benchmarks.run_all [--skip-run] (--skip-run: only the table)."""

import argparse
import json
import subprocess
import sys

from benchmarks.common import RESULTS, ROOT

RUNS = [
    ["benchmarks.law_jsonl"],
    ["benchmarks.clients", "--db", "sqlite"],
    ["benchmarks.clients", "--db", "postgres"],
    ["benchmarks.import_clients"],
    ["benchmarks.my_work", "--db", "postgres"],
    ["benchmarks.plan_pdf"],
    ["benchmarks.form_renderer"],
    ["benchmarks.guidance", "--db", "postgres"],
    ["benchmarks.funding", "--db", "postgres"],
    ["benchmarks.scale_data"],  # makes koto_national for benchmarks.national
    ["benchmarks.national"],
    ["benchmarks.contact_write"],  # the BRIN index's cost per contact, on koto_national
    ["benchmarks.insights"],  # the rollup refresh and the dashboards on koto_national
]
START, END = "<!-- results:start -->", "<!-- results:end -->"


def _load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def table() -> str:
    rows = ["| benchmark | figure | target | date |", "| --- | --- | --- | --- |"]
    law = _load("law_jsonl")
    if law:
        rows.append(
            f"| `koto.law evaluate --jsonl`, {law['n']:,} facts | median {law['median']:,} decisions/s ({law['runs']} runs) | ≥ 20 000/s | {law['date'][:10]} |"
        )
    for db in ("postgres", "sqlite"):
        r = _load(f"clients_{db}")
        if not r:
            continue
        floor = r["results"]["trivial_view"]
        rows.append(
            f"| trivial Django view ({db}) | median {floor['median_ms']} ms, p95 {floor['p95_ms']} ms | floor | {r['date']} |"
        )
        for name, m in r["results"].items():
            if name == "trivial_view":
                continue
            rows.append(
                f"| {name.replace('__', ' as ')} ({db}, {r['clients']:,} clients) | median {m['median_ms']} ms, "
                f"p95 {m['p95_ms']} ms ({m['p95_vs_trivial']}× trivial), {m['queries_max']} queries | p95 ≤ 50 ms (PostgreSQL) | {r['date']} |"
            )
    imp = _load("import_clients_sqlite")
    if imp:
        for rows_n, m in imp["runs"].items():
            rows.append(
                f"| `import_clients` {int(rows_n):,} rows (SQLite) | {m['seconds']} s ({m['rows_per_second']:,} rows/s), max RSS {m['max_rss_mb']} MB | 100 000 in ≤ 60 s, memory flat | {imp['date']} |"
            )
    mw = _load("my_work_postgres")
    if mw:
        for name, m in mw["results"].items():
            if name == "trivial_view":
                continue
            rows.append(
                f"| {name} ({mw['open_plans']} open plans, {mw['open_tasks']} tasks, {mw['clients']:,} clients, PostgreSQL) | median {m['median_ms']} ms, "
                f"p95 {m['p95_ms']} ms ({m['p95_vs_trivial']}× trivial), {m['queries_max']} queries | p95 ≤ 50 ms | {mw['date']} |"
            )
    pdf = _load("plan_pdf")
    if pdf:
        rows.append(
            f"| plan PDF ({', '.join(pdf['languages'])}, {pdf['goals']} goals, {pdf['pages']} pages) | median {pdf['median_s']} s (min {pdf['min_s']}, max {pdf['max_s']}) | median ≤ 1 s | {pdf['date']} |"
        )
    g = _load("guidance_postgres")
    if g:
        for name in ("log_contact_page_post", "log_contact_api_post"):
            m = g["results"][name]
            rows.append(
                f"| {name} (PostgreSQL, {g['contacts_total']:,} contacts) | median {m['median_ms']} ms, "
                f"p95 {m['p95_ms']} ms, {m['queries_max']} queries | p95 ≤ 100 ms | {g['date']} |"
            )
        m = g["results"]["report_all_3_years"]
        rows.append(
            f"| `guidance_report` over {m['contacts_counted']:,} contacts (PostgreSQL) | median "
            f"{m['median_ms'] / 1000:.2f} s ({m['runs']} runs, max {m['max_ms'] / 1000:.2f} s) | ≤ 2 s | {g['date']} |"
        )
    cw = _load("contact_write_postgres")
    if cw:
        us, span = cw["us_per_insert"], cw.get("us_per_insert_range", {})
        ranges = (
            f"; ranges {span['with_brin'][0]}–{span['with_brin'][1]} / {span['without_brin'][0]}–{span['without_brin'][1]} µs"
            if span
            else ""
        )
        rows.append(
            f"| contact insert with / without the BRIN index on `logged_at` ({cw['contacts']:,} contacts, "
            f"{cw['inserts']:,} inserts × {cw['rounds']} rounds) | median {us['with_brin']} / {us['without_brin']} µs "
            f"({cw['brin_us_per_insert']:+} µs{ranges}) | next to nothing | {cw['date']} |"
        )
    f = _load("funding_postgres")
    if f:
        m = f["results"]["report"]
        rows.append(
            f"| `compensation_report --year {f['year']}` ({f['clients']:,} clients, PostgreSQL) | median "
            f"{m['median_s']} s ({m['runs']} runs, {m['min_s']}–{m['max_s']} s), max RSS {m['max_rss_mb']} MB | ≤ 10 s, memory flat | {f['date']} |"
        )
        d = f["results"].get("report_detail_streamed")
        if d:
            rows.append(
                f"| `compensation_report --detail` streamed ({f['clients']:,} clients) | {d['seconds']} s, "
                f"max RSS {d['max_rss_mb']} MB | streams | {f['date']} |"
            )
    sd = _load("scale_data_postgres")
    if sd:
        m = sd["results"]
        rows.append(
            f"| `generate_scale_data` {sd['clients']:,} clients, {sd['contacts']:,} contacts into PostgreSQL ({m['rows_total']:,} rows, {m['database_size']}) | "
            f"{m['seconds']} s ({m['rows_per_second']:,} rows/s), max RSS {m['max_rss_mb']} MB | ≤ 900 s, memory flat | {sd['date']} |"
        )
    nat = _load("national_postgres")
    if nat:
        floor = nat["results"]["trivial_view"]
        rows.append(
            f"| trivial Django view (national run, PostgreSQL) | median {floor['median_ms']} ms, p95 {floor['p95_ms']} ms | floor | {nat['date']} |"
        )
        signed = nat.get("trivial_view_signed_in")
        if signed:
            rows.append(
                f"| the same view signed in (session, user, memberships: {signed['queries_max']} queries) | median {signed['median_ms']} ms, p95 {signed['p95_ms']} ms | second floor, for comparison | {nat['date']} |"
            )
        targets = {"counsellor": "p95 ≤ 50 ms and ≤ 3× trivial", "dashboard": "p95 ≤ 500 ms"}
        for name, m in nat["results"].items():
            if name == "trivial_view":
                continue
            where = f"{name.replace('__', ' as ')} (PostgreSQL, {nat['clients']:,} clients)"
            target = targets.get(m["kind"], "no target")
            if "p95_ms" in m:
                vs_signed = (
                    f", {m['p95_vs_trivial_signed_in']}× signed in"
                    if "p95_vs_trivial_signed_in" in m
                    else ""
                )
                figure = (
                    f"median {m['median_ms']} ms, p95 {m['p95_ms']} ms ({m['p95_vs_trivial']}× trivial{vs_signed}), "
                    f"{m['queries_max']} queries"
                )
            elif m.get("missing"):
                figure = "missing (404 when measured)"
            elif m.get("error"):
                figure = f"error: HTTP {m['status']}"
            else:
                figure = f"not measured: {m['skipped']}"
            rows.append(f"| {where} | {figure} | {target} | {nat['date']} |")
    lt = _load("load_test")
    if lt:
        m, s = lt["main"], lt["main"]["server"]
        lat = m["latency_ms"]
        writes = sum(w["successes_seen_by_wrk"] for w in m["writes"].values())
        threads = f" × {s['threads']} threads" if s["worker_class"] == "gthread" else ""
        rows.append(
            f"| load test: {m['connections']} connections, {m['seconds']:.0f} s, mixed reads and writes "
            f"(wrk → gunicorn {s['workers']} {s['worker_class']} workers{threads}, {lt['clients']:,} clients) | "
            f"{m['requests_per_s']} req/s, p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms, "
            f"{m['errors']['total']} errors, {m['lost_writes']} lost of {writes:,} writes | "
            f"≥ 300 req/s, 0 errors, 0 lost writes | {lt['date']} |"
        )
        by_kind = m.get("cpu_ms_per_request_by_kind")
        if by_kind:
            rows.append(
                f"| load test: machine CPU per request (2 cores, {m['machine_cpu_busy_pct']} % busy) | "
                f"{m['machine_cpu_ms_per_request']} ms: server {by_kind['server']}, PostgreSQL {by_kind['postgres']}, "
                f"wrk {by_kind['wrk']}, other {by_kind['other']} | 300 req/s needs ≤ 6.7 | {lt['date']} |"
            )
        for label, what in (("trivial_view", "trivial view, anonymous"), ("trivial_view_signed_in", "trivial view, signed in")):  # fmt: skip
            c = lt.get("ceiling", {}).get(label)
            if c and c.get("requests_per_s"):
                rows.append(
                    f"| ceiling: wrk on the {what} (same server, {m['connections']} connections) | "
                    f"{c['requests_per_s']:,} req/s, {c['non_2xx']} non-2xx | what no page can beat | {lt['date']} |"
                )
        a = lt["audit"]["from_load_test"]
        full = lt["audit"]["full"]
        full_text = (
            f"; `audit_verify` over the whole chain: {'OK' if full['ok'] else 'BROKEN'} ({full['seconds']} s)"
            if full.get("ran")
            else f"; whole chain not verified ({full['why']})"
        )
        rows.append(
            f"| audit chain after the load test | {'intact' if a['ok'] else 'BROKEN'} from event "
            f"{a['from_id']:,} on ({a.get('checked', 0):,} events){full_text} | unbroken | {lt['date']} |"
        )
    fr = _load("form_renderer")
    if fr:
        for name, m in fr["results"].items():
            rows.append(
                f"| {name} with Koto's form renderer / Django's (demo data, SQLite, one run) | median {m['koto_median_ms']} / {m['django_median_ms']} ms "
                f"(ratio {m['ratio']}), p95 {m['koto_p95_ms']} / {m['django_p95_ms']} ms, {'the same page' if m['same_html'] else 'PAGES DIFFER'} | same page, faster | {fr['date']} |"
            )
    ins = _load("insights_postgres")
    if ins:
        from benchmarks.insights import table_rows

        rows += table_rows(ins)
    return "\n".join(rows)


def write_table() -> None:
    doc = ROOT / "docs" / "performance.md"
    text = doc.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    doc.write_text(f"{head}{START}\n{table()}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-run", action="store_true")
    args = parser.parse_args()
    if not args.skip_run:
        for run in RUNS:
            print("==", " ".join(run), flush=True)
            subprocess.run([sys.executable, "-m", *run], check=True, cwd=ROOT)
    write_table()
    print(table())


if __name__ == "__main__":
    main()
