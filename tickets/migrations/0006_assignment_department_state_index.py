from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    """The inbox API's state tabs, newest first. Built CONCURRENTLY: a city's share table is large, and
    writes to it must go on while the index is built."""

    atomic = False

    dependencies = [
        ("tickets", "0005_idempotency_nulls_not_distinct"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="assignment",
            index=models.Index(fields=["department", "state", "-id"], name="tickets_assignment_dept_state"),
        ),
    ]
