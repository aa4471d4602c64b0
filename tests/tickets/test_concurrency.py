"""Two people or two scanners at the same moment, on real PostgreSQL connections (threads)."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from tickets import deadlines, services
from tickets.models import Assignment, TicketEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_dispatchers_act_at_once_one_gets_409_and_nothing_changes_twice(new_ticket, town_dispatcher, town_dispatcher2, zf, sq):
    t = new_ticket()
    t = services.ticket_open(ticket=t, by=town_dispatcher, version=t.version)
    barrier = threading.Barrier(2)
    results = {}

    def act(user, department):
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        response = client.post(f"/api/tickets/tickets/{t.pk}/dispatch/", {"version": t.version, "lead": department.pk}, format="json")
        results[user.username] = (response.status_code, response.json())
        connection.close()

    threads = [threading.Thread(target=act, args=(town_dispatcher, zf)), threading.Thread(target=act, args=(town_dispatcher2, sq))]
    [th.start() for th in threads]
    [th.join() for th in threads]
    codes = sorted(code for code, _ in results.values())
    assert codes == [200, 409], results
    loser = next(body for code, body in results.values() if code == 409)
    assert loser["version"] == t.version + 1 and "刷新" in loser["detail"]
    assert Assignment.objects.filter(ticket=t).count() == 1
    assert TicketEvent.objects.filter(ticket=t, action="dispatched").count() == 1


def test_two_scanners_at_once_escalate_exactly_once(dispatched):
    tickets = [dispatched() for _ in range(6)]
    a = Assignment.objects.filter(ticket=tickets[0]).get()
    far = a.sign_due_at + dt.timedelta(days=3)
    kind = next(k for k in deadlines.kinds() if k.name == "tickets.assignment")
    claimed = threading.Event()
    second_done = threading.Event()
    outcome = {}

    def first():
        # holds its claimed rows (as a slow scanner would) until the second scanner has run
        with transaction.atomic():
            rows = list(deadlines.claim_batch(kind, far))
            claimed.set()
            second_done.wait(30)
            for row in rows:
                kind.handle(row, far)
            outcome["first"] = len(rows)
        connection.close()

    def second():
        claimed.wait(30)
        outcome["second"] = deadlines.scan_kind(kind, now=far).handled
        second_done.set()
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    [th.start() for th in threads]
    [th.join() for th in threads]
    assert outcome["first"] >= len(tickets) and outcome["second"] == 0
    # a third scan afterwards finds nothing more to do for these tickets
    deadlines.scan_kind(kind, now=far)
    for t in tickets:
        assert TicketEvent.objects.filter(ticket=t, action="escalated").count() == 1
        assert TicketEvent.objects.filter(ticket=t, action="urged").count() == 1
