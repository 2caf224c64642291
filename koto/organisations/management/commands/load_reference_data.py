from django.core.management.base import BaseCommand

from koto.core.context import run_by_hand
from koto.organisations.reference import load_reference_data


class Command(BaseCommand):
    help = (
        "Load or refresh Finland's municipalities, welfare regions and State authorities "
        "(audited: one event of what changed, naming who ran it)."
    )

    @run_by_hand
    def handle(self, *args, **options):
        r = load_reference_data()
        self.stdout.write(
            f"{r.municipalities} municipalities, {r.welfare_regions} welfare regions, "
            f"{r.regional_state_authorities} regional State authorities, "
            f"{r.employment_areas} employment areas, {r.national} national authorities; "
            f"{len(r.created)} organisations created, {len(r.changed)} changed."
        )
