import pytest

from tests.conftest import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_page_in_chinese_then_home(browser, live_server, city, alice):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    assert page.locator("button[type=submit].primary").inner_text() == "登录"
    assert "江海市" in page.locator("h1").inner_text()
    screenshot(page, "login")

    browser_login(page, live_server.url, "alice")
    assert page.url.rstrip("/") == live_server.url
    assert "欢迎" in page.locator("h1").inner_text()
    screenshot(page, "home-dispatcher")
    context.close()


def test_wrong_password_shows_a_chinese_message(browser, live_server, city, alice):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    browser_login(page, live_server.url, "alice", password="not-the-password")
    assert "用户名或密码错误" in page.locator("[role=alert]").inner_text()
    context.close()
