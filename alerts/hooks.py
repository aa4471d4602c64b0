"""Incremental detection: datahub announces each committed batch (datahub.signals.batch_committed) and a
Celery task per batch runs the rules that batch's feed can affect; each new 12345 contact gets a task that runs
the hotline rules at once. Neither datahub nor hotline imports alerts."""

import logging

from django.apps import apps
from django.db import transaction
from django.db.models.signals import post_save

logger = logging.getLogger(__name__)


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
    if not created:
        return
    from .tasks import detect_contact

    def enqueue(contact_id=instance.pk):
        try:
            detect_contact.apply_async(args=[contact_id], retry=False)
        except Exception:  # as above: the periodic pass catches up
            logger.warning("alerts: detection of contact %s not queued (broker unavailable)", contact_id, exc_info=True)

    transaction.on_commit(enqueue)


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
    post_save.connect(on_contact_saved, sender=contact, dispatch_uid="alerts.detect_contact")
