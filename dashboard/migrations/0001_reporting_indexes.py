"""Reporting indexes the wall and the statistics read by (time ranges over tickets and the timeline).

Raw SQL on purpose: the tables belong to `tickets`, whose model state must not change from here."""

from django.db import migrations

INDEXES = [
    ("dashboard_ticket_created", "tickets_ticket", "(created_at)"),
    ("dashboard_ticket_closed", "tickets_ticket", "(closed_at) WHERE closed_at IS NOT NULL"),
    ("dashboard_event_action_at", "tickets_ticketevent", "(action, at)"),
    ("dashboard_assignment_dispatched", "tickets_assignment", "(dispatched_at) WHERE role = 'lead'"),
]


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_timeline_append_only")]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {table} {columns}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, table, columns in INDEXES
    ]
