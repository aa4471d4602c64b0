import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db.models import Sum
from django.contrib.gis.db.models import Union

from org.models import Department, Region, User
from grid.models import Grid
from grid.selectors import grid_at

pytestmark = pytest.mark.django_db


def counts():
    return (Region.objects.count(), Grid.objects.count(), Department.objects.count(), User.objects.count())


def test_load_demo_city_twice_duplicates_nothing(city):
    before = counts()
    call_command("load_demo_city", quiet=True, history_days=0)
    assert counts() == before
    assert before[:3] == (1 + 3 + 12 + 48, 480, 16 + 3 * 4 + 12 * 2)


def test_region_tree_shape(city):
    assert Region.objects.filter(level=Region.Level.DISTRICT, parent=city).count() == 3
    assert Region.objects.filter(level=Region.Level.TOWN).count() == 12
    assert Region.objects.filter(level=Region.Level.COMMUNITY).count() == 48
    community = Region.objects.filter(level=Region.Level.COMMUNITY).first()
    assert [r.level for r in community.ancestors()] == [1, 2, 3, 4]


def test_grids_tile_each_community_exactly(city):
    community = Region.objects.filter(level=Region.Level.COMMUNITY).order_by("code").first()
    union = Grid.objects.filter(community=community).aggregate(u=Union("boundary"))["u"]
    assert union.sym_difference(community.boundary).area < 1e-12
    assert all(len(code) == 15 and code.startswith(community.code) for code in Grid.objects.filter(community=community).values_list("code", flat=True))


def test_point_on_shared_grid_boundary_gets_the_lowest_code(city):
    first, second = Grid.objects.filter(community__level=4).order_by("code")[:2]
    shared = first.boundary.intersection(second.boundary)
    assert shared.length > 0  # they share an edge
    point = Point(shared.centroid.x, shared.centroid.y, srid=4326)
    assert grid_at(point) == first


def test_demo_users_have_every_role(city):
    from org.models import Role

    assert set(User.objects.values_list("role", flat=True)) >= set(Role.values)
    assert Grid.objects.aggregate(p=Sum("population"))["p"] > 300_000
