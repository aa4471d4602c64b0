from celery import shared_task

from . import deadlines


@shared_task(name="tickets.scan_deadlines", ignore_result=True)
def scan_deadlines() -> dict:
    """Every 30 s (beat): claim due rows of every registered kind."""
    return deadlines.scan().as_dict()
