"""Each vehicle rule at its edges: 29 vs 31 minutes, 499 vs 501 m, window boundaries, 80/81 and 60/61 km/h."""

import datetime as dt

import pytest
from django.contrib.gis.geos import LineString, MultiLineString

from alerts.models import Expressway, RuleKind

from .conftest import ROUTE, add_positions, at, day_range, offset_north, rule, track

pytestmark = pytest.mark.django_db


def detect(kind, **params):
    r = rule(kind)
    since, until = day_range()
    return r.detector.detect(r, r.detector.params(params), since=since, until=until)


# ---- abnormal stop -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "flagged"), [(29, False), (31, True)])
def test_long_stop_edge(vehicle, minutes, flagged):
    add_positions(vehicle.plate, track(at(10), 600, lon=120.12, lat=32.05, speed=50, dlon=0.001))
    add_positions(vehicle.plate, track(at(10, 10, 10), minutes * 60, lon=120.15, lat=32.05, speed=0))
    add_positions(vehicle.plate, track(at(10, 10, 20) + dt.timedelta(minutes=minutes), 300, lon=120.15, lat=32.05, speed=45, dlon=0.001))
    found = detect(RuleKind.LONG_STOP)
    assert bool(found) is flagged
    if flagged:
        (f,) = found
        assert f.subject == vehicle.plate and f.evidence["minutes"] == 31
        assert f.window_start == at(10, 10, 10) and f.evidence["points"]


def test_a_long_stop_at_a_registered_site_is_no_alert(vehicle):
    add_positions(vehicle.plate, track(at(9), 45 * 60, lon=120.1005, lat=32.0502, speed=0))  # ~50 m from the depot
    assert detect(RuleKind.LONG_STOP) == []


def test_a_long_stop_at_the_carriers_premises_is_no_alert(vehicle):
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from datahub.models import Enterprise

    Enterprise.objects.create(credit_code="91329900MA1TEST001", name="承运企业", location=Point(120.16, 32.05, srid=4326),
                              updated_at=timezone.now())
    vehicle.carrier_credit_code = "91329900MA1TEST001"
    vehicle.save()
    add_positions(vehicle.plate, track(at(9), 45 * 60, lon=120.1601, lat=32.05, speed=0))
    assert detect(RuleKind.LONG_STOP) == []


# ---- route deviation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("metres", "flagged"), [(499, False), (501, True)])
def test_route_deviation_distance_edge(vehicle, metres, flagged):
    lon, lat = offset_north(120.15, 32.05, metres)
    add_positions(vehicle.plate, track(at(11), 600, lon=120.12, lat=32.05, speed=50))
    add_positions(vehicle.plate, track(at(11, 10, 10), 8 * 60, lon=lon, lat=lat, speed=40))
    add_positions(vehicle.plate, track(at(11, 18, 20), 300, lon=120.17, lat=32.05, speed=50))
    found = detect(RuleKind.ROUTE_DEVIATION)
    assert bool(found) is flagged
    if flagged:
        assert found[0].evidence["max_distance_m"] == 501


@pytest.mark.parametrize(("seconds", "flagged"), [(290, False), (310, True)])
def test_route_deviation_duration_edge(vehicle, seconds, flagged):
    lon, lat = offset_north(120.15, 32.05, 800)
    add_positions(vehicle.plate, track(at(11), 300, lon=120.12, lat=32.05, speed=50))
    add_positions(vehicle.plate, track(at(11, 6), seconds, lon=lon, lat=lat, speed=40))
    add_positions(vehicle.plate, track(at(11, 20), 300, lon=120.17, lat=32.05, speed=50))
    assert bool(detect(RuleKind.ROUTE_DEVIATION)) is flagged


# ---- banned hours ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "flagged"),
    [(at(0, 0, 0), True), (at(5, 59, 50), True), (at(6, 0, 0), False), (at(23, 59, 50) - dt.timedelta(days=1), False)],
)
def test_banned_window_boundaries(vehicle, moment, flagged):
    """00:00 is inside the default 00:00–06:00 window, 06:00 is not (the vehicle's own permit allows the whole day)."""
    add_positions(vehicle.plate, [(moment, 120.15, 32.05, 40)])
    r = rule(RuleKind.BANNED_HOURS)
    since = at(0) - dt.timedelta(days=1)
    found = r.detector.detect(r, r.settings(), since=since, until=at(0) + dt.timedelta(days=1))
    assert bool(found) is flagged


def test_standing_still_in_the_window_is_allowed(vehicle):
    add_positions(vehicle.plate, track(at(2), 600, lon=120.15, lat=32.05, speed=0))
    assert detect(RuleKind.BANNED_HOURS) == []


@pytest.mark.parametrize(("moment", "flagged"), [(at(21, 59, 50), False), (at(22, 0, 0), True), (at(8, 0, 0), False)])
def test_outside_the_vehicles_permitted_hours(vehicle, moment, flagged):
    vehicle.permitted_start, vehicle.permitted_end = dt.time(6, 0), dt.time(22, 0)
    vehicle.save()
    add_positions(vehicle.plate, [(moment, 120.15, 32.05, 40)])
    found = detect(RuleKind.BANNED_HOURS)
    assert bool(found) is flagged
    if flagged:
        assert found[0].evidence["permitted"] == "06:00–22:00"


def test_banned_area_limits_the_window(vehicle):
    add_positions(vehicle.plate, [(at(1), 120.15, 32.05, 40)])  # in 江城区
    assert detect(RuleKind.BANNED_HOURS, region_codes=["329903000000"]) == []  # only 海港区 is banned
    assert len(detect(RuleKind.BANNED_HOURS, region_codes=["329902000000"])) == 1


# ---- overspeed -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("speed", "flagged"), [(60, False), (61, True)])
def test_overspeed_on_ordinary_roads(vehicle, speed, flagged):
    add_positions(vehicle.plate, track(at(14), 120, lon=120.15, lat=32.05, speed=speed))
    assert bool(detect(RuleKind.OVERSPEED)) is flagged


@pytest.mark.parametrize(("speed", "flagged"), [(80, False), (81, True)])
def test_overspeed_on_expressways(vehicle, speed, flagged):
    Expressway.objects.create(name="测试快速路", geometry=MultiLineString(LineString(ROUTE, srid=4326), srid=4326))
    add_positions(vehicle.plate, track(at(14), 120, lon=120.15, lat=32.0501, speed=speed))  # ~11 m from the centre line
    found = detect(RuleKind.OVERSPEED)
    assert bool(found) is flagged
    if flagged:
        assert found[0].evidence["limit_kmh"] == 80 and found[0].evidence["expressway"] is True
