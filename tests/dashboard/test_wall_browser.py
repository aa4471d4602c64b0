"""The wall in real Chromium at 1920×1080, served by uvicorn (HTTP + websockets) against the test database."""

import json
import time
import urllib.request

import pytest
from django.conf import settings
from django.utils.crypto import get_random_string

from tests.conftest import browser_login, screenshot, session_cookie

from tickets.models import Ticket

from .conftest import days_ago, inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def session_headers(user) -> dict:
    """A signed-in person's headers: the session cookie (made in the shared test database) and a CSRF token."""
    csrf = get_random_string(32)
    cookie = f"{session_cookie(user)}; {settings.CSRF_COOKIE_NAME}={csrf}"
    return {"Cookie": cookie, "X-CSRFToken": csrf}


def api_create(url, user, *, title, point, code="1501"):
    body = json.dumps({"source": "grid", "category": code, "title": title, "lon": point.x, "lat": point.y}).encode()
    request = urllib.request.Request(f"{url}/api/tickets/tickets/", data=body, method="POST",
                                     headers={"Content-Type": "application/json", **session_headers(user)})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.loads(response.read())


def today_start():
    from django.utils import timezone

    return timezone.make_aware(timezone.datetime.combine(timezone.localdate(), timezone.datetime.min.time()))


def wait_until(page, expression: str, timeout: float = 5.0):
    """Poll a JavaScript expression (page.wait_for_function would need 'unsafe-eval', which our CSP forbids)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if page.evaluate(expression):
            return
        page.wait_for_timeout(25)
    raise AssertionError(f"not true after {timeout}s: {expression}")


def feed_shows(page, text: str, timeout: float):
    page.locator("#feed").get_by_text(text).first.wait_for(timeout=timeout * 1000)


WALL_MATCHES_FRESH_SNAPSHOT = """async () => {
  const w = window.wallDebug;
  const fresh = await (await fetch('/api/dashboard/wall/snapshot/')).json();
  return JSON.stringify(w.figures(w.snapshot.state)) === JSON.stringify(w.figures(fresh.state))
    && JSON.stringify(Object.keys(w.snapshot.state.tickets).sort()) === JSON.stringify(Object.keys(fresh.state.tickets).sort());
}"""


@pytest.fixture
def history(loop):
    """A wall worth looking at: two weeks of history and open tickets (made before the browser holds the event loop)."""
    for n in range(8):
        t = loop.dispatch(loop.create(n=n, code=["1501", "0201", "1101", "2201"][n % 4], title=f"历史工单{n}",
                                      at=days_ago(3 + n)), at=days_ago(3 + n))
        if n % 3 == 0:
            loop.close(t)
    for n in range(6):
        loop.dispatch(loop.create(n=n + 2, code=["1301", "0301", "1401"][n % 3], title=f"今日工单{n}"))
    loop.create(n=7, code="2101", source="hotline", title="热线反映停水")


def test_a_new_ticket_reaches_the_open_wall_and_a_cut_socket_recovers(history, hg_loop, server, browser, loop, jc_leader):

    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    tile_requests = []
    context.route("**/tiles.invalid/**", lambda route: (tile_requests.append(route.request.url), route.abort()))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, server, jc_leader.username)
    page.goto(f"{server}/wall/")
    wait_until(page, "!!(window.wallDebug && window.wallDebug.snapshots >= 1 && document.body.dataset.rendered)")
    page.wait_for_selector("#link[data-state=live]")
    assert page.evaluate("window.wallDebug.grids()") > 0  # boundaries drew although no tile arrived
    assert tile_requests, "the configured tile URL was asked for"
    received = int(page.inner_text("#kpi-received_today"))
    assert received == Ticket.objects.filter(created_at__gte=today_start(), region_path__startswith="329900000000/329902000000/").count()

    live = api_create(server, loop.dispatcher, title="墙上实时出现的新工单", point=inside(loop.grids[1], 0.5, 0.5))
    feed_shows(page, "墙上实时出现的新工单", timeout=10)  # how fast is bench/wall.py's figure, not this test's
    assert page.inner_text("#kpi-received_today") == str(received + 1)
    assert page.evaluate("window.wallDebug.snapshots") == 1  # applied as a delta, no reload

    # cut the socket; while it is down a ticket is created; the wall reconnects, reloads and is consistent again
    page.evaluate("window.wallDebug.cut()")
    page.wait_for_selector("#link[data-state=reconnecting]", timeout=10000)
    api_create(server, loop.dispatcher, title="断线期间的工单", point=inside(loop.grids[2], 0.4, 0.4))
    wait_until(page, "window.wallDebug.snapshots >= 2", timeout=10)
    page.wait_for_selector("#link[data-state=live]")
    feed_shows(page, "断线期间的工单", timeout=5)
    assert page.inner_text("#kpi-received_today") == str(received + 2)
    assert page.evaluate(WALL_MATCHES_FRESH_SNAPSHOT)
    wait_until(page, "wallDebug.markers() === Object.keys(wallDebug.snapshot.state.tickets).length")  # one per open ticket
    api_create(server, hg_loop.dispatcher, title="海港区不应出现", point=inside(hg_loop.grids[0]))  # another district's
    page.wait_for_timeout(500)
    assert "海港区不应出现" not in page.inner_text("#feed")

    assert "今日受理" in page.inner_text(".kpis") and "实时动态" in page.content()
    screenshot(page, "wall-1920x1080")
    page.set_viewport_size({"width": 3840, "height": 2160})
    page.wait_for_timeout(600)
    screenshot(page, "wall-3840x2160")
    assert errors == []

    # a dispatcher's eye falls on a dot: clicking it opens that ticket in the console
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(300)
    spot = page.evaluate(f"wallDebug.markerAt('{live['id']}')")
    assert spot, "the new ticket has a marker"
    page.mouse.click(spot["x"], spot["y"])
    page.wait_for_url(f"**/console/**{live['id']}**", timeout=5000)
    page.get_by_text(live["number"]).first.wait_for(timeout=5000)
    assert errors == []
    context.close()
