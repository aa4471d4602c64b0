"""Exactly once under concurrency (issue 15): scanners racing each other, a batch with a locked or failing row,
a person's step during a scan, escalate against urge. Real PostgreSQL connections in threads.

Every ticket here has two late shares (a lead and an assisting department), due far beyond the escalation
grace: each share must be urged once and each ticket escalated once (town → district), whatever happens."""

import dataclasses
import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from tickets import deadlines, services
from tickets.models import Assignment, Ticket, TicketEvent
from tests.conftest import current_version

pytestmark = pytest.mark.django_db(transaction=True)


def real_kind():
    return next(k for k in deadlines.kinds() if k.name == "tickets.assignment")


def kind_over(tickets, **changes):
    """The real assignment kind, limited to these tickets (the demo city has late shares of its own)."""
    real = real_kind()
    ids = [t.pk for t in tickets]
    return dataclasses.replace(real, queryset=lambda: real.queryset().filter(ticket_id__in=ids), **changes)


def make_two_share_tickets(dispatched, sq, n):
    tickets = [dispatched(assisting=[sq]) for _ in range(n)]
    far = max(Assignment.objects.filter(ticket__in=tickets).values_list("sign_due_at", flat=True)) + dt.timedelta(days=3)
    return tickets, far


def counts(tickets):
    """{ticket id: (escalated events, urged events)}."""
    return {
        t.pk: (
            TicketEvent.objects.filter(ticket=t, action="escalated").count(),
            TicketEvent.objects.filter(ticket=t, action="urged").count(),
        )
        for t in tickets
    }


def assert_exactly_once(tickets, wangjiang):
    assert counts(tickets) == {t.pk: (1, 2) for t in tickets}
    for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets]):
        assert (t.escalation_count, t.center_id, t.urge_count) == (1, wangjiang.parent_id, 2)


def in_thread(target, *args):
    """Run target on a thread of its own (its own database connection); returns (thread, outcome dict)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = target(*args)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def wait_until_waiting_for_a_lock(pid: int, timeout: float) -> bool:
    """Poll pg_locks (live, not snapshotted) until backend `pid` waits for a lock; False after `timeout`."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted)", [pid])
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.02)
    return False


# --------------------------------------------------------------------------------------- cause 1: stale fallback


def test_a_locked_ticket_makes_no_other_ticket_escalate_twice(dispatched, sq, wangjiang):
    """The issue's reproduction: one ticket row held by someone else (the scanner with a lock_timeout), 120
    shares of 60 tickets due. Before: the batch failed, the one-by-one fallback kept a stale 'not escalated'
    for each ticket's second share, and 59 of the 59 other tickets were escalated twice."""
    tickets, far = make_two_share_tickets(dispatched, sq, 60)
    held = tickets[7]
    locked, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            list(Ticket.objects.select_for_update().filter(pk=held.pk))
            locked.set()
            release.wait(60)

    holder, _ = in_thread(hold)
    assert locked.wait(10)
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '1s'")
    try:
        first = deadlines.scan_kind(real_kind(), now=far)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
        release.set()
        holder.join(30)
    others = [t for t in tickets if t.pk != held.pk]
    assert counts(others) == {t.pk: (1, 2) for t in others}
    assert counts([held]) == {held.pk: (0, 0)}  # skipped (or pushed back), not half-done
    assert not first.failed or {i for _, i, _ in first.failed} <= set(held.assignments.values_list("pk", flat=True))
    # the held ticket is done by a later scan, once
    deadlines.scan_kind(real_kind(), now=far + dt.timedelta(minutes=10))
    assert_exactly_once(tickets, wangjiang)


def test_the_one_by_one_fallback_reads_each_row_and_its_ticket_afresh(dispatched, sq, wangjiang, monkeypatch):
    """A batch that fails is redone row by row; the second share of a ticket must see that the first one
    escalated it."""
    tickets, far = make_two_share_tickets(dispatched, sq, 12)

    def broken_batch(rows, now):
        raise RuntimeError("the set-based handler failed")

    kind = kind_over(tickets, name="test.fallback", handle_batch=broken_batch)
    monkeypatch.setitem(deadlines._KINDS, kind.name, kind)
    result = deadlines.scan_kind(kind, now=far)
    assert result.failed == [] and result.handled == 24
    assert_exactly_once(tickets, wangjiang)
    assert deadlines.scan_kind(kind, now=far + dt.timedelta(days=1)).handled == 0


def test_a_row_that_fails_in_the_fallback_is_pushed_back_and_the_others_stay_exact(dispatched, sq, wangjiang, monkeypatch):
    tickets, far = make_two_share_tickets(dispatched, sq, 6)
    bad = tickets[2]
    real = real_kind()

    def batch(rows, now):
        if any(r.ticket_id == bad.pk for r in rows):
            raise RuntimeError("one bad row in the batch")
        real.handle_batch(rows, now)

    def one(row, now):
        if row.ticket_id == bad.pk:
            raise RuntimeError("the bad row")
        real.handle(row, now)

    kind = kind_over(tickets, name="test.badrow", handle=one, handle_batch=batch)
    result = deadlines.scan_kind(kind, now=far)
    assert sorted(i for _, i, _ in result.failed) == sorted(bad.assignments.values_list("pk", flat=True))
    good = [t for t in tickets if t.pk != bad.pk]
    assert counts(good) == {t.pk: (1, 2) for t in good} and counts([bad]) == {bad.pk: (0, 0)}
    assert set(bad.assignments.values_list("next_scan_at", flat=True)) == {far + kind.retry_after}


# ------------------------------------------------------------------------ cause 2: lock order, concurrent scanners


def test_four_scanners_at_once_urge_each_share_once_and_escalate_each_ticket_once(dispatched, sq, wangjiang):
    """Four scanners released together over 40 tickets × 2 shares, in small batches so that a ticket's two shares
    can fall to different scanners. (Each scanner is a kind of its own name, so none waits for another's turn.)"""
    tickets, far = make_two_share_tickets(dispatched, sq, 40)
    kinds = [kind_over(tickets, name=f"test.scanner{i}", batch=3) for i in range(4)]
    barrier = threading.Barrier(len(kinds))

    def scan(kind):
        barrier.wait(10)
        return deadlines.scan_kind(kind, now=far)

    runs = [in_thread(scan, kind) for kind in kinds]
    for thread, _ in runs:
        thread.join(120)
    errors = [outcome["error"] for _, outcome in runs if "error" in outcome]
    assert errors == []
    failed = [f for _, outcome in runs for f in outcome["value"].failed]
    assert failed == []  # no deadlock, no lock timeout, nothing pushed back
    assert sum(outcome["value"].handled for _, outcome in runs) == 80
    assert_exactly_once(tickets, wangjiang)


def test_a_sign_during_a_scan_neither_deadlocks_nor_fails(dispatched, sq, zf_staff, wangjiang, monkeypatch):
    """A department signs while the scanner works on the same ticket. Before: the scanner held the shares and
    waited for the ticket, sign held the ticket and waited for its share: a deadlock, and a 500 for the person."""
    tickets, far = make_two_share_tickets(dispatched, sq, 8)
    target = tickets[0]
    share = target.assignments.get(department__code__endswith="-ZF")
    from tickets.services import department

    real_lock_assignment = department._lock_assignment
    scanner = {}
    ticket_locked = threading.Event()
    scanner_ready = threading.Event()

    def lock_assignment_when_the_scanner_waits(assignment, by):
        ticket_locked.set()
        # give the scanner every chance to reach this ticket's rows before sign asks for its share
        scanner["was_blocked"] = wait_until_waiting_for_a_lock(scanner["pid"], timeout=3)
        return real_lock_assignment(assignment, by)

    monkeypatch.setattr(department, "_lock_assignment", lock_assignment_when_the_scanner_waits)

    def sign():
        assert scanner_ready.wait(10)
        return services.ticket_sign(assignment=share, by=zf_staff, version=current_version(share))

    def scan():
        scanner["pid"] = backend_pid()
        scanner_ready.set()
        assert ticket_locked.wait(10)
        return deadlines.scan_kind(real_kind(), now=far)

    (signer, signed), (scanning, scanned) = in_thread(sign), in_thread(scan)
    signer.join(60)
    scanning.join(60)
    assert "error" not in signed, signed.get("error")
    assert "error" not in scanned, scanned.get("error")
    assert scanned["value"].failed == []
    assert Assignment.objects.get(pk=share.pk).state == Assignment.State.SIGNED
    others = tickets[1:]
    assert counts(others) == {t.pk: (1, 2) for t in others}
    deadlines.scan_kind(real_kind(), now=far)  # the signed ticket's other share, whose ticket was busy
    escalated, urged = counts([target])[target.pk]
    assert escalated == 1 and urged >= 1


# ------------------------------------------------------------------------------------- cause 3: overlapping scans


def test_a_scan_that_overlaps_a_running_scan_of_its_kind_returns_at_once_and_does_nothing(dispatched, sq, wangjiang, monkeypatch):
    tickets, far = make_two_share_tickets(dispatched, sq, 6)
    real = real_kind()
    in_batch, go_on = threading.Event(), threading.Event()

    def slow_batch(rows, now):
        real.handle_batch(rows, now)
        in_batch.set()
        go_on.wait(30)  # a slow scan: still inside its first batch

    kind = kind_over(tickets, name="test.slow", handle_batch=slow_batch, batch=4)
    monkeypatch.setitem(deadlines._KINDS, kind.name, kind)
    slow, slow_outcome = in_thread(deadlines.scan_kind, kind, far)
    assert in_batch.wait(30)
    started = time.monotonic()
    try:
        second = deadlines.scan_kind(kind, now=far)
        took = time.monotonic() - started
    finally:
        go_on.set()
        slow.join(60)
    assert "error" not in slow_outcome, slow_outcome.get("error")
    # it took none of the slow scan's rows, and did not wait for them: waiting would last until go_on (30 s)
    # or the scan's lock timeout (deadlines.SCAN_LOCK_TIMEOUT, 5 s)
    assert second.handled == 0 and took < 4.0
    assert slow_outcome["value"].handled == 12
    assert_exactly_once(tickets, wangjiang)


def test_a_scan_stops_at_its_time_budget_and_the_next_one_carries_on(dispatched, sq, wangjiang, monkeypatch):
    """A slow scan gives way before the next beat (settings.TICKETS_SCAN_BUDGET_SECONDS) instead of running into it."""
    tickets, far = make_two_share_tickets(dispatched, sq, 6)
    real = real_kind()

    def slow_batch(rows, now):
        real.handle_batch(rows, now)
        time.sleep(0.3)

    kind = kind_over(tickets, name="test.budget", handle_batch=slow_batch, batch=2)
    monkeypatch.setitem(deadlines._KINDS, kind.name, kind)
    first = deadlines.scan_kind(kind, now=far, max_seconds=0.5)
    assert 0 < first.handled < 12
    while deadlines.scan_kind(kind, now=far, max_seconds=0.5).handled:
        pass
    assert_exactly_once(tickets, wangjiang)


# ------------------------------------------------------------------------------ cause 4: escalate against urge


def _escalation_held_open(monkeypatch, waiter):
    """Patch the escalation so that it waits, its change made but not committed, until `waiter` (a dict that
    gets the waiting backend's pid) is blocked on the ticket's lock."""
    from tickets.services import center

    real_record = center._record
    uncommitted = threading.Event()

    def record(t, **kwargs):
        event = real_record(t, **kwargs)
        if kwargs.get("action") == "escalated":
            uncommitted.set()
            waiter["blocked"] = wait_until_waiting_for_a_lock(waiter["pid"](), timeout=20)
        return event

    monkeypatch.setattr(center, "_record", record)
    return uncommitted


def test_an_urge_that_waited_for_an_escalation_is_a_409_with_the_current_state_not_a_500(dispatched, town_dispatcher, monkeypatch):
    """Before: _lock selected the ticket FOR UPDATE joined to its center; the escalation changed the center, the
    re-check dropped the row and the urge raised Ticket.DoesNotExist (a 500). Now the urge, made on the version
    its dispatcher saw, waits for the lock and is refused as stale, with the ticket as the escalation left it."""
    t = dispatched()
    seen = current_version(t)
    waiter = {}
    pids = {}
    waiter["pid"] = lambda: pids["urge"]
    uncommitted = _escalation_held_open(monkeypatch, waiter)

    def urge():
        pids["urge"] = backend_pid()
        assert uncommitted.wait(10)
        return services.ticket_urge(ticket=t, by=town_dispatcher, version=seen)

    escalating, escalated = in_thread(lambda: services.ticket_escalate(ticket=t, by=town_dispatcher, version=seen))
    urging, urged = in_thread(urge)
    escalating.join(30)
    urging.join(30)
    assert waiter["blocked"]  # the urge really waited for the escalation's lock
    assert "error" not in escalated, escalated.get("error")
    assert isinstance(urged.get("error"), services.StaleVersion), urged
    t.refresh_from_db()
    assert (t.escalation_count, t.urge_count) == (1, 0)
    assert urged["error"].current == {"version": t.version, "state": t.state}


def test_two_escalations_of_one_version_are_a_200_and_a_409_with_the_current_state(
    dispatched, town_dispatcher, town_dispatcher2, monkeypatch
):
    t = dispatched()
    waiter = {}
    pids = {}
    waiter["pid"] = lambda: pids["second"]
    uncommitted = _escalation_held_open(monkeypatch, waiter)
    version = t.version

    def first():
        return services.ticket_escalate(ticket=t, by=town_dispatcher, version=version)

    def second():
        pids["second"] = backend_pid()
        assert uncommitted.wait(10)
        client = APIClient()
        client.force_authenticate(town_dispatcher2)
        response = client.post(f"/api/tickets/tickets/{t.pk}/escalate/", {"version": version}, format="json")
        return response.status_code, response.json()

    one, one_outcome = in_thread(first)
    two, two_outcome = in_thread(second)
    one.join(30)
    two.join(30)
    assert waiter["blocked"]
    assert "error" not in one_outcome, one_outcome.get("error")
    assert "error" not in two_outcome, two_outcome.get("error")
    code, body = two_outcome["value"]
    t.refresh_from_db()
    assert code == 409 and body["version"] == t.version and body["state"] == t.state
    assert t.escalation_count == 1


def test_a_deadlock_that_still_happens_in_a_scan_runs_its_batch_again(dispatched, sq, wangjiang, monkeypatch):
    """A row's handler hit by a deadlock rolls the whole batch back; the batch runs again and nothing is lost
    or doubled (deadlines.BATCH_ATTEMPTS)."""
    import psycopg
    from django.db import OperationalError

    tickets, far = make_two_share_tickets(dispatched, sq, 3)
    real = real_kind()
    attempts = []

    def handle(row, now):
        attempts.append(row.pk)
        if len(attempts) == 1:
            raise OperationalError("deadlock detected") from psycopg.errors.DeadlockDetected("deadlock detected")
        real.handle(row, now)

    kind = kind_over(tickets, name="test.deadlock", handle_batch=None, handle=handle)
    monkeypatch.setitem(deadlines._KINDS, kind.name, kind)
    result = deadlines.scan_kind(kind, now=far)
    assert result.failed == [] and result.handled == 6
    assert len(attempts) == 7  # the first row twice: once rolled back, once for good
    assert_exactly_once(tickets, wangjiang)


def test_a_deadlock_that_still_happens_in_a_persons_step_is_retried(dispatched, town_dispatcher, monkeypatch):
    """Deadlocks and serialization failures are retried a few times (a fresh transaction each time), never a 500."""
    from django.db import OperationalError

    t = dispatched()
    from tickets.services import center

    real_record = center._record
    attempts = []

    def record(ticket, **kwargs):
        attempts.append(1)
        if len(attempts) == 1:
            import psycopg

            raise OperationalError("deadlock detected") from psycopg.errors.DeadlockDetected("deadlock detected")
        return real_record(ticket, **kwargs)

    monkeypatch.setattr(center, "_record", record)
    t = services.ticket_urge(ticket=t, by=town_dispatcher, version=current_version(t))
    assert len(attempts) == 2 and t.urge_count == 1
    assert TicketEvent.objects.filter(ticket=t, action="urged").count() == 1
