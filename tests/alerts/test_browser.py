"""The dispatcher's desktop (1366×768): the matching analysis map and an alert assigned through its page."""

import pytest

from alerts.models import Alert
from tests.conftest import browser_login, screenshot

from .conftest import at, offset_north
from .test_matching_and_demo_day import stop, works

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_matching_map_and_assigning_an_alert(browser, live_server, city, alice, jc_staff):
    near = offset_north(120.15, 32.05, 300)
    works("91329900MA1000B001", *near)
    works("91329900MA1000B002", 120.12, 32.10)
    first = stop("苏H40001", 120.15, 32.05)
    stop("苏H40002", 120.18, 32.12)
    first.evidence = {"minutes": 40, "points": [[120.149, 32.05, at(10).isoformat(), 30.0], [120.15, 32.05, at(10, 40).isoformat(), 0.0]]}
    first.save(update_fields=["evidence"])

    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.route("**/appmaptile**", lambda route: route.abort())  # no tiles: the map must still draw its markers
    browser_login(page, live_server.url, "alice")
    day = at(0).date().isoformat()
    page.goto(f"{live_server.url}/alerts/matching/?from={day}&to={day}&radius=500")
    page.wait_for_selector("#al-map[data-ready='1']")
    assert page.locator("[data-figure=coverage]").inner_text() == "50%"
    assert page.locator("#al-map path.leaflet-interactive").count() == 6  # 2 radius circles, 2 enterprises, 2 stops
    screenshot(page, "alerts-matching")

    page.goto(f"{live_server.url}/alerts/")
    page.click(f"a[href='/alerts/{first.pk}/']")
    page.wait_for_selector("#al-map[data-ready='1']")
    page.select_option("select[name=department]", label="江城区城市管理局")
    page.click("form[action$='/assign/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已保存" in page.locator(".messages").inner_text()
    assert "已交办" in page.locator(".al-dl").first.inner_text()
    screenshot(page, "alerts-detail-assigned")
    assert Alert.objects.get(pk=first.pk).department.name == "江城区城市管理局"
    page.goto(f"{live_server.url}/alerts/")
    assert page.locator(".al-row").count() == 2 and "已交办" in page.locator(".al-row").last.inner_text()
    screenshot(page, "alerts-list")
    context.close()

    # the department sees only what it was given, verifies it and handles it
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.route("**/appmaptile**", lambda route: route.abort())
    browser_login(page, live_server.url, "jc_staff")
    page.goto(f"{live_server.url}/alerts/")
    assert page.locator(".al-row").count() == 1
    page.click(".al-row")
    page.click("button[name=true_positive][value='1']")
    page.wait_for_load_state("networkidle")
    page.fill("form[action$='/handle/'] input[name=note]", "已约谈驾驶员并责令驶离")
    page.click("form[action$='/handle/'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "已处置" in page.locator(".al-dl").first.inner_text()
    assert page.locator(".al-timeline li").count() == 4  # raised, assigned, verified, handled
    screenshot(page, "alerts-detail-department")
    context.close()
