"""Licence anomalies and group rental at their edges."""

import datetime as dt

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from alerts.models import RuleKind
from org.models import Region
from datahub.models import Dwelling, Enterprise, Licence

from .conftest import rule

pytestmark = pytest.mark.django_db

CODE = "91329900MA1LIC0001"


def detect(kind, **params):
    r = rule(kind)
    now = timezone.now()
    return r.detector.detect(r, r.detector.params(params), since=now - dt.timedelta(days=1), until=now)


def enterprise(status="operating"):
    return Enterprise.objects.create(
        credit_code=CODE, name="江海测试化工有限公司", status=status, location=Point(120.15, 32.05, srid=4326),
        region=Region.objects.get(code="329902000000"), updated_at=timezone.now(),
    )


def licence(number, *, valid_to, status="valid", kind="危险化学品经营许可证"):
    return Licence.objects.create(
        licence_type=kind, number=number, holder_credit_code=CODE, valid_from=valid_to - dt.timedelta(days=1000),
        valid_to=valid_to, status=status, updated_at=timezone.now(),
    )


@pytest.mark.parametrize(("days_left", "flagged"), [(0, False), (-1, True)])
def test_expired_licence_edge(city, days_left, flagged):
    """A licence valid until today is still valid; one that ended yesterday has expired."""
    enterprise()
    licence("L-1", valid_to=timezone.localdate() + dt.timedelta(days=days_left))
    found = detect(RuleKind.LICENCE)
    assert bool(found) is flagged
    if flagged:
        assert found[0].subject == CODE and found[0].evidence["licences"][0]["problem"] == "expired"


def test_revoked_licence(city):
    enterprise("rectifying")
    licence("L-2", valid_to=timezone.localdate() + dt.timedelta(days=300), status="revoked")
    (f,) = detect(RuleKind.LICENCE)
    assert f.evidence["licences"][0]["problem"] == "revoked" and f.region_code == "329902000000"


def test_a_renewed_licence_clears_the_old_one(city):
    enterprise()
    licence("L-old", valid_to=timezone.localdate() - dt.timedelta(days=30))
    licence("L-new", valid_to=timezone.localdate() + dt.timedelta(days=700))
    assert detect(RuleKind.LICENCE) == []


def test_a_deregistered_enterprise_is_not_operating(city):
    enterprise("deregistered")
    licence("L-3", valid_to=timezone.localdate() - dt.timedelta(days=30))
    assert detect(RuleKind.LICENCE) == []


def dwelling(code, *, residents, rooms, area):
    return Dwelling.objects.create(
        code=code, address=f"春晖小区{code}", location=Point(120.15, 32.05, srid=4326), area_m2=area,
        registered_residents=residents, rooms=rooms, updated_at=timezone.now(),
    )


@pytest.mark.parametrize(("residents", "flagged"), [(4, False), (5, True)])
def test_group_rental_residents_per_room(city, residents, flagged):
    dwelling("D1", residents=residents, rooms=2, area=200)
    assert bool(detect(RuleKind.GROUP_RENTAL)) is flagged


@pytest.mark.parametrize(("area", "flagged"), [(50.0, False), (49.9, True)])
def test_group_rental_area_per_person(city, area, flagged):
    """10 residents on 50 m² is exactly 5 m² each: allowed; 49.9 m² is under."""
    dwelling("D2", residents=10, rooms=None, area=area)
    found = detect(RuleKind.GROUP_RENTAL)
    assert bool(found) is flagged
    if flagged:
        assert found[0].evidence["m2_per_person"] == 4.99
