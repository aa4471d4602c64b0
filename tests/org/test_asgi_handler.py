"""The ASGI handler for HTTP (command_center.handlers.SyncChainASGIHandler): each request's synchronous life —
request_started, middleware and view, request_finished — happens on one pool thread, which leaves the
database connection back in the pool; streaming responses are sent from that thread; a client that goes
away before its body arrives runs nothing."""

import threading

import pytest
from asgiref.sync import async_to_sync
from channels.testing import ApplicationCommunicator
from django.core import signals
from django.db import connection
from django.http import JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from command_center.asgi import application
from command_center.org.models import Region

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]

seen: list = []


def ordinary(request):
    seen.append(("view", threading.current_thread().name, Region.objects.count()))
    return JsonResponse({"ok": True})


def streaming(request):
    def rows():
        for n in range(3):
            seen.append(("chunk", threading.current_thread().name, Region.objects.filter(level=Region.Level.CITY).count()))
            yield f"row {n}\n".encode()

    return StreamingHttpResponse(rows(), content_type="text/plain")


@csrf_exempt
def posted(request):
    seen.append(("posted", threading.current_thread().name, len(request.body)))
    return JsonResponse({"size": len(request.body)})


urlpatterns = [path("ordinary/", ordinary), path("streaming/", streaming), path("posted/", posted)]


@pytest.fixture
def lifecycle(city):
    """Records which thread fired request_started and request_finished, and whether the database
    connection was already handed back when request_finished's receivers ran."""
    seen.clear()

    def started(**kwargs):
        seen.append(("started", threading.current_thread().name, None))

    def finished(**kwargs):
        seen.append(("finished", threading.current_thread().name, connection.connection is None))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)  # after Django's close_old_connections
    yield seen
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


def _scope(method, path_, headers=()):
    return {
        "type": "http", "http_version": "1.1", "method": method, "path": path_, "raw_path": path_.encode(),
        "query_string": b"", "root_path": "", "scheme": "http", "server": ("localhost", 80),
        "headers": [(b"host", b"localhost"), *headers],
    }


def _exchange(method, path_, parts=(b"",), headers=()) -> dict:
    """Send the body in `parts`, then read the answer: its status and the body of every message joined."""

    async def go():
        comm = ApplicationCommunicator(application, _scope(method, path_, headers))
        for n, part in enumerate(parts):
            await comm.send_input({"type": "http.request", "body": part, "more_body": n < len(parts) - 1})
        start = await comm.receive_output(20)
        assert start["type"] == "http.response.start"
        body, messages = b"", 0
        while True:
            message = await comm.receive_output(20)
            body, messages = body + message.get("body", b""), messages + 1
            if not message.get("more_body"):
                return {"status": start["status"], "body": body, "messages": messages}

    return async_to_sync(go)()


def _get(path_):
    return _exchange("GET", path_)


def test_an_ordinary_request_lives_on_one_thread_and_returns_its_connection(lifecycle):
    response = _get("/ordinary/")
    assert response["status"] == 200 and response["body"] == b'{"ok": true}'
    kinds = [k for k, _, _ in lifecycle]
    assert kinds == ["started", "view", "finished"]
    assert len({ident for _, ident, _ in lifecycle}) == 1
    assert lifecycle[1][2] > 0  # the view read the database
    assert lifecycle[2][2] is True  # and the connection was closed (back in the pool) at request_finished


def test_a_streaming_response_is_sent_whole_from_the_request_thread(lifecycle):
    response = _get("/streaming/")
    assert response["status"] == 200 and response["body"] == b"row 0\nrow 1\nrow 2\n"
    assert response["messages"] == 4  # a message per chunk as it was made, then the end
    kinds = [k for k, _, _ in lifecycle]
    assert kinds == ["started", "chunk", "chunk", "chunk", "finished"]  # closed after the last chunk
    assert len({ident for _, ident, _ in lifecycle}) == 1
    assert lifecycle[-1][2] is True


def test_threads_are_reused_across_requests(lifecycle):
    for _ in range(12):
        assert _get("/ordinary/")["status"] == 200
    threads = {ident for kind, ident, _ in lifecycle if kind == "view"}
    assert len(threads) < 12 and all(name.startswith("http") for name in threads)  # the handler's pool, not one each


def test_a_body_arrives_in_parts_and_a_client_gone_before_the_end_runs_nothing(lifecycle):
    response = _exchange("POST", "/posted/", parts=(b"x" * 1000, b"y" * 500))
    assert response["status"] == 200 and response["body"] == b'{"size": 1500}'

    async def go_away():
        comm = ApplicationCommunicator(application, _scope("POST", "/posted/"))
        await comm.send_input({"type": "http.request", "body": b"x" * 10, "more_body": True})
        await comm.send_input({"type": "http.disconnect"})
        await comm.wait(20)
        return await comm.receive_nothing(0.2)

    lifecycle.clear()
    assert async_to_sync(go_away)() is True
    assert lifecycle == []  # no signal, no view
