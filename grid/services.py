"""Writes of the grid app: roster changes, check-ins and patrols. Never imports `tickets`.

Each state change locks its row, saves with update_fields, leaves a history row where the domain
keeps one, and writes an outbox row in the same transaction.
"""

import datetime as dt

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from command_center.realtime.services import outbox_write

from . import selectors
from .models import CheckIn, Grid, GridWorker, GridWorkerChange, Patrol, PatrolCheck, PatrolChecklistItem, PatrolPoint

# Positions from a phone more than this far off are refused as wrong rather than stored.
MAX_CLOCK_SKEW = dt.timedelta(minutes=10)


def _check_point(location: Point) -> Point:
    if location is None or location.srid not in (None, 4326):
        raise ValidationError(_("The location must be a WGS 84 longitude/latitude."))
    if not (-180 <= location.x <= 180 and -90 <= location.y <= 90):
        raise ValidationError(_("The location is not a valid longitude/latitude."))
    location.srid = 4326
    return location


def _check_time(at: dt.datetime | None, *, now: dt.datetime) -> dt.datetime:
    if at is None:
        return now
    if timezone.is_naive(at):
        raise ValidationError(_("The time must carry a time zone."))
    if at > now + MAX_CLOCK_SKEW:
        raise ValidationError(_("The time is in the future; check the phone's clock."))
    return at


def _active_worker(user) -> GridWorker:
    worker = GridWorker.objects.filter(user=user, is_active=True).select_related("grid", "grid__community").first()
    if worker is None:
        raise ValidationError(_("You are not an active grid worker of any grid."))
    return worker


def _publish(*, topic: str, grid: Grid, data: dict) -> None:
    outbox_write(topic=topic, data={"grid": grid.code, **data}, region=grid.community)


# Roster ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def gridworker_assign(*, user, grid: Grid, kind: str, by=None, note: str = "") -> GridWorker:
    """Put `user` on `grid` as `kind`: joins, moves or changes kind, and keeps the change in the roster history.

    One full-time worker per grid (一人一格): a second one is refused with a clear message.
    """
    if kind not in GridWorker.Kind.values:
        raise ValidationError(_("Unknown kind of grid worker."))
    worker = GridWorker.objects.select_for_update().filter(user=user).first()
    if kind == GridWorker.Kind.FULL_TIME:
        taken = GridWorker.objects.filter(grid=grid, kind=kind, is_active=True).exclude(user=user)
        if taken.exists():
            raise ValidationError(_("This grid already has a full-time grid worker."))
    if worker is None:
        worker = GridWorker(user=user, grid=grid, kind=kind, is_active=True)
        try:
            with transaction.atomic():
                worker.save()
        except IntegrityError:
            raise ValidationError(_("This grid already has a full-time grid worker.")) from None
        action, from_grid, from_kind = GridWorkerChange.Action.JOINED, None, ""
    else:
        from_grid, from_kind, was_active = worker.grid, worker.kind, worker.is_active
        if was_active and worker.grid_id == grid.pk and worker.kind == kind:
            return worker
        if not was_active:
            action = GridWorkerChange.Action.JOINED
        elif worker.grid_id != grid.pk:
            action = GridWorkerChange.Action.MOVED
        else:
            action = GridWorkerChange.Action.KIND_CHANGED
        worker.grid, worker.kind, worker.is_active, worker.until = grid, kind, True, None
        if action != GridWorkerChange.Action.KIND_CHANGED:
            worker.since = timezone.localdate()
        try:
            with transaction.atomic():
                worker.save(update_fields=["grid", "kind", "is_active", "until", "since", "region_path"])
        except IntegrityError:
            raise ValidationError(_("This grid already has a full-time grid worker.")) from None
        if not was_active:
            from_grid, from_kind = None, ""
    GridWorkerChange.objects.create(
        worker=worker, action=action, from_grid=from_grid, to_grid=grid, from_kind=from_kind, to_kind=kind,
        by=by, note=note, region_path=grid.region_path,
    )
    _publish(topic="grid.roster", grid=grid, data={"user": user.username, "kind": kind, "action": action})
    return worker


@transaction.atomic
def gridworker_leave(*, worker: GridWorker, by=None, note: str = "") -> GridWorker:
    worker = GridWorker.objects.select_for_update().select_related("grid", "grid__community", "user").get(pk=worker.pk)
    if not worker.is_active:
        return worker
    worker.is_active, worker.until = False, timezone.localdate()
    worker.save(update_fields=["is_active", "until"])
    GridWorkerChange.objects.create(
        worker=worker, action=GridWorkerChange.Action.LEFT, from_grid=worker.grid, from_kind=worker.kind,
        by=by, note=note, region_path=worker.grid.region_path,
    )
    _publish(topic="grid.roster", grid=worker.grid, data={"user": worker.user.username, "action": "left"})
    return worker


# Check-in -------------------------------------------------------------------------------------------------------


@transaction.atomic
def checkin_record(
    *, user, location: Point, accuracy_m: float | None = None, at: dt.datetime | None = None, idempotency_key: str | None = None
) -> CheckIn:
    """定位报到 in the worker's own grid; says whether the position is inside it. A repeated key returns the first one."""
    if idempotency_key:
        existing = CheckIn.objects.filter(idempotency_key=idempotency_key, user=user).first()
        if existing is not None:
            return existing
    worker = _active_worker(user)
    location = _check_point(location)
    at = _check_time(at, now=timezone.now())
    grid = worker.grid
    inside = Grid.objects.filter(pk=grid.pk, boundary__covers=location).exists()
    distance = 0.0 if inside else _distance_to_grid_m(grid, location)
    check_in = CheckIn(
        user=user, grid=grid, location=location, accuracy_m=accuracy_m, inside_grid=inside,
        distance_to_grid_m=distance, at=at, idempotency_key=idempotency_key or None, region_path=grid.region_path,
    )
    try:
        with transaction.atomic():
            check_in.save()
    except IntegrityError:
        # The same key arrived twice at once; the other request stored it.
        return CheckIn.objects.get(idempotency_key=idempotency_key)
    _publish(topic="grid.checkin", grid=grid, data={"user": user.username, "inside": inside, "id": check_in.pk})
    return check_in


def _distance_to_grid_m(grid: Grid, location: Point) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Distance(boundary::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) FROM grid_grid WHERE id = %s",
            [location.x, location.y, grid.pk],
        )
        return float(cursor.fetchone()[0])


# Patrol ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def patrol_start(*, user, at: dt.datetime | None = None, idempotency_key: str | None = None) -> Patrol:
    """Start a patrol of the worker's grid. Only one patrol at a time; starting again returns the running one."""
    if idempotency_key:
        existing = Patrol.objects.filter(idempotency_key=idempotency_key, user=user).first()
        if existing is not None:
            return existing
    worker = _active_worker(user)
    running = Patrol.objects.select_for_update().filter(user=user, state=Patrol.State.ACTIVE).first()
    if running is not None:
        return running
    patrol = Patrol(
        user=user, grid=worker.grid, started_at=_check_time(at, now=timezone.now()),
        idempotency_key=idempotency_key or None, region_path=worker.grid.region_path,
    )
    try:
        with transaction.atomic():
            patrol.save()
    except IntegrityError:
        return Patrol.objects.get(user=user, state=Patrol.State.ACTIVE)
    _publish(topic="grid.patrol", grid=worker.grid, data={"user": user.username, "id": patrol.pk, "state": patrol.state})
    return patrol


def _own_patrol_locked(patrol: Patrol, by) -> Patrol:
    patrol = Patrol.objects.select_for_update().select_related("grid", "grid__community").get(pk=patrol.pk)
    if patrol.user_id != by.pk:
        raise ValidationError(_("This is not your patrol."))
    return patrol


@transaction.atomic
def patrol_add_points(*, patrol: Patrol, by, points: list[tuple[Point, dt.datetime, float | None]]) -> int:
    """Append track points (a re-sent batch adds nothing twice). Returns how many were new."""
    patrol = _own_patrol_locked(patrol, by)
    if patrol.state != Patrol.State.ACTIVE:
        raise ValidationError(_("This patrol has already finished."))
    now = timezone.now()
    rows = []
    for location, at, accuracy in points:
        at = _check_time(at, now=now)
        if at < patrol.started_at - MAX_CLOCK_SKEW:
            raise ValidationError(_("A track point is older than the patrol."))
        rows.append(PatrolPoint(patrol=patrol, location=_check_point(location), recorded_at=at, accuracy_m=accuracy))
    before = PatrolPoint.objects.filter(patrol=patrol).count()
    PatrolPoint.objects.bulk_create(rows, ignore_conflicts=True)
    added = PatrolPoint.objects.filter(patrol=patrol).count() - before
    figures = selectors.track_figures(patrol)
    patrol.distance_m, patrol.inside_distance_m = figures.distance_m, figures.inside_distance_m
    patrol.inside_seconds, patrol.points_count = figures.inside_seconds, figures.points
    patrol.save(update_fields=["distance_m", "inside_distance_m", "inside_seconds", "points_count"])
    return added


@transaction.atomic
def patrol_check_item(*, patrol: Patrol, item: PatrolChecklistItem, by, note: str = "") -> PatrolCheck:
    patrol = _own_patrol_locked(patrol, by)
    if item.grid_id != patrol.grid_id:
        raise ValidationError(_("This checklist item belongs to another grid."))
    check, _created = PatrolCheck.objects.get_or_create(patrol=patrol, item=item, defaults={"note": note})
    return check


@transaction.atomic
def patrol_stop(*, patrol: Patrol, by, at: dt.datetime | None = None) -> Patrol:
    """Finish a patrol and store its figures, computed in PostGIS. Stopping twice changes nothing."""
    patrol = _own_patrol_locked(patrol, by)
    if patrol.state == Patrol.State.DONE:
        return patrol
    ended = _check_time(at, now=timezone.now())
    patrol.ended_at = max(ended, patrol.started_at)
    patrol.state = Patrol.State.DONE
    figures = selectors.track_figures(patrol)
    patrol.distance_m, patrol.inside_distance_m = figures.distance_m, figures.inside_distance_m
    patrol.inside_seconds, patrol.points_count = figures.inside_seconds, figures.points
    patrol.save(update_fields=["state", "ended_at", "distance_m", "inside_distance_m", "inside_seconds", "points_count"])
    _publish(
        topic="grid.patrol", grid=patrol.grid,
        data={"user": by.username, "id": patrol.pk, "state": patrol.state, "inside_km": round(patrol.inside_distance_m / 1000, 3)},
    )
    return patrol
