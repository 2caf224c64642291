""" "My work" for a counsellor with 300 open clients (active plans and their deadline tasks)
in a database of N clients, beside the trivial view measured in the same run.
Usage: python -m benchmarks.my_work --db postgres|sqlite [--clients 100000] [--open 300]"""

import argparse
import datetime as dt
import random

from benchmarks.common import machine, manage, measure, setup_django, write_result
from koto.core import clock


def ensure_open_caseload(username: str, n: int) -> int:
    from koto.accounts.models import User
    from koto.accounts.selectors import active_membership_for
    from koto.clients.services import client_create
    from koto.clients.synthetic import synthetic_person
    from koto.plans import services
    from koto.plans.models import IntegrationPlan, PlanStatus

    user = User.objects.get(username=username)
    user.active_membership = active_membership_for(user=user, membership_id=None)
    have = IntegrationPlan.objects.filter(counsellor=user, status=PlanStatus.ACTIVE).count()
    rng = random.Random(300)
    today = clock.today()
    for _ in range(n - have):
        person = synthetic_person(rng, on=today)
        person.update(
            residence_basis="asylum",
            birth_date=today - dt.timedelta(days=rng.randint(20 * 365, 50 * 365)),
            first_permit_on=today - dt.timedelta(days=400),
            hetu=None,
        )
        client = client_create(actor=user, data=person, confirm_duplicate=True)
        client.access = "full"
        start = today - dt.timedelta(days=rng.randint(0, 330))
        plan = services.plan_create(
            actor=user, client=client, starts_on=start, ends_on=start + dt.timedelta(days=330)
        )
        goal = services.goal_add(actor=user, plan=plan, area="language", description="Suomen kieli")
        services.action_add(
            actor=user,
            goal=goal,
            what="Kotoutumiskoulutus",
            responsible="client",
            service_name="Kotoutumiskoulutus",
        )
        services.plan_activate(actor=user, plan=plan, agreed_on=start)
    return IntegrationPlan.objects.filter(counsellor=user, status=PlanStatus.ACTIVE).count()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=300)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    setup_django(args.db)
    from django.conf import settings
    from django.test import Client as HttpClient

    from koto.accounts.models import User
    from koto.clients.models import Client, Task

    settings.ALLOWED_HOSTS = ["*"]
    manage("migrate", "--noinput", "-v0", db=args.db)
    manage("load_demo", "--demo-server", db=args.db)
    have = Client.objects.count()
    if have < args.clients:
        manage(
            "generate_scale_data",
            "--clients",
            str(args.clients - have),
            "--seed",
            "7",
            "--no-progress",
            db=args.db,
        )
    open_plans = ensure_open_caseload("lahti.neuvoja", args.open)
    user = User.objects.get(username="lahti.neuvoja")
    result = {
        "benchmark": "my_work", "db": args.db, "clients": Client.objects.count(), "open_plans": open_plans,
        "open_tasks": Task.objects.filter(assignee=user, status="open").count(),
        "date": clock.today().isoformat(), "machine": machine(), "results": {},
    }  # fmt: skip
    http = HttpClient()
    result["results"]["trivial_view"] = measure(http, ["/healthz"] * args.requests)
    http.force_login(user, backend="koto.accounts.backends.MembershipModelBackend")
    result["results"]["my_work_page"] = measure(http, ["/plans/my-work/"] * args.requests)
    result["results"]["my_team_page"] = measure(
        http, ["/plans/my-work/?view=team"] * (args.requests // 2)
    )
    result["results"]["api_tasks"] = measure(http, ["/api/v1/tasks"] * args.requests)
    floor = result["results"]["trivial_view"]["p95_ms"]
    for r in result["results"].values():
        r["p95_vs_trivial"] = round(r["p95_ms"] / floor, 1) if floor else None
    print(write_result(f"my_work_{args.db}", result))
    print(
        f"{result['clients']} clients, {open_plans} open plans, {result['open_tasks']} open tasks"
    )
    for name, r in result["results"].items():
        print(
            f"{name:20} median {r['median_ms']:7.2f} ms  p95 {r['p95_ms']:7.2f} ms  queries {r['queries_min']}-{r['queries_max']}"
        )


if __name__ == "__main__":
    main()
