"""Deduplication by rule, subject and time window; incremental detection per ingested batch."""

import datetime as dt
import io

import orjson
import pytest
from django.contrib.gis.geos import Point

from alerts import detection, services
from alerts.models import Alert, RuleKind
from alerts.rules import Finding
from datahub import services as datahub_services
from datahub.models import DataResource

from .conftest import at, rule, track
from tests.conftest import current_version

pytestmark = pytest.mark.django_db


def finding(start, minutes, subject="苏H12345"):
    return Finding(subject=subject, title="停车", window_start=start, window_end=start + dt.timedelta(minutes=minutes),
                   location=Point(120.15, 32.05, srid=4326), evidence={"minutes": minutes})


def test_the_same_episode_twice_is_one_alert(city):
    r = rule(RuleKind.LONG_STOP)
    first, created = services.alert_raise(rule=r, finding=finding(at(10), 35))
    again, created_again = services.alert_raise(rule=r, finding=finding(at(10), 50))  # seen later, longer
    assert created and not created_again and first.pk == again.pk
    again.refresh_from_db()
    assert again.hits == 2 and again.window_end == at(10, 50) and again.evidence["minutes"] == 50
    assert Alert.objects.filter(rule=r).count() == 1 and again.events.count() == 1  # no noise on the timeline
    from realtime.models import OutboxEvent

    told = OutboxEvent.objects.filter(topic__startswith="alert.", data__id=again.pk).order_by("id")
    assert [(e.topic, e.data["action"], e.data["title"]) for e in told] == [
        ("alert.raised", "raised", "停车"), ("alert.updated", "redetected", "停车")]


def test_windows_apart_are_separate_alerts_and_other_subjects_too(city):
    r = rule(RuleKind.LONG_STOP)
    gap = r.settings()["merge_gap_minutes"]
    services.alert_raise(rule=r, finding=finding(at(10), 35))
    _, near = services.alert_raise(rule=r, finding=finding(at(10, 35) + dt.timedelta(minutes=gap - 1), 35))
    _, far = services.alert_raise(rule=r, finding=finding(at(16), 35))
    _, other = services.alert_raise(rule=r, finding=finding(at(10), 35, subject="苏H12346"))
    assert (near, far, other) == (False, True, True)
    assert Alert.objects.filter(rule=r).count() == 3


def test_a_closed_alert_is_not_reopened_by_the_same_episode(city, alice):
    from org.models import Department

    r = rule(RuleKind.LONG_STOP)
    alert, _ = services.alert_raise(rule=r, finding=finding(at(10), 35))
    jc_cg = Department.objects.get(code="329902-CG")
    alert = services.alert_assign(alert=alert, by=alice, department=jc_cg, version=current_version(alert))
    Alert.objects.filter(pk=alert.pk).update(state="closed")
    again, created = services.alert_raise(rule=r, finding=finding(at(10), 40))
    assert not created and again.pk == alert.pk and Alert.objects.get(pk=alert.pk).window_end == at(10, 35)


def test_running_a_day_twice_raises_nothing_new(vehicle):
    from .conftest import add_positions

    add_positions(vehicle.plate, track(at(10), 40 * 60, lon=120.15, lat=32.05, speed=0))
    first = detection.detect_day(at(0).date(), kinds=[RuleKind.LONG_STOP])
    second = detection.detect_day(at(0).date(), kinds=[RuleKind.LONG_STOP])
    assert (first.raised, second.raised, second.merged) == (1, 0, 1)


def _push(lines, key):
    resource = DataResource.objects.get(code="JT-HAZMAT-GPS")
    body = io.BytesIO(b"\n".join(orjson.dumps(x) for x in lines) + b"\n")
    return datahub_services.ingest_batch(resource=resource, department=resource.owner, token=None, idempotency_key=key,
                                         fmt="ndjson", stream=body).batch


def _rows(plate, rows):
    return [{"plate": plate, "time": t.isoformat(), "lon": lon, "lat": lat, "speed": s} for t, lon, lat, s in rows]


def test_each_batch_is_detected_incrementally_and_a_growing_stop_stays_one_alert(vehicle):
    """Two batches of a stop in progress: the first (20 min) raises nothing, the second makes it 35 min and
    raises it; a third that extends the stop folds into the same alert."""
    from django.utils import timezone

    day = timezone.localdate() - dt.timedelta(days=1)  # within the feed's retention
    start = dt.datetime.combine(day, dt.time(10), tzinfo=at(0).tzinfo)
    from datahub.partitions import ensure_position_partitions

    ensure_position_partitions([day])
    b1 = _push(_rows(vehicle.plate, track(start, 20 * 60, lon=120.15, lat=32.05, speed=0)), "b1")
    assert b1.accepted == 121, b1.errors
    assert detection.detect_batch(b1.pk).raised == 0
    b2 = _push(_rows(vehicle.plate, track(start + dt.timedelta(seconds=1210), 15 * 60, lon=120.15, lat=32.05, speed=0)), "b2")
    assert detection.detect_batch(b2.pk).raised == 1
    b3 = _push(_rows(vehicle.plate, track(start + dt.timedelta(seconds=2120), 10 * 60, lon=120.15, lat=32.05, speed=0)), "b3")
    third = detection.detect_batch(b3.pk)
    assert (third.raised, third.merged) == (0, 1)
    alert = Alert.objects.get(rule__kind=RuleKind.LONG_STOP, subject=vehicle.plate)
    assert alert.window_start == start and alert.evidence["minutes"] == 45.3


def test_a_register_batch_runs_only_its_rules(city):
    resource = DataResource.objects.get(code="GA-DWELLING")
    body = io.BytesIO(orjson.dumps({"code": "FW-1", "address": "春晖小区1幢101室", "lon": 120.15, "lat": 32.05, "area_m2": 40,
                                    "registered_residents": 12, "rooms": 2}) + b"\n")
    batch = datahub_services.ingest_batch(resource=resource, department=resource.owner, token=None, idempotency_key="d1",
                                          fmt="ndjson", stream=body).batch
    assert batch.accepted == 1, batch.errors
    result = detection.detect_batch(batch.pk)
    assert result.raised == 1 and list(result.seconds) == ["group-rental"]


def test_datahub_announces_a_batch_and_a_task_detects_it(city, django_capture_on_commit_callbacks):
    """datahub.signals.batch_committed → alerts.detect_batch (a Celery task per batch; eager in tests)."""
    resource = DataResource.objects.get(code="GA-DWELLING")
    body = io.BytesIO(orjson.dumps({"code": "FW-9", "address": "秋实小区9幢101室", "lon": 120.15, "lat": 32.05, "area_m2": 30,
                                    "registered_residents": 9, "rooms": 1}) + b"\n")
    with django_capture_on_commit_callbacks(execute=True):
        datahub_services.ingest_batch(resource=resource, department=resource.owner, token=None, idempotency_key="hook-1",
                                      fmt="ndjson", stream=body)
    alert = Alert.objects.get(rule__kind=RuleKind.GROUP_RENTAL, subject="FW-9")
    assert alert.evidence["m2_per_person"] == 3.33


def test_titles_are_stored_in_the_systems_language(vehicle):
    """A worker or command may run in English; the alert's title is still Chinese for everyone who reads it."""
    from django.utils import translation

    from .conftest import add_positions

    add_positions(vehicle.plate, track(at(10), 40 * 60, lon=120.15, lat=32.05, speed=0))
    with translation.override("en"):
        detection.detect_day(at(0).date(), kinds=[RuleKind.LONG_STOP])
    assert Alert.objects.get(subject=vehicle.plate).title == f"{vehicle.plate} 在登记场所外停车 40 分钟"


def test_the_periodic_pass_finds_a_stop_in_progress(vehicle):
    """Beat's alerts.detect_recent: a vehicle stopped for the last 40 minutes is an alert now, before it moves on."""
    from django.utils import timezone

    from alerts import tasks
    from datahub.partitions import ensure_position_partitions

    from .conftest import add_positions

    now = timezone.now().replace(microsecond=0)
    ensure_position_partitions([timezone.localdate(now - dt.timedelta(minutes=40)), timezone.localdate(now)])
    add_positions(vehicle.plate, track(now - dt.timedelta(minutes=40), 40 * 60 - 10, lon=120.15, lat=32.05, speed=0))
    result = tasks.detect_recent()
    assert result["raised"] >= 1 and Alert.objects.filter(rule__kind=RuleKind.LONG_STOP, subject=vehicle.plate).exists()
