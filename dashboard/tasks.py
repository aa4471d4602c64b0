from celery import shared_task

from . import rollup


@shared_task(name="dashboard.refresh_rollup", ignore_result=True)
def refresh_rollup():
    return rollup.refresh()
