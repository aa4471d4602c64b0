import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections, transaction

from org.models import Region
from dashboard.consumers import WallConsumer
from realtime.models import OutboxEvent
from realtime.services import RELAY_LOCK_KEY, current_seq, outbox_write, relay_pending
from tests.conftest import relay_lock_held


async def _collect(user, *, expect: int, before=None):
    """Connect a wall as `user`, run `before` (sync), and return the `expect` events received."""
    comm = WebsocketCommunicator(WallConsumer.as_asgi(), "/ws/wall/")
    comm.scope["user"] = user
    connected, _ = await comm.connect()
    assert connected
    hello = await comm.receive_json_from()
    assert hello["type"] == "hello"
    if before is not None:
        await database_sync_to_async(before)()
    events = [await comm.receive_json_from(timeout=5) for _ in range(expect)]
    await comm.disconnect()
    return events


@pytest.mark.django_db(transaction=True)
def test_event_waits_while_redis_is_down_and_arrives_when_it_returns(private_redis, city, alice):
    district = Region.objects.get(code="329902000000")
    private_redis.stop()

    with transaction.atomic():  # the change and its outbox row commit together
        outbox_write(topic="ticket.created", data={"number": "T-1"}, region=district)
    event = OutboxEvent.objects.get(topic="ticket.created", data__number="T-1")
    assert event.sent_at is None  # the relay was kicked on commit, Redis refused, nothing was lost
    assert event.attempts == 1

    private_redis.start()
    OutboxEvent.objects.exclude(pk=event.pk).update(sent_at=event.created_at)  # only ours is pending
    received = async_to_sync(_collect)(alice, expect=1, before=relay_pending)
    assert received[0]["topic"] == "ticket.created"
    assert received[0]["data"] == {"number": "T-1"}
    event.refresh_from_db()
    assert event.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_events_arrive_in_order_with_a_sequence_per_group(private_redis, city, alice, charlie):
    OutboxEvent.objects.filter(sent_at__isnull=True).delete()  # demo data's own events are not under test
    district = Region.objects.get(code="329902000000")
    other = Region.objects.get(code="329903000000")

    before_other = current_seq("region-329903000000")

    def write_and_relay():
        for n in range(3):
            with transaction.atomic():
                outbox_write(topic="ticket.updated", data={"n": n}, region=district)
        with transaction.atomic():
            outbox_write(topic="ticket.updated", data={"n": "elsewhere"}, region=other)
        relay_pending()

    received = async_to_sync(_collect)(alice, expect=3, before=write_and_relay)
    assert [e["data"]["n"] for e in received] == [0, 1, 2]
    seqs = [e["seq"] for e in received]
    assert seqs == sorted(seqs) and seqs[-1] - seqs[0] == 2
    assert current_seq("region-329902000000") == seqs[-1]
    # 海港区's wall never heard about 江城区; its own sequence moved by one.
    assert current_seq("region-329903000000") == before_other + 1


@pytest.mark.django_db(transaction=True)
def test_only_one_relay_runs_at_a_time(city):
    district = Region.objects.get(code="329902000000")
    with transaction.atomic():
        OutboxEvent.objects.create(topic="x", data={}, groups=["region-329902000000"])
    pending = OutboxEvent.objects.filter(sent_at__isnull=True).count()
    with relay_lock_held():
        assert relay_pending() == 0
        assert OutboxEvent.objects.filter(sent_at__isnull=True).count() == pending
    assert district.code


@pytest.mark.django_db(transaction=True)
def test_anonymous_websocket_is_closed(city):
    from django.contrib.auth.models import AnonymousUser

    async def scenario():
        comm = WebsocketCommunicator(WallConsumer.as_asgi(), "/ws/wall/")
        comm.scope["user"] = AnonymousUser()
        connected, code = await comm.connect()
        await comm.disconnect()  # the refused consumer still listens on the channel layer until it ends
        return connected, code

    connected, code = async_to_sync(scenario)()
    assert not connected and code == 4401


@pytest.mark.django_db(transaction=True)
def test_one_relay_message_per_transaction(city, monkeypatch, django_capture_on_commit_callbacks):
    """Every outbox row asks for a kick after the commit; the kicks coalesce into one Celery message."""
    from django.core.cache import cache

    from realtime import tasks
    from realtime.services import KICK_PENDING

    sent = []
    monkeypatch.setattr(tasks.relay_outbox, "apply_async", lambda *a, **kw: sent.append(1))
    cache.delete(KICK_PENDING)
    district = Region.objects.get(code="329902000000")
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            outbox_write(topic="ticket.updated", data={"n": n}, region=district)
    assert sent == [1]
    cache.delete(KICK_PENDING)  # the relay ran and cleared its mark
    with django_capture_on_commit_callbacks(execute=True):
        outbox_write(topic="ticket.updated", data={"n": 6}, region=district)
    assert sent == [1, 1]


@pytest.mark.django_db(transaction=True)
def test_kicks_coalesce_while_one_is_queued_and_the_relay_still_sends_every_row(city):
    """A commit while a kick is queued sends no kick of its own; the relay clears the mark before it reads,
    so it sends that commit's row too, and the next commit after it kicks again."""
    from django.core.cache import cache
    from django.utils import timezone

    from realtime.services import KICK_PENDING, relay_kicked

    district = Region.objects.get(code="329902000000")
    OutboxEvent.objects.filter(sent_at__isnull=True).update(sent_at=timezone.now())
    cache.delete(KICK_PENDING)
    assert cache.add(KICK_PENDING, 1, timeout=5)  # a kick is queued; its relay has not started
    for n in (1, 2):
        with transaction.atomic():
            outbox_write(topic="ticket.updated", data={"n": n}, region=district)
    # tasks run eagerly in tests: had either commit kicked, its relay would have sent the rows by now
    assert OutboxEvent.objects.filter(sent_at__isnull=True).count() == 2
    assert relay_kicked() == 2
    assert cache.get(KICK_PENDING) is None
    with transaction.atomic():
        outbox_write(topic="ticket.updated", data={"n": 3}, region=district)
    assert not OutboxEvent.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_the_relay_holds_its_lock_only_inside_its_transaction(city, monkeypatch):
    """Connections go back to a pool: a session-level lock would stay with one and block every later relay."""
    from django.db import connection

    from realtime import services

    held = []
    relay_locked = services._relay_locked

    def spy(batch):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND pid = pg_backend_pid()",
                [RELAY_LOCK_KEY],
            )
            held.append((cursor.fetchone()[0], connection.in_atomic_block))
        return relay_locked(batch)

    monkeypatch.setattr(services, "_relay_locked", spy)
    district = Region.objects.get(code="329902000000")
    with transaction.atomic():
        outbox_write(topic="ticket.updated", data={"n": 1}, region=district)
    services.relay_pending()
    assert held and held[0] == (1, True)  # locked, inside the relay's own transaction
    with connections["default"].cursor() as cursor:
        cursor.execute(  # this database's locks only: another database on the server may run its own relay
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [RELAY_LOCK_KEY],
        )
        assert cursor.fetchone()[0] == 0
