import secrets

from django.db import migrations, models

import iea.accounts.models


def give_each_user_a_key(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for user in User.objects.filter(calendar_key__isnull=True).only("pk"):
        user.calendar_key = secrets.token_urlsafe(24)
        user.save(update_fields=["calendar_key"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="user", name="calendar_key", field=models.CharField(max_length=64, null=True, editable=False),
        ),
        migrations.RunPython(give_each_user_a_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="user",
            name="calendar_key",
            field=models.CharField(
                default=iea.accounts.models.new_calendar_key, editable=False, max_length=64, unique=True,
                verbose_name="calendar feed key",
                help_text="The secret part of the address of the person's calendar feed (.ics).",
            ),
        ),
    ]
