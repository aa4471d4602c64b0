"""Incremental detection: datahub announces each committed batch (datahub.signals.batch_committed) and a
Celery task per batch runs the rules that batch's feed can affect. datahub never imports alerts."""

import logging

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


def connect() -> bool:
    try:
        from datahub.signals import batch_committed
    except ImportError:
        logger.info("alerts: datahub has no batch_committed signal; only the periodic detection runs")
        return False
    batch_committed.connect(on_batch_committed, dispatch_uid="alerts.detect_batch")
    return True
