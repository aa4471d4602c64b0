"""Celery tasks: thin wrappers that call detection."""

from celery import shared_task

from . import detection


@shared_task(name="alerts.detect_batch")
def detect_batch(batch_id: int) -> dict:
    return detection.detect_batch(batch_id).as_dict()


@shared_task(name="alerts.detect_recent")
def detect_recent() -> dict:
    return detection.detect_recent().as_dict()


@shared_task(name="alerts.detect_contact")
def detect_contact(contact_id: int) -> dict:
    return detection.detect_contact(contact_id).as_dict()
