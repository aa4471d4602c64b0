"""Vehicle rules over the day-partitioned position table, done in SQL: window functions over each plate's
positions in time order (gaps and islands), distances in metres on the spheroid (geography).

Durations are measured from an episode's first to its last position, so "longer than 30 minutes" means
the last stationary report came more than 30 minutes after the first.
"""

import datetime as dt

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.utils.translation import gettext as _

from ..models import RuleKind
from . import register
from .base import Detector, Finding, ParamError, windows

POSITIONS = "datahub_vehicle_position"
MAX_EVIDENCE_POINTS = 40
M_PER_DEG_MAX = 111_700.0  # the most metres one degree spans in any direction, anywhere (a degree of latitude near the poles)


def _range_sql(subjects, alias="") -> tuple[str, dict]:
    col = f"{alias}." if alias else ""
    sql = f"{col}recorded_at >= %(since)s AND {col}recorded_at < %(until)s"
    if subjects is not None:
        sql += f" AND {col}plate = ANY(%(plates)s)"
    return sql, {"plates": list(subjects) if subjects is not None else None}


def _run(sql: str, params: dict) -> list[tuple]:
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT compilation costs more than it saves on these scans (and a lot on the small per-batch ones)
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


def _evidence_points(episodes: list[tuple[str, dt.datetime, dt.datetime]]) -> list[list[list]]:
    """Up to MAX_EVIDENCE_POINTS positions of each episode ([lon, lat, iso time, km/h]), evenly sampled, first and last kept."""
    if not episodes:
        return []
    rows = _run(
        f"""
        SELECT e.i, ST_X(p.point), ST_Y(p.point), p.recorded_at, p.speed_kmh
        FROM unnest(%(plates)s::text[], %(starts)s::timestamptz[], %(ends)s::timestamptz[]) WITH ORDINALITY AS e(plate, s, t, i)
        JOIN {POSITIONS} p ON p.plate = e.plate AND p.recorded_at BETWEEN e.s AND e.t
        ORDER BY e.i, p.recorded_at
        """,
        {"plates": [e[0] for e in episodes], "starts": [e[1] for e in episodes], "ends": [e[2] for e in episodes]},
    )
    out: list[list[list]] = [[] for _ in episodes]
    for i, lon, lat, at, speed in rows:
        out[i - 1].append([round(lon, 6), round(lat, 6), at.isoformat(), round(float(speed), 1)])
    sampled = []
    for points in out:
        if len(points) > MAX_EVIDENCE_POINTS:
            step = (len(points) - 1) / (MAX_EVIDENCE_POINTS - 1)
            points = [points[round(k * step)] for k in range(MAX_EVIDENCE_POINTS)]
        sampled.append(points)
    return sampled


def _minutes(start: dt.datetime, end: dt.datetime) -> float:
    return round((end - start).total_seconds() / 60, 1)


def _local(moment: dt.datetime) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%H:%M")


class VehicleDetector(Detector):
    def _findings(self, rows, make) -> list[Finding]:
        """rows: (plate, start, end, …); make(row, points) -> Finding."""
        points = _evidence_points([(r[0], r[1], r[2]) for r in rows])
        return [make(row, pts) for row, pts in zip(rows, points, strict=True)]


@register
class LongStop(VehicleDetector):
    kind = RuleKind.LONG_STOP
    defaults = {"min_minutes": 30, "still_kmh": 5.0, "site_radius_m": 300}

    def detect(self, rule, params, *, since, until, subjects=None):
        where, extra = _range_sql(subjects)
        rows = _run(
            f"""
            WITH p AS (
                SELECT plate, recorded_at AS t, point, speed_kmh <= %(still)s AS still,
                       count(*) FILTER (WHERE speed_kmh > %(still)s)
                           OVER (PARTITION BY plate ORDER BY recorded_at ROWS UNBOUNDED PRECEDING) AS grp
                FROM {POSITIONS} WHERE {where}
            ), stops AS (
                SELECT plate, min(t) AS s, max(t) AS e, count(*) AS n, ST_Centroid(ST_Collect(point)) AS c
                FROM p WHERE still GROUP BY plate, grp
                HAVING max(t) - min(t) > make_interval(secs => %(secs)s)
            )
            SELECT s.plate, s.s, s.e, s.n, ST_X(s.c), ST_Y(s.c), v.carrier_name, v.goods_class,
                   ST_Distance(v.sites::geography, s.c::geography)
            FROM stops s JOIN datahub_hazmatvehicle v ON v.plate = s.plate
            WHERE NOT coalesce(ST_DWithin(v.sites::geography, s.c::geography, %(radius)s), false)
              AND NOT EXISTS (
                  SELECT 1 FROM datahub_enterprise e
                  WHERE v.carrier_credit_code <> '' AND e.credit_code = v.carrier_credit_code AND e.location IS NOT NULL
                    AND ST_DWithin(e.location::geography, s.c::geography, %(radius)s))
            ORDER BY s.plate, s.s
            """,
            {"since": since, "until": until, "still": params["still_kmh"], "secs": params["min_minutes"] * 60,
             "radius": params["site_radius_m"], **extra},
        )

        def make(row, points):
            plate, start, end, n, lon, lat, carrier, goods, site_m = row
            minutes = _minutes(start, end)
            return Finding(
                subject=plate,
                title=_("%(plate)s stopped %(minutes)d minutes outside registered sites") % {"plate": plate, "minutes": minutes},
                window_start=start, window_end=end, location=Point(lon, lat, srid=4326),
                evidence={"plate": plate, "carrier": carrier, "goods_class": goods, "minutes": minutes, "positions": n,
                          "nearest_site_m": round(site_m) if site_m is not None else None, "points": points},
            )

        return self._findings(rows, make)


def _window_sql(params) -> tuple[str, dict]:
    """SQL for "the local time of day lies in one of the windows" (start included, end excluded)."""
    parts, values = [], {"tz": settings.TIME_ZONE}
    clock = "(p.recorded_at AT TIME ZONE %(tz)s)::time"
    for i, (start, end) in enumerate(windows(params)):
        values[f"w{i}s"], values[f"w{i}e"] = start, end
        joiner = "AND" if start < end else "OR"  # a window like 22:00–06:00 wraps past midnight
        parts.append(f"({clock} >= %(w{i}s)s {joiner} {clock} < %(w{i}e)s)")
    return "(" + " OR ".join(parts) + ")", values


@register
class BannedHours(VehicleDetector):
    """Moving inside a banned window (default 00:00–06:00, optionally only in some regions), or, with
    `vehicle_permits`, outside the hours the vehicle's own permit allows."""

    kind = RuleKind.BANNED_HOURS
    defaults = {
        "windows": [["00:00", "06:00"]], "region_codes": [], "vehicle_permits": True, "moving_kmh": 5.0,
        "min_minutes": 0, "gap_minutes": 5,
    }

    def check(self, params):
        if not windows(params) and not params["vehicle_permits"]:
            raise ParamError(_("Give at least one time window."))

    def detect(self, rule, params, *, since, until, subjects=None):
        where, extra = _range_sql(subjects, alias="p")
        in_window, values = _window_sql(params) if windows(params) else ("false", {"tz": settings.TIME_ZONE})
        if params["region_codes"]:
            in_window = (f"({in_window} AND EXISTS (SELECT 1 FROM org_region r WHERE r.code = ANY(%(regions)s) "
                         "AND ST_Covers(r.boundary, p.point)))")
        clock = "(p.recorded_at AT TIME ZONE %(tz)s)::time"
        rows = _run(
            f"""
            WITH p AS (
                SELECT p.plate, p.recorded_at AS t, p.speed_kmh, {in_window} AS in_window,
                       CASE WHEN p.recorded_at - lag(p.recorded_at) OVER w > make_interval(secs => %(gap)s) THEN 1 ELSE 0 END AS brk
                FROM {POSITIONS} p JOIN datahub_hazmatvehicle v ON v.plate = p.plate
                WHERE {where} AND p.speed_kmh > %(moving)s AND (
                    {in_window}
                    OR (%(permits)s AND NOT CASE WHEN v.permitted_start < v.permitted_end
                        THEN {clock} >= v.permitted_start AND {clock} < v.permitted_end
                        ELSE {clock} >= v.permitted_start OR {clock} < v.permitted_end END))
                WINDOW w AS (PARTITION BY p.plate ORDER BY p.recorded_at)
            ), g AS (
                SELECT *, sum(brk) OVER (PARTITION BY plate ORDER BY t ROWS UNBOUNDED PRECEDING) AS grp FROM p
            )
            SELECT g.plate, min(t), max(t), count(*), max(speed_kmh), bool_or(in_window), min(v.carrier_name),
                   min(v.permitted_start), min(v.permitted_end)
            FROM g JOIN datahub_hazmatvehicle v ON v.plate = g.plate
            GROUP BY g.plate, grp
            HAVING max(t) - min(t) >= make_interval(secs => %(secs)s)
            ORDER BY g.plate, min(t)
            """,
            {"since": since, "until": until, "moving": params["moving_kmh"], "gap": params["gap_minutes"] * 60,
             "secs": params["min_minutes"] * 60, "regions": params["region_codes"], "permits": params["vehicle_permits"],
             **values, **extra},
        )

        def make(row, points):
            plate, start, end, n, top, in_window, carrier, permit_from, permit_to = row
            return Finding(
                subject=plate,
                title=_("%(plate)s driving in banned hours (%(start)s–%(end)s)") % {"plate": plate, "start": _local(start), "end": _local(end)},
                window_start=start, window_end=end, location=Point(points[0][0], points[0][1], srid=4326),
                evidence={"plate": plate, "carrier": carrier, "minutes": _minutes(start, end), "positions": n,
                          "max_speed_kmh": round(float(top), 1), "banned_windows": params["windows"] if in_window else [],
                          "permitted": f"{permit_from:%H:%M}–{permit_to:%H:%M}", "points": points},
            )

        return self._findings(rows, make)


@register
class RouteDeviation(VehicleDetector):
    kind = RuleKind.ROUTE_DEVIATION
    defaults = {"max_metres": 500, "min_minutes": 5}

    def detect(self, rule, params, *, since, until, subjects=None):
        where, extra = _range_sql(subjects, alias="p")
        vehicles = "WHERE plate = ANY(%(plates)s)" if subjects is not None else ""
        # The planar distance in degrees bounds the true one: a degree is at most M_PER_DEG_MAX metres in any
        # direction and at least 111 320·cos(latitude) metres. Points surely within (limit − 5 m) are dropped by
        # that cheap distance, points surely beyond (limit + 5 m) kept; only the few in between get a spheroid
        # distance. Only the off-route points are then put in order: two consecutive ones belong to one run
        # unless some position lies between them (which, not being off route, must be on it) — an index probe,
        # so the millions of on-route positions are never sorted.
        rows = _run(
            f"""
            WITH r AS MATERIALIZED (
                SELECT plate, route, (%(metres)s - 5) / %(m_max)s AS inner_deg,
                       (%(metres)s + 5) / (111320.0 * cos(radians(ST_YMax(route) + 0.05))) AS outer_deg
                FROM datahub_hazmatvehicle {vehicles}
            ), d AS (
                SELECT p.plate, p.recorded_at AS t, p.point, r.route, r.outer_deg, ST_Distance(r.route, p.point) AS deg
                FROM {POSITIONS} p JOIN r ON r.plate = p.plate
                WHERE {where} AND NOT ST_DWithin(r.route, p.point, r.inner_deg)
            ), off AS (
                SELECT plate, t, lag(t) OVER (PARTITION BY plate ORDER BY t) AS prev
                FROM d WHERE deg > outer_deg OR ST_Distance(point::geography, route::geography) > %(metres)s
            ), g AS (
                SELECT plate, t, sum(CASE WHEN prev IS NULL OR EXISTS (
                           SELECT 1 FROM {POSITIONS} q WHERE q.plate = off.plate AND q.recorded_at > off.prev AND q.recorded_at < off.t
                       ) THEN 1 ELSE 0 END) OVER (PARTITION BY plate ORDER BY t ROWS UNBOUNDED PRECEDING) AS grp
                FROM off
            )
            SELECT g.plate, min(t), max(t), count(*)
            FROM g GROUP BY g.plate, grp
            HAVING max(t) - min(t) > make_interval(secs => %(secs)s)
            ORDER BY g.plate, min(t)
            """,
            {"since": since, "until": until, "metres": float(params["max_metres"]), "m_max": M_PER_DEG_MAX,
             "secs": params["min_minutes"] * 60, **extra},
        )
        farthest = self._farthest(rows)

        def make(row, points):
            plate, start, end, n = row
            far_m, lon, lat = farthest[(plate, start)]
            return Finding(
                subject=plate,
                title=_("%(plate)s left its approved route for %(minutes)d minutes") % {"plate": plate, "minutes": _minutes(start, end)},
                window_start=start, window_end=end, location=Point(lon, lat, srid=4326),
                evidence={"plate": plate, "minutes": _minutes(start, end), "positions": n, "max_distance_m": round(far_m),
                          "limit_m": params["max_metres"], "points": points},
            )

        return self._findings(rows, make)

    def _farthest(self, rows) -> dict:
        """The farthest position of each episode from the route (metres, lon, lat)."""
        if not rows:
            return {}
        found = _run(
            f"""
            SELECT e.plate, e.s, d.m, ST_X(d.point), ST_Y(d.point)
            FROM unnest(%(plates)s::text[], %(starts)s::timestamptz[], %(ends)s::timestamptz[]) AS e(plate, s, t)
            JOIN datahub_hazmatvehicle v ON v.plate = e.plate
            CROSS JOIN LATERAL (
                SELECT p.point, ST_Distance(p.point::geography, v.route::geography) AS m FROM {POSITIONS} p
                WHERE p.plate = e.plate AND p.recorded_at BETWEEN e.s AND e.t ORDER BY m DESC LIMIT 1
            ) d
            """,
            {"plates": [r[0] for r in rows], "starts": [r[1] for r in rows], "ends": [r[2] for r in rows]},
        )
        return {(plate, s): (m, lon, lat) for plate, s, m, lon, lat in found}


@register
class Overspeed(VehicleDetector):
    kind = RuleKind.OVERSPEED
    defaults = {"expressway_kmh": 80, "other_kmh": 60, "gap_minutes": 2, "min_minutes": 0}

    def detect(self, rule, params, *, since, until, subjects=None):
        where, extra = _range_sql(subjects)
        rows = _run(
            f"""
            WITH x AS MATERIALIZED (
                -- every expressway's band as one polygon (buffered on the spheroid): the same geometry for every
                -- position, so PostGIS prepares it once
                SELECT coalesce(ST_Union(ST_Buffer(geometry::geography, half_width_m)::geometry),
                                'SRID=4326;POLYGON EMPTY'::geometry) AS area
                FROM alerts_expressway
            ), p AS (
                SELECT plate, recorded_at AS t, speed_kmh, ST_Covers(x.area, point) AS on_x
                FROM {POSITIONS} CROSS JOIN x WHERE {where} AND speed_kmh > least(%(express)s, %(other)s)
            ), s AS (
                SELECT *, CASE WHEN on_x THEN %(express)s ELSE %(other)s END AS lim FROM p
            ), f AS (
                SELECT *, CASE WHEN t - lag(t) OVER w > make_interval(secs => %(gap)s) THEN 1 ELSE 0 END AS brk
                FROM s WHERE speed_kmh > lim WINDOW w AS (PARTITION BY plate ORDER BY t)
            ), g AS (
                SELECT *, sum(brk) OVER (PARTITION BY plate ORDER BY t ROWS UNBOUNDED PRECEDING) AS grp FROM f
            )
            SELECT g.plate, min(t), max(t), count(*), max(speed_kmh), max(lim), bool_or(on_x)
            FROM g JOIN datahub_hazmatvehicle v ON v.plate = g.plate
            GROUP BY g.plate, grp
            HAVING max(t) - min(t) >= make_interval(secs => %(secs)s)
            ORDER BY g.plate, min(t)
            """,
            {"since": since, "until": until, "express": params["expressway_kmh"], "other": params["other_kmh"],
             "gap": params["gap_minutes"] * 60, "secs": params["min_minutes"] * 60, **extra},
        )

        def make(row, points):
            plate, start, end, n, top, limit, on_x = row
            fastest = max(points, key=lambda p: p[3])
            return Finding(
                subject=plate,
                title=_("%(plate)s at %(speed)d km/h (limit %(limit)d)") % {"plate": plate, "speed": round(float(top)), "limit": limit},
                window_start=start, window_end=end, location=Point(fastest[0], fastest[1], srid=4326),
                evidence={"plate": plate, "max_speed_kmh": round(float(top), 1), "limit_kmh": limit, "expressway": on_x,
                          "positions": n, "minutes": _minutes(start, end), "points": points},
            )

        return self._findings(rows, make)
