"""The matching analysis (stops against enterprises under rectification, coverage, Excel) and the recall of every
warning model on the data hub's demo day."""

import datetime as dt
import io

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from alerts import detection, selectors, services
from alerts.models import RuleKind
from alerts.rules import Finding
from org.models import Region
from datahub.models import Enterprise, PlantedAnomaly

from .conftest import at, offset_north, rule

pytestmark = pytest.mark.django_db


def stop(subject, lon, lat):
    alert, _ = services.alert_raise(rule=rule(RuleKind.LONG_STOP), finding=Finding(
        subject=subject, title=f"{subject} 停车", window_start=at(10), window_end=at(10, 40),
        location=Point(lon, lat, srid=4326), evidence={"minutes": 40},
    ))
    return alert


def works(code, lon, lat, status="rectifying", region="329902000000"):
    return Enterprise.objects.create(credit_code=code, name=f"小化工{code[-3:]}", status=status, location=Point(lon, lat, srid=4326),
                                     region=Region.objects.get(code=region), updated_at=timezone.now())


@pytest.fixture
def scene(city):
    """Three works under rectification in 江城区 (one 499 m and one 501 m from the stop), one operating nearby, one in 海港区."""
    near = offset_north(120.15, 32.05, 499)
    far = offset_north(120.15, 32.05, 501)
    works("91329900MA1000A001", *near)
    works("91329900MA1000A002", *far)
    works("91329900MA1000A003", 120.12, 32.10)
    works("91329900MA1000A004", 120.1501, 32.05, status="operating")
    works("91329900MA1000A005", 120.30, 32.05, region="329903000000")
    stop("苏H30001", 120.15, 32.05)
    stop("苏H30002", 120.1502, 32.05)
    stop("苏H30003", 120.18, 32.12)


def test_matched_stops_enterprises_and_coverage(scene, alice):
    result = selectors.stop_matching(alice, since=at(0), until=at(0) + dt.timedelta(days=1), radius_m=500)
    summary = result.summary()
    assert (summary["stops"], summary["matched_stops"]) == (3, 2)
    # the 海港区 works is outside alice's scope; 501 m is outside the radius
    assert (summary["enterprises"], summary["matched_enterprises"], summary["coverage"]) == (3, 1, round(1 / 3, 4))
    matched = [e for e in result.enterprises if e["matches"]]
    assert matched[0]["credit_code"] == "91329900MA1000A001" and {m["plate"] for m in matched[0]["matches"]} == {"苏H30001", "苏H30002"}


def test_the_page_the_excel_and_an_outsider(scene, alice, charlie):
    client = APIClient()
    client.force_login(alice)
    page = client.get("/alerts/matching/", {"from": at(0).date().isoformat(), "to": at(0).date().isoformat(), "radius": 500})
    html = page.content.decode()
    assert page.status_code == 200 and 'data-figure="coverage">33%' in html and "小化工001" in html
    xlsx = client.get("/alerts/matching.xlsx", {"from": at(0).date().isoformat(), "to": at(0).date().isoformat()})
    assert xlsx.status_code == 200 and xlsx["Content-Disposition"].startswith("attachment")
    wb = load_workbook(io.BytesIO(xlsx.content))
    summary = {row[0]: row[1] for row in wb.worksheets[0].iter_rows(values_only=True)}
    assert summary["覆盖率"] == "33.3%" and summary["匹配的停车点"] == 2
    assert [r[0] for r in wb.worksheets[1].iter_rows(min_row=2, values_only=True)] == ["苏H30001", "苏H30002", "苏H30003"]
    bad = client.get("/api/alerts/matching/", {"radius": "far"})
    assert bad.status_code == 400 and "半径" in bad.content.decode()
    client.force_login(charlie)
    data = client.get("/api/alerts/matching/", {"from": at(0).date().isoformat(), "to": at(0).date().isoformat()}).json()
    assert data["summary"]["stops"] == 0 and [e["credit_code"] for e in data["enterprises"]] == ["91329900MA1000A005"]


def test_department_staff_may_not_analyse(scene, jc_staff):
    client = APIClient()
    client.force_login(jc_staff)
    assert client.get("/alerts/matching/").status_code == 403
    assert client.get("/api/alerts/matching/").status_code == 403


def test_every_planted_anomaly_of_the_demo_day_is_found(city, admin_user):
    """The data hub's demo day through ingestion, then every rule over the day: recall 100 %; what else the rules
    found is counted, not hidden."""
    from datahub import demo_day

    day = timezone.localdate() - dt.timedelta(days=1)
    demo_day.generate(day=day, vehicles=25, seed=7)
    from alerts.demo import load_demo

    load_demo(scale=1, stdout=None)
    detection.detect_day(day)
    report = selectors.recall_report(day)
    planted = PlantedAnomaly.objects.filter(day=day).count()
    assert planted == report.planted and planted >= 10
    assert report.recall == 1.0, report.summary()
    summary = report.summary()
    assert summary["unmatched_total"] == sum(summary["unmatched_alerts"].values())
    client = APIClient()
    client.force_login(admin_user)
    page = client.get("/alerts/quality/", {"day": day.isoformat()}).content.decode()
    assert 'data-figure="recall">100%' in page and f'data-figure="unmatched">{summary["unmatched_total"]}' in page
