import pytest

from org.models import Region
from tests.conftest import browser_login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_draws_a_region_boundary_on_a_leaflet_map_without_tiles(browser, live_server, admin_user):
    district = Region.objects.get(code="329902000000")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    # No tile server is reachable here; the boundary must still draw.
    context.route("**/appmaptile**", lambda route: route.abort())
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, live_server.url, "root")
    page.goto(f"{live_server.url}/admin/org/region/{district.pk}/change/")
    page.wait_for_selector(".leaflet-container")
    page.wait_for_selector("path.leaflet-interactive")
    assert "行政区划" in page.content()  # the admin is in Chinese too
    screenshot(page, "admin-region-map")
    assert errors == []
    context.close()
