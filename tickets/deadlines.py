"""One deadline mechanism for every kind of due row (assignments here; return visits, alerts in other apps).

An app registers a kind: the queryset of open rows, the due column (with a partial index on open rows),
and a handler. The beat task calls `scan()` every 30 s; it claims due rows with
SELECT … FOR UPDATE SKIP LOCKED inside one transaction per batch, so two scanners never take the same
row and a scanner killed mid-way leaves no trace. The handler must move the due column forward (or
clear it). A row whose handler raises is pushed back by `retry_after` and reported; the others go on.
"""

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadlineKind:
    name: str
    queryset: Callable[[], QuerySet]  # open rows of this kind
    due_field: str  # a nullable datetime column; NULL = nothing pending
    handle: Callable[[object, dt.datetime], None]  # row (locked) and now; must move due_field on
    # optional set-based handler for a whole claimed batch; if it raises, the rows are retried one by one
    handle_batch: Callable[[list, dt.datetime], None] | None = None
    batch: int = 200
    retry_after: dt.timedelta = dt.timedelta(minutes=5)
    select_related: tuple[str, ...] = field(default_factory=tuple)


_KINDS: dict[str, DeadlineKind] = {}


def register(kind: DeadlineKind) -> None:
    _KINDS[kind.name] = kind


def kinds() -> list[DeadlineKind]:
    return list(_KINDS.values())


@dataclass
class ScanResult:
    handled: int = 0
    failed: list[tuple[str, object, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"handled": self.handled, "failed": [{"kind": k, "id": i, "error": e} for k, i, e in self.failed]}


def claim_batch(kind: DeadlineKind, now: dt.datetime) -> QuerySet:
    """Due rows nobody else holds, oldest first (only inside a transaction)."""
    qs = kind.queryset().filter(**{f"{kind.due_field}__lte": now})
    if kind.select_related:
        qs = qs.select_related(*kind.select_related)
    return qs.order_by(kind.due_field).select_for_update(skip_locked=True, of=("self",))[: kind.batch]


def scan_kind(kind: DeadlineKind, *, now: dt.datetime | None = None, max_batches: int = 1000) -> ScanResult:
    now = now or timezone.now()
    result = ScanResult()
    for _ in range(max_batches):
        with transaction.atomic():
            rows = list(claim_batch(kind, now))
            if rows and kind.handle_batch is not None:
                try:
                    with transaction.atomic():
                        kind.handle_batch(rows, now)
                    result.handled += len(rows)
                    rows_left = []
                except Exception:  # find the bad row(s): redo the batch one row at a time
                    logger.warning("deadline %s batch failed; retrying its rows one by one", kind.name, exc_info=True)
                    # the rows stay locked by this transaction; read them afresh (the failed attempt touched them)
                    rows_left = list(kind.queryset().filter(pk__in=[r.pk for r in rows]).order_by(kind.due_field))
            else:
                rows_left = rows
            for row in rows_left:
                try:
                    with transaction.atomic():
                        kind.handle(row, now)
                    result.handled += 1
                except Exception as exc:  # one bad row must not stop the others
                    logger.exception("deadline %s row %s failed; pushed back", kind.name, row.pk)
                    result.failed.append((kind.name, row.pk, f"{type(exc).__name__}: {exc}"[:300]))
                    type(row).objects.filter(pk=row.pk).update(**{kind.due_field: now + kind.retry_after})
        if len(rows) < kind.batch:
            break
    return result


def scan(*, now: dt.datetime | None = None, names: list[str] | None = None) -> ScanResult:
    total = ScanResult()
    for kind in kinds():
        if names and kind.name not in names:
            continue
        part = scan_kind(kind, now=now)
        total.handled += part.handled
        total.failed += part.failed
    return total
