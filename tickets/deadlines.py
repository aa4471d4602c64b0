"""One deadline mechanism for every kind of due row (assignments here; return visits, alerts in other apps).

An app registers a kind: the queryset of open rows, the due column (with a partial index on open rows),
and a handler. The beat task calls `scan()` every 30 s. What holds, whatever runs twice or at once
(docs/locking.md has the lock order this relies on):

- Claiming: inside one transaction per batch, due rows are claimed with FOR UPDATE SKIP LOCKED, so two
  scanners never take the same row and a scanner killed mid-way leaves no trace. A kind whose rows belong to a
  row that every other writer locks first (`lock_first`: an assignment's ticket) is claimed in that same order:
  the owners of due rows first (SKIP LOCKED, in id order: a ticket someone is working on is left for the next
  scan), then all of their due rows. A ticket's shares are therefore always handled together, by one scanner,
  after everyone else's change to that ticket.
- One scanner per kind at a time: each batch transaction takes a per-kind advisory lock with
  pg_try_advisory_xact_lock; a scan that finds it held returns at once (the running scan is doing the work)
  instead of occupying a worker. A scan stops at its time budget (TICKETS_SCAN_BUDGET_SECONDS, less than the
  beat interval), so a slow scan never runs into the next one; the next beat carries on where it stopped.
- A batch waits for no lock longer than SCAN_LOCK_TIMEOUT; a deadlock, serialization failure or lock timeout
  rolls the batch back and runs it again (a bounded number of times).
- The handler must move the due column forward (or clear it). If a set-based `handle_batch` raises, the batch
  is redone one row at a time, each row read again under its lock (the failed attempt and the rows before it
  may have changed it): a row whose handler raises is pushed back by `retry_after` and reported; the others go on.
"""

import datetime as dt
import logging
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from org.database import is_transient, retry_transient

logger = logging.getLogger(__name__)

SCAN_LOCK_CLASS = 0x0C0C_0002  # first key of the per-kind pg advisory locks (the second: a hash of the kind's name)
SCAN_LOCK_TIMEOUT = "5s"  # no batch waits longer for a row lock (with lock_first nobody should hold one)
BATCH_ATTEMPTS = 3  # a batch rolled back by a deadlock, serialization failure or lock timeout is run again


@dataclass(frozen=True)
class DeadlineKind:
    name: str
    queryset: Callable[[], QuerySet]  # open rows of this kind
    due_field: str  # a nullable datetime column; NULL = nothing pending
    handle: Callable[[object, dt.datetime], None]  # row (locked) and now; must move due_field on
    # optional set-based handler for a whole claimed batch; if it raises, the rows are retried one by one
    handle_batch: Callable[[list, dt.datetime], None] | None = None
    batch: int = 200  # rows per batch; with lock_first, owners per batch (each with all its due rows)
    retry_after: dt.timedelta = dt.timedelta(minutes=5)
    select_related: tuple[str, ...] = field(default_factory=tuple)
    # a foreign key whose row every writer of this kind's rows locks first (docs/locking.md): the scanner
    # claims those rows first, and then their due rows
    lock_first: str | None = None


_KINDS: dict[str, DeadlineKind] = {}


def register(kind: DeadlineKind) -> None:
    _KINDS[kind.name] = kind


def kinds() -> list[DeadlineKind]:
    return list(_KINDS.values())


@dataclass
class ScanResult:
    handled: int = 0
    failed: list[tuple[str, object, str]] = field(default_factory=list)
    busy: list[str] = field(default_factory=list)  # kinds left alone: another scan of theirs was running
    unfinished: list[str] = field(default_factory=list)  # kinds stopped at the time budget, rows still due

    def as_dict(self) -> dict:
        return {
            "handled": self.handled,
            "failed": [{"kind": k, "id": i, "error": e} for k, i, e in self.failed],
            "busy": self.busy,
            "unfinished": self.unfinished,
        }

    def add(self, other: "ScanResult") -> None:
        self.handled += other.handled
        self.failed += other.failed
        self.busy += other.busy
        self.unfinished += other.unfinished


def _due(kind: DeadlineKind, now: dt.datetime) -> QuerySet:
    return kind.queryset().filter(**{f"{kind.due_field}__lte": now})


def _locked(kind: DeadlineKind, qs: QuerySet, *, skip_locked: bool) -> QuerySet:
    qs = qs.order_by(kind.due_field, "pk").select_for_update(skip_locked=skip_locked, of=("self",))
    return qs.select_related(*kind.select_related) if kind.select_related else qs


def _claim(kind: DeadlineKind, now: dt.datetime) -> tuple[list, bool]:
    """Due rows nobody else holds, locked by this transaction, oldest first; and whether the batch was full."""
    due = _due(kind, now)
    if kind.lock_first is None:
        rows = list(_locked(kind, due, skip_locked=True)[: kind.batch])
        return rows, len(rows) >= kind.batch
    owner = due.model._meta.get_field(kind.lock_first)
    owners = list(
        owner.related_model._base_manager.filter(pk__in=due.values(owner.attname))
        .order_by("pk")
        .select_for_update(skip_locked=True)
        .values_list("pk", flat=True)[: kind.batch]
    )
    if not owners:
        return [], False
    # every other writer of these rows holds their owner first, which we now do: this waits for nobody
    rows = list(_locked(kind, due.filter(**{f"{owner.attname}__in": owners}), skip_locked=False))
    return rows, len(owners) >= kind.batch


def claim_batch(kind: DeadlineKind, now: dt.datetime) -> list:
    """Due rows nobody else holds, locked, oldest first (only inside a transaction)."""
    return _claim(kind, now)[0]


def _lock_key(kind: DeadlineKind) -> int:
    return zlib.crc32(kind.name.encode()) - 2**31  # a signed int4


def _take_kind_lock(kind: DeadlineKind) -> bool:
    """This transaction's turn for the kind, or False when another scanner's batch of it is running."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [SCAN_LOCK_CLASS, _lock_key(kind)])
        if not cursor.fetchone()[0]:
            return False
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [SCAN_LOCK_TIMEOUT])
    return True


def _fresh(kind: DeadlineKind, pk, now: dt.datetime):
    """The row again, locked (it already is: this reads it as it is now), if it is still due."""
    return _locked(kind, _due(kind, now).filter(pk=pk), skip_locked=False).first()


@retry_transient(attempts=BATCH_ATTEMPTS)
def _run_batch(kind: DeadlineKind, now: dt.datetime) -> tuple[ScanResult, bool] | None:
    """One batch in one transaction (run again after a deadlock, serialization failure or lock timeout). Returns
    its result and whether more rows may be due; None when another scanner of the kind is running."""
    part = ScanResult()
    with transaction.atomic():
        if not _take_kind_lock(kind):
            return None
        rows, more = _claim(kind, now)
        if rows and kind.handle_batch is not None:
            try:
                with transaction.atomic():
                    kind.handle_batch(rows, now)
                part.handled += len(rows)
                return part, more
            except Exception:  # find the bad row(s): redo the batch one row at a time
                logger.warning("deadline %s batch failed; retrying its rows one by one", kind.name, exc_info=True)
        for pk in [row.pk for row in rows]:
            try:
                with transaction.atomic():
                    row = _fresh(kind, pk, now)
                    if row is None:  # an earlier row's handler moved it on
                        continue
                    kind.handle(row, now)
                part.handled += 1
            except Exception as exc:  # one bad row must not stop the others
                if isinstance(exc, DatabaseError) and is_transient(exc):
                    raise  # the whole batch is run again
                logger.exception("deadline %s row %s failed; pushed back", kind.name, pk)
                part.failed.append((kind.name, pk, f"{type(exc).__name__}: {exc}"[:300]))
                kind.queryset().model._base_manager.filter(pk=pk).update(**{kind.due_field: now + kind.retry_after})
    return part, more


def scan_kind(
    kind: DeadlineKind, now: dt.datetime | None = None, *, max_batches: int = 1000, max_seconds: float | None = None,
    deadline: float | None = None,
) -> ScanResult:
    """Handle the kind's due rows, batch after batch, until none is left, another scanner of the kind runs, or
    the time budget (`max_seconds`, default settings.TICKETS_SCAN_BUDGET_SECONDS; or a monotonic `deadline`)
    is spent. At least one batch is always tried."""
    now = now or timezone.now()
    if deadline is None:
        budget = settings.TICKETS_SCAN_BUDGET_SECONDS if max_seconds is None else max_seconds
        deadline = time.monotonic() + budget
    result = ScanResult()
    for _ in range(max_batches):
        outcome = _run_batch(kind, now)
        if outcome is None:
            result.busy.append(kind.name)
            break
        part, more = outcome
        result.add(part)
        if not more:
            break
        if time.monotonic() >= deadline:
            result.unfinished.append(kind.name)
            break
    return result


def scan(*, now: dt.datetime | None = None, names: list[str] | None = None) -> ScanResult:
    """Every registered kind (or those named), within one time budget shared by all of them."""
    deadline = time.monotonic() + settings.TICKETS_SCAN_BUDGET_SECONDS
    total = ScanResult()
    for kind in kinds():
        if names and kind.name not in names:
            continue
        total.add(scan_kind(kind, now=now, deadline=deadline))
    return total
