"""Clients who moved: new clients stay with the organisation that registered them, language
levels go with the one responsible on the test day, and moves in and out are counted. The
next refresh recounts everything, so no figure stored by the code before (a moved client's
registration with the receiver) is summed beside the new ones."""

from django.db import migrations, models
from django.utils import timezone


def request_full_refresh(apps, schema_editor):
    RefreshState = apps.get_model("insights", "RefreshState")
    # a migration runs outside the app's clock; the moment only says "asked for"
    RefreshState.objects.filter(full_requested_at=None).update(full_requested_at=timezone.now())


class Migration(migrations.Migration):

    dependencies = [
        ('insights', '0006_recount_people_behind_money_and_levels'),
    ]

    operations = [
        migrations.AlterField(
            model_name='cell',
            name='metric',
            field=models.CharField(choices=[('clients_new', 'New clients'), ('clients_moved_in', 'Clients moved in'), ('clients_moved_out', 'Clients moved out'), ('assessments_started', 'Assessments started'), ('assessments_completed', 'Assessments completed'), ('assessment_deadline', 'Assessment start deadlines'), ('plans_started', 'Plans started'), ('plans_ended', 'Plans ended'), ('service_deadline', 'Guidance to a service deadlines'), ('enrolments', 'Enrolments'), ('enrolment_ends', 'Enrolments ended'), ('attendance_hours', 'Attendance hours'), ('language_levels', 'Language levels reached'), ('contacts', 'Guidance contacts'), ('contacts_reason', 'Guidance contacts by reason'), ('contacts_channel', 'Guidance contacts by channel'), ('places_agreed', 'Places agreed'), ('places_used', 'Places used'), ('compensation_calculated', 'Calculated compensation (€)'), ('claims_submitted', 'Actual-cost claims submitted (€)'), ('claims_paid', 'Actual-cost claims paid (€)')], max_length=30),
        ),
        migrations.RunPython(request_full_refresh, migrations.RunPython.noop),
    ]
