"""A PostgreSQL restart under a real server (issue 15, cause 6), on a private PostgreSQL of the test's own.

Before: during the outage requests waited the pool's 10 s for a connection and ended as a 500 (a debug page
in development); /healthz stopped answering; after the restart every pooled connection failed one request
before the pool discarded it. Now: a 503 within a second (JSON under /api/, a Chinese page elsewhere), /healthz
answers within a second naming the database, and the first request after the database is back succeeds."""

import concurrent.futures
import json
import os
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings

from tests.pg_server import PrivatePostgres, free_port
from tests.servers import start_uvicorn, stop

pytestmark = pytest.mark.django_db(transaction=True)


def get(url: str, *, auth: str | None = None, timeout: float = 15.0):
    """(status, body text, seconds, content type) of one GET."""
    headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={auth}"} if auth else {}
    started = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            status, body, kind = response.status, response.read().decode(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        status, body, kind = error.code, error.read().decode(), error.headers.get("Content-Type", "")
    return status, body, time.monotonic() - started, kind


@pytest.fixture
def stack(alice):
    """A private PostgreSQL holding a copy of the test database (with alice and her session), and uvicorn on it."""
    from django.test import Client

    client = Client()
    client.force_login(alice)  # sessions for people: the copy below carries this one
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    pg = PrivatePostgres().init()
    pg.start()
    process = None
    try:
        pg.copy_database(settings.DATABASES["default"], "cc")
        port = free_port(range(18100, 18150))
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "command_center.settings.test",
            "DATABASE_URL": pg.url("cc"),
            "DB_POOL_MAX": "16",
            # a request that waited for the pool instead of answering at once would take this long (see QUICK)
            "DB_POOL_TIMEOUT": "30",
        }
        process, url = start_uvicorn("command_center.asgi:application", port=port, env=env)
        yield pg, url, session
    finally:
        if process is not None:
            stop(process)
        pg.destroy()


# A quick answer comes well within this; a request that waited for the pool or the network would not (30 s).
# The margin is for a loaded machine: speed itself is bench/faults.py's figure.
QUICK = 5.0


def warm(url, auth, n=12):
    """Several requests at once, so that the pool holds several connections."""
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        results = list(pool.map(lambda _: get(f"{url}/api/org/me/", auth=auth), range(n)))
    assert [r[0] for r in results] == [200] * n


def test_a_database_outage_is_a_quick_503_and_the_first_request_after_it_succeeds(stack):
    pg, url, auth = stack
    warm(url, auth)
    pg.stop("fast")

    # during the outage: every answer at once
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        during = list(pool.map(lambda _: get(f"{url}/api/org/me/", auth=auth), range(24)))
    assert {status for status, *_ in during} == {503}
    assert max(seconds for _, _, seconds, _ in during) < QUICK, [round(r[2], 2) for r in during]
    body = json.loads(during[0][1])
    assert list(body) == ["detail"] and "数据库" in body["detail"]  # the API's one error shape (org.errors)

    status, page, seconds, kind = get(f"{url}/login/")
    assert (status, kind.split(";")[0]) == (503, "text/html") and seconds < QUICK
    assert "数据库暂时无法访问" in page and "Traceback" not in page
    status, text, seconds, kind = get(f"{url}/m/api/locate")  # the phone's API answers as an API does
    assert (status, kind.split(";")[0]) == (503, "application/json") and "数据库" in json.loads(text)["detail"]

    for _ in range(3):
        status, text, seconds, _ = get(f"{url}/healthz")
        health = json.loads(text)
        assert status == 503 and seconds < QUICK and "database" in health["down"], (seconds, health)

    pg.start()
    first = get(f"{url}/api/org/me/", auth=auth)
    assert first[0] == 200, first
    after = [get(f"{url}/api/org/me/", auth=auth)[0] for _ in range(20)]
    assert after == [200] * 20
    status, text, seconds, _ = get(f"{url}/healthz")
    assert json.loads(text)["checks"]["database"]["ok"] and seconds < QUICK


def test_after_a_restart_nobody_was_looking_at_the_first_request_succeeds(stack):
    """Every idle pooled connection is broken after a restart; none of them may cost a request."""
    pg, url, auth = stack
    warm(url, auth)
    pg.stop("fast")
    pg.start()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: get(f"{url}/api/org/me/", auth=auth), range(24)))
    assert [r[0] for r in results] == [200] * 24
    status, text, seconds, _ = get(f"{url}/healthz")
    assert json.loads(text)["checks"]["database"]["ok"] and seconds < QUICK
