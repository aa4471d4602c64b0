"""An agent at the console in real Chromium at 1920×1080: address and complaint in, duplicate seen, linked."""

import pytest
from django.contrib.gis.geos import Point

from hotline import gazetteer, services
from hotline.models import Contact, Outcome
from tests.conftest import browser_login, screenshot
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_links_a_complaint_to_the_duplicate_ticket(browser, live_server, agent, editor_agent, categories):
    spot = gazetteer.geocode("春晖路12号")[0]
    earlier = services.contact_create(
        by=editor_agent, channel="wechat", type="complaint", outcome=Outcome.NEW_TICKET, caller_phone="13900001111",
        content="春晖路12号旁边工地晚上十一点后还在打桩，噪音扰民", address="春晖路12号",
        location=Point(spot.lon + 0.0004, spot.lat, srid=4326), category=categories["2201"],
    ).ticket

    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/appmaptile*", lambda route: route.abort())  # no tile server in tests
    browser_login(page, live_server.url, "hl_agent")
    page.goto(f"{live_server.url}/hotline/")
    page.fill("#hl-phone", "13812345678")
    page.fill("#hl-name", "王建国")
    page.fill("#hl-content", "春晖路工地半夜还在打桩，噪音太大睡不着")
    page.select_option("#hl-category", str(categories["2201"].pk))
    page.fill("#hl-address", "春辉路12号")  # a typo the gazetteer tolerates
    page.click("#hl-geocode")
    page.wait_for_selector("#hl-places .hl-place.chosen")
    assert "春晖路12号" in page.inner_text("#hl-places")
    page.locator("#hl-placement:has-text('网格：')").wait_for()
    dup = page.locator("#hl-dups .hl-dup", has_text=earlier.number)
    dup.wait_for()
    assert "噪音扰民" in dup.inner_text() and "内容相似" in dup.inner_text()
    page.wait_for_selector("#hl-kb .hl-item")
    assert "夜间施工噪音的规定" in page.inner_text("#hl-kb")
    screenshot(page, "hotline-console-duplicate")
    dup.locator("button.hl-link").click()
    page.wait_for_selector("#hl-result.ok")
    assert f"已关联工单 {earlier.number}" in page.inner_text("#hl-result")
    assert page.locator("#hl-repeat").is_hidden()  # a first-time caller is not a repeat caller by her own contact
    assert page.evaluate("document.activeElement.id") == "hl-next"
    screenshot(page, "hotline-console-linked")
    page.keyboard.press("Escape")  # one key: ready for the next call
    assert page.input_value("#hl-phone") == "" and page.input_value("#hl-content") == "" and page.input_value("#hl-category") == ""
    assert page.evaluate("document.activeElement.id") == "hl-phone" and page.inner_text("#hl-result") == ""

    # the next caller reports the demo's broken manhole by the README's address: the demo ticket is right there
    demo = Ticket.objects.get(title="春晖路12号上水井盖破损")
    page.fill("#hl-phone", "13700009999")
    page.fill("#hl-content", "春晖路12号门口的井盖裂了，晚上看不见很危险")
    page.select_option("#hl-category", str(categories["0101"].pk))
    page.fill("#hl-address", "江城区春晖路12号")
    page.click("#hl-geocode")
    page.wait_for_selector("#hl-places .hl-place.chosen")
    page.locator("#hl-dups .hl-dup", has_text=demo.number).wait_for()
    page.locator("#hl-kb .hl-item", has_text="上水井盖破损、缺失的报修").wait_for()
    assert page.locator("#hl-kb .hl-item strong").first.inner_text() == "上水井盖破损、缺失的报修"
    assert "停水通知查询及临时供水" not in page.inner_text("#hl-kb")
    screenshot(page, "hotline-console-manhole")
    page.click("#hl-new")
    page.wait_for_selector("#hl-result.ok")
    assert "已新建工单" in page.inner_text("#hl-result") and page.locator("#hl-repeat").is_hidden()
    page.keyboard.press("Escape")
    assert page.input_value("#hl-address") == "" and page.locator("#hl-dups .hl-dup").count() == 0
    contact = Contact.objects.get(caller_phone="13812345678")
    assert contact.outcome == "linked" and contact.ticket_id == earlier.pk and contact.channel == "phone"
    assert Ticket.objects.get(pk=earlier.pk).caller_count == 2
    page.goto(f"{live_server.url}/hotline/kb/?q=夜间施工噪音")
    assert page.locator("table.hl-table tbody tr").first.inner_text().startswith("夜间施工噪音的规定")
    screenshot(page, "hotline-knowledge-base")
    assert errors == []
    context.close()
