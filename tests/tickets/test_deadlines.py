"""The deadline scanner: lights at 80 % and 100 %, an automatic urge, escalation after the grace; exactly once."""

import datetime as dt

import pytest
from django.db import transaction

from tickets import deadlines, services
from tickets.deadlines import DeadlineKind
from tickets.models import Assignment, Light, TicketEvent
from tests.conftest import current_version

pytestmark = pytest.mark.django_db


def kind():
    return next(k for k in deadlines.kinds() if k.name == "tickets.assignment")


def scan(now):
    return deadlines.scan_kind(kind(), now=now)


def count(ticket, action):
    return TicketEvent.objects.filter(ticket=ticket, action=action).count()


def test_yellow_red_urge_then_escalation_each_once(dispatched, wangjiang):
    t = dispatched()
    a = t.assignments.get()
    scan(a.warn_at - dt.timedelta(seconds=1))
    a.refresh_from_db()
    assert a.light == Light.GREEN

    scan(a.warn_at + dt.timedelta(seconds=1))
    a.refresh_from_db()
    t.refresh_from_db()
    assert (a.light, t.light, a.next_scan_at) == (Light.YELLOW, Light.YELLOW, a.sign_due_at)

    overdue = a.sign_due_at + dt.timedelta(seconds=1)
    scan(overdue)
    scan(overdue)
    a.refresh_from_db()
    t.refresh_from_db()
    assert (a.light, t.light, t.urge_count, count(t, "urged")) == (Light.RED, Light.RED, 1, 1)
    assert a.next_scan_at > a.sign_due_at and t.center == wangjiang

    later = a.next_scan_at + dt.timedelta(seconds=1)
    scan(later)
    scan(later + dt.timedelta(hours=10))
    a.refresh_from_db()
    t.refresh_from_db()
    assert t.center_id == wangjiang.parent_id and t.escalation_count == 1 and count(t, "escalated") == 1
    assert a.next_scan_at is None
    # the walls hear it: one outbox row per community and scan batch, each event carrying the marker
    from realtime.models import OutboxEvent

    sent = [e for row in OutboxEvent.objects.filter(topic="ticket.batch") for e in row.data["events"] if e["id"] == t.pk]
    assert [e["action"] for e in sent] == ["light", "urged", "escalated"]
    assert sent[-1]["center"] == wangjiang.parent.code and sent[-1]["light"] == "red" and sent[-1]["version"] == t.version


def test_signing_starts_the_handling_light_afresh(dispatched, zf_staff):
    t = dispatched()
    a = t.assignments.get()
    scan(a.sign_due_at + dt.timedelta(minutes=1))
    a.refresh_from_db()
    assert a.light == Light.RED
    a = services.ticket_sign(assignment=a, by=zf_staff, version=current_version(a))
    assert a.next_scan_at is not None and a.urged_at is None


def test_nothing_due_does_nothing(dispatched):
    t = dispatched()
    a = t.assignments.get()
    result = scan(a.warn_at - dt.timedelta(minutes=5))
    a.refresh_from_db()
    assert a.light == Light.GREEN and count(t, "urged") == 0
    assert t.pk not in [f[1] for f in result.failed]


def test_a_scanner_killed_mid_batch_leaves_no_trace_and_the_restart_escalates_once(dispatched):
    t = dispatched()
    a = t.assignments.get()
    far = a.sign_due_at + dt.timedelta(days=3)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            rows = [r for r in deadlines.claim_batch(kind(), far) if r.pk == a.pk]
            kind().handle(rows[0], far)
            raise RuntimeError("worker killed")
    assert count(t, "escalated") == 0 and count(t, "urged") == 0
    scan(far)
    scan(far)
    assert count(t, "escalated") == 1 and count(t, "urged") == 1


def test_a_row_that_raises_is_pushed_back_and_reported_while_the_others_go_on(dispatched, monkeypatch):
    good, bad = dispatched(), dispatched()
    bad_a = bad.assignments.get()
    real = kind()

    def flaky(row, now):
        if row.ticket_id == bad.pk:
            raise ValueError("broken row")
        real.handle(row, now)

    def flaky_batch(rows, now):
        if any(row.ticket_id == bad.pk for row in rows):
            raise ValueError("broken row in the batch")
        real.handle_batch(rows, now)

    test_kind = DeadlineKind(name="test.flaky", queryset=lambda: real.queryset().filter(ticket__in=[good, bad]),
                             due_field="next_scan_at", handle=flaky, handle_batch=flaky_batch)
    monkeypatch.setitem(deadlines._KINDS, "test.flaky", test_kind)
    far = bad_a.sign_due_at + dt.timedelta(days=3)
    result = deadlines.scan(now=far, names=["test.flaky"])
    assert result.handled == 1
    assert [(k, i) for k, i, _ in result.failed] == [("test.flaky", bad_a.pk)]
    bad_a.refresh_from_db()
    assert bad_a.next_scan_at == far + test_kind.retry_after
    assert count(good, "escalated") == 1 and count(bad, "escalated") == 0


def test_suspended_rows_are_not_scanned(dispatched, town_dispatcher, duty_chief):
    t = dispatched()
    r = services.ticket_request(ticket=t, by=town_dispatcher, kind="suspend", reason="等待", version=current_version(t))
    services.ticket_decide(request=r, by=duty_chief, approve=True, version=current_version(r))
    a = Assignment.objects.get(ticket=t)
    scan(a.sign_due_at + dt.timedelta(days=5))
    assert count(t, "urged") == 0 and count(t, "escalated") == 0


def test_beat_task_scans_every_registered_kind(dispatched, settings):
    from django.utils import timezone

    from tickets.tasks import scan_deadlines

    assert settings.CELERY_BEAT_SCHEDULE["tickets-scan-deadlines"]["schedule"] == 30.0
    t = dispatched()
    past = timezone.now() - dt.timedelta(minutes=1)
    Assignment.objects.filter(ticket=t).update(warn_at=past, sign_due_at=past, next_scan_at=past)
    result = scan_deadlines()
    assert result["handled"] >= 1 and result["failed"] == []
    assert count(t, "urged") == 1


def test_a_ticket_with_two_late_shares_escalates_once(dispatched, sq, wangjiang):
    t = dispatched(assisting=[sq])
    shares = list(t.assignments.all())
    assert len(shares) == 2
    far = max(a.sign_due_at for a in shares) + dt.timedelta(days=3)
    scan(far)
    scan(far + dt.timedelta(days=1))
    t.refresh_from_db()
    assert t.escalation_count == 1 and t.center_id == wangjiang.parent_id and count(t, "escalated") == 1
    assert count(t, "urged") == 2  # each late department is urged
