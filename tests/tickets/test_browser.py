"""A department member on a phone: opens the inbox, signs, replies with a photo (real Chromium)."""

import pytest

from tests.conftest import browser_login, screenshot
from tickets.models import Ticket

from .conftest import jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_department_member_signs_and_replies_with_a_photo_at_phone_width(browser, live_server, dispatched, zf_staff, tmp_path):
    t = dispatched()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, live_server.url, "zf_staff")
    page.goto(f"{live_server.url}/dept/")
    row = page.locator(".tk-list a.tk-row", has_text=t.number)
    assert "待签收" in row.inner_text()
    assert page.locator("header.topbar").bounding_box()["height"] < 60  # the header keeps to one line
    due = row.locator(".nowrap").first.bounding_box()
    assert due["height"] < 30  # a deadline does not break inside its date
    screenshot(page, "tickets-dept-inbox-phone")
    row.click()
    page.wait_for_load_state("networkidle")
    screenshot(page, "tickets-dept-sign-phone")
    page.locator("#sign-button").click()
    page.wait_for_load_state("networkidle")
    assert "已签收" in page.locator(".messages").inner_text()
    page.locator("summary", has_text="申请延期").click()
    screenshot(page, "tickets-dept-signed-phone")

    shot = tmp_path / "after.jpg"
    shot.write_bytes(jpeg_bytes(size=(800, 600), color=(40, 160, 60)))
    page.fill("#id_reply", "已清理占道摊位，恢复通行。")
    page.set_input_files("#id_photos", str(shot))
    page.wait_for_selector("#photo-previews img")  # the chosen photo shows before it is sent
    screenshot(page, "tickets-dept-reply-preview-phone")
    page.locator("#reply-form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "反馈已提交" in page.locator(".messages").inner_text()
    assert page.locator(".tk-photos img").count() >= 1
    page.locator(".tk-photos img").first.evaluate("img => img.decode()")
    assert page.locator(".tk-photos img").first.evaluate("img => img.naturalWidth") > 0
    screenshot(page, "tickets-dept-replied-phone")
    t = Ticket.objects.get(pk=t.pk)
    assert t.state == "verifying" and t.photos.filter(kind="after").count() == 1
    assert errors == []
    context.close()


def test_dispatcher_opens_and_dispatches_with_the_suggested_department_on_desktop(browser, live_server, new_ticket, town_dispatcher, zf):
    t = new_ticket()
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, live_server.url, "wj_disp")
    page.goto(f"{live_server.url}/console/")
    page.locator(".tk-list a.tk-row", has_text=t.number).click()
    page.wait_for_load_state("networkidle")
    page.locator("#open-button").click()
    page.wait_for_load_state("networkidle")
    assert "已立案" in page.locator(".messages").inner_text()
    assert page.locator("#id_lead").input_value() == str(zf.pk)  # the suggestion is preselected
    screenshot(page, "tickets-console-dispatch")
    page.locator("#dispatch-form button.tk-primary").click()
    page.wait_for_load_state("networkidle")
    assert "已派遣" in page.locator(".messages").inner_text()
    assert "望江街道综合行政执法队" in page.locator(".tk-shares").inner_text()
    screenshot(page, "tickets-console-dispatched")
    assert Ticket.objects.get(pk=t.pk).state == "dispatched"
    assert errors == []
    context.close()
