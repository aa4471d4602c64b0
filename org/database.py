"""PostgreSQL failures the code answers for itself: transient conflicts (retried) and outages (a 503, not a 500).

Transient: a deadlock (40P01), a serialization failure (40001) or a lock wait past lock_timeout (55P03) rolls
back a transaction that would succeed if run again. `retry_transient` runs a function again, a bounded number
of times, when it is the outermost transaction (inside a caller's transaction there is nothing to retry: the
caller's transaction is aborted).

Outages are in the second half of this module (`DatabaseState`, used by org.middleware and
org.health).
"""

import functools
import logging
import random
import time

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

TRANSIENT_SQLSTATES = {"40P01", "40001", "55P03"}  # deadlock, serialization failure, lock not available


def is_transient(exc: BaseException) -> bool:
    """A deadlock, serialization failure or lock timeout, as raised by Django (the psycopg error is its cause)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if getattr(exc, "sqlstate", None) in TRANSIENT_SQLSTATES:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def retry_transient(func=None, *, attempts: int = 3, on_exhausted=None):
    """Decorator: run `func` again (at most `attempts` times in all, after a short random pause) when it fails
    with a transient conflict and no transaction of the caller's is open. `on_exhausted(exc, args, kwargs)` may
    raise something better than the last conflict (e.g. a 409 with the current state)."""
    if func is None:
        return functools.partial(retry_transient, attempts=attempts, on_exhausted=on_exhausted)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for attempt in range(1, attempts + 1):
            try:
                return func(*args, **kwargs)
            except DatabaseError as exc:
                if not is_transient(exc) or connection.in_atomic_block:
                    raise
                if attempt == attempts:
                    logger.warning("%s: still a conflict after %d attempts: %s", func.__qualname__, attempts, exc)
                    if on_exhausted is not None:
                        on_exhausted(exc, args, kwargs)
                    raise
                logger.info("%s: transient conflict (attempt %d), retrying: %s", func.__qualname__, attempt, exc)
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        raise AssertionError("unreachable")

    return wrapper


# ------------------------------------------------------------------------------------------------------ outages
#
# What a PostgreSQL outage (a restart, a crash, a failover) used to do: each pooled connection failed one
# request before the pool discarded it (psycopg's pool hands out idle connections unchecked unless
# CONN_HEALTH_CHECKS), requests waited the pool's timeout (10 s) for a connection that could not be made and
# ended as a 500, and /healthz, queued behind them, stopped answering.
#
# Now each process keeps a `DatabaseState`. A request takes its connection through `connect_checked()` (the
# middleware does it first thing): a pooled connection whose socket has something to read while idle (the
# server's "terminating connection" message, or its end) is broken; one round trip confirms it, the pool is
# told to check every idle connection (ConnectionPool.check: broken ones are replaced at once) and one direct
# connection attempt (the probe) says whether the database is there at all. If it is not, the state is down:
# requests get a 503 at once, and at most one probe every PROBE_INTERVAL seconds tries again; the first probe
# that succeeds checks the pool and lets the request through. The pool gives up on a failed reconnection after
# DB_POOL_RECONNECT_TIMEOUT seconds (settings), so after an outage it grows anew on demand instead of waiting
# for attempts scheduled far apart.

import select  # noqa: E402
import threading  # noqa: E402

PROBE_INTERVAL = 0.02  # seconds between two probes while the database is down (a refused connection is cheap)
OUTAGE_SQLSTATES_PREFIX = ("08", "57P")  # connection exceptions; admin/crash shutdown, cannot connect now


class DatabaseUnavailable(Exception):
    """No working database connection can be had now (the middleware answers 503)."""


def is_outage(exc: BaseException) -> bool:
    """The error came from the connection (none could be had, or it broke), not from a statement."""
    import psycopg
    from psycopg_pool import PoolTimeout

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (PoolTimeout, DatabaseUnavailable)):
            return True
        if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)):
            sqlstate = getattr(exc, "sqlstate", None)
            return sqlstate is None or sqlstate.startswith(OUTAGE_SQLSTATES_PREFIX)
        exc = exc.__cause__ or exc.__context__
    return False


class DatabaseState:
    def __init__(self):
        self._lock = threading.Lock()
        self.down_since: float | None = None  # time.time() of the first failure seen
        self.error = ""
        self._last_probe = 0.0
        self._probing = False

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def as_dict(self) -> dict:
        if not self.down:
            return {"ok": True}
        return {"ok": False, "error": self.error, "down_for_seconds": round(time.time() - self.down_since, 1)}

    def mark_down(self, exc: BaseException | str) -> None:
        with self._lock:
            self.error = (f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else exc)[:300]
            if self.down_since is None:
                self.down_since = time.time()
                logger.error("database unavailable: %s", self.error)

    def mark_up(self) -> None:
        with self._lock:
            was_down, self.down_since = self.down_since, None
        if was_down is not None:
            logger.warning("database back after %.1f s", time.time() - was_down)
            check_pool()

    def try_again(self) -> bool:
        """While down: probe (at most one probe every PROBE_INTERVAL seconds in this process, and one at a time).
        True when the database answers again."""
        with self._lock:
            if self.down_since is None:
                return True
            now = time.monotonic()
            if self._probing or now - self._last_probe < PROBE_INTERVAL:
                return False
            self._probing, self._last_probe = True, now
        try:
            error = probe()
        finally:
            with self._lock:
                self._probing = False
        if error is None:
            self.mark_up()
            return True
        self.mark_down(error)
        return False


STATE = DatabaseState()


def probe(timeout: int = 2) -> str | None:
    """One connection of its own (not from the pool), made and closed: None if the database answers, else why not.
    A stopped server refuses at once; libpq's smallest connect_timeout is 2 s."""
    import psycopg

    params = connection.get_connection_params()
    params["connect_timeout"] = timeout
    try:
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def check_pool() -> None:
    """Have the pool test its idle connections now and replace the broken ones (psycopg_pool's check())."""
    pool = getattr(connection, "pool", None)
    if pool is not None:
        try:
            pool.check()
        except Exception:  # noqa: BLE001 - a failed check leaves the pool as it was
            logger.warning("pool check failed", exc_info=True)


def _looks_broken(raw) -> bool:
    """An idle connection has nothing to read; one the server ended has its last message and EOF waiting."""
    if raw.closed or raw.broken:
        return True
    try:
        readable, _, _ = select.select([raw.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def connect_checked() -> None:
    """Give this thread a working connection for what follows, or raise DatabaseUnavailable (at once when the
    database is known to be down). Costs a select() on the connection's socket when all is well."""
    import psycopg

    if STATE.down and not STATE.try_again():
        raise DatabaseUnavailable(STATE.error)
    if connection.in_atomic_block:  # inside a caller's transaction (tests): its connection is the one to use
        return
    for _ in range(2):
        try:
            connection.ensure_connection()
            raw = connection.connection
            if raw is not None and _looks_broken(raw):
                raw.execute("")  # read what is waiting; a broken connection raises here
            return
        except (DatabaseError, psycopg.Error) as exc:
            if not is_outage(exc):
                raise
            connection.close()  # back to the pool, which discards a broken connection and makes a new one
            error = probe()
            if error is not None:
                STATE.mark_down(error)
                raise DatabaseUnavailable(error) from exc
            # the database answers: this connection was stale, and its idle neighbours likely are too
            check_pool()
    raise DatabaseUnavailable("no working connection from the pool")


def connect_checked_after(exc: BaseException) -> None:
    """A request's connection failed midway: find out whether the database is gone (then the state is down) or
    only that connection was stale (then the pool checks the others)."""
    connection.close()
    error = probe()
    if error is None:
        check_pool()
    else:
        STATE.mark_down(error)
