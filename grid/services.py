"""Writes of the grid app: roster changes, check-ins and patrols. Never imports `tickets`.

Each state change locks its row, saves with update_fields, leaves a history row where the domain
keeps one, and writes an outbox row in the same transaction.
"""

import datetime as dt
import json
import re
from dataclasses import dataclass, field

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from realtime.services import outbox_write

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
        return CheckIn.objects.get(user=user, idempotency_key=idempotency_key)
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
        # Started twice at once (the same key, or two taps): the one that won is the patrol.
        existing = Patrol.objects.filter(user=user, idempotency_key=idempotency_key).first() if idempotency_key else None
        return existing or Patrol.objects.get(user=user, state=Patrol.State.ACTIVE)
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
    before = patrol.points_count  # kept equal to the stored points by every add (the row is locked)
    PatrolPoint.objects.bulk_create(rows, ignore_conflicts=True)
    _store_figures(patrol)
    return patrol.points_count - before


def _store_figures(patrol: Patrol, *also: str) -> None:
    """Recompute the track's figures in PostGIS and save them (with the `also` fields)."""
    figures = selectors.track_figures(patrol)
    patrol.distance_m, patrol.inside_distance_m = figures.distance_m, figures.inside_distance_m
    patrol.inside_seconds, patrol.points_count = figures.inside_seconds, figures.points
    patrol.save(update_fields=[*also, "distance_m", "inside_distance_m", "inside_seconds", "points_count"])


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
    _store_figures(patrol, "state", "ended_at")
    _publish(
        topic="grid.patrol", grid=patrol.grid,
        data={"user": by.username, "id": patrol.pk, "state": patrol.state, "inside_km": round(patrol.inside_distance_m / 1000, 3)},
    )
    return patrol


# Import ---------------------------------------------------------------------------------------------------------


class GridImportError(ValidationError):
    """The file has problems; `messages` lists every one (feature number and what is wrong)."""


@dataclass
class GridImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    committed: bool = False


def _parse_grid_feature(n: int, feature: dict, communities: dict, errors: list[str]) -> dict | None:
    from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon

    props = feature.get("properties") or {}
    code = str(props.get("code", "")).strip()
    where = _("feature %(n)s (code %(code)s)") % {"n": n, "code": code or "?"}
    before = len(errors)
    if not re.fullmatch(r"[0-9]{15}", code):
        errors.append(_("%(where)s: the code must be 15 digits (12-digit community code + 3-digit serial).") % {"where": where})
    elif code[:12] not in communities:
        errors.append(_("%(where)s: no community has the code %(community)s.") % {"where": where, "community": code[:12]})
    name = str(props.get("name", "")).strip()
    if not name:
        errors.append(_("%(where)s: the name is missing.") % {"where": where})
    kind = _GRID_KINDS.get(str(props.get("kind", "comprehensive")).strip())
    if kind is None:
        errors.append(_("%(where)s: the kind must be 综合网格 or 专属网格.") % {"where": where})
    numbers = {}
    for key in ("households", "population"):
        value = props.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            errors.append(_("%(where)s: %(field)s must be a whole number ≥ 0.") % {"where": where, "field": key})
        numbers[key] = value
    geometry = None
    try:
        geometry = GEOSGeometry(json.dumps(feature.get("geometry")), srid=4326)
    except (GEOSException, ValueError, TypeError):
        errors.append(_("%(where)s: the geometry cannot be read.") % {"where": where})
    if geometry is not None:
        if isinstance(geometry, Polygon):
            geometry = MultiPolygon(geometry, srid=4326)
        if not isinstance(geometry, MultiPolygon):
            errors.append(_("%(where)s: the geometry must be a Polygon or MultiPolygon.") % {"where": where})
        elif geometry.empty:
            errors.append(_("%(where)s: the geometry is empty.") % {"where": where})
        elif not geometry.valid:
            errors.append(_("%(where)s: the geometry is invalid (%(reason)s).") % {"where": where, "reason": geometry.valid_reason})
        else:
            xmin, ymin, xmax, ymax = geometry.extent
            if xmin < -180 or xmax > 180 or ymin < -90 or ymax > 90:
                errors.append(_("%(where)s: the coordinates must be WGS 84 longitude/latitude.") % {"where": where})
    station = None
    if props.get("station") is not None:
        try:
            lon, lat = (float(v) for v in props["station"])
            station = Point(lon, lat, srid=4326)
        except (TypeError, ValueError):
            errors.append(_("%(where)s: the grid station must be [longitude, latitude].") % {"where": where})
    if len(errors) > before:
        return None
    return {"code": code, "name": name, "kind": kind, "community": communities[code[:12]], "boundary": geometry,
            "station": station, **numbers}


_GRID_KINDS = {
    "comprehensive": Grid.Kind.COMPREHENSIVE, "综合网格": Grid.Kind.COMPREHENSIVE,
    "dedicated": Grid.Kind.DEDICATED, "专属网格": Grid.Kind.DEDICATED,
}


def grids_import(*, geojson: dict, commit: bool = False) -> GridImportResult:
    """Create or update grids from a GeoJSON FeatureCollection, all or nothing.

    Every feature is checked (15-digit code of an existing community, name, kind, valid polygon in
    WGS 84) before anything is written; any problem raises GridImportError listing all of them.
    Without `commit` the whole import runs and is rolled back (dry run).
    """
    from org.models import Region

    if not isinstance(geojson, dict) or geojson.get("type") != "FeatureCollection" or not isinstance(geojson.get("features"), list):
        raise GridImportError(_("The file must be a GeoJSON FeatureCollection."))
    communities = {r.code: r for r in Region.objects.filter(level=Region.Level.COMMUNITY)}
    errors: list[str] = []
    rows = []
    seen = set()
    for n, feature in enumerate(geojson["features"], start=1):
        row = _parse_grid_feature(n, feature if isinstance(feature, dict) else {}, communities, errors)
        if row is None:
            continue
        if row["code"] in seen:
            errors.append(_("feature %(n)s: the code %(code)s appears twice in the file.") % {"n": n, "code": row["code"]})
            continue
        seen.add(row["code"])
        rows.append(row)
    if errors:
        raise GridImportError(errors)
    if not rows:
        raise GridImportError(_("The file has no features."))
    result = GridImportResult()
    with transaction.atomic():
        existing = {g.code: g for g in Grid.objects.select_for_update().filter(code__in=seen)}
        for row in rows:
            grid = existing.get(row["code"])
            if grid is None:
                Grid(**row).save()
                result.created.append(row["code"])
            else:
                for key, value in row.items():
                    setattr(grid, key, value)
                grid.save()
                result.updated.append(row["code"])
        if commit:
            result.committed = True
        else:
            transaction.set_rollback(True)
    return result


# Housekeeping ---------------------------------------------------------------------------------------------------

# A phone keeps an unsent submission for days at most; its stored answer is not needed after this.
MOBILE_SUBMISSION_KEEP = dt.timedelta(days=30)


def mobile_submissions_prune(*, older_than: dt.timedelta = MOBILE_SUBMISSION_KEEP) -> int:
    """Forget the stored answers of idempotency keys older than `older_than`. Returns how many."""
    from .models import MobileSubmission

    deleted, _ = MobileSubmission.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
