from celery import shared_task

from . import services


@shared_task(name="realtime.relay_outbox", ignore_result=True)
def relay_outbox():
    return services.relay_kicked()


@shared_task(name="realtime.heartbeat", ignore_result=True)
def heartbeat():
    # Only beat schedules this task, so its arrival proves beat ticks and a worker runs.
    services.heartbeat_record("beat")
