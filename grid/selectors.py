from django.contrib.gis.geos import Point

from .models import Grid


def grid_at(point: Point) -> Grid | None:
    """The grid covering `point`. On a shared boundary both grids cover it; the lowest code wins."""
    return Grid.objects.filter(boundary__covers=point).select_related("community").order_by("code").first()


def full_time_worker(grid: Grid):
    """The user who works `grid` full-time (一人一格), or None."""
    from .models import GridWorker

    worker = (
        GridWorker.objects.filter(grid=grid, kind=GridWorker.Kind.FULL_TIME, is_active=True).select_related("user").first()
    )
    return worker.user if worker else None


def grid_of_worker(user) -> Grid | None:
    """The grid a grid worker is active in, or None."""
    from .models import GridWorker

    worker = GridWorker.objects.filter(user=user, is_active=True).select_related("grid").first()
    return worker.grid if worker else None
