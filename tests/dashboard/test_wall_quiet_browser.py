"""A quiet wall in real Chromium keeps its one websocket and loads its snapshot once; only a real gap in the
sequence numbers or a reconnect reloads it (issue 15, cause 5: before, every 5 quiet seconds ended the socket,
and each wall reconnected and reloaded). Snapshot requests and websockets are counted from the browser's side."""

import time

import pytest
from django.db.models import F

from realtime.models import GroupSequence
from tests.conftest import browser_login

from .conftest import inside
from .test_wall_browser import api_create, feed_shows, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
QUIET_SECONDS = 16  # three of the old 5-second deaths


def test_a_quiet_wall_keeps_its_socket_and_reloads_only_after_a_gap_or_a_reconnect(server, browser, loop, jc_leader):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.route("**/tiles.invalid/**", lambda route: route.abort())
    page = context.new_page()
    snapshots, sockets, closed = [], [], []
    page.on("request", lambda r: snapshots.append(r.url) if "/wall/snapshot" in r.url else None)

    def opened(ws):
        sockets.append(ws.url)
        ws.on("close", lambda *_: closed.append(time.monotonic()))

    page.on("websocket", opened)
    browser_login(page, server, jc_leader.username)
    page.goto(f"{server}/wall/")
    wait_until(page, "!!(window.wallDebug && window.wallDebug.snapshots >= 1 && document.body.dataset.rendered)")
    page.wait_for_selector("#link[data-state=live]")

    page.wait_for_timeout(QUIET_SECONDS * 1000)  # nothing happens
    assert (len(sockets), closed, len(snapshots)) == (1, [], 1)
    assert page.evaluate("window.wallDebug.snapshots") == 1
    assert page.get_attribute("#link", "data-state") == "live"

    # an event arrives in order: applied as a delta, no reload
    api_create(server, loop.dispatcher, title="安静之后的工单", point=inside(loop.grids[1]))
    feed_shows(page, "安静之后的工单", timeout=10)
    assert len(snapshots) == 1

    # a real gap (an event the wall never got): one reload
    GroupSequence.objects.filter(group="region-329902000000").update(last_seq=F("last_seq") + 1)
    api_create(server, loop.dispatcher, title="跳号之后的工单", point=inside(loop.grids[2]))
    wait_until(page, "window.wallDebug.snapshots === 2", timeout=10)
    feed_shows(page, "跳号之后的工单", timeout=10)

    # a reconnect: one reload
    page.evaluate("window.wallDebug.cut()")
    wait_until(page, "window.wallDebug.snapshots === 3", timeout=10)
    page.wait_for_selector("#link[data-state=live]")
    page.wait_for_timeout(1000)
    assert (len(sockets), len(snapshots)) == (2, 3)
    context.close()
