from celery import shared_task
from django.conf import settings

from . import partitions


@shared_task(name="datahub.maintain_partitions")
def maintain_partitions():
    return partitions.maintain(retention_days=settings.DATAHUB_POSITION_RETENTION_DAYS)
