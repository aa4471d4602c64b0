"""Fixtures of the alerts tests: vehicles on a known route, positions written straight into the partitioned
table, and helpers to place points a given number of metres from the route (on the spheroid, like the rules)."""

import datetime as dt

import pytest
from django.contrib.gis.geos import LineString, MultiPoint, Point
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.models import AlertRule
from org.models import Department, Role
from datahub.models import HazmatVehicle
from datahub.partitions import ensure_position_partitions
from tests.conftest import make_user

# A day of their own for these tests (positions persist in day partitions created outside the test transaction).
DAY = dt.date(2030, 6, 10)
TZ = timezone.get_fixed_timezone(8 * 60)
ROUTE = [(120.10, 32.05), (120.15, 32.05), (120.20, 32.05)]  # east–west in 江城区; a vertex where the edge tests stand
DEPOT = (120.10, 32.05)


def at(hh, mm=0, ss=0, day=DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm, ss), tzinfo=TZ)


def offset_north(lon, lat, metres) -> tuple[float, float]:
    """The point `metres` north of (lon, lat) on the WGS 84 spheroid (PostGIS ST_Project)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_X(g::geometry), ST_Y(g::geometry) FROM ST_Project(ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, 0) g",
            [lon, lat, metres],
        )
        return cursor.fetchone()


def add_positions(plate, rows):
    """rows: (time, lon, lat, speed)."""
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO datahub_vehicle_position (plate, recorded_at, point, speed_kmh) "
            "VALUES (%s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s)",
            [(plate, t, lon, lat, speed) for t, lon, lat, speed in rows],
        )


def track(start, seconds, *, lon, lat, speed, step=10, dlon=0.0):
    """Positions every `step` s for `seconds` (both ends included), moving east by dlon per step."""
    return [(start + dt.timedelta(seconds=i), lon + dlon * (i // step), lat, speed) for i in range(0, seconds + 1, step)]


@pytest.fixture(autouse=True)
def _partitions():
    ensure_position_partitions([DAY, DAY + dt.timedelta(days=1), DAY - dt.timedelta(days=1)])


@pytest.fixture
def vehicle(db):
    return HazmatVehicle.objects.create(
        plate="苏H12345", carrier_name="江海安达危化品运输有限公司", carrier_credit_code="", goods_class="3",
        route=LineString(ROUTE, srid=4326), sites=MultiPoint(Point(*DEPOT, srid=4326), srid=4326),
        permitted_start=dt.time(0, 0), permitted_end=dt.time(0, 0), updated_at=timezone.now(),
    )


def rule(kind) -> AlertRule:
    return AlertRule.objects.filter(kind=kind).order_by("code").first()


def day_range():
    return at(0), at(0) + dt.timedelta(days=1)


@pytest.fixture
def jc_cg(city):
    """江城区城市管理局."""
    return Department.objects.get(code="329902-CG")


@pytest.fixture
def jc_staff(jc_cg):
    return make_user("jc_staff", Role.DEPARTMENT_STAFF, department=jc_cg)


@pytest.fixture
def leader(jiangcheng):
    return make_user("jc_leader_t", Role.LEADER, region=jiangcheng)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client
