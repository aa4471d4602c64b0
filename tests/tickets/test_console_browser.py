"""The dispatcher console in real Chromium at 1920×1080 and 1366×768, served by uvicorn with the wall's websocket:
one screen, live counts, keyboard and bulk opening, the ticket on the map with its grid, neighbours and photos."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import browser_login, screenshot
from tests.dashboard.test_wall_browser import api_create, wait_until
from tickets import services
from tickets.models import State, Ticket

from .conftest import inside, jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PANES = """() => ['.tk-queue-pane', '.tk-map-pane', '.tk-detail-pane'].map(s => {
  const r = document.querySelector(s).getBoundingClientRect(); return [r.left, r.right, r.top, r.bottom]; })"""


CONTAINER = "document.getElementById('tk-map').className"


def map_ready(page):
    try:
        page.wait_for_selector("#tk-map .leaflet-control-zoom", timeout=10000)
    except Exception as exc:
        screenshot(page, "console-map-not-ready")
        state = (page.url, page.evaluate("typeof window.L"), page.evaluate(CONTAINER), getattr(page, "errors_seen", None), getattr(page, "failed_seen", None),
                 page.evaluate("Array.from(document.scripts).map(s => s.src)"), page.evaluate("document.readyState"),
                 page.evaluate("document.getElementById('tk-focus').textContent.slice(0, 200)"))
        raise AssertionError(f"map not drawn: {state}") from exc


def side_by_side(page, width: int):
    (q0, q1, qt, qb), (m0, m1, mt, mb), (d0, d1, dt, db) = page.evaluate(PANES)
    assert q1 <= m0 and m1 <= d0 and d1 <= width, "queue | map | detail in one row"
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "no sideways scrolling"
    assert m1 - m0 >= 250 and mb - mt >= 300, "the map keeps a useful size"


def test_dispatcher_works_the_queue_map_and_ticket_on_one_screen(server, browser, town_dispatcher, categories, grid1, worker):  # noqa: F811
    def make(title, at, **extra):
        return services.ticket_create(by=worker, source="grid", category=categories["0101"], title=title, description=title,
                                      location=inside(grid1, *at), address="江城区春晖路12号", **extra)

    first, second = make("春晖路12号井盖破损", (0.3, 0.3)), make("春晖路20号井盖松动", (0.7, 0.3))
    photo = SimpleUploadedFile("well.jpg", jpeg_bytes(size=(1200, 900), color=(90, 90, 200)), content_type="image/jpeg")
    seen = make("春晖路井盖缺失有照片", (0.5, 0.6), photos=[photo])
    twin = make("春晖路井盖缺失又一次上报", (0.5, 0.603))

    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    context.route("**/tiles.invalid/**", lambda route: route.abort())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors_seen = errors
    failed = []
    page.on("requestfailed", lambda req: failed.append(req.url) if "tiles.invalid" not in req.url else None)
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.failed_seen = failed
    browser_login(page, server, town_dispatcher.username)
    page.goto(f"{server}/console/")
    map_ready(page)
    side_by_side(page, 1920)
    assert page.locator("#tk-map .tk-marker").count() >= 4  # the queue's tickets on the map
    new_count = int(page.inner_text('[data-count="new"]'))
    assert new_count == Ticket.objects.filter(center=town_dispatcher.region, state=State.NEW).count()
    assert "新案件" in page.inner_text(".tk-console-tabs") and "待派遣" in page.inner_text(".tk-console-tabs")
    page.wait_for_timeout(400)  # the wall's socket is open
    api_create(server, town_dispatcher, title="控制台计数实时更新", point=inside(grid1, 0.2, 0.8))
    wait_until(page, f"document.querySelector('[data-count=\"new\"]').textContent === '{new_count + 1}'", timeout=5)
    screenshot(page, "console-queue-1920x1080")

    # keyboard: move to the first two rows, select them, open both as cases in one go
    rows = page.locator(".tk-queue .tk-qrow")
    numbers = [rows.nth(i).get_attribute("data-ticket") for i in range(2)]
    page.keyboard.press("j"); page.keyboard.press("x"); page.keyboard.press("j"); page.keyboard.press("x")
    assert page.inner_text("#tk-picked") == "2"
    with page.expect_navigation():
        page.locator("#tk-bulkbar button[value=open]").click()
    map_ready(page)
    text = page.inner_text(".messages")
    assert text.count("已立案") == 2 and "完成 2 件，未能办理 0 件" in text
    assert Ticket.objects.filter(pk__in=numbers, state=State.OPEN).count() == 2

    # the ticket: its point and grid on the map, the twin nearby to merge, the grid's workers, the photo large
    page.goto(f"{server}/console/t/{seen.pk}/")
    map_ready(page)
    side_by_side(page, 1920)
    assert page.locator("#tk-map .tk-marker.focus").count() == 1 and page.locator("#tk-map .tk-marker.near").count() >= 1
    assert page.locator("#tk-map path").count() >= 2  # the center's area and the grid's boundary
    assert twin.title in page.inner_text("#tk-nearby-list")
    assert grid1.name in page.inner_text(".tk-around")
    page.locator("a.tk-photo").first.click()
    page.wait_for_selector("#tk-lightbox[open]")
    page.locator("#tk-lightbox img").evaluate("img => img.decode()")
    assert page.locator("#tk-lightbox img").evaluate("img => img.naturalWidth") == 1200
    screenshot(page, "console-photo-1920x1080")
    page.keyboard.press("Escape")
    assert page.locator("#tk-lightbox[open]").count() == 0
    with page.expect_navigation():
        page.keyboard.press("o")  # 立案 by keyboard
    map_ready(page)
    assert "已立案" in page.inner_text(".messages")
    assert page.locator("#id_lead").count() == 1
    screenshot(page, "console-ticket-1920x1080")

    page.set_viewport_size({"width": 1366, "height": 768})
    page.wait_for_timeout(300)
    side_by_side(page, 1366)
    assert page.locator("#dispatch-form button.tk-primary").is_visible() or page.locator("#dispatch-form").count() == 1
    screenshot(page, "console-ticket-1366x768")
    page.goto(f"{server}/console/")
    map_ready(page)
    side_by_side(page, 1366)
    screenshot(page, "console-queue-1366x768")
    # the wall's feed line of a new ticket opens it in the console
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{server}/wall/")
    page.wait_for_selector("#link[data-state=live]")
    api_create(server, town_dispatcher, title="墙上点开的新工单", point=inside(grid1, 0.25, 0.75))
    feed = page.locator("#feed a.what", has_text="墙上点开的新工单")
    feed.wait_for(timeout=5000)
    with page.expect_navigation():
        feed.click()
    assert "墙上点开的新工单" in page.inner_text(".tk-detail h2")
    assert first.pk and second.pk
    assert errors == [] and failed == []
    context.close()
