"""Reads of the grid app: point → grid, rosters, patrol figures and grid-worker performance.

Never imports `tickets` (layering: org ← grid ← tickets); figures that need tickets are combined
one layer up, in `grid/stats.py`, which only pages call.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext as _

from org.models import Region

from .models import CheckIn, Grid, GridWorker, Patrol, PatrolChecklistItem

# A gap between two track points longer than this means the page was closed: the segment is not counted.
TRACK_GAP_SECONDS = 300


# The point → grid rule in one indexed statement: covers (a point on a boundary matches every grid that
# shares it), then the lowest code. Written out because compiling the ORM query cost more than running it.
_GRID_AT_SQL = """
SELECT id, code, name, kind, community_id, region_path, households, population
FROM grid_grid
WHERE ST_Covers(boundary, ST_SetSRID(ST_MakePoint(%s, %s), 4326))
ORDER BY code
LIMIT 1
"""


def grid_at(point: Point) -> Grid | None:
    """The grid covering `point`. On a shared boundary both grids cover it; the lowest code wins.

    The boundary and station are deferred (loaded only if read); `grid.community` is one query when used.
    """
    if point.srid not in (None, 4326):
        point = point.transform(4326, clone=True)
    rows = list(Grid.objects.raw(_GRID_AT_SQL, [point.x, point.y]))
    return rows[0] if rows else None


@dataclass(frozen=True)
class Location:
    """Where a point falls: its grid (None outside every grid) and the community it is handled by."""

    point: Point
    grid: Grid | None
    community: Region | None
    message: str = ""

    @property
    def inside_grid(self) -> bool:
        return self.grid is not None


def nearest_community(point: Point) -> Region | None:
    """The community whose boundary is closest to `point` (metres on the sphere)."""
    return (
        Region.objects.filter(level=Region.Level.COMMUNITY, boundary__isnull=False)
        .annotate(distance=Distance("boundary", point))
        .order_by("distance", "code")
        .first()
    )


def locate(point: Point) -> Location:
    """Point → grid and community. Outside every grid the nearest community takes it, and the message says so."""
    grid = grid_at(point)
    if grid is not None:
        return Location(point=point, grid=grid, community=grid.community)
    community = nearest_community(point)
    if community is None:
        return Location(point=point, grid=None, community=None, message=_("This place is outside every grid and community."))
    return Location(
        point=point,
        grid=None,
        community=community,
        message=_("This place is outside every grid; it goes to the nearest community, %(name)s.") % {"name": community.name},
    )


_BULK_SQL = """
SELECT p.i, (
    SELECT g.id FROM grid_grid g
    WHERE ST_Covers(g.boundary, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
    ORDER BY g.code LIMIT 1
)
FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(lon, lat, i)
ORDER BY p.i
"""


def grid_ids_for_points(coords: list[tuple[float, float]]) -> list[int | None]:
    """Grid id (same rule as `grid_at`) for each (lon, lat), in one round trip per call."""
    if not coords:
        return []
    lons = [c[0] for c in coords]
    lats = [c[1] for c in coords]
    with connection.cursor() as cursor:
        cursor.execute(_BULK_SQL, [lons, lats])
        return [row[1] for row in cursor.fetchall()]


def full_time_worker(grid: Grid):
    """The user who works `grid` full-time (一人一格), or None."""
    worker = (
        GridWorker.objects.filter(grid=grid, kind=GridWorker.Kind.FULL_TIME, is_active=True).select_related("user").first()
    )
    return worker.user if worker else None


def grid_of_worker(user) -> Grid | None:
    """The grid a grid worker is active in, or None."""
    worker = GridWorker.objects.filter(user=user, is_active=True).select_related("grid", "grid__community").first()
    return worker.grid if worker else None


def roster_of(grid: Grid) -> list[GridWorker]:
    """Active workers of a grid: the full-time worker first, then the grid head, the others and the 1+N helpers."""
    order = {kind: i for i, kind in enumerate(GridWorker.Kind.values)}
    workers = list(GridWorker.objects.filter(grid=grid, is_active=True).select_related("user"))
    return sorted(workers, key=lambda w: (order[w.kind], w.user.username))


def checklist_for(grid: Grid) -> list[PatrolChecklistItem]:
    return list(PatrolChecklistItem.objects.filter(grid=grid, is_active=True).order_by("position", "id"))


def active_patrol(user) -> Patrol | None:
    return Patrol.objects.filter(user=user, state=Patrol.State.ACTIVE).select_related("grid").first()


_TRACK_SQL = """
WITH pts AS (
    SELECT location, recorded_at,
           LAG(location) OVER w AS prev_location,
           LAG(recorded_at) OVER w AS prev_at
    FROM grid_patrolpoint WHERE patrol_id = %s
    WINDOW w AS (ORDER BY recorded_at)
), segs AS (
    SELECT ST_MakeLine(prev_location, location) AS seg, prev_location,
           EXTRACT(EPOCH FROM recorded_at - prev_at) AS seconds
    FROM pts WHERE prev_location IS NOT NULL
), measured AS (
    SELECT s.seconds, s.prev_location,
           ST_Length(s.seg::geography) AS metres,
           ST_Length(ST_Intersection(s.seg, g.boundary)::geography) AS inside_metres
    FROM segs s, grid_grid g
    WHERE g.id = %s AND s.seconds <= %s
)
SELECT
    COALESCE(SUM(metres), 0),
    COALESCE(SUM(inside_metres), 0),
    COALESCE(SUM(CASE
        WHEN metres > 0 THEN seconds * LEAST(inside_metres / metres, 1)
        WHEN ST_Covers((SELECT boundary FROM grid_grid WHERE id = %s), prev_location) THEN seconds
        ELSE 0 END), 0),
    (SELECT COUNT(*) FROM grid_patrolpoint WHERE patrol_id = %s)
FROM measured
"""


@dataclass(frozen=True)
class TrackFigures:
    distance_m: float
    inside_distance_m: float
    inside_seconds: float
    points: int


def track_figures(patrol: Patrol) -> TrackFigures:
    """Distance walked, distance and time inside the patrol's grid (PostGIS geography: metres on the spheroid).

    Time inside: each segment's duration × the share of its length inside the grid; a worker standing
    still counts where they stand. Segments across a gap longer than TRACK_GAP_SECONDS are left out.
    """
    with connection.cursor() as cursor:
        cursor.execute(_TRACK_SQL, [patrol.pk, patrol.grid_id, TRACK_GAP_SECONDS, patrol.grid_id, patrol.pk])
        distance, inside, seconds, points = cursor.fetchone()
    return TrackFigures(float(distance), float(inside), float(seconds), int(points))


def track_geojson(patrol: Patrol) -> dict:
    coords = [[p.x, p.y] for p in patrol.points.order_by("recorded_at").values_list("location", flat=True)]
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords}, "properties": {"id": patrol.pk}}


def recent_check_ins(user, *, limit: int = 10):
    return list(CheckIn.objects.filter(user=user).select_related("grid").order_by("-at")[:limit])


def _seconds(duration: dt.timedelta | None) -> float:
    return duration.total_seconds() if duration else 0.0


def _weekday(day: dt.date) -> bool:
    return day.weekday() < 5


@dataclass
class WorkerFigures:
    user_id: int
    username: str
    name: str
    grid_id: int
    grid_code: str
    grid_name: str
    community: str
    kind: str
    patrols: int = 0
    patrol_hours: float = 0.0
    inside_hours: float = 0.0
    inside_km: float = 0.0
    distance_km: float = 0.0
    check_in_days: int = 0
    expected_days: int = 0

    @property
    def check_in_rate(self) -> float | None:
        return round(self.check_in_days / self.expected_days, 3) if self.expected_days else None


def worker_figures(
    workers_qs, *, since: dt.date, until: dt.date, is_workday: Callable[[dt.date], bool] = _weekday
) -> list[WorkerFigures]:
    """Patrol and check-in figures per active worker in [since, until] (dates in the active time zone).

    Check-in compliance = working days with at least one check-in inside the grid / working days in the
    period, for full-time workers. `is_workday` defaults to Mon–Fri; pages pass the tickets calendar
    (holidays and 调休), which this layer may not import. Four queries whatever the number of workers.
    """
    from django.utils import timezone

    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(since, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    workers = list(workers_qs.filter(is_active=True).select_related("user", "grid", "grid__community"))
    user_ids = [w.user_id for w in workers]
    patrols = {
        row["user_id"]: row
        for row in Patrol.objects.filter(user_id__in=user_ids, state=Patrol.State.DONE, started_at__gte=start, started_at__lt=end)
        .values("user_id")
        .annotate(
            n=Count("id"),
            inside_s=Sum("inside_seconds"),
            inside_m=Sum("inside_distance_m"),
            dist_m=Sum("distance_m"),
            duration=Sum(F("ended_at") - F("started_at")),
        )
    }
    check_days: dict[int, set] = {}
    for user_id, at in CheckIn.objects.filter(user_id__in=user_ids, inside_grid=True, at__gte=start, at__lt=end).values_list(
        "user_id", "at"
    ):
        check_days.setdefault(user_id, set()).add(timezone.localtime(at, tz).date())
    workdays = {since + dt.timedelta(days=i) for i in range((until - since).days + 1)}
    workdays = {day for day in workdays if is_workday(day)}
    expected = len(workdays)
    result = []
    for w in workers:
        p = patrols.get(w.user_id, {})
        result.append(
            WorkerFigures(
                user_id=w.user_id,
                username=w.user.username,
                name=str(w.user),
                grid_id=w.grid_id,
                grid_code=w.grid.code,
                grid_name=w.grid.name,
                community=w.grid.community.name,
                kind=w.kind,
                patrols=p.get("n", 0),
                patrol_hours=round(_seconds(patrols.get(w.user_id, {}).get("duration")) / 3600, 2),
                inside_hours=round((p.get("inside_s") or 0) / 3600, 2),
                inside_km=round((p.get("inside_m") or 0) / 1000, 3),
                distance_km=round((p.get("dist_m") or 0) / 1000, 3),
                check_in_days=len(check_days.get(w.user_id, set()) & workdays),
                expected_days=expected if w.kind == GridWorker.Kind.FULL_TIME else 0,
            )
        )
    return result


def grids_with_counts(grids_qs):
    """Grids with their number of active workers, for the map API."""
    return grids_qs.select_related("community").annotate(
        worker_count=Count("workers", filter=Q(workers__is_active=True))
    )
