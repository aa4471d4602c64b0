import pytest
from django.contrib.gis.geos import Point

from org.models import Role
from grid.models import Grid, GridWorker
from grid.services import gridworker_assign
from tests.conftest import make_user


@pytest.fixture
def grid2(chunhui):
    """春晖社区's second grid, which has no full-time worker in the demo."""
    return Grid.objects.filter(community=chunhui).order_by("code")[1]


@pytest.fixture
def worker(grid2, chunhui):
    """A full-time grid worker of grid2."""
    user = make_user("gw_bob", Role.GRIDWORKER, region=chunhui, display_name="鲍网格员")
    gridworker_assign(user=user, grid=grid2, kind=GridWorker.Kind.FULL_TIME)
    return user


@pytest.fixture
def category(city):
    from tickets.models import Category

    return Category.objects.filter(parent__isnull=False, is_active=True, name="暴露垃圾").first()


def inside(grid, dx=0.3, dy=0.3) -> Point:
    """A point well inside a (rectangular) grid: fractions dx, dy of its extent from the south-west corner."""
    xmin, ymin, xmax, ymax = grid.boundary.extent
    return Point(xmin + (xmax - xmin) * dx, ymin + (ymax - ymin) * dy, srid=4326)
