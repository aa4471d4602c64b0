from celery import shared_task

from org import database

from . import deadlines
from .classify.training import classifier_train


@shared_task(name="tickets.scan_deadlines", ignore_result=True)
def scan_deadlines() -> dict:
    """Every 30 s (beat): claim due rows of every registered kind (tickets/deadlines.py). A connection the pool
    kept across a database restart is swapped for a working one first (org.database)."""
    database.connect_checked()
    return deadlines.scan().as_dict()


@shared_task(name="tickets.train_classifier", ignore_result=True)
def train_classifier() -> dict:
    """Nightly (beat): a new classifier version from the closed tickets; active only if at least as good."""
    model = classifier_train()
    return {"version": model.version, "top1": model.top1, "top3": model.top3, "active": model.is_active} if model else {}
