"""The rollups now count the persons behind each month's calculated compensation and people
(not test results) at each language level: the next refresh recounts everything, so no
figure stored by the code before is shown under the new rules."""

from django.db import migrations
from django.utils import timezone


def request_full_refresh(apps, schema_editor):
    RefreshState = apps.get_model("insights", "RefreshState")
    # a migration runs outside the app's clock; the moment only says "asked for"
    RefreshState.objects.filter(full_requested_at=None).update(full_requested_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("insights", "0005_refresh_full_requested")]

    operations = [migrations.RunPython(request_full_refresh, migrations.RunPython.noop)]
