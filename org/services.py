"""Writes of the org app."""

import datetime as dt

from django.utils import timezone

from .models import IdempotencyRecord

IDEMPOTENCY_KEEP = dt.timedelta(days=30)


def idempotency_records_prune(*, now: dt.datetime | None = None) -> int:
    """Forget which request an Idempotency-Key carried once it is older than IDEMPOTENCY_KEEP."""
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=(now or timezone.now()) - IDEMPOTENCY_KEEP).delete()
    return deleted
