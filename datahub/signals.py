"""Signals other apps listen to (datahub imports none of them)."""

from django.dispatch import Signal

# Sent after a batch's transaction commits, with batch_id, batch, resource_code and feed.
# Receivers run in the request that pushed the batch: they should only enqueue work.
batch_committed = Signal()
