"""Rebuild the daily figures (TicketDay, ShareDay) of every day whose tickets have new timeline rows, and their months.

Every change to a ticket, its shares or its requests appends a TicketEvent, so "tickets with events after the
watermark" is exactly the set of tickets whose figures may have changed. Their buckets are deleted and summed
again from the tickets of those days (read through the time indexes) in one statement each; one refresher runs at a time (advisory lock). The statistics page
refreshes before it reads, and beat refreshes every minute, so a page read does little work."""

from django.conf import settings
from django.db import connection, transaction

from .models import RollupMark

ROLLUP_LOCK_KEY = 0x0C0C_0006
MARK = "tickets"
# Event ids are handed out before commit, so a row with a smaller id can become visible after a larger one was
# taken in; each run looks again at the last OVERLAP ids when they are younger than OVERLAP_AGE (a day rebuilt
# twice is harmless).
OVERLAP = 500
OVERLAP_AGE = "2 minutes"

# Definitions: see stats.py. Kept in SQL so a bucket is one INSERT … SELECT; the live Q objects in stats.py
# (used by the drill-down) say the same, and tests/dashboard/test_stats.py checks both against the timeline.
TICKET_BUCKETS = """
INSERT INTO dashboard_ticketday (day, town_id, district_id, town_path, category_id, major_id, source, lead_department_id,
    received, closed, on_time, rated, satisfied, dispatched, reworked, returned, extended, direct)
SELECT b.day, t.town_id, t.district_id, town.path, t.category_id, c.parent_id, t.source, lead.department_id,
    count(*),
    count(*) FILTER (WHERE t.state = 'closed'),
    count(*) FILTER (WHERE t.state = 'closed' AND (t.due_at IS NULL OR t.closed_at <= t.due_at)),
    count(*) FILTER (WHERE t.satisfaction <> ''),
    count(*) FILTER (WHERE t.satisfaction IN ('satisfied', 'basically')),
    count(*) FILTER (WHERE t.dispatched_at IS NOT NULL),
    count(*) FILTER (WHERE t.dispatched_at IS NOT NULL AND t.rework_count > 0),
    count(*) FILTER (WHERE t.dispatched_at IS NOT NULL AND returned.yes),
    count(*) FILTER (WHERE t.dispatched_at IS NOT NULL AND extended.yes),
    count(*) FILTER (WHERE t.state = 'closed' AND t.dispatched_at IS NULL)
FROM dashboard_day_tickets b
JOIN tickets_ticket t ON t.id = b.id
JOIN tickets_category c ON c.id = t.category_id
JOIN org_region town ON town.id = t.town_id
LEFT JOIN LATERAL (
    SELECT a.department_id FROM tickets_assignment a
    WHERE a.ticket_id = t.id AND a.role = 'lead' AND a.state NOT IN ('returned', 'cancelled')
    ORDER BY a.id DESC LIMIT 1
) lead ON true
-- per-ticket probes through the ticket_id indexes: a few days' tickets must not hash a whole table
LEFT JOIN LATERAL (
    SELECT true AS yes FROM tickets_assignment r WHERE r.ticket_id = t.id AND r.state = 'returned' LIMIT 1
) returned ON true
LEFT JOIN LATERAL (
    SELECT true AS yes FROM tickets_ticketrequest x
    WHERE x.ticket_id = t.id AND x.kind = 'extension' AND x.decision = 'approved' LIMIT 1
) extended ON true
GROUP BY b.day, t.town_id, t.district_id, town.path, t.category_id, c.parent_id, t.source, lead.department_id
"""

SHARE_BUCKETS = """
INSERT INTO dashboard_shareday (day, town_id, district_id, town_path, category_id, major_id, source, department_id,
    volume, closed, on_time, reworked, returned, extended, rated, satisfied)
SELECT b.day, t.town_id, t.district_id, town.path, t.category_id, c.parent_id, t.source, a.department_id,
    count(*),
    count(*) FILTER (WHERE a.state = 'replied'),
    count(*) FILTER (WHERE a.state = 'replied' AND a.replied_at <= a.handle_due_at),
    count(*) FILTER (WHERE t.rework_count > 0),
    count(*) FILTER (WHERE a.state = 'returned'),
    count(*) FILTER (WHERE extended.yes),
    count(*) FILTER (WHERE t.satisfaction <> ''),
    count(*) FILTER (WHERE t.satisfaction IN ('satisfied', 'basically'))
FROM dashboard_day_shares b
JOIN tickets_assignment a ON a.id = b.id
JOIN tickets_ticket t ON t.id = a.ticket_id
JOIN tickets_category c ON c.id = t.category_id
JOIN org_region town ON town.id = t.town_id
LEFT JOIN LATERAL (
    SELECT true AS yes FROM tickets_ticketrequest x
    WHERE x.assignment_id = a.id AND x.kind = 'extension' AND x.decision = 'approved' LIMIT 1
) extended ON true
GROUP BY b.day, t.town_id, t.district_id, town.path, t.category_id, c.parent_id, t.source, a.department_id
"""


TICKET_FIGURES = "received, closed, on_time, rated, satisfied, dispatched, reworked, returned, extended, direct"
SHARE_FIGURES = "volume, closed, on_time, reworked, returned, extended, rated, satisfied"
PLACE = "town_id, district_id, town_path, category_id, major_id, source"


def _months(cursor, table: str, buckets: str, key: str, figures: str) -> None:
    """Re-sum the months of the touched days from their days."""
    sums = ", ".join(f"sum({f})" for f in figures.split(", "))
    cursor.execute(
        f"CREATE TEMP TABLE {buckets}_m ON COMMIT DROP AS "
        f"SELECT DISTINCT date_trunc('month', day)::date AS month FROM {buckets}"
    )
    cursor.execute(f"DELETE FROM dashboard_{table}month r USING {buckets}_m b WHERE r.month = b.month")
    cursor.execute(
        f"INSERT INTO dashboard_{table}month (month, {PLACE}, {key}, {figures}) "
        f"SELECT b.month, d.town_id, d.district_id, d.town_path, d.category_id, d.major_id, d.source, d.{key}, {sums} "
        f"FROM {buckets}_m b JOIN dashboard_{table}day d "
        f"ON d.day >= b.month AND d.day < (b.month + interval '1 month')::date "
        f"GROUP BY b.month, d.town_id, d.district_id, d.town_path, d.category_id, d.major_id, d.source, d.{key}"
    )


def refresh() -> int:
    """Rebuild the buckets touched since the last run; returns the timeline id now covered (0: nothing to do).
    Returns 0 at once when another refresh is running (it will take these rows too, or the next one will)."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ROLLUP_LOCK_KEY])
            if not cursor.fetchone()[0]:
                return 0
            # each statement touches a few days through indexes; JIT compilation would cost more than it saves
            cursor.execute("SET LOCAL jit = off")
            mark, _ = RollupMark.objects.select_for_update().get_or_create(name=MARK)
            cursor.execute("SELECT coalesce(max(id), 0) FROM tickets_ticketevent")
            (last,) = cursor.fetchone()
            if last <= mark.last_event_id:
                return 0
            params = {"tz": settings.TIME_ZONE, "mark": mark.last_event_id, "overlap": OVERLAP, "age": OVERLAP_AGE,
                      "last": last}
            cursor.execute(
                "CREATE TEMP TABLE dashboard_touched ON COMMIT DROP AS "
                "SELECT DISTINCT ticket_id FROM tickets_ticketevent WHERE (id > %(mark)s AND id <= %(last)s) "
                "OR (id > %(mark)s - %(overlap)s AND id <= %(mark)s AND at > now() - %(age)s::interval)", params
            )
            cursor.execute(
                "CREATE TEMP TABLE dashboard_buckets ON COMMIT DROP AS "
                "SELECT DISTINCT (t.created_at AT TIME ZONE %(tz)s)::date AS day "
                "FROM tickets_ticket t JOIN dashboard_touched d ON d.ticket_id = t.id", params
            )
            cursor.execute(
                "CREATE TEMP TABLE dashboard_share_buckets ON COMMIT DROP AS "
                "SELECT DISTINCT (a.dispatched_at AT TIME ZONE %(tz)s)::date AS day "
                "FROM tickets_assignment a JOIN dashboard_touched d ON d.ticket_id = a.ticket_id WHERE a.role = 'lead'", params
            )
            # the rows of those days, listed first so the planner knows how few they are and joins by primary key
            cursor.execute(
                "CREATE TEMP TABLE dashboard_day_tickets ON COMMIT DROP AS SELECT b.day, t.id FROM dashboard_buckets b "
                "JOIN tickets_ticket t ON t.created_at >= (b.day::timestamp AT TIME ZONE %(tz)s) "
                "AND t.created_at < ((b.day + 1)::timestamp AT TIME ZONE %(tz)s) WHERE t.state <> 'merged'", params
            )
            cursor.execute(
                "CREATE TEMP TABLE dashboard_day_shares ON COMMIT DROP AS SELECT b.day, a.id FROM dashboard_share_buckets b "
                "JOIN tickets_assignment a ON a.dispatched_at >= (b.day::timestamp AT TIME ZONE %(tz)s) "
                "AND a.dispatched_at < ((b.day + 1)::timestamp AT TIME ZONE %(tz)s) "
                "WHERE a.role = 'lead' AND a.state <> 'cancelled'", params
            )
            cursor.execute("ANALYZE dashboard_day_tickets; ANALYZE dashboard_day_shares")
            cursor.execute(
                "DELETE FROM dashboard_ticketday r USING dashboard_buckets b WHERE r.day = b.day"
            )
            cursor.execute(TICKET_BUCKETS, params)
            cursor.execute(
                "DELETE FROM dashboard_shareday r USING dashboard_share_buckets b WHERE r.day = b.day"
            )
            cursor.execute(SHARE_BUCKETS, params)
            # table and column names are constants of this module, never input
            _months(cursor, "ticket", "dashboard_buckets", "lead_department_id", TICKET_FIGURES)
            _months(cursor, "share", "dashboard_share_buckets", "department_id", SHARE_FIGURES)
            mark.last_event_id = last
            mark.save(update_fields=["last_event_id"])
            return last
