"""交办 → 核查 → 处置/转工单 → 问效 → 结案, with the timeline, the wall's outbox events, version conflicts,
the assigned department's ownership, and overdue escalation through the tickets deadline scanner."""

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from alerts import services
from alerts.models import Alert, RuleKind, State
from alerts.rules import Finding
from org.models import Department
from realtime.models import OutboxEvent
from tickets import deadlines
from tickets.models import Category, Source, Ticket

from .conftest import api, at, rule
from tests.conftest import current_version

pytestmark = pytest.mark.django_db


def raise_one(subject="苏H12345", start=None, minutes=40, kind=RuleKind.LONG_STOP) -> Alert:
    start = start or at(10)
    alert, created = services.alert_raise(rule=rule(kind), finding=Finding(
        subject=subject, title=f"{subject} 异常停车", window_start=start, window_end=start + dt.timedelta(minutes=minutes),
        location=Point(120.15, 32.05, srid=4326), evidence={"minutes": minutes},
    ))
    assert created
    return alert


def topics(alert):
    return [e.topic for e in OutboxEvent.objects.filter(topic__startswith="alert.", data__id=alert.pk).order_by("id")]


def test_the_whole_loop(alice, jc_cg, jc_staff):
    alert = raise_one()
    assert alert.state == State.RAISED and alert.region.name and alert.region_path.startswith("329900000000/329902000000/")
    alert = services.alert_assign(alert=alert, by=alice, department=jc_cg, hours=4, note="请核查", version=alert.version)
    assert alert.state == State.ASSIGNED and alert.next_scan_at == alert.due_at
    alert = services.alert_verify(alert=alert, by=jc_staff, true_positive=True, version=alert.version)
    alert = services.alert_handle(alert=alert, by=jc_staff, note="已约谈驾驶员", version=alert.version)
    assert alert.next_scan_at is None
    alert = services.alert_evaluate(alert=alert, by=alice, effective=True, version=alert.version)
    alert = services.alert_close(alert=alert, by=alice, version=alert.version)
    assert alert.state == State.CLOSED and alert.closed_at and alert.verdict == "true" and alert.effective is True
    assert [e.action for e in alert.events.order_by("id")] == ["raised", "assigned", "verified", "handled", "evaluated", "closed"]
    assert topics(alert) == ["alert.raised"] + ["alert.updated"] * 4 + ["alert.closed"]
    last = OutboxEvent.objects.filter(topic__startswith="alert.", data__id=alert.pk).order_by("-id").first()
    assert last.data["state"] == "closed" and last.data["level"] == "orange" and last.data["rule"] == alert.rule.name
    assert "region-329902000000" in last.groups and f"dept-{jc_cg.pk}" in last.groups


def test_a_false_positive_ends_at_verification(alice, jc_cg, jc_staff):
    alert = services.alert_assign(alert=raise_one(), by=alice, department=jc_cg, version=1)
    with pytest.raises(ValidationError):
        services.alert_verify(alert=alert, by=jc_staff, true_positive=False, note="", version=current_version(alert))  # the reason is required
    alert = services.alert_verify(alert=alert, by=jc_staff, true_positive=False, note="车辆在合法停车场", version=current_version(alert))
    assert alert.state == State.CLOSED and alert.verdict == "false" and topics(alert)[-1] == "alert.closed"


def test_field_work_turns_into_a_ticket(alice, jc_cg, jc_staff):
    alert = services.alert_assign(alert=raise_one(), by=alice, department=jc_cg, version=1)
    alert = services.alert_verify(alert=alert, by=jc_staff, true_positive=True, version=current_version(alert))
    category = Category.objects.filter(parent__isnull=False, is_active=True).first()
    alert = services.alert_to_ticket(alert=alert, by=jc_staff, category=category, note="需现场处置", version=current_version(alert))
    ticket = Ticket.objects.get(pk=alert.ticket_id)
    assert alert.state == State.TICKETED and ticket.source == Source.ALERT and ticket.title == alert.title
    assert alert.events.last().data == {"ticket": ticket.number}
    services.alert_evaluate(alert=alert, by=alice, effective=True, version=current_version(alert))


def test_only_the_assigned_department_verifies(alice, jc_cg, cg_staff):
    alert = services.alert_assign(alert=raise_one(), by=alice, department=jc_cg, version=1)
    with pytest.raises(PermissionDenied):
        services.alert_verify(alert=alert, by=cg_staff, true_positive=True, version=current_version(alert))  # 市城市管理局, not the assigned one
    assert Alert.objects.get(pk=alert.pk).state == State.ASSIGNED


def test_a_dispatcher_may_not_verify_and_staff_may_not_assign(alice, jc_cg, jc_staff):
    alert = raise_one()
    with pytest.raises(PermissionDenied):
        services.alert_assign(alert=alert, by=jc_staff, department=jc_cg, version=current_version(alert))
    alert = services.alert_assign(alert=alert, by=alice, department=jc_cg, version=current_version(alert))
    with pytest.raises(PermissionDenied):
        services.alert_verify(alert=alert, by=alice, true_positive=True, version=current_version(alert))


def test_assign_only_to_a_department_with_jurisdiction(alice):
    alert = raise_one()  # in 江城区
    with pytest.raises(ValidationError):
        services.alert_assign(alert=alert, by=alice, department=Department.objects.get(code="329903-CG"), version=current_version(alert))  # 海港区


def test_out_of_order_steps_are_refused(alice, jc_cg):
    alert = raise_one()
    with pytest.raises(services.TransitionRefused):
        services.alert_close(alert=alert, by=alice, version=current_version(alert))


def test_concurrent_edits_one_409(alice, jc_cg, jc_staff):
    alert = raise_one()
    v = alert.version
    ok = api(alice).post(f"/api/alerts/alerts/{alert.pk}/assign/", {"department": jc_cg.pk, "version": v}, format="json")
    late = api(alice).post(f"/api/alerts/alerts/{alert.pk}/assign/", {"department": jc_cg.pk, "version": v}, format="json")
    assert ok.status_code == 200 and late.status_code == 409
    assert Alert.objects.get(pk=alert.pk).events.filter(action="assigned").count() == 1


def test_overdue_alerts_escalate_through_the_one_scanner(alice, jc_cg):
    alert = services.alert_assign(alert=raise_one(), by=alice, department=jc_cg, hours=2, version=1)
    assert "alerts.alert" in [k.name for k in deadlines.kinds()]
    later = alert.due_at + dt.timedelta(minutes=1)
    result = deadlines.scan(now=later, names=["alerts.alert"])
    alert.refresh_from_db()
    assert result.handled == 1 and alert.escalation_count == 1 and alert.level == "red"  # orange → red
    assert alert.next_scan_at == later + services.ESCALATION_INTERVAL and topics(alert)[-1] == "alert.updated"
    assert deadlines.scan(now=later + dt.timedelta(minutes=5), names=["alerts.alert"]).handled == 0  # not again before the interval


def test_handled_alerts_leave_the_scanner(alice, jc_cg, jc_staff):
    alert = services.alert_assign(alert=raise_one(), by=alice, department=jc_cg, hours=1, version=1)
    alert = services.alert_verify(alert=alert, by=jc_staff, true_positive=True, version=current_version(alert))
    services.alert_handle(alert=alert, by=jc_staff, note="已处置", version=current_version(alert))
    assert deadlines.scan(now=timezone.now() + dt.timedelta(days=2), names=["alerts.alert"]).handled == 0


def test_the_timeline_is_append_only(city):
    from django.db import DatabaseError, transaction

    alert = raise_one()
    event = alert.events.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        type(event).objects.filter(pk=event.pk).update(note="改写")
    with pytest.raises(DatabaseError), transaction.atomic():
        event.delete()
    assert alert.events.get().note == ""
