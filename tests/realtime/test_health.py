import pytest
from django.utils import timezone

from realtime.models import Heartbeat

pytestmark = pytest.mark.django_db


def test_health_names_the_parts_that_are_down(client, city):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["database"]["ok"] and body["checks"]["database"]["postgis"].startswith("3.")
    assert body["checks"]["redis"]["ok"]
    assert "worker" in body["down"] and "beat" in body["down"]


@pytest.mark.django_db(transaction=True)
def test_health_is_200_with_a_real_worker_and_a_recent_beat_tick(client, city):
    # transactional: the worker's Django fix-up closes connections, which a wrapping transaction cannot survive
    from celery.contrib.testing.worker import start_worker

    from command_center.celery import app

    Heartbeat.objects.create(name="beat", at=timezone.now())
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json()["down"] == []


def test_health_reports_redis_down(client, city, settings):
    from tests.redis_server import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    body = client.get("/healthz").json()
    assert "redis" in body["down"]
    assert body["checks"]["redis"]["error"]
