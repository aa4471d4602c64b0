"""The rest of the walk in real Chromium: a leader's drill-down at 1920 px opens the tickets, alert evidence reads as
a person reads, the console in English, and the favicon."""

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from alerts.models import AlertRule
from alerts.rules.base import Finding
from alerts.services import alert_raise
from org.models import Role
from hotline.models import Outcome
from hotline.services import contact_create
from tests.conftest import browser_login, make_user, screenshot
from tickets import services
from tickets.demo import load_categories
from tickets.models import Category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_leader_drills_down_alert_evidence_links_and_english_console(browser, live_server, jiangcheng, wangjiang, grid1):
    load_categories()
    leader = make_user("jc_leader_w", Role.LEADER, region=jiangcheng)
    agent = make_user("hl_agent_w", Role.HOTLINE_AGENT, region=jiangcheng.parent)
    dispatcher = make_user("wj_disp_w", Role.DISPATCHER, region=wangjiang)
    x0, y0, x1, y1 = grid1.boundary.extent
    here = Point((x0 + x1) / 2, (y0 + y1) / 2, srid=4326)
    long_title = "春晖路与文昌路交叉口东北角人行道上长期堆放大量装修垃圾和废旧家具无人清理影响通行"
    ticket = services.ticket_create(by=dispatcher, source="grid", category=Category.objects.get(code="1503"), title=long_title,
                                    description="装修垃圾堆放", location=here, address="江城区春晖路53号")
    calls = [contact_create(by=agent, channel="phone", type="complaint", content=f"春晖路53号门口堆满装修垃圾，第{n}次反映",
                            caller_phone=f"1390000{n:04d}", outcome=Outcome.LINKED, link_to=ticket, location=here,
                            category=Category.objects.get(code="1503")) for n in range(3)]
    rule = AlertRule.objects.filter(kind="repeated_complaint").first()
    now = timezone.now()
    alert, _created = alert_raise(rule=rule, finding=Finding(
        subject="江城区春晖路53号", title="同一地址重复投诉：江城区春晖路53号", window_start=now - dt.timedelta(hours=6), window_end=now,
        location=here, evidence={"address": "江城区春晖路53号",
                                 "contacts": [{"id": c.pk, "at": c.created_at.isoformat(), "excerpt": c.content[:12]} for c in calls]}))

    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    context.route("**/appmaptile**", lambda route: route.abort())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    assert page.request.get(f"{live_server.url}/favicon.ico").headers["content-type"].startswith("image/svg")

    # the leader: categories told apart, the drill-down fits 1920 px and its rows open the ticket
    browser_login(page, live_server.url, leader.username)
    page.goto(f"{live_server.url}/stats/")
    options = page.locator("select[name=category] option").all_inner_texts()
    assert any("市容环境（部件）" in o for o in options) and any("市容环境（事件）" in o for o in options)
    page.goto(f"{live_server.url}/stats/tickets/?metric=received&region={jiangcheng.code}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1920
    row = page.locator("#drill tbody tr", has_text=ticket.number)
    assert long_title in row.inner_text()
    screenshot(page, "stats-drill-1920x1080")
    row.locator("td.number a").click()
    page.wait_for_selector(".tk-detail")
    assert long_title in page.inner_text(".tk-detail h2") and page.locator(".tk-actions").count() == 0  # read only
    screenshot(page, "console-ticket-leader-1920x1080")

    # the alert: local times to the minute, each contact a link to the ticket it joined
    page.goto(f"{live_server.url}/alerts/{alert.pk}/")
    evidence = page.inner_text(".al-evidence")
    assert "T" not in evidence.split("来电")[0] and "+00:00" not in evidence and timezone.localtime(calls[0].created_at).strftime("%Y-%m-%d %H:%M") in evidence
    links = page.locator(".al-evidence a")
    assert links.count() == 3 and ticket.number in links.first.inner_text()
    screenshot(page, "alerts-evidence-1920x1080")
    links.first.click()
    page.wait_for_selector(".tk-detail")
    assert ticket.number in page.inner_text(".tk-detail")

    # English where it is offered: the console's tabs and filters
    context_en = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-US")
    en = context_en.new_page()
    browser_login(en, live_server.url, dispatcher.username)
    en.goto(f"{live_server.url}/console/")
    with en.expect_navigation():
        en.click("form.lang button[value=en]")
    tabs = en.inner_text(".tk-console-tabs")
    assert "New cases" in tabs and "To dispatch" in tabs and "Verification" in tabs
    assert "All categories" in en.inner_text("#tk-filter-form")
    screenshot(en, "console-queue-english-1920x1080")
    assert errors == []
    context_en.close()
    context.close()
