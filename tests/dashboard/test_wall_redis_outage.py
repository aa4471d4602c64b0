"""Redis goes away while tickets change; when it returns every event arrives, in order, and no ticket is lost."""

import pytest
from asgiref.sync import async_to_sync

from dashboard.wall import figures, wall_snapshot
from realtime.models import OutboxEvent
from realtime.services import relay_pending

from .test_wall_protocol import _capture, assert_same_wall, replay

pytestmark = pytest.mark.django_db(transaction=True)


def test_tickets_changed_while_redis_is_down_all_reach_the_wall(private_redis, loop, jc_leader):
    before = wall_snapshot(jc_leader)
    private_redis.stop()
    made = [loop.create(n=n, title=f"停机期间上报{n}") for n in range(3)]
    dispatched = loop.dispatch(made[0])
    loop.escalate(dispatched)
    closed = loop.close(loop.dispatch(made[1]))
    unsent = OutboxEvent.objects.filter(sent_at__isnull=True)
    assert unsent.count() >= 10  # every change waited in PostgreSQL; nothing was lost with Redis
    private_redis.start()

    events = async_to_sync(_capture)(jc_leader, relay_pending)  # the beat sweep's job, run once

    assert not OutboxEvent.objects.filter(sent_at__isnull=True).exists()
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(before["seq"] + 1, before["seq"] + 1 + len(events)))  # in order, no gap
    assert {t.pk for t in made} <= {e["data"]["id"] for e in events}
    fresh = wall_snapshot(jc_leader)
    assert_same_wall(replay(before, events), fresh)
    assert figures(fresh["state"])["received_today"] == figures(before["state"])["received_today"] + 3
    assert str(closed.pk) not in fresh["state"]["tickets"] and str(dispatched.pk) in fresh["state"]["tickets"]
