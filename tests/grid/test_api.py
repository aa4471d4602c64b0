"""GeoJSON of grids with open-ticket counts, and grid-worker performance, both scoped."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from org.models import Region, Role
from grid import services
from grid.models import Grid
from tests.conftest import make_user

from .conftest import inside

pytestmark = pytest.mark.django_db


def _report(worker, grid, category, n=1):
    from tickets.models import Source
    from tickets.services import ticket_create

    return [
        ticket_create(by=worker, source=Source.GRID, category=category, title=f"垃圾{i}", description="路边垃圾",
                      location=inside(grid, 0.2 + i * 0.05, 0.5))
        for i in range(n)
    ]


def test_geojson_lists_grids_in_scope_with_open_ticket_counts(client, alice, worker, grid2, category, django_assert_max_num_queries):
    _report(worker, grid2, category, n=3)
    client.force_login(alice)
    with django_assert_max_num_queries(6):
        r = client.get(reverse("field:api-grids-geojson"), {"community": grid2.community.code})
    assert r.status_code == 200
    data = r.json()
    assert data["type"] == "FeatureCollection" and len(data["features"]) == Grid.objects.filter(community=grid2.community).count()
    by_code = {f["properties"]["code"]: f for f in data["features"]}
    from tickets.models import OPEN_STATES, Ticket

    expected = Ticket.objects.filter(grid=grid2, state__in=OPEN_STATES).count()
    assert expected >= 3
    assert by_code[grid2.code]["properties"]["open_tickets"] == expected
    assert by_code[grid2.code]["properties"]["workers"] == 1
    assert by_code[grid2.code]["geometry"]["type"] == "MultiPolygon"
    # The whole district in a handful of queries too.
    with django_assert_max_num_queries(6):
        r = client.get(reverse("field:api-grids-geojson"))
    jiangcheng = Region.objects.get(code="329902000000")
    assert len(r.json()["features"]) == Grid.objects.filter(region_path__startswith=jiangcheng.path).count()


def test_outsider_sees_none_of_another_districts_grids(client, charlie, grid2):
    client.force_login(charlie)
    r = client.get(reverse("field:api-grids-geojson"), {"community": grid2.community.code})
    assert r.status_code == 200 and r.json()["features"] == []
    codes = {f["properties"]["code"] for f in client.get(reverse("field:api-grids-geojson")).json()["features"]}
    assert codes and all(code.startswith("329903") for code in codes)


def test_department_staff_may_not_read_the_grid_map(client, cg_staff):
    client.force_login(cg_staff)
    assert client.get(reverse("field:api-grids-geojson")).status_code == 403


def test_bbox_must_be_four_numbers(client, alice):
    client.force_login(alice)
    r = client.get(reverse("field:api-grids-geojson"), {"bbox": "1,2,3"})
    assert r.status_code == 400


def test_performance_per_worker_grid_and_community(client, worker, grid2, category, jiangcheng, django_assert_max_num_queries):
    # Two reports, one cancelled (not valid); two check-ins inside on one weekday; one patrol.
    tickets = _report(worker, grid2, category, n=2)
    from tickets.models import Ticket

    Ticket.objects.filter(pk=tickets[0].pk).update(state="cancelled")
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    at = timezone.make_aware(dt.datetime.combine(monday, dt.time(9)))
    if at > timezone.now():
        at = timezone.now()
    services.checkin_record(user=worker, location=inside(grid2), at=at)
    services.checkin_record(user=worker, location=inside(grid2), at=at + dt.timedelta(minutes=5))
    patrol = services.patrol_start(user=worker, at=timezone.now() - dt.timedelta(minutes=10))
    services.patrol_add_points(patrol=patrol, by=worker, points=[
        (inside(grid2, 0.2, 0.5), timezone.now() - dt.timedelta(minutes=9), 5),
        (inside(grid2, 0.8, 0.5), timezone.now() - dt.timedelta(minutes=5), 5),
    ])
    services.patrol_stop(patrol=patrol, by=worker)

    leader = make_user("jc_boss", Role.LEADER, region=jiangcheng)
    client.force_login(leader)
    # Constant whatever the number of workers: session, user, region, 4 grid figures, 3 ticket figures, calendar.
    with django_assert_max_num_queries(12):
        r = client.get(reverse("field:api-performance"), {"since": monday.isoformat(), "until": today.isoformat()})
    assert r.status_code == 200
    row = next(x for x in r.json()["results"] if x["user"] == "gw_bob")
    assert row["reports"] == 2 and row["valid_reports"] == 1 and row["valid_report_rate"] == 0.5
    assert row["patrols"] == 1 and row["inside_km"] > 0 and row["patrol_hours"] > 0.1
    from tickets.calendar import is_workday

    workdays = [monday + dt.timedelta(days=i) for i in range((today - monday).days + 1)]
    assert row["expected_check_in_days"] == sum(1 for d in workdays if is_workday(d))  # holidays and 调休 count
    assert row["check_in_days"] == (1 if is_workday(monday) else 0)
    by_grid = client.get(reverse("field:api-performance"), {"since": monday.isoformat(), "group": "grid"}).json()["results"]
    assert next(x for x in by_grid if x["grid"] == grid2.code)["reports"] == 2
    by_community = client.get(reverse("field:api-performance"), {"since": monday.isoformat(), "group": "community"}).json()
    chunhui_rows = [x for x in r.json()["results"] if x["community"] == "春晖社区"]
    summed = next(x for x in by_community["results"] if x["community"] == "春晖社区")
    assert summed["workers"] == len(chunhui_rows) and summed["reports"] == sum(x["reports"] for x in chunhui_rows) >= 2


def test_performance_is_refused_to_grid_workers_and_scoped_for_outsiders(client, worker, charlie):
    client.force_login(worker)
    assert client.get(reverse("field:api-performance")).status_code == 403
    client.force_login(charlie)
    users = {x["user"] for x in client.get(reverse("field:api-performance")).json()["results"]}
    assert "gw_bob" not in users and "gridworker" not in users


def test_performance_rejects_bad_dates(client, alice):
    client.force_login(alice)
    assert client.get(reverse("field:api-performance"), {"since": "2026-13-01"}).status_code == 400
    assert client.get(reverse("field:api-performance"), {"since": "2026-05-01", "until": "2026-04-01"}).status_code == 400


def test_on_time_verification_rate(client, worker, grid2, category, jiangcheng):
    from tickets.services import ticket_verify

    from .test_pages import _ticket_to_verify, photo

    ticket = _ticket_to_verify(worker, grid2, category)
    ticket_verify(ticket=ticket, by=worker, passed=True, photo=photo(), version=ticket.version)
    client.force_login(make_user("jc_boss2", Role.LEADER, region=jiangcheng))
    today = timezone.localdate().isoformat()
    rows = client.get(reverse("field:api-performance"), {"since": today, "until": today}).json()["results"]
    row = next(x for x in rows if x["user"] == "gw_bob")
    assert row["verifications"] == 1 and row["on_time_verifications"] == 1 and row["on_time_verification_rate"] == 1.0
