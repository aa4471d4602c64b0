"""The only code that writes outbox rows and the only code that talks to the channel layer."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from .models import GroupSequence, Heartbeat, OutboxEvent

logger = logging.getLogger(__name__)

RELAY_LOCK_KEY = 0x0C0C_0001  # pg advisory lock: one relay at a time keeps each group's order
ALL_GROUP = "all"  # administrators' walls see every event


def groups_for(*, region=None, department_id=None) -> list[str]:
    """Channel groups that must hear about a change in `region` (every ancestor's wall) and a department."""
    groups = [ALL_GROUP]
    if region is not None:
        groups += [f"region-{code}" for code in region.path.split("/") if code]
    if department_id is not None:
        groups.append(f"dept-{department_id}")
    return groups


def outbox_write(*, topic: str, data: dict, region=None, department_ids=(), groups=None) -> OutboxEvent:
    """Record an event in the caller's transaction; it is relayed only after that transaction commits."""
    if groups is None:
        groups = groups_for(region=region)
        groups += [f"dept-{d}" for d in department_ids if d is not None]
    event = OutboxEvent.objects.create(topic=topic, data=data, groups=list(dict.fromkeys(groups)))
    transaction.on_commit(kick_relay)
    return event


def kick_relay() -> None:
    """Ask a worker to relay now; when the broker is away the periodic sweep does it later."""
    from .tasks import relay_outbox

    try:
        relay_outbox.apply_async(retry=False)
    except Exception:  # the broker being down must never fail the request that made the change
        logger.warning("outbox relay not kicked (broker unavailable); the sweep will send it", exc_info=True)


def relay_pending(*, batch: int = 500) -> int:
    """Publish unsent rows in id order. Returns how many were sent; stops at the first failure."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RELAY_LOCK_KEY])
        if not cursor.fetchone()[0]:
            return 0
    try:
        return _relay_locked(batch)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RELAY_LOCK_KEY])


def _relay_locked(batch: int) -> int:
    layer = get_channel_layer()
    sent = 0
    rows = list(OutboxEvent.objects.filter(sent_at__isnull=True).order_by("id")[:batch])
    for row in rows:
        try:
            with transaction.atomic():
                seqs = _next_seqs(row.groups)
                for group in row.groups:
                    async_to_sync(layer.group_send)(
                        group,
                        {
                            "type": "wall.event",
                            "id": row.id,
                            "seq": seqs[group],
                            "group": group,
                            "topic": row.topic,
                            "at": row.created_at.isoformat(),
                            "data": row.data,
                        },
                    )
                row.sent_at = timezone.now()
                row.attempts += 1
                row.save(update_fields=["sent_at", "attempts"])
        except Exception:
            # Counters roll back with the transaction; the row stays unsent and goes out on the next run.
            OutboxEvent.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
            logger.warning("outbox relay stopped at event %s; will retry", row.pk, exc_info=True)
            break
        sent += 1
    return sent


def _next_seqs(groups: list[str]) -> dict[str, int]:
    seqs = {}
    for group in groups:
        obj, _ = GroupSequence.objects.select_for_update().get_or_create(group=group)
        obj.last_seq += 1
        obj.save(update_fields=["last_seq"])
        seqs[group] = obj.last_seq
    return seqs


def current_seq(group: str) -> int:
    return GroupSequence.objects.filter(group=group).values_list("last_seq", flat=True).first() or 0


def heartbeat_record(name: str) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})
