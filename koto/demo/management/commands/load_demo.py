from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from koto.demo.data import DEMO_PASSWORD, DEMO_USERS, demo_loaded, load_demo


class Command(BaseCommand):
    help = "Load the demo organisations, users and about 200 clients (once)."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=200)
        parser.add_argument("--seed", type=int, default=2023)
        parser.add_argument("--force", action="store_true", help="load even if demo data exists")
        parser.add_argument(
            "--demo-server",
            action="store_true",
            help="load with DEBUG off too: on a demonstration or benchmark server, never in "
            "production (the demo users' password is published)",
        )

    def handle(self, *args, clients, seed, force, demo_server, **options):
        if not settings.DEBUG and not demo_server:
            # counsellors with emergency access to any client in the country and an
            # administrator, in real organisations (Lahti, KEHA), with a published password
            raise CommandError(
                "DEBUG is off: this looks like a production server, and the demo users' "
                "password is published. Load the demo on a development machine (make run), "
                "or pass --demo-server on a demonstration server."
            )
        if demo_loaded() and not force:
            self.stdout.write("Demo data already loaded.")
        else:
            result = load_demo(clients=clients, seed=seed)
            self.stdout.write(
                f"Loaded {result['clients']} demo clients, {result['plans']} integration plans, "
                f"{result['referrals']} referrals, {result['minors']} unaccompanied minor, "
                f"{result['claims']} actual-cost claims and {result['users']} demo users."
            )
        self.stdout.write(f"\nDemo log-ins (password for all: {DEMO_PASSWORD}):")
        for username, code, role, _first, _last in DEMO_USERS:
            self.stdout.write(f"  {username:<18} {role.label} @ {code}")
