from celery import shared_task

from . import services


@shared_task(name="grid.prune_mobile_submissions", ignore_result=True)
def prune_mobile_submissions() -> int:
    """Daily (beat): forget answers to idempotency keys older than 30 days."""
    return services.mobile_submissions_prune()
