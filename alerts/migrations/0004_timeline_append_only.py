"""The alert timeline is append-only: PostgreSQL refuses UPDATE and DELETE on it."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION alerts_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'alerts_alertevent is append-only: % is not allowed', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER alerts_event_no_update_delete
    BEFORE UPDATE OR DELETE ON alerts_alertevent
    FOR EACH ROW EXECUTE FUNCTION alerts_event_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS alerts_event_no_update_delete ON alerts_alertevent;
DROP FUNCTION IF EXISTS alerts_event_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("alerts", "0003_hotline_rules")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
