"""The grid worker's phone workspace in real Chromium at phone size, with geolocation granted."""

import pytest
from PIL import Image

from tests.conftest import browser_login, screenshot

from .conftest import inside

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def no_tiles(settings):
    # The test machine has no internet; the map still draws the grid boundary and the pin.
    settings.MAP_TILES_URL = ""


def _phone(browser, live_server, point):
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN",
        geolocation={"latitude": point.y, "longitude": point.x, "accuracy": 12}, permissions=["geolocation"],
        base_url=live_server.url,
    )
    context.set_default_timeout(15000)
    return context, context.new_page()


def _camera_photo(tmp_path, name="photo.jpg", size=(3000, 2000)):
    path = tmp_path / name
    Image.new("RGB", size, (90, 140, 60)).save(path, format="JPEG", quality=90)
    return str(path)


def _fill_report(page, photo_path, description):
    page.wait_for_selector("text=已定位")
    page.fill("#category-search", "垃圾")
    page.click("#category-results li:has-text('暴露垃圾')")
    assert "暴露垃圾" in page.inner_text("#category-chosen")
    page.fill("#description", description)
    page.set_input_files("#photos", photo_path)
    page.wait_for_selector("[data-thumbs-for=photos] img")


def test_report_with_a_photo_lands_in_the_right_grid(browser, live_server, no_tiles, worker, grid2, category, tmp_path):
    from tickets.models import Ticket

    context, page = _phone(browser, live_server, inside(grid2, 0.4, 0.6))
    browser_login(page, live_server.url, "gw_bob")
    assert page.url.endswith("/m/")  # the home page sends a grid worker to the phone workspace
    assert page.is_visible("text=事件上报") and page.is_visible(f"text={grid2.name}")
    screenshot(page, "grid-m-home")

    page.click("text=事件上报")
    _fill_report(page, _camera_photo(tmp_path), "小区门口垃圾桶满溢，垃圾散落路面")
    assert grid2.name in page.inner_text("#loc-grid") or page.wait_for_selector(f"#loc-grid:has-text('{grid2.name}')")
    assert page.locator("#map path").count() >= 1  # the grid's boundary on the report map
    screenshot(page, "grid-m-report-form")
    page.click("button:has-text('提交上报')")
    page.wait_for_url("**/m/reports/")
    ticket = Ticket.objects.get(reporter=worker)
    assert ticket.grid == grid2 and ticket.community == grid2.community
    assert ticket.description == "小区门口垃圾桶满溢，垃圾散落路面"
    photo = ticket.photos.get()
    assert max(photo.width, photo.height) == 1600  # resized in the browser from 3000×2000
    assert ticket.number in page.inner_text("#m-flash")  # the report's outcome, said on the next page
    screenshot(page, "grid-m-my-reports")
    page.click(f".m-list a:has-text('{ticket.number}')")
    page.wait_for_selector(".m-timeline li")
    assert ticket.number in page.inner_text("h1") and page.locator(".m-thumbs img").count() == 1
    screenshot(page, "grid-m-report-detail")
    context.close()


# While a photo is resized the page may add controls to the form (the category suggestions arrive as buttons);
# this one adds a button before the photo input at that moment, once.
ADD_A_CONTROL_WHILE_RESIZING = """() => {
  const real = window.createImageBitmap;
  window.createImageBitmap = async (...args) => {
    const bitmap = await real(...args);
    window.createImageBitmap = real;
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "建议";
    document.getElementById("photos").form.prepend(button);
    return bitmap;
  };
}"""


def test_a_control_added_to_the_form_while_a_photo_is_resized_does_not_send_the_photo_twice(
        browser, live_server, no_tiles, worker, grid2, category, tmp_path):
    from tickets.models import Ticket

    context, page = _phone(browser, live_server, inside(grid2, 0.5, 0.5))
    browser_login(page, live_server.url, "gw_bob")
    page.goto("/m/report/")
    _fill_report(page, _camera_photo(tmp_path), "路边垃圾桶满溢")
    page.evaluate(ADD_A_CONTROL_WHILE_RESIZING)
    page.click("button:has-text('提交上报')")
    page.wait_for_url("**/m/reports/")
    assert Ticket.objects.get(reporter=worker).photos.count() == 1
    context.close()


def test_offline_report_is_kept_and_sent_exactly_once(browser, live_server, no_tiles, worker, grid2, category, tmp_path):
    from tickets.models import Ticket

    context, page = _phone(browser, live_server, inside(grid2, 0.5, 0.5))
    browser_login(page, live_server.url, "gw_bob")
    page.goto("/m/report/")
    # The service worker installs and keeps the app shell for pages opened without signal.
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("caches.match('/m/report/', {ignoreVary: true}).then(r => !!r)")

    context.set_offline(True)
    page.wait_for_selector("#net.off")
    _fill_report(page, _camera_photo(tmp_path, size=(1200, 900)), "井边积水，无信号时上报")
    page.click("button:has-text('提交上报')")
    page.wait_for_selector(".m-ok:has-text('没有信号')")
    page.wait_for_selector("#queue li.q-waiting:has-text('等待信号')")
    assert Ticket.objects.filter(reporter=worker).count() == 0
    screenshot(page, "grid-m-offline-waiting")

    # Still kept on the phone after the page is opened again without signal.
    assert "report-form" in page.evaluate("caches.match('/m/report/', {ignoreVary: true}).then(r => r ? r.text() : '')")
    page.reload()
    page.wait_for_selector("#queue li.q-waiting:has-text('井边积水')")
    assert Ticket.objects.filter(reporter=worker).count() == 0

    context.set_offline(False)
    page.wait_for_selector("#queue li.q-sent", timeout=20000)
    text = page.inner_text("#queue li.q-sent")
    ticket = Ticket.objects.get(reporter=worker)
    assert ticket.number in text and ticket.grid == grid2
    assert page.evaluate("window.ccGridQueue.all().then(items => items.length)") == 0
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "grid-m-offline-sent")
    # More flushes (the timer, another 'online' event) change nothing.
    page.evaluate("window.ccGridQueue.flush()")
    page.wait_for_timeout(500)
    assert Ticket.objects.filter(reporter=worker).count() == 1
    context.close()


def test_verify_with_an_after_photo_closes_the_ticket(browser, live_server, no_tiles, worker, grid2, category, tmp_path):
    from .test_pages import _ticket_to_verify

    ticket = _ticket_to_verify(worker, grid2, category)
    context, page = _phone(browser, live_server, inside(grid2))
    browser_login(page, live_server.url, "gw_bob")
    page.click("text=核查任务")
    page.click(f".m-list a:has-text('{ticket.number}')")
    screenshot(page, "grid-m-verify-debug")
    page.wait_for_selector(".m-reply:has-text('已清运')")  # the department's reply is shown
    page.set_input_files("#photo", _camera_photo(tmp_path, "after.jpg"))
    page.fill("#note", "现场已清理干净")
    screenshot(page, "grid-m-verify")
    page.click("button:has-text('核查通过')")
    page.wait_for_url("**/m/verify/")
    assert f"核查通过：{ticket.number} 已结案" in page.inner_text("#m-flash")  # the step's outcome survives the page change
    screenshot(page, "grid-m-verified")
    ticket.refresh_from_db()
    assert ticket.state == "closed"
    assert ticket.photos.filter(kind="verify").count() == 1
    assert page.is_visible("text=您的网格暂无核查任务")
    context.close()


def test_check_in_and_patrol(browser, live_server, no_tiles, worker, grid2):
    from grid.models import CheckIn, Patrol, PatrolChecklistItem

    PatrolChecklistItem.objects.get_or_create(grid=grid2, title="消防通道是否畅通", defaults={"position": 0})
    start = inside(grid2, 0.3, 0.5)
    context, page = _phone(browser, live_server, start)
    browser_login(page, live_server.url, "gw_bob")
    page.click("text=定位报到")
    page.click("button:has-text('在此报到')")
    page.wait_for_selector(".m-ok:has-text('已在')")
    assert CheckIn.objects.get(user=worker).inside_grid
    assert "网格内" in page.locator("#checkins li.m-new").first.inner_text()  # listed without a reload, once
    assert page.locator("#checkins li.m-new").count() == 1
    screenshot(page, "grid-m-checkin")

    page.goto("/m/patrol/")
    # Start without signal: the walk is recorded on the phone and the patrol begins when the signal returns.
    context.set_offline(True)
    page.click("button:has-text('开始巡查')")
    page.wait_for_selector("#queue li.q-waiting")
    for dx in (0.4, 0.5):
        page.wait_for_timeout(3100)  # the page records a point at most every 3 s
        context.set_geolocation({"latitude": start.y, "longitude": inside(grid2, dx, 0.5).x})
    assert not Patrol.objects.filter(user=worker).exists()
    context.set_offline(False)
    page.wait_for_selector("#patrol-stop:visible", timeout=20000)
    page.wait_for_timeout(3100)
    context.set_geolocation({"latitude": start.y, "longitude": inside(grid2, 0.6, 0.5).x})
    page.check("text=消防通道是否畅通")
    page.wait_for_timeout(3100)
    page.click("button:has-text('结束巡查')")
    page.wait_for_selector("#patrol-start:visible")
    patrol = Patrol.objects.get(user=worker)
    assert patrol.state == "done" and patrol.points_count >= 3
    assert patrol.inside_distance_m > 0 and patrol.inside_distance_m == pytest.approx(patrol.distance_m)
    assert patrol.checks.count() == 1
    screenshot(page, "grid-m-patrol")
    context.close()


def test_without_browser_location_the_pin_is_placed_on_the_map(browser, live_server, no_tiles, worker, grid2, category, tmp_path):
    from tickets.models import Ticket

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN", base_url=live_server.url)
    context.set_default_timeout(15000)
    page = context.new_page()  # no geolocation permission: the browser gives no position
    browser_login(page, live_server.url, "gw_bob")
    page.goto("/m/report/")
    page.wait_for_selector("text=浏览器未提供位置")
    page.fill("#category-search", "垃圾")
    page.click("#category-results li:has-text('暴露垃圾')")
    page.fill("#description", "手动点选位置上报")
    page.click("button:has-text('提交上报')")
    page.wait_for_selector(".m-error:has-text('地图')")  # refused until a place is chosen
    page.locator("#map").click(position={"x": 150, "y": 120})  # the map shows my grid; tap inside it
    page.wait_for_selector(f"#loc-grid:has-text('{grid2.name}')")
    screenshot(page, "grid-m-report-no-location")
    page.click("button:has-text('提交上报')")
    page.wait_for_url("**/m/reports/")
    ticket = Ticket.objects.get(reporter=worker)
    assert ticket.grid == grid2
    context.close()
