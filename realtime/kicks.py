"""Coalesced Celery kicks: ask a worker to run a task now, with at most one such request queued at a time.

While a kick is queued and its task has not started, further kicks send no message (a Redis SET NX on the
kick's mark instead of a Celery message each). The task calls `started(mark)` before it reads, so it sees
everything committed before any kick it absorbed; whatever commits after that clear kicks again. Redis or
the broker being away never fails the caller: the mark expires after `seconds`, and the periodic pass of
the same work catches up. Used by the outbox relay and by the alerts' contact detection."""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)


def kick(task, *, mark: str, seconds: int, args=(), what: str) -> None:
    try:
        if cache.add(mark, 1, timeout=seconds):
            task.apply_async(args=list(args), retry=False)
    except Exception:  # never fail the request that made the change
        logger.warning("%s not kicked (broker unavailable); the periodic pass catches up", what, exc_info=True)


def started(mark: str, *, what: str) -> None:
    try:
        cache.delete(mark)
    except Exception:
        logger.warning("could not clear the pending %s kick; it expires by itself", what, exc_info=True)
