"""The units' search text (calls.models.Unit.search_text), written for the units already there. The folding is
repeated here, as it is today, so that the migration never depends on app code that may change."""

import re
import unicodedata

from django.db import migrations, models

_NOT_A_WORD = re.compile(r"[\W_]+")


def _fold(text):
    text = unicodedata.normalize("NFKD", (text or "").casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(_NOT_A_WORD.sub(" ", text).split())


def write_search_text(apps, schema_editor):
    Unit = apps.get_model("calls", "Unit")
    units = list(Unit.objects.only("unit_type", "number", "acronym", "name", "city"))
    for unit in units:
        unit.search_text = _fold(f"{unit.unit_type} {unit.number} {unit.unit_type}{unit.number} "
                                 f"{unit.acronym} {unit.name} {unit.city}")
    Unit.objects.bulk_update(units, ["search_text"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("calls", "0010_award_acceptance_days"),
    ]

    operations = [
        migrations.AddField(
            model_name="unit",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(write_search_text, migrations.RunPython.noop),
    ]
