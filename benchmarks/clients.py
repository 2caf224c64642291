"""Client search and client detail at N clients, beside a trivial Django view measured in the
same run. Usage: python -m benchmarks.clients --db sqlite|postgres [--clients 100000]

Builds (once) a benchmark database with the demo data plus generated clients, then measures
in-process server time and SQL queries per request for the demo counsellor of Lahti and a
counsellor of Helsinki (the largest caseload)."""

import argparse
import random

from benchmarks.common import machine, manage, measure, setup_django, write_result
from koto.core import clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    setup_django(args.db)
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    from django.test import Client as HttpClient

    from koto.accounts.models import User
    from koto.clients.models import Client

    manage("migrate", "--noinput", "-v0", db=args.db)
    manage("load_demo", "--demo-server", db=args.db)
    have = Client.objects.count()
    if have < args.clients:
        manage(
            "generate_scale_data",
            "--clients",
            str(args.clients - have),
            "--seed",
            str(args.seed),
            "--no-progress",
            db=args.db,
        )
    total = Client.objects.count()

    rng = random.Random(args.seed)
    result = {
        "benchmark": "clients",
        "db": args.db,
        "clients": total,
        "date": clock.today().isoformat(),
        "machine": machine(),
        "results": {},
    }
    http = HttpClient()
    result["results"]["trivial_view"] = measure(http, ["/healthz"] * args.requests)

    for username in ("lahti.neuvoja", "scale.091.0"):
        user = User.objects.get(username=username)
        http = HttpClient()
        http.force_login(user, backend="koto.accounts.backends.MembershipModelBackend")
        membership = user.memberships.first()
        visible = list(
            Client.objects.filter(responsible_organisation=membership.organisation).values_list(
                "id", "last_name", "first_name", "hetu"
            )[:5000]
        )
        sample = [rng.choice(visible) for _ in range(args.requests)]
        queries = []
        for _id, last, first, hetu in sample:
            kind = rng.random()
            q = (
                last[:3]
                if kind < 0.4
                else (f"{first} {last[:2]}" if kind < 0.7 else (hetu or last))
            )
            queries.append(q)
        key = username.replace(".", "_")
        result["results"][f"search_page__{key}"] = measure(
            http, [f"/clients/search/?q={q}" for q in queries]
        )
        result["results"][f"detail_page__{key}"] = measure(
            http, [f"/clients/{s[0]}/" for s in sample]
        )
        result["results"][f"api_search__{key}"] = measure(
            http, [f"/api/v1/clients/?q={q}" for q in queries]
        )
        result["results"][f"api_detail__{key}"] = measure(
            http, [f"/api/v1/clients/{s[0]}" for s in sample]
        )
        result["results"][f"my_clients__{key}"] = measure(
            http, ["/clients/"] * (args.requests // 3)
        )
    floor = result["results"]["trivial_view"]["p95_ms"]
    for r in result["results"].values():
        r["p95_vs_trivial"] = round(r["p95_ms"] / floor, 1) if floor else None
    path = write_result(f"clients_{args.db}", result)
    print(path)
    for name, r in result["results"].items():
        print(
            f"{name:40} median {r['median_ms']:7.2f} ms  p95 {r['p95_ms']:7.2f} ms  queries {r['queries_min']}-{r['queries_max']}  {r['statuses']}"
        )


if __name__ == "__main__":
    main()
