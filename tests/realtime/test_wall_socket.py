import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.db import transaction

from command_center.asgi import application
from org.models import Region
from realtime.services import outbox_write, relay_pending
from tests.conftest import session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def _open(cookie: bytes | None):
    headers = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
    if cookie:
        headers.append((b"cookie", cookie))
    comm = WebsocketCommunicator(application, "/ws/wall/", headers=headers)
    connected, code = await comm.connect()
    return comm, connected, code


def test_signed_in_user_joins_their_scope_through_the_real_stack(private_redis, alice):
    cookie = session_cookie(alice).encode()

    async def scenario():
        comm, connected, _ = await _open(cookie)
        assert connected
        hello = await comm.receive_json_from()
        await comm.disconnect()
        return hello

    hello = async_to_sync(scenario)()
    assert hello == {"type": "hello", "groups": ["region-329902000000"]}


def test_without_a_session_the_socket_is_refused(private_redis, city):
    async def scenario():
        comm, connected, code = await _open(None)
        await comm.disconnect()  # the refused consumer still listens on the channel layer until it ends
        return connected, code

    assert async_to_sync(scenario)() == (False, 4401)


def test_a_district_wall_hears_its_towns_but_not_the_neighbour_district(private_redis, alice, charlie):
    town = Region.objects.filter(parent__code="329902000000").first()
    neighbour = Region.objects.filter(parent__code="329903000000").first()
    alice_cookie = session_cookie(alice).encode()

    async def scenario():
        from channels.db import database_sync_to_async

        comm, connected, _ = await _open(alice_cookie)
        await comm.receive_json_from()

        def change():
            with transaction.atomic():
                outbox_write(topic="ticket.created", data={"where": "neighbour"}, region=neighbour)
            with transaction.atomic():
                outbox_write(topic="ticket.created", data={"where": "own town"}, region=town)
            relay_pending()

        await database_sync_to_async(change)()
        event = await comm.receive_json_from(timeout=5)
        nothing_more = await comm.receive_nothing(timeout=0.3)
        await comm.disconnect()
        return event, nothing_more

    event, nothing_more = async_to_sync(scenario)()
    assert event["data"] == {"where": "own town"} and event["group"] == "region-329902000000"
    assert nothing_more
