"""Unconfirmed amounts for 2025–2027: the 2024 amounts (the last seen), confirmed=False and a
source asking the administrator to enter the decree. Not figures for those years."""

from decimal import Decimal

from django.db import migrations

UNCONFIRMED = "not confirmed — set by government decree; enter the source"
AMOUNTS_2024 = {
    ("municipality", "under_7"): Decimal("6503"),
    ("municipality", "7_or_over"): Decimal("1955"),
    ("municipality_aland", "under_7"): Decimal("6845"),
    ("municipality_aland", "7_or_over"): Decimal("2300"),
    ("welfare_region", "under_7"): Decimal("342"),
    ("welfare_region", "7_or_over"): Decimal("345"),
}


def add_rates(apps, schema_editor):
    rate = apps.get_model("funding", "CompensationRate")
    for year in (2025, 2026, 2027):
        for (recipient, band), amount in AMOUNTS_2024.items():
            rate.objects.get_or_create(
                year=year,
                recipient=recipient,
                age_band=band,
                defaults={"annual_amount": amount, "source": UNCONFIRMED, "confirmed": False},
            )


def remove_rates(apps, schema_editor):
    apps.get_model("funding", "CompensationRate").objects.filter(
        year__in=(2025, 2026, 2027), confirmed=False, source=UNCONFIRMED
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("funding", "0001_initial")]
    operations = [migrations.RunPython(add_rates, remove_rates)]
