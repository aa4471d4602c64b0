"""The time limits by contact type the issue gives as defaults; administrators change them in the admin."""

from django.db import migrations

DEFAULTS = [
    ("consult", 2, "working_days"),
    ("help", 10, "working_days"),
    ("suggestion", 10, "working_days"),
    ("complaint", 15, "working_days"),
    ("report", 15, "working_days"),
    ("praise", 5, "working_days"),
    ("urgent", 0, "same_day"),
]


def add(apps, schema_editor):
    ContactTimeLimit = apps.get_model("hotline", "ContactTimeLimit")
    for key, amount, unit in DEFAULTS:
        ContactTimeLimit.objects.get_or_create(key=key, defaults={"amount": amount, "unit": unit})


class Migration(migrations.Migration):
    dependencies = [("hotline", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
