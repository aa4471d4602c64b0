"""Snapshot + the events a wall captured == a fresh snapshot (Zulip's verify_action), through the real consumer and Redis."""

import copy

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from dashboard.wall import apply_event, figures, wall_snapshot
from dashboard.consumers import WallConsumer
from realtime.models import OutboxEvent
from realtime.services import relay_pending
from tests.conftest import relay_lock_held

transactional = pytest.mark.django_db(transaction=True)


async def _capture(user, scenario):
    """Open the wall socket as `user`, run `scenario` (sync), return every event that arrived."""
    comm = WebsocketCommunicator(WallConsumer.as_asgi(), "/ws/wall/")
    comm.scope["user"] = user
    connected, _ = await comm.connect()
    assert connected
    assert (await comm.receive_json_from())["type"] == "hello"
    await database_sync_to_async(scenario)()
    events = []
    while not await comm.receive_nothing(timeout=0.5):
        events.append(await comm.receive_json_from())
    await comm.disconnect()
    return events


def replay(snapshot: dict, events: list[dict]) -> dict:
    """What wall.js does: skip what the snapshot already holds, apply the rest in sequence order."""
    state = copy.deepcopy(snapshot["state"])
    seq, pending = snapshot["seq"], set(snapshot["pending"])
    for event in events:
        if event["seq"] <= seq:
            continue
        assert event["seq"] == seq + 1, "a gap: the wall would reload its snapshot"
        seq = event["seq"]
        if event["id"] in pending:
            continue
        apply_event(state, event)
    return state


def assert_same_wall(replayed: dict, fresh: dict):
    assert figures(replayed) == figures(fresh["state"])
    assert replayed["tickets"] == fresh["state"]["tickets"]
    assert replayed["closed_today"] == fresh["state"]["closed_today"]
    assert replayed["feed"] == fresh["state"]["feed"]


@transactional
def test_snapshot_plus_events_equals_a_fresh_snapshot(private_redis, loop, hg_loop, jc_leader):
    already_open = loop.dispatch(loop.create(n=9, title="早已派遣"))
    before = wall_snapshot(jc_leader)
    made = {}

    def changes():
        made["new"] = loop.create(n=1, title="新上报的占道经营")
        made["hotline"] = loop.create(n=2, code="2201", source="hotline", title="夜间噪音扰民")
        made["dispatched"] = loop.dispatch(loop.create(n=3, title="派遣后升级"))
        loop.escalate(made["dispatched"])
        made["closed"] = loop.close(loop.dispatch(loop.create(n=4, title="当天办结")))
        loop.rate(made["closed"], "basically")
        loop.sign(already_open)
        hg_loop.create(n=0, title="海港区的事件")  # another district: this wall must not hear it

    events = async_to_sync(_capture)(jc_leader, changes)
    fresh = wall_snapshot(jc_leader)

    assert_same_wall(replay(before, events), fresh)
    figs, old = figures(fresh["state"]), figures(before["state"])
    assert figs["received_today"] == old["received_today"] + 4
    assert figs["closed_today"] == old["closed_today"] + 1
    assert str(made["closed"].pk) not in fresh["state"]["tickets"]  # closed: off the map
    assert str(made["dispatched"].pk) in fresh["state"]["tickets"]
    assert [(i["kind"], i["title"]) for i in fresh["state"]["feed"][:2]] == [
        ("ticket.created", "当天办结"), ("ticket.escalated", "派遣后升级")]
    assert not any(e["data"].get("title") == "海港区的事件" for e in events)
    assert all(e["group"] == "region-329902000000" for e in events)


@transactional
def test_an_event_committed_before_the_snapshot_but_relayed_after_is_not_applied_twice(private_redis, loop, jc_leader):
    before = wall_snapshot(jc_leader)
    with relay_lock_held():  # the new rows stay unsent for now
        first = loop.create(n=5, title="快照前提交")
        middle = wall_snapshot(jc_leader)
        assert set(middle["pending"]) >= set(OutboxEvent.objects.filter(sent_at__isnull=True).values_list("id", flat=True))
        assert str(first.pk) in middle["state"]["tickets"]

    def later():
        relay_pending()
        loop.create(n=6, title="快照后提交")

    events = async_to_sync(_capture)(jc_leader, later)
    fresh = wall_snapshot(jc_leader)
    assert_same_wall(replay(middle, events), fresh)
    assert figures(fresh["state"])["received_today"] == figures(before["state"])["received_today"] + 2


@pytest.mark.django_db
def test_a_town_wall_sees_its_town_and_a_city_wall_everything(loop, hg_loop, city_leader):
    from tests.conftest import make_user

    mine, theirs = loop.create(n=1), hg_loop.create(n=1)
    town_wall = wall_snapshot(make_user("wj_leader", "leader", region=loop.town))
    city_wall = wall_snapshot(city_leader)
    assert town_wall["group"] == f"region-{loop.town.code}" and town_wall["region"]["name"] == "望江街道"
    assert str(mine.pk) in town_wall["state"]["tickets"] and str(theirs.pk) not in town_wall["state"]["tickets"]
    assert {str(mine.pk), str(theirs.pk)} <= set(city_wall["state"]["tickets"])


@pytest.mark.django_db
def test_snapshot_reads_a_fixed_number_of_queries(loop, jc_leader, django_assert_max_num_queries):
    for n in range(6):
        loop.dispatch(loop.create(n=n))
    with django_assert_max_num_queries(18):
        wall_snapshot(jc_leader)
