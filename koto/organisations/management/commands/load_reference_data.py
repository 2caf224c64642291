from django.core.management.base import BaseCommand

from koto.organisations.reference import load_reference_data


class Command(BaseCommand):
    help = "Load or refresh Finland's municipalities, welfare regions and State authorities."

    def handle(self, *args, **options):
        r = load_reference_data()
        self.stdout.write(
            f"{r.municipalities} municipalities, {r.welfare_regions} welfare regions, "
            f"{r.regional_state_authorities} regional State authorities, "
            f"{r.employment_areas} employment areas, {r.national} national authorities."
        )
