"""Two workers detecting the same episode at once raise one alert (advisory lock per rule and subject)."""

import datetime as dt
import threading

import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from alerts import services
from alerts.models import Alert, RuleKind
from alerts.rules import Finding

from .conftest import at, rule

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_detections_of_one_episode_raise_one_alert(city):
    r = rule(RuleKind.LONG_STOP)
    barrier = threading.Barrier(4)
    results, errors = [], []

    def worker(minutes):
        try:
            barrier.wait()
            finding = Finding(subject="苏H55555", title="停车", window_start=at(10), window_end=at(10) + dt.timedelta(minutes=minutes),
                              location=Point(120.15, 32.05, srid=4326), evidence={"minutes": minutes})
            results.append(services.alert_raise(rule=r, finding=finding)[1])
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(31 + i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(results) == [False, False, False, True]
    alert = Alert.objects.get(rule=r, subject="苏H55555")
    assert alert.hits == 4 and alert.window_end == at(10) + dt.timedelta(minutes=34)
