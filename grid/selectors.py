from django.contrib.gis.geos import Point

from .models import Grid


def grid_at(point: Point) -> Grid | None:
    """The grid covering `point`. On a shared boundary both grids cover it; the lowest code wins."""
    return Grid.objects.filter(boundary__covers=point).select_related("community").order_by("code").first()
