from celery import shared_task

from . import services


@shared_task(name="org.prune_idempotency_records", ignore_result=True)
def prune_idempotency_records() -> int:
    """Daily (beat): forget idempotency keys older than 30 days."""
    return services.idempotency_records_prune()
