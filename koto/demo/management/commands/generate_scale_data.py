import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from koto.core import clock
from koto.demo.scale import CONTACTS_PER_CLIENT, START, generate


class Command(BaseCommand):
    help = (
        "Add synthetic clients with their assessments, plans, services and deadline tasks, "
        "guidance contacts and municipal placements at national scale, for benchmarks "
        "(load-test data written in bulk outside the audited services; deterministic with --seed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, required=True, help="clients to add")
        parser.add_argument(
            "--contacts",
            type=int,
            default=None,
            help=f"guidance contacts to add (default {CONTACTS_PER_CLIENT} per client)",
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--writers",
            type=int,
            default=2,
            help="parallel PostgreSQL writer connections (default 2)",
        )
        parser.add_argument(
            "--as-of",
            default=None,
            help="the day the data is made as of, YYYY-MM-DD (default today): rows up to "
            "its start, so a seed and a day give the same data",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, clients, contacts, seed, writers, as_of, no_progress, **options):
        if clients < 1:
            raise CommandError("--clients: give a positive number")
        if contacts is not None and contacts < 0:
            raise CommandError("--contacts: give zero or a positive number")
        if seed < 0:
            raise CommandError("--seed: give zero or a positive number")
        if not 1 <= writers <= 8:
            raise CommandError("--writers: give a number from 1 to 8")
        day = None
        if as_of is not None:
            try:
                day = dt.date.fromisoformat(as_of)
            except ValueError:
                raise CommandError("--as-of: give a date as YYYY-MM-DD") from None
            if not START <= day <= clock.today():
                raise CommandError(f"--as-of: give a day from {START} to today")
        total_contacts = CONTACTS_PER_CLIENT * clients if contacts is None else contacts
        bars = {
            "clients": tqdm(total=clients, unit="client", disable=no_progress, file=sys.stderr),
            "contacts": tqdm(
                total=total_contacts, unit="contact", disable=no_progress, file=sys.stderr
            ),
        }
        try:
            result = generate(
                clients=clients,
                seed=seed,
                contacts=total_contacts,
                writers=writers,
                as_of=day,
                progress=lambda stage, n: bars[stage].update(n),
            )
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(
            f"Generated {result['clients']} clients and {result['contacts']} guidance contacts "
            f"in {result['municipalities']} municipalities with {result['counsellors']} "
            f"counsellors ({result['users']} scale users, password as in koto.demo.scale), "
            f"{result['placements']} placements, {result['access_grants']} access grants and "
            f"{result['transfers']} transfers of clients who moved."
        )
        for table, n in result["rows"].items():
            self.stdout.write(f"  {table}: {n}")
