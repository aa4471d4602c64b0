"""The only code that writes outbox rows and the only code that talks to the channel layer."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from realtime import kicks

from .models import GroupSequence, Heartbeat, OutboxEvent

logger = logging.getLogger(__name__)

RELAY_LOCK_KEY = 0x0C0C_0001  # pg advisory lock: one relay at a time keeps each group's order
KICK_PENDING = "realtime:relay-kick-pending"  # cache key: a relay kick is queued and has not started
KICK_PENDING_SECONDS = 5  # a lost kick (broker away, worker down) blocks later kicks no longer than one sweep
ALL_GROUP = "all"  # administrators' walls see every event


def region_group(code: str) -> str:
    return f"region-{code}"


def department_group(department_id: int) -> str:
    return f"dept-{department_id}"


def groups_for(*, region=None, department_ids=()) -> list[str]:
    """Channel groups that must hear about a change in `region` (every ancestor's wall) and its departments."""
    groups = [ALL_GROUP]
    if region is not None:
        groups += [region_group(code) for code in region.path.split("/") if code]
    groups += [department_group(d) for d in department_ids if d is not None]
    return groups


def outbox_write(*, topic: str, data: dict, region=None, department_ids=(), groups=None) -> OutboxEvent:
    """Record an event in the caller's transaction; it is relayed only after that transaction commits."""
    if groups is None:
        groups = groups_for(region=region, department_ids=department_ids)
    event = OutboxEvent.objects.create(topic=topic, data=data, groups=list(dict.fromkeys(groups)))
    # Each row asks for a kick after the commit; kicks coalesce in Redis (realtime.kicks), so a
    # transaction that writes several rows sends one Celery message. (A rolled-back savepoint's kick is
    # dropped with it; the beat sweep sends whatever is left within seconds.)
    transaction.on_commit(kick_relay)
    return event


def kick_relay() -> None:
    """Ask a worker to relay now (a coalesced kick, see realtime.kicks); when the broker is away the
    periodic sweep does it later."""
    from .tasks import relay_outbox

    kicks.kick(relay_outbox, mark=KICK_PENDING, seconds=KICK_PENDING_SECONDS, what="outbox relay")


def relay_kicked() -> int:
    """The relay task: clear the pending kick, then send everything unsent."""
    kicks.started(KICK_PENDING, what="outbox relay")
    return relay_pending()


def relay_pending(*, batch: int = 500) -> int:
    """Publish unsent rows in id order. Returns how many were sent; stops at the first failure.

    A kick that finds another relay running returns at once; the running relay looks again for unsent rows
    after releasing its lock, so a row committed meanwhile is sent now rather than at the next sweep.
    The lock is transaction-scoped: it ends with the transaction, never with a pooled connection's session."""
    total = 0
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RELAY_LOCK_KEY])
                if not cursor.fetchone()[0]:
                    return total
            sent = _relay_locked(batch)
        total += sent
        if not sent or not OutboxEvent.objects.filter(sent_at__isnull=True).exists():
            return total


def _relay_locked(batch: int) -> int:
    rows = list(OutboxEvent.objects.filter(sent_at__isnull=True).order_by("id")[:batch])
    if not rows:
        return 0
    try:
        with transaction.atomic():
            counters = _lock_counters({group for row in rows for group in row.groups})
            messages = []
            for row in rows:
                for group in row.groups:
                    counters[group].last_seq += 1
                    messages.append((group, _message(row, group, counters[group].last_seq)))
            async_to_sync(_send_in_order)(get_channel_layer(), messages)
            GroupSequence.objects.bulk_update(counters.values(), ["last_seq"])
            OutboxEvent.objects.filter(id__in=[row.id for row in rows]).update(
                sent_at=timezone.now(), attempts=F("attempts") + 1
            )
    except Exception:
        # Counters roll back with the transaction and the rows stay unsent: the next run sends them again
        # with the same sequence numbers, and walls ignore a sequence number they have already applied.
        OutboxEvent.objects.filter(pk=rows[0].pk).update(attempts=F("attempts") + 1)
        logger.warning("outbox relay failed at event %s; will retry", rows[0].pk, exc_info=True)
        return 0
    return len(rows)


def _lock_counters(groups: set[str]) -> dict[str, GroupSequence]:
    GroupSequence.objects.bulk_create([GroupSequence(group=g) for g in groups], ignore_conflicts=True)
    return {c.group: c for c in GroupSequence.objects.select_for_update().filter(group__in=groups)}


def _message(row: OutboxEvent, group: str, seq: int) -> dict:
    return {
        "type": "wall.event",
        "id": row.id,
        "seq": seq,
        "group": group,
        "topic": row.topic,
        "at": row.created_at.isoformat(),
        "data": row.data,
    }


async def _send_in_order(layer, messages: list[tuple[str, dict]]) -> None:
    for group, message in messages:
        await layer.group_send(group, message)


def current_seq(group: str) -> int:
    return GroupSequence.objects.filter(group=group).values_list("last_seq", flat=True).first() or 0


def heartbeat_record(name: str) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})
