"""A leader filters the statistics, opens the tickets behind a number and downloads the table, in real Chromium."""

import io

import pytest
from openpyxl import load_workbook

from tests.conftest import browser_login, screenshot

from .test_stats import period

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worked(loop):
    """Made before the browser starts (its event loop would stop the relay running inline)."""
    closed = loop.close(loop.dispatch(loop.create(n=0, title="已办结的井盖", code="0101")))
    loop.rate(closed, "satisfied")
    loop.reply(loop.verify(loop.reply(loop.sign(loop.dispatch(loop.create(n=1, title="返工的路灯", code="0201")))), passed=False))
    loop.extend(loop.sign(loop.dispatch(loop.create(n=2, title="延期的违建", code="0502"))))
    loop.create(n=3, title="新收的噪音投诉", code="2201", source="hotline")
    return closed


def test_leader_filters_drills_down_and_exports(worked, jc_leader, live_server, browser):
    context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, live_server.url, jc_leader.username)
    page.goto(f"{live_server.url}/stats/")
    page.fill("input[name=start]", period()["start"])
    page.click("button.btn[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "部门综合得分排名" in page.content() and "江城区" in page.inner_text("h1")
    assert page.locator("#departments tbody tr").count() >= 2
    screenshot(page, "stats-1600x900")

    page.locator("#regions a", has_text="望江街道").first.click()  # one level down: the towns' communities
    page.wait_for_load_state("networkidle")
    assert "望江街道" in page.inner_text("h1")

    page.locator(".total", has_text="返工率").click()
    page.wait_for_load_state("networkidle")
    assert "返工的路灯" in page.inner_text("#drill") and "已办结的井盖" not in page.inner_text("#drill")
    screenshot(page, "stats-drill-1600x900")
    with page.expect_download() as download:
        page.locator("a[href*=\"format=xlsx\"]").click()
    rows = list(load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active.iter_rows(values_only=True))
    assert rows[0][0] == "编号" and any("返工的路灯" in r for r in rows[1:])
    assert errors == []
    context.close()
