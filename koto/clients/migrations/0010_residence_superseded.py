from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0009_name_keys_collate_c"),
    ]

    operations = [
        migrations.AddField(
            model_name="residence",
            name="superseded_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="superseded"
            ),
        ),
    ]
