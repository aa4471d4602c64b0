"""A quiet wall keeps its websocket (issue 15, cause 5).

channels-redis waits for a wall's next message with a blocking Redis read (BZPOPMIN) of 5 s, again and again.
redis-py's own socket timeout is also 5 s by default, so with the default client options every quiet period of
5 s ended in `redis.exceptions.TimeoutError: Timeout reading`: the consumer died, the socket closed without a
close frame, and each wall reconnected and reloaded its snapshot every 5 s. The channel layer's hosts in
command_center/settings give redis-py a socket timeout longer than the blocking read."""

import copy
import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.db import transaction

from command_center.asgi import application
from org.models import Region
from realtime.services import outbox_write, relay_pending
from command_center.settings import base as base_settings
from tests.conftest import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

QUIET_SECONDS = 30


def pointed_at(hosts, url):
    """The configured hosts entries with the address swapped for the private Redis's (a URL or a dict)."""
    return [{**entry, "address": url} if isinstance(entry, dict) else url for entry in hosts]


@pytest.fixture
def configured_layer(private_redis, settings):
    """The project's channel layer configuration (command_center.settings.base), on the test's own Redis."""
    layer = copy.deepcopy(base_settings.CHANNEL_LAYERS)
    layer["default"]["CONFIG"]["hosts"] = pointed_at(layer["default"]["CONFIG"]["hosts"], private_redis.url)
    settings.CHANNEL_LAYERS = layer
    return layer


def test_the_configured_socket_timeout_outlasts_the_blocking_read():
    from channels_redis.core import RedisChannelLayer

    hosts = base_settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"]
    assert all(isinstance(h, dict) for h in hosts), "a bare URL leaves redis-py's 5 s default socket timeout"
    for host in hosts:
        timeout = host.get("socket_timeout")
        assert timeout is None or timeout > RedisChannelLayer.brpop_timeout + 1


def test_a_quiet_wall_socket_stays_open_for_30_seconds_and_still_hears_events(configured_layer, alice):
    cookie = session_cookie(alice).encode()
    town = Region.objects.filter(parent__code="329902000000").first()

    async def scenario():
        from channels.db import database_sync_to_async

        comm = WebsocketCommunicator(application, "/ws/wall/", headers=[(b"host", b"localhost"), (b"origin", b"http://localhost"), (b"cookie", cookie)])
        connected, _ = await comm.connect()
        assert connected
        assert (await comm.receive_json_from())["type"] == "hello"
        started = time.monotonic()
        quiet = await comm.receive_nothing(timeout=QUIET_SECONDS, interval=0.1)
        waited = time.monotonic() - started
        # a consumer that died meanwhile raises its error here instead of answering
        await comm.send_json_to({"type": "ping"})
        pong = await comm.receive_json_from(timeout=2)

        def change():
            with transaction.atomic():
                outbox_write(topic="ticket.created", data={"after": "the quiet"}, region=town)
            relay_pending()

        await database_sync_to_async(change)()
        event = await comm.receive_json_from(timeout=5)
        await comm.disconnect()
        return quiet, waited, pong, event

    quiet, waited, pong, event = async_to_sync(scenario)()
    assert quiet and waited >= QUIET_SECONDS
    assert pong == {"type": "pong"}
    assert event["data"] == {"after": "the quiet"}
