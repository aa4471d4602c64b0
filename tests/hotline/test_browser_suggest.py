"""The agent types the complaint at the console (real Chromium, 1920×1080): the likeliest category is pre-selected,
the two runners-up are offered, and a category the agent picks by hand is kept."""

import pytest

from tests.conftest import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_console_preselects_the_suggested_category(browser, live_server, agent, categories):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/appmaptile*", lambda route: route.abort())
    browser_login(page, live_server.url, "hl_agent")
    page.goto(f"{live_server.url}/hotline/")
    page.locator("#hl-content").press_sequentially("楼下烧烤店的油烟直接排到我家窗户，衣服都晾不了", delay=5)
    runners = page.locator("#hl-cat-suggest .tk-suggestion")
    runners.first.wait_for()  # (the page's CSP forbids wait_for_function's eval)
    assert page.input_value("#hl-category") == str(categories["2202"].pk)
    assert runners.count() == 2 and "也可能是" in page.inner_text("#hl-cat-suggest")
    screenshot(page, "hotline-console-suggested-category")
    page.select_option("#hl-category", str(categories["2201"].pk))  # the agent knows better
    page.locator("#hl-content").press_sequentially("，晚上还很吵", delay=5)
    page.wait_for_timeout(900)
    assert page.input_value("#hl-category") == str(categories["2201"].pk)
    runners.first.click()  # a runner-up is one click away
    assert page.input_value("#hl-category") == str(categories[runners.first.get_attribute("data-code")].pk)
    assert errors == []
    context.close()
