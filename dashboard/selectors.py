"""Reads for the wall besides its live state: grid boundaries, grid workers' positions, the department ranking."""

import datetime as dt
import json

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db.models import F, Func
from django.utils import timezone

from org.models import Region
from org.permissions import visible
from grid.models import Grid, Patrol, PatrolPoint

from . import stats

SIMPLIFY_DEGREES = 0.00005  # ~5 m: invisible on a wall, a fraction of the bytes


class SimplifyPreserveTopology(Func):
    function = "ST_SimplifyPreserveTopology"
    output_field = Grid._meta.get_field("boundary")


def grid_boundaries(user) -> dict:
    """The grids of the user's scope as GeoJSON, feature id = grid id (the wall shades them by open tickets),
    with the next level of regions below the wall's region (districts of a city, …) as outlines with names."""
    region = stats.wall_region(user)
    rows = (
        visible(Grid.objects.all(), user)
        .annotate(geometry=AsGeoJSON(SimplifyPreserveTopology(F("boundary"), SIMPLIFY_DEGREES), precision=5))
        .values_list("pk", "code", "name", "geometry")
        .order_by("code")
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": pk, "geometry": json.loads(geometry), "properties": {"code": code, "name": name}}
            for pk, code, name, geometry in rows
        ],
        "regions": region_outlines(region),
    }


def region_outlines(region: Region | None) -> dict:
    """The regions one level below `region` (districts of a city, towns of a district, communities of a town) as
    GeoJSON outlines, feature id = region code, with their names."""
    children = Region.objects.filter(parent=region, boundary__isnull=False) if region else Region.objects.none()
    outlines = (
        children.annotate(geometry=AsGeoJSON(SimplifyPreserveTopology(F("boundary"), SIMPLIFY_DEGREES * 4), precision=5))
        .values_list("code", "name", "geometry").order_by("code")
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": code, "geometry": json.loads(geometry), "properties": {"name": name}}
            for code, name, geometry in outlines
        ],
    }


def worker_positions(user) -> list[dict]:
    """Latest point of every grid worker now on patrol in the user's scope."""
    active = visible(Patrol.objects.filter(state=Patrol.State.ACTIVE), user)
    points = (
        PatrolPoint.objects.filter(patrol__in=active)
        .order_by("patrol_id", "-recorded_at")
        .distinct("patrol_id")
        .values_list("patrol__user__first_name", "patrol__user__username", "patrol__grid__name", "location", "recorded_at")
    )
    return [
        {"name": first or username, "grid": grid, "lon": round(loc.x, 6), "lat": round(loc.y, 6), "at": at.isoformat()}
        for first, username, grid, loc, at in points
    ]


def department_ranking(user, *, days: int = 30, limit: int = 10) -> list[dict]:
    """Top departments by composite score over the last `days` days in the user's region."""
    region = stats.wall_region(user)
    if region is None:
        return []
    today = timezone.localdate()
    f = stats.StatsFilter(start=today - dt.timedelta(days=days - 1), end=today, region=region)
    return [
        {"name": r["name"], "score": r["score"], "volume": r["volume"]}
        for r in stats.by_department(f, user)[:limit]
    ]
