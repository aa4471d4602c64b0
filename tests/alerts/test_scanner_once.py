"""Alerts go through the one deadline mechanism and get its guarantees (issue 15): four scanners released together
over overdue alerts, in small batches, escalate each alert exactly once per interval, with no failure."""

import dataclasses
import datetime as dt
import threading

import pytest
from django.db import connection

from alerts import services
from alerts.models import Alert
from tickets import deadlines

from .test_lifecycle import raise_one

pytestmark = pytest.mark.django_db(transaction=True)


def test_four_scanners_at_once_escalate_each_overdue_alert_once(alice, jc_cg):
    alerts = [services.alert_assign(alert=raise_one(subject=f"苏H1{n:04d}"), by=alice, department=jc_cg, hours=2, version=1)
              for n in range(16)]
    real = next(k for k in deadlines.kinds() if k.name == "alerts.alert")
    ids = [a.pk for a in alerts]
    kinds = [dataclasses.replace(real, name=f"test.alerts{i}", batch=3, queryset=lambda: real.queryset().filter(pk__in=ids))
             for i in range(4)]
    later = max(a.due_at for a in alerts) + dt.timedelta(minutes=1)
    barrier = threading.Barrier(len(kinds))
    outcomes = []

    def scan(kind):
        try:
            barrier.wait(10)
            outcomes.append(deadlines.scan_kind(kind, now=later))
        except BaseException as exc:  # noqa: BLE001
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan, args=(kind,)) for kind in kinds]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert all(isinstance(o, deadlines.ScanResult) for o in outcomes), outcomes
    assert [f for o in outcomes for f in o.failed] == [] and sum(o.handled for o in outcomes) == len(alerts)
    for alert in Alert.objects.filter(pk__in=ids):
        assert alert.escalation_count == 1 and alert.events.filter(action="escalated").count() == 1
        assert alert.next_scan_at == later + services.ESCALATION_INTERVAL
