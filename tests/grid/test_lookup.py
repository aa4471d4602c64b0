"""Point → grid: the boundary rule, a point outside every grid, and the bulk lookup agreeing with it."""

import pytest
from django.contrib.gis.geos import Point

from grid.models import Grid
from grid.selectors import grid_at, grid_ids_for_points, locate

pytestmark = pytest.mark.django_db


def _shared_vertex(a: Grid, b: Grid) -> Point:
    coords = a.boundary.intersection(b.boundary).coords
    while not isinstance(coords[0], float):  # a point, a line or several lines: take the first vertex
        coords = coords[0]
    return Point(coords[0], coords[1], srid=4326)


def test_point_on_a_shared_edge_belongs_to_the_lowest_code(grid2, chunhui):
    first = Grid.objects.filter(community=chunhui).order_by("code").first()
    neighbour = Grid.objects.filter(boundary__touches=first.boundary).exclude(pk=first.pk).order_by("-code").first()
    point = _shared_vertex(first, neighbour)
    covering = list(Grid.objects.filter(boundary__covers=point).values_list("code", flat=True))
    assert len(covering) >= 2, "the point must really lie on a shared boundary"
    assert grid_at(point).code == min(covering) == first.code
    assert locate(point).grid.code == first.code


def test_corner_of_four_grids_still_gives_exactly_one(chunhui):
    grids = list(Grid.objects.filter(community=chunhui).order_by("code"))
    corner = None
    for g in grids:
        for x, y in g.boundary[0][0].coords:
            p = Point(x, y, srid=4326)
            if Grid.objects.filter(boundary__covers=p).count() == 4:
                corner = p
                break
        if corner:
            break
    assert corner is not None
    codes = sorted(Grid.objects.filter(boundary__covers=corner).values_list("code", flat=True))
    assert grid_at(corner).code == codes[0]
    assert grid_ids_for_points([(corner.x, corner.y)]) == [Grid.objects.get(code=codes[0]).pk]


def test_point_outside_every_grid_goes_to_the_nearest_community_with_a_message(city):
    # West of the city (the city's south-west corner is 120.0, 31.8): nearest is the west-most community there.
    point = Point(119.95, 31.81, srid=4326)
    where = locate(point)
    assert where.grid is None and not where.inside_grid
    nearest = where.community
    assert nearest is not None and nearest.level == 4
    assert nearest.name in where.message and "网格" in where.message
    # It is really the nearest: no other community is closer.
    from django.contrib.gis.db.models.functions import Distance

    from org.models import Region

    closest = Region.objects.filter(level=4).annotate(d=Distance("boundary", point)).order_by("d").first()
    assert closest == nearest


def test_bulk_lookup_agrees_with_grid_at(city):
    points = [(120.0 + i * 0.013, 31.8 + i * 0.0071) for i in range(40)] + [(119.0, 30.0)]
    ids = grid_ids_for_points(points)
    for (x, y), grid_id in zip(points, ids):
        grid = grid_at(Point(x, y, srid=4326))
        assert grid_id == (grid.pk if grid else None)
    assert ids[-1] is None
