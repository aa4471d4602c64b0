from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION tickets_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'tickets_ticketevent is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER tickets_event_no_update_delete
    BEFORE UPDATE OR DELETE ON tickets_ticketevent
    FOR EACH ROW EXECUTE FUNCTION tickets_event_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS tickets_event_no_update_delete ON tickets_ticketevent;
DROP FUNCTION IF EXISTS tickets_event_append_only();
"""


class Migration(migrations.Migration):
    """The timeline is a record: the database itself refuses to change or delete a row."""

    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
