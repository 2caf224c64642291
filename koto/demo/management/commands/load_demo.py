from django.core.management.base import BaseCommand

from koto.demo.data import DEMO_PASSWORD, DEMO_USERS, demo_loaded, load_demo


class Command(BaseCommand):
    help = "Load the demo organisations, users and about 200 clients (once)."

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=200)
        parser.add_argument("--seed", type=int, default=2023)
        parser.add_argument("--force", action="store_true", help="load even if demo data exists")

    def handle(self, *args, clients, seed, force, **options):
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
