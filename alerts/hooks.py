"""Incremental detection: datahub announces each committed batch (datahub.signals.batch_committed) and a
Celery task per batch runs the rules that batch's feed can affect; a new 12345 contact queues a task that runs
the hotline rules at once. Neither datahub nor hotline imports alerts."""

import logging
from functools import partial

from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_save

logger = logging.getLogger(__name__)

CONTACTS_PENDING = "alerts:contact-detection-pending"  # cache key: a contact detection is queued and has not started
CONTACTS_PENDING_SECONDS = 10  # a lost task (broker away, worker down) holds later ones back no longer than this


def on_batch_committed(sender, batch_id=None, batch=None, **kwargs) -> None:
    from .tasks import detect_batch

    batch_id = batch_id if batch_id is not None else getattr(batch, "pk", None)
    if batch_id is None:
        return
    try:
        detect_batch.apply_async(args=[batch_id], retry=False)
    except Exception:  # the broker being away must not fail ingestion; the periodic pass catches up
        logger.warning("alerts: detection of batch %s not queued (broker unavailable)", batch_id, exc_info=True)


def on_contact_saved(sender, instance, created=False, **kwargs) -> None:
    if created:
        transaction.on_commit(partial(kick_contact_detection, instance.created_at))


def kick_contact_detection(at) -> None:
    """Queue detection for the contacts taken in since `at`. Kicks coalesce as the outbox relay's do: while a
    detection is queued and has not started, later contacts queue none (a Redis SET NX instead of a Celery
    message each, and one pass of the city-wide surge rule instead of one per contact). The task clears the
    mark before it reads, so it sees every contact committed before a kick it absorbed."""
    from .tasks import detect_contacts

    try:
        if cache.add(CONTACTS_PENDING, 1, timeout=CONTACTS_PENDING_SECONDS):
            detect_contacts.apply_async(args=[at.isoformat()], retry=False)
    except Exception:  # as above: the periodic pass catches up
        logger.warning("alerts: detection of contacts since %s not queued (broker unavailable)", at, exc_info=True)


def connect() -> None:
    try:
        from datahub.signals import batch_committed
    except ImportError:
        logger.info("alerts: datahub has no batch_committed signal; only the periodic detection runs")
    else:
        batch_committed.connect(on_batch_committed, dispatch_uid="alerts.detect_batch")
    try:
        contact = apps.get_model("hotline", "Contact")
    except LookupError:
        return
    post_save.connect(on_contact_saved, sender=contact, dispatch_uid="alerts.detect_contacts")
