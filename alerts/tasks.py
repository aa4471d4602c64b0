"""Celery tasks: thin wrappers that call detection."""

import datetime as dt

from celery import shared_task

from . import detection


@shared_task(name="alerts.detect_batch")
def detect_batch(batch_id: int) -> dict:
    return detection.detect_batch(batch_id).as_dict()


@shared_task(name="alerts.detect_recent")
def detect_recent() -> dict:
    return detection.detect_recent().as_dict()


@shared_task(name="alerts.detect_contacts")
def detect_contacts(since: str) -> dict:
    return detection.detect_contacts(dt.datetime.fromisoformat(since)).as_dict()
