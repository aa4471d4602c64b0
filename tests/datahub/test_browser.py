import pytest

from datahub.models import DataResource
from tests.conftest import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_data_officer_browses_the_catalog_and_creates_a_token(browser, live_server, city, jt_officer, sj_officer):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # (the project-wide CSP header's "'nonce'" source is reported by Chromium on every page; not this page's doing)
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "source list" not in msg.text
            and "Failed to load resource" not in msg.text else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None)
    browser_login(page, live_server.url, "jt_officer")
    page.goto(f"{live_server.url}/datahub/")
    assert page.locator("h1").inner_text() == "数据资源目录"
    assert int(page.locator("[data-testid=rows]").inner_text()) == DataResource.objects.count()
    screenshot(page, "datahub-catalog")

    page.click("text=危险货物运输车辆实时定位")
    page.wait_for_selector("text=字段结构")
    assert "该资源由贵部门提供" in page.content()
    screenshot(page, "datahub-resource")

    page.goto(f"{live_server.url}/datahub/tokens/")
    page.fill("#name", "GPS 监控平台")
    page.check("input[name=scope][value$=':push'] >> nth=0")
    page.click("text=创建令牌")
    secret = page.locator("[data-testid=secret]").inner_text()
    assert secret.startswith("dh_")
    screenshot(page, "datahub-token-created")
    page.reload()
    assert page.locator("[data-testid=secret]").count() == 0
    assert errors == []
    context.close()
