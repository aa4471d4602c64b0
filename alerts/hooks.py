"""Incremental detection: datahub announces each committed batch (datahub.signals.batch_committed) and a
Celery task per batch runs the rules that batch's feed can affect; a new 12345 contact queues a task that runs
the hotline rules at once. Neither datahub nor hotline imports alerts."""

import logging
from functools import partial

from django.db import transaction

from realtime import kicks
from datahub.signals import batch_committed
from hotline.signals import contact_taken

logger = logging.getLogger(__name__)

CONTACTS_PENDING = "alerts:contact-detection-pending"  # cache key: a contact detection is queued and has not started
CONTACTS_PENDING_SECONDS = 10  # a lost task (broker away, worker down) holds later ones back no longer than this


def on_batch_committed(sender, batch_id=None, batch=None, **kwargs) -> None:
    from .tasks import detect_batch  # tasks → detection → this module

    batch_id = batch_id if batch_id is not None else getattr(batch, "pk", None)
    if batch_id is None:
        return
    try:
        detect_batch.apply_async(args=[batch_id], retry=False)
    except Exception:  # the broker being away must not fail ingestion; the periodic pass catches up
        logger.warning("alerts: detection of batch %s not queued (broker unavailable)", batch_id, exc_info=True)


def on_contact_taken(sender, contact, **kwargs) -> None:
    transaction.on_commit(partial(kick_contact_detection, contact.created_at))


def kick_contact_detection(at) -> None:
    """Queue detection for the contacts taken in since `at`, coalesced as the outbox relay's kicks are
    (realtime.kicks): while a detection is queued and has not started, later contacts queue none, and
    the city-wide surge rule runs once for them all instead of once per contact."""
    from .tasks import detect_contacts  # tasks → detection → this module

    kicks.kick(detect_contacts, mark=CONTACTS_PENDING, seconds=CONTACTS_PENDING_SECONDS, args=[at.isoformat()],
               what=f"alerts: detection of contacts since {at}")


def connect() -> None:
    batch_committed.connect(on_batch_committed, dispatch_uid="alerts.detect_batch")
    contact_taken.connect(on_contact_taken, dispatch_uid="alerts.detect_contacts")
