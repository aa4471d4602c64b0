"""Check-ins and patrols through the /m/ JSON endpoints: inside-grid figures from PostGIS, idempotent retries."""

import datetime as dt
import json

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import timezone

from grid.models import CheckIn, Patrol, PatrolCheck, PatrolChecklistItem
from grid.selectors import track_figures
from tests.conftest import make_user

from .conftest import inside

pytestmark = pytest.mark.django_db


def _post(client, url, data, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, data, **headers)


def test_check_in_inside_and_outside_the_grid(client, worker, grid2):
    client.force_login(worker)
    p = inside(grid2)
    r = _post(client, reverse("field:m-api-checkin"), {"lon": p.x, "lat": p.y, "accuracy": "8"}, key="checkin-0001")
    assert r.status_code == 201 and r.json()["inside_grid"] is True
    assert "网格" in r.json()["message"]
    far = Point(p.x + 0.02, p.y, srid=4326)  # ~240 m east of the grid's east edge
    r = _post(client, reverse("field:m-api-checkin"), {"lon": far.x, "lat": far.y})
    body = r.json()
    assert r.status_code == 201 and body["inside_grid"] is False
    stored = CheckIn.objects.get(pk=body["id"])
    assert 200 < stored.distance_to_grid_m < 280


def test_a_replayed_check_in_is_stored_once_and_answered_the_same(client, worker, grid2):
    client.force_login(worker)
    p = inside(grid2)
    data = {"lon": p.x, "lat": p.y, "at": (timezone.now() - dt.timedelta(minutes=20)).isoformat()}
    first = _post(client, reverse("field:m-api-checkin"), data, key="offline-key-123")
    again = _post(client, reverse("field:m-api-checkin"), data, key="offline-key-123")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again["Idempotent-Replay"] == "true"
    assert CheckIn.objects.filter(user=worker).count() == 1
    # The time made on the phone (while offline) is kept, not the time it arrived.
    stored = CheckIn.objects.get(user=worker)
    assert (stored.received_at - stored.at) > dt.timedelta(minutes=19)


def test_bad_check_in_is_a_clear_400_and_writes_nothing(client, worker):
    client.force_login(worker)
    r = _post(client, reverse("field:m-api-checkin"), {"lon": "", "lat": ""}, key="bad-key-0001")
    assert r.status_code == 400 and "地图" in r.json()["detail"]
    r = _post(client, reverse("field:m-api-checkin"), {"lon": "120.01", "lat": "31.81", "at": "2099-01-01T00:00:00+08:00"})
    assert r.status_code == 400 and "未来" in r.json()["detail"]
    assert not CheckIn.objects.filter(user=worker).exists()
    # The failed key was not used up: sending it again with good data works.
    r = _post(client, reverse("field:m-api-checkin"), {"lon": "120.01", "lat": "31.81"}, key="bad-key-0001")
    assert r.status_code == 201


def test_only_grid_workers_may_use_the_endpoints(client, alice, cg_staff):
    for user in (alice, cg_staff):
        client.force_login(user)
        r = _post(client, reverse("field:m-api-checkin"), {"lon": "120.01", "lat": "31.81"})
        assert r.status_code == 403
        assert client.get(reverse("field:m-home")).status_code == 403
    client.logout()
    assert _post(client, reverse("field:m-api-checkin"), {"lon": "120.01", "lat": "31.81"}).status_code == 401


def _track(grid, start, steps):
    """Points walking east along the grid's middle: `steps` of 1/10 of its width, one minute apart."""
    xmin, ymin, xmax, ymax = grid.boundary.extent
    y = (ymin + ymax) / 2
    width = xmax - xmin
    return [[xmin + width * (0.5 + i / 10), y, (start + dt.timedelta(minutes=i)).isoformat(), 5] for i in range(steps)]


def test_patrol_measures_distance_and_time_inside_the_grid(client, worker, grid2):
    client.force_login(worker)
    start = timezone.now() - dt.timedelta(minutes=30)
    r = _post(client, reverse("field:m-api-patrol-start"), {"at": start.isoformat()}, key="patrol-start-1")
    assert r.status_code == 201
    patrol_id = r.json()["id"]
    # From the middle eastwards: 5 steps inside, then 5 more beyond the east edge (the neighbour grid).
    points = _track(grid2, start, 11)
    url = reverse("field:m-api-patrol-points", args=[patrol_id])
    r = _post(client, url, {"points": json.dumps(points)}, key="points-batch-1")
    assert r.status_code == 201 and r.json()["added"] == 11
    # The same batch again (lost answer): nothing added twice.
    r = _post(client, url, {"points": json.dumps(points)}, key="points-batch-2")
    assert r.json()["added"] == 0

    item = PatrolChecklistItem.objects.create(grid=grid2, title="消防通道是否畅通")
    r = _post(client, reverse("field:m-api-patrol-check", args=[patrol_id]), {"item": item.pk})
    assert r.status_code == 201 and PatrolCheck.objects.filter(patrol_id=patrol_id, item=item).exists()

    r = _post(client, reverse("field:m-api-patrol-stop", args=[patrol_id]), {}, key="patrol-stop-1")
    body = r.json()
    assert r.status_code == 201 and body["state"] == "done"
    patrol = Patrol.objects.get(pk=patrol_id)
    # Width of the grid in metres on the spheroid, measured independently of the patrol code.
    from django.db import connection

    xmin, ymin, xmax, ymax = grid2.boundary.extent
    y = (ymin + ymax) / 2
    with connection.cursor() as c:
        c.execute("SELECT ST_Distance(ST_MakePoint(%s,%s)::geography, ST_MakePoint(%s,%s)::geography)", [xmin, y, xmax, y])
        width_m = c.fetchone()[0]
    assert patrol.distance_m == pytest.approx(width_m, rel=0.01)  # ten steps of a tenth
    assert patrol.inside_distance_m == pytest.approx(width_m / 2, rel=0.01)  # half of it inside
    assert patrol.inside_seconds == pytest.approx(5 * 60, abs=1)  # five of the ten minutes
    assert patrol.points_count == 11
    assert track_figures(patrol).inside_distance_m == pytest.approx(patrol.inside_distance_m)


def test_a_long_gap_in_the_track_is_not_counted(worker, grid2):
    from grid import services

    start = timezone.now() - dt.timedelta(hours=2)
    patrol = services.patrol_start(user=worker, at=start)
    pts = _track(grid2, start, 3)
    pts[2][2] = (start + dt.timedelta(minutes=90)).isoformat()  # page closed for an hour and a half
    services.patrol_add_points(
        patrol=patrol, by=worker,
        points=[(Point(x, y, srid=4326), dt.datetime.fromisoformat(t), a) for x, y, t, a in pts],
    )
    patrol = services.patrol_stop(patrol=patrol, by=worker)
    assert patrol.inside_seconds == pytest.approx(60, abs=1)


def test_someone_elses_patrol_is_404(client, worker, grid2, chunhui):
    from org.models import Role
    from grid import services
    from grid.models import GridWorker

    patrol = services.patrol_start(user=worker)
    other = make_user("gw_mallory", Role.GRIDWORKER, region=chunhui)
    services.gridworker_assign(user=other, grid=grid2, kind=GridWorker.Kind.VOLUNTEER)
    client.force_login(other)
    r = _post(client, reverse("field:m-api-patrol-stop", args=[patrol.pk]), {})
    assert r.status_code == 404
    patrol.refresh_from_db()
    assert patrol.state == "active"


def test_old_idempotency_answers_are_pruned(client, worker, grid2):
    from grid.models import MobileSubmission
    from grid.tasks import prune_mobile_submissions

    client.force_login(worker)
    p = inside(grid2)
    for key in ("prune-key-old", "prune-key-new"):
        assert _post(client, reverse("field:m-api-checkin"), {"lon": p.x, "lat": p.y}, key=key).status_code == 201
    MobileSubmission.objects.filter(key="prune-key-old").update(created_at=timezone.now() - dt.timedelta(days=31))
    assert prune_mobile_submissions() == 1
    assert list(MobileSubmission.objects.filter(user=worker).values_list("key", flat=True)) == ["prune-key-new"]


def test_locate_says_which_grid_and_refuses_department_staff(client, worker, grid2, cg_staff):
    client.force_login(worker)
    p = inside(grid2)
    r = client.get(reverse("field:m-api-locate"), {"lon": p.x, "lat": p.y})
    assert r.status_code == 200 and r.json()["grid"] == grid2.code
    r = client.get(reverse("field:m-api-locate"), {"lon": "119.9", "lat": "31.81"})
    assert r.json()["grid"] is None and "最近的社区" in r.json()["message"]
    client.force_login(cg_staff)
    assert client.get(reverse("field:m-api-locate"), {"lon": p.x, "lat": p.y}).status_code == 403


@pytest.mark.parametrize("at", ["2026-02-30T08:00:00+08:00", "2026-11-01T25:00:00+08:00", "2026-11-01T08:00:00", "刚才"])
def test_impossible_or_naive_times_from_the_phone_are_a_400(client, worker, grid2, category, at):
    client.force_login(worker)
    p = inside(grid2)
    checkin = _post(client, reverse("field:m-api-checkin"), {"lon": p.x, "lat": p.y, "at": at}, key="bad-time-checkin")
    assert checkin.status_code == 400 and checkin.json()["detail"]
    report = _post(client, reverse("field:m-api-report"), {"category": category.pk, "description": "垃圾", "lon": p.x, "lat": p.y, "at": at},
                   key="bad-time-report")
    assert report.status_code == 400 and report.json()["detail"]
    assert not CheckIn.objects.filter(user=worker).exists()
