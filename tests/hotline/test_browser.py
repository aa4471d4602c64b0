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
    page.locator("#hl-history:has-text('1 次来电')").wait_for()  # the caller's history now holds this contact
    page.locator(f"#hl-dups .hl-dup:has-text('{earlier.number}'):has-text('2 人次来电')").wait_for()
    screenshot(page, "hotline-console-linked")
    contact = Contact.objects.get(caller_phone="13812345678")
    assert contact.outcome == "linked" and contact.ticket_id == earlier.pk and contact.channel == "phone"
    assert Ticket.objects.get(pk=earlier.pk).caller_count == 2
    page.goto(f"{live_server.url}/hotline/kb/?q=夜间施工噪音")
    assert page.locator("table.hl-table tbody tr").first.inner_text().startswith("夜间施工噪音的规定")
    screenshot(page, "hotline-knowledge-base")
    assert errors == []
    context.close()
