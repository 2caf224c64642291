"""One language test result per client, test day, language and skill.

Up to now two recordings of the same first result arriving at the same moment could both be
stored (the service corrected a level given again only when it saw the first one). Before
the unique constraint is added, the duplicates already there are resolved: the latest
recorded row of each key (the highest id: rows are only ever added or corrected in place)
stays, taking the enrolment an earlier one was linked to when it has none itself, and the
earlier ones go. Both steps are single set-based statements (a semi-join on the client's
index), so a large table is not read into memory; with the constraint, in one transaction.
Taken back, only the constraint goes."""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Exists, OuterRef, Subquery


def keep_latest(apps, schema_editor):
    Result = apps.get_model("offerings", "LanguageTestResult")
    same = Result.objects.filter(
        client_id=OuterRef("client_id"),
        taken_on=OuterRef("taken_on"),
        language=OuterRef("language"),
        skill=OuterRef("skill"),
    )
    newer = Exists(same.filter(id__gt=OuterRef("id")))
    linked = same.filter(enrolment_id__isnull=False).order_by("-id")
    Result.objects.filter(~newer, enrolment_id__isnull=True).filter(Exists(linked)).update(
        enrolment_id=Subquery(linked.values("enrolment_id")[:1])
    )
    Result.objects.filter(newer).delete()
    if schema_editor.connection.vendor == "postgresql":
        # the links moved are checked now (foreign keys are deferred): PostgreSQL does not
        # alter a table with checks pending, and the constraint is added in this transaction
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0017_task_kind_plan_draft_label"),
        ("offerings", "0004_service_version"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(keep_latest, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="languagetestresult",
            constraint=models.UniqueConstraint(
                fields=("client", "taken_on", "language", "skill"),
                name="langresult_one_per_skill_and_day",
            ),
        ),
    ]
