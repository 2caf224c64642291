import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from koto.demo.scale import generate


class Command(BaseCommand):
    help = (
        "Generate synthetic clients at national scale for benchmarks (deterministic with --seed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, clients, seed, no_progress, **options):
        if clients < 1:
            raise CommandError("--clients: give a positive number")
        bar = tqdm(total=clients, unit="client", disable=no_progress, file=sys.stderr)
        result = generate(clients=clients, seed=seed, progress=bar.update)
        bar.close()
        self.stdout.write(
            f"Generated {result['clients']} clients in {result['municipalities']} municipalities "
            f"with {result['counsellors']} counsellors."
        )
