"""Day partitions of the vehicle position table (named datahub_vehicle_position_pYYYYMMDD).

DDL runs on a connection of its own, in autocommit: a partition created inside a long ingestion
transaction would hold a lock on the parent table until that batch commits, stalling every reader.
A new day is created as a plain table and then ATTACHed, which takes only SHARE UPDATE EXCLUSIVE on
the parent: it does not wait for (or block) a batch that is writing other days in its open transaction.
"""

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone as dt_timezone

from django.db import connections
from psycopg import errors, sql

PARENT = "datahub_vehicle_position"
CST = dt_timezone(timedelta(hours=8))
NAME_RE = re.compile(rf"^{PARENT}_p(\d{{8}})$")


def partition_name(day: date) -> str:
    return f"{PARENT}_p{day:%Y%m%d}"


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=CST)
    return start, start + timedelta(days=1)


def _side_connection():
    conn = connections.create_connection("default")
    conn.ensure_connection()
    conn.connection.autocommit = True
    return conn


def _begin(cursor) -> None:
    # SET LOCAL: the setting ends with the transaction and never follows the connection back into the pool
    cursor.execute("BEGIN")
    cursor.execute("SET LOCAL lock_timeout = '15s'")


def ensure_position_partitions(days: Iterable[date]) -> list[str]:
    """Create the partitions of `days` that do not exist yet; returns the names created."""
    days = sorted(set(days))
    if not days:
        return []
    created = []
    conn = _side_connection()
    try:
        with conn.connection.cursor() as cursor:
            existing = set(_partition_names(cursor))
            for day in days:
                name = partition_name(day)
                if name in existing:
                    continue
                start, end = _bounds(day)
                ident, parent = sql.Identifier(name), sql.Identifier(PARENT)
                _begin(cursor)
                try:
                    cursor.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS)").format(ident, parent))
                    cursor.execute(
                        sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES FROM (%s) TO (%s)").format(parent, ident),
                        [start, end],
                    )
                    cursor.execute("COMMIT")
                except errors.DuplicateTable:  # another process created it a moment ago
                    cursor.execute("ROLLBACK")
                    continue
                except Exception:
                    cursor.execute("ROLLBACK")
                    raise
                created.append(name)
    finally:
        conn.close()
    return created


def _partition_names(cursor) -> list[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
        [PARENT],
    )
    return [row[0] for row in cursor.fetchall()]


def existing_partitions() -> dict[date, str]:
    with connections["default"].cursor() as cursor:
        names = _partition_names(cursor)
    out = {}
    for name in names:
        match = NAME_RE.match(name)
        if match:
            out[datetime.strptime(match.group(1), "%Y%m%d").date()] = name
    return out


def drop_partitions_before(cutoff: date) -> list[str]:
    """Drop whole days older than `cutoff` (retention); returns the names dropped."""
    dropped = []
    old = [name for day, name in sorted(existing_partitions().items()) if day < cutoff]
    if not old:
        return []
    conn = _side_connection()
    try:
        with conn.connection.cursor() as cursor:
            for name in old:
                _begin(cursor)
                cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)))
                rows = cursor.fetchone()[0]
                cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))
                # the catalog's record count loses the dropped day in the same transaction
                cursor.execute(
                    "UPDATE datahub_dataresource SET record_count = GREATEST(record_count - %s, 0) WHERE feed = 'vehicle_position'",
                    [rows],
                )
                cursor.execute("COMMIT")
                dropped.append(name)
    finally:
        conn.close()
    return dropped


def health_check() -> dict:
    """Today's and tomorrow's position partitions exist (else the beat maintenance is not running)."""
    today = datetime.now(CST).date()
    have = existing_partitions()
    missing = [d.isoformat() for d in (today, today + timedelta(days=1)) if d not in have]
    # Ingestion creates a missing day itself, so this is a warning, not an outage.
    return {"ok": True, "partitions": len(have), **({"warning": f"missing partitions: {', '.join(missing)}"} if missing else {})}


def maintain(*, retention_days: int, ahead_days: int = 7) -> dict:
    """Create today's and the coming days' partitions; drop the days past retention."""
    today = datetime.now(CST).date()
    created = ensure_position_partitions(today + timedelta(days=i) for i in range(ahead_days + 1))
    dropped = drop_partitions_before(today - timedelta(days=retention_days))
    return {"created": created, "dropped": dropped}
