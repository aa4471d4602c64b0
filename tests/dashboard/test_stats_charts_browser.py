"""A city leader looks at the statistics as pictures over the demo city's past, clicks a chart down to the tickets
behind it, and prints the page for the monthly meeting, in real Chromium at the wall's size."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from dashboard import demo_history as dashboard_history
from hotline import demo_history as hotline_history
from tests.conftest import SCREENSHOTS, browser_login, screenshot
from tickets import demo_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DAYS = 20


@pytest.fixture
def past(city):
    """Made before the browser starts."""
    now = timezone.now()
    demo_history.load_history(days=DAYS, now=now)
    hotline_history.load_history(days=DAYS, now=now)
    dashboard_history.load_history(days=DAYS)
    today = timezone.localdate(now)
    return {"start": (today - dt.timedelta(days=DAYS)).isoformat(), "end": today.isoformat()}


def click_on_chart(page, chart_id: str, point) -> None:
    """A real mouse click where ECharts drew `point` (data coordinates) in the chart's first series."""
    x, y = page.evaluate(
        """([id, point]) => {
            const el = document.getElementById(id), chart = echarts.getInstanceByDom(el);
            const [px, py] = chart.convertToPixel({seriesIndex: 0}, point);
            const box = el.getBoundingClientRect();
            return [box.left + px, box.top + py];
        }""",
        [chart_id, point],
    )
    page.mouse.click(x, y)


def test_leader_clicks_from_the_charts_to_the_tickets_and_prints_the_page(past, city_leader, live_server, browser):
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, live_server.url, city_leader.username)
    query = f"start={past['start']}&end={past['end']}"
    page.goto(f"{live_server.url}/stats/?{query}")
    page.wait_for_selector("html[data-charts-ready='1']")
    for chart in ("trend", "satisfaction", "map", "departments", "rates"):
        assert page.locator(f"#chart-{chart} svg").count() == 1, chart
    data = json.loads(page.inner_text("#stats-charts"))
    assert sum(data["trend"]["received"]) == int(page.inner_text(".total b >> nth=0"))
    screenshot(page, "stats-charts-1920x1080")

    # the best-scored department's bar (drawn last, at the top) opens its lead shares
    best = data["departments"][0]
    click_on_chart(page, "chart-departments", [best["score"] - 2, len(data["departments"]) - 1])  # inside its bar, not on its edge
    page.wait_for_url("**/stats/tickets/**")
    assert f"in_department={best['id']}" in page.url and "metric=volume" in page.url
    assert int(page.inner_text("#drill-count")) == best["volume"]
    assert page.locator("#drill tbody tr").count() == min(best["volume"], 50)

    # a day's bar of the trend opens the tickets received that day
    page.go_back()
    page.wait_for_selector("html[data-charts-ready='1']")
    busiest = max(range(len(data["trend"]["received"])), key=lambda i: data["trend"]["received"][i])
    day = data["trend"]["ranges"][busiest][0]
    click_on_chart(page, "chart-trend", [busiest, data["trend"]["received"][busiest] / 2])
    page.wait_for_url("**/stats/tickets/**")
    assert f"start={day}" in page.url and f"end={day}" in page.url and "metric=received" in page.url
    assert int(page.inner_text("#drill-count")) == data["trend"]["received"][busiest]
    screenshot(page, "stats-charts-drill-1920x1080")

    # a district on the map opens that district's own statistics
    page.go_back()
    page.wait_for_selector("html[data-charts-ready='1']")
    district = data["regions"]["rows"][0]
    page.locator("#chart-map svg text", has_text=district["name"]).first.click()
    page.wait_for_url(f"**region={district['code']}**")
    assert district["name"] in page.inner_text("h1")

    # the printed page keeps the figures and the charts, without the filters and buttons
    page.emulate_media(media="print")
    assert not page.locator(".stats-filter").is_visible() and not page.locator("#print-stats").is_visible()
    assert page.locator("#chart-trend svg").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(path=str(SCREENSHOTS / "stats-print.pdf"), format="A4", landscape=True, print_background=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    assert errors == []
    context.close()
