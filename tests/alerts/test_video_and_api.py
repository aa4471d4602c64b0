"""The video event endpoint (token, validation, idempotency, nothing written on bad input) and the scoped
alert API (outsiders refused, query counts pinned, the wall's selector)."""

import base64
import datetime as dt
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from alerts import selectors, services
from alerts.models import Alert, AlertEvent, RuleKind
from alerts.rules import Finding
from org.models import Department, Region, Role
from datahub import services as datahub_services
from datahub.models import Camera, DataResource
from tests.conftest import make_user

from .conftest import api, at, rule
from tests.conftest import current_version

pytestmark = pytest.mark.django_db


def jpeg(colour=(200, 40, 40)) -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture
def camera(city):
    return Camera.objects.create(
        code="32990000001310000001", name="沿江大道1号监控点", location=Point(120.15, 32.05, srid=4326), owner_name="市公安局",
        stream_name="cam-1", region=Region.objects.get(code="329902000000"), updated_at=timezone.now(),
    )


@pytest.fixture
def camera_token(city):
    ga = Department.objects.get(code="329900-GA")
    officer = make_user("ga_officer", Role.DATA_OFFICER, department=ga)
    resource = DataResource.objects.get(code="GA-CAMERA")
    _, secret = datahub_services.token_create(department=ga, name="视频分析平台", scopes=[(resource, "push")], by=officer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def event(**over):
    return {"camera": "32990000001310000001", "event_type": "fire", "occurred_at": timezone.now().isoformat(),
            "confidence": 0.92, "snapshot": jpeg(), "event_id": "evt-1"} | over


def snapshot_files() -> set:
    root = Path(settings.MEDIA_ROOT) / "alerts" / "snapshots"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def test_a_fire_event_raises_a_red_alert_with_its_snapshot(camera, camera_token, alice):
    fire = event()
    response = camera_token.post("/api/alerts/video-events/", fire, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 201, response.content
    alert = Alert.objects.get(pk=response.json()["id"])
    assert alert.level == "red" and alert.rule.code == "video-fire" and alert.title == "沿江大道1号监控点 识别到火情"
    assert alert.snapshot and Image.open(alert.snapshot.path).format == "JPEG"
    assert alert.region_path.startswith("329900000000/329902000000/")
    client = APIClient()
    client.force_login(alice)
    assert client.get(f"/alerts/{alert.pk}/snapshot.jpg").status_code == 200
    again = camera_token.post("/api/alerts/video-events/", fire, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again.json()["id"] == alert.pk and Alert.objects.count() == 1


def test_repeated_events_of_one_camera_fold_into_one_alert(camera, camera_token):
    first = camera_token.post("/api/alerts/video-events/", event(event_id="a"), format="json")
    later = (timezone.now() + dt.timedelta(minutes=3)).isoformat()
    second = camera_token.post("/api/alerts/video-events/", event(event_id="b", occurred_at=later), format="json")
    assert first.status_code == 201 and second.status_code == 200 and first.json()["id"] == second.json()["id"]
    assert Alert.objects.get().hits == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"snapshot": "not base64!!"}, "snapshot"),
        ({"snapshot": base64.b64encode(b"GIF89a not really").decode()}, "snapshot"),
        ({"camera": "UNKNOWN"}, "camera"),
        ({"event_type": "alien_landing"}, "event_type"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"confidence": 0.1}, "confidence"),
        ({"event_type": None}, "event_type"),
    ],
)
def test_a_malformed_event_is_a_400_and_writes_nothing(camera, camera_token, change, field):
    files = snapshot_files()
    response = camera_token.post("/api/alerts/video-events/", event(**change), format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert Alert.objects.count() == 0 and AlertEvent.objects.count() == 0 and snapshot_files() == files


def test_a_missing_snapshot_is_a_400_in_chinese(camera, camera_token):
    body = event()
    del body["snapshot"]
    response = camera_token.post("/api/alerts/video-events/", body, format="json")
    assert response.status_code == 400 and "该字段是必填项" in response.content.decode()
    assert Alert.objects.count() == 0


def test_a_token_without_camera_push_is_refused(camera, city):
    jt = Department.objects.get(code="329900-JT")
    officer = make_user("jt_officer2", Role.DATA_OFFICER, department=jt)
    resource = DataResource.objects.get(code="JT-HAZMAT-GPS")
    _, secret = datahub_services.token_create(department=jt, name="GPS", scopes=[(resource, "push")], by=officer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    assert client.post("/api/alerts/video-events/", event(), format="json").status_code == 403
    assert APIClient().post("/api/alerts/video-events/", event(), format="json").status_code in (401, 403)
    assert Alert.objects.count() == 0


# ---- scope ----------------------------------------------------------------------------------------------


def raise_at(lon, lat, subject):
    alert, _ = services.alert_raise(rule=rule(RuleKind.LONG_STOP), finding=Finding(
        subject=subject, title=f"{subject} 异常停车", window_start=at(10), window_end=at(10, 40),
        location=Point(lon, lat, srid=4326), evidence={"minutes": 40},
    ))
    return alert


def test_alerts_are_scoped_and_outsiders_get_404(alice, charlie, jc_staff, leader):
    jc = raise_at(120.15, 32.05, "苏H10001")  # 江城区
    hg = raise_at(120.30, 32.05, "苏H10002")  # 海港区
    assert [a["id"] for a in api(alice).get("/api/alerts/alerts/").json()["results"]] == [jc.pk]
    assert [a["id"] for a in api(charlie).get("/api/alerts/alerts/").json()["results"]] == [hg.pk]
    assert api(charlie).get(f"/api/alerts/alerts/{jc.pk}/").status_code == 404
    assert api(charlie).post(f"/api/alerts/alerts/{jc.pk}/assign/", {"department": 1}, format="json").status_code == 404
    client = APIClient()
    client.force_login(charlie)
    assert client.get(f"/alerts/{jc.pk}/").status_code == 404
    # department staff see only what was assigned to their department; leaders read but may not act
    assert api(jc_staff).get("/api/alerts/alerts/").json()["results"] == []
    services.alert_assign(alert=jc, by=alice, department=jc_staff.department, version=current_version(jc))
    assert [a["id"] for a in api(jc_staff).get("/api/alerts/alerts/").json()["results"]] == [jc.pk]
    assert api(leader).get(f"/api/alerts/alerts/{jc.pk}/").status_code == 200
    assert api(leader).post(f"/api/alerts/alerts/{jc.pk}/close/", {}, format="json").status_code == 403
    assert list(selectors.active_alerts_for(charlie)) == [hg]


def test_the_list_takes_a_fixed_number_of_queries(alice, django_assert_max_num_queries):
    for i in range(15):
        raise_at(120.15 + i * 0.001, 32.05, f"苏H2{i:04d}")
    with django_assert_max_num_queries(6):
        response = api(alice).get("/api/alerts/alerts/?open=1")
    assert response.status_code == 200 and response.json()["count"] == 15


def test_the_pages_list_and_show_alerts(alice, charlie, django_assert_max_num_queries):
    alert = raise_at(120.15, 32.05, "苏H10003")
    client = APIClient()
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        page = client.get("/alerts/")
    assert page.status_code == 200 and alert.title in page.content.decode()
    detail = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert "交办" in detail and "异常停车" in detail
    client.force_login(charlie)
    assert alert.title not in client.get("/alerts/").content.decode()


def test_the_page_steps_assign_with_a_message(alice, jc_cg):
    alert = raise_at(120.15, 32.05, "苏H10004")
    client = APIClient()
    client.force_login(alice)
    response = client.post(f"/alerts/{alert.pk}/assign/", {"department": jc_cg.pk, "hours": "4", "version": alert.version}, follow=True)
    assert response.status_code == 200 and "已保存" in response.content.decode()
    assert Alert.objects.get(pk=alert.pk).department == jc_cg
    stale = client.post(f"/alerts/{alert.pk}/assign/", {"department": jc_cg.pk, "version": alert.version}, follow=True)
    assert "已被他人修改" in stale.content.decode()


def test_a_retried_event_that_was_folded_is_not_counted_twice(camera, camera_token):
    camera_token.post("/api/alerts/video-events/", event(event_id="a"), format="json")
    later = (timezone.now() + dt.timedelta(minutes=2)).isoformat()
    for _ in range(2):
        response = camera_token.post("/api/alerts/video-events/", event(event_id="b", occurred_at=later), format="json")
        assert response.status_code == 200
    alert = Alert.objects.get()
    assert alert.hits == 2 and len(alert.evidence["more_snapshots"]) == 1 and alert.evidence["keys"] == ["b"]


@pytest.mark.parametrize("size", [1600 * 1024, 2 * 1024 * 1024])
def test_an_oversized_snapshot_is_a_400_and_writes_nothing(camera, camera_token, size):
    """1.6 MB is over the snapshot limit; 2 MB (2.7 MB as base64) is over Django's body limit."""
    import os

    files = snapshot_files()
    response = camera_token.post("/api/alerts/video-events/", event(snapshot=base64.b64encode(os.urandom(size)).decode()), format="json")
    assert response.status_code == 400
    assert Alert.objects.count() == 0 and snapshot_files() == files
