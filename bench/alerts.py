"""Benchmark: every vehicle warning model over one day of 500 hazardous-goods vehicles reporting every 10 s
(500 × 8 640 = 4.32 million positions).

Builds its data in the configured (own!) database, on a far-future day of its own, in PostgreSQL itself:
vehicles shuttle along routes on the demo city's roads with short stops at their sites; some stop long outside
them, drive at night, leave their route or speed. Rows are written in time order, as a live feed interleaves them.
Then runs the four vehicle rules (detection and raising the alerts) and prints one JSON object as the last line.

    .venv/bin/python bench/alerts.py [--vehicles 500] [--keep]
"""

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "command_center.settings.dev")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from alerts import detection  # noqa: E402
from alerts.demo import load_demo as load_alert_demo  # noqa: E402
from alerts.models import VEHICLE_KINDS, Alert, AlertEvent  # noqa: E402
from datahub.demo_day import ROADS  # noqa: E402
from datahub.models import HazmatVehicle  # noqa: E402
from datahub.partitions import ensure_position_partitions, partition_name  # noqa: E402

DAY = dt.date(2031, 3, 4)
PREFIX = "测B"
STEPS = 8640  # 24 h at 10 s


def build(vehicles: int) -> tuple[float, int]:
    started = time.perf_counter()
    load_alert_demo(scale=1, stdout=None)  # the expressway
    ensure_position_partitions([DAY])
    tz = timezone.get_current_timezone()
    day_start = dt.datetime.combine(DAY, dt.time.min, tzinfo=tz)
    roads = list(ROADS.values())
    with transaction.atomic():
        HazmatVehicle.objects.filter(plate__startswith=PREFIX).delete()
        now = timezone.now()
        rows = []
        for v in range(vehicles):
            coords = roads[v % len(roads)]
            if v % 2:
                coords = list(reversed(coords))
            rows.append(HazmatVehicle(
                plate=f"{PREFIX}{v:05d}", carrier_name="基准运输公司", goods_class="3",
                route=f"SRID=4326;LINESTRING({', '.join(f'{x} {y}' for x, y in coords)})",
                sites=f"SRID=4326;MULTIPOINT(({coords[0][0]} {coords[0][1]}), ({coords[-1][0]} {coords[-1][1]}))",
                permitted_start=dt.time(6, 0), permitted_end=dt.time(22, 0), updated_at=now,
            ))
        HazmatVehicle.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {partition_name(DAY)}")
        # A vehicle shuttles along its route: one leg ≈ 55 min at ~55 km/h, then 10 min at a site. Every 10th
        # vehicle stops 40 min mid-route at 14:00; every 25th leaves the route by ~1.2 km for 8 min at 10:00;
        # every 50th drives at 95 km/h for 4 min at 16:00; all but every 20th stay at their depot 22:00–06:00.
        # Vehicles on the expressway (江海快速路) cruise at 75–79 km/h: legal there, and every such position is
        # checked against the expressway geometry.
        cursor.execute(
            """
            INSERT INTO datahub_vehicle_position (plate, recorded_at, point, speed_kmh)
            SELECT v.plate, %(start)s + make_interval(secs => s.i * 10),
                   CASE WHEN v.n %% 25 = 0 AND s.i BETWEEN 3600 AND 3648
                        THEN ST_Translate(ST_LineInterpolatePoint(v.route, f.frac), 0, 0.011)
                        ELSE ST_LineInterpolatePoint(v.route, f.frac) END,
                   CASE WHEN f.still THEN 0
                        WHEN v.n %% 50 = 0 AND s.i BETWEEN 5760 AND 5784 THEN 95
                        WHEN v.n %% 6 = 5 THEN 75 + (v.n %% 5)
                        ELSE 52 + (v.n %% 7) END
            FROM (SELECT plate, route, row_number() OVER (ORDER BY plate) AS n FROM datahub_hazmatvehicle
                  WHERE plate LIKE %(prefix)s) v
            CROSS JOIN generate_series(0, %(steps)s - 1) AS s(i)
            CROSS JOIN LATERAL (
                SELECT (v.n %% 10 = 0 AND s.i BETWEEN 5040 AND 5280) AS long_stop,
                       ((s.i + v.n * 37) %% 390) AS c,
                       (v.n %% 20 <> 0 AND (s.i < 2160 OR s.i >= 7920)) AS night_parked
            ) q
            CROSS JOIN LATERAL (
                SELECT q.long_stop OR q.night_parked OR q.c >= 330 AS still,
                       CASE WHEN q.night_parked THEN 0.0 WHEN q.long_stop THEN 0.5
                            WHEN q.c >= 330 THEN CASE WHEN ((s.i + v.n * 37) / 390) %% 2 = 0 THEN 1.0 ELSE 0.0 END
                            WHEN ((s.i + v.n * 37) / 390) %% 2 = 0 THEN q.c / 330.0
                            ELSE 1 - q.c / 330.0 END AS frac
            ) f
            ORDER BY s.i, v.n
            """,
            {"start": day_start, "prefix": f"{PREFIX}%", "steps": STEPS},
        )
        cursor.execute(f"ANALYZE {partition_name(DAY)}")
        cursor.execute(f"SELECT count(*) FROM {partition_name(DAY)}")
        (count,) = cursor.fetchone()
    return time.perf_counter() - started, count


def clean() -> None:
    with transaction.atomic():
        # the timeline refuses DELETE (a trigger); the benchmark removes its own rows with triggers off, in its own database
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
        ids = list(Alert.objects.filter(subject__startswith=PREFIX).values_list("pk", flat=True))
        AlertEvent.objects.filter(alert_id__in=ids).delete()
        Alert.objects.filter(pk__in=ids).delete()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the positions and vehicles afterwards")
    args = parser.parse_args()
    clean()
    build_s, positions = build(args.vehicles)
    print(f"built {positions} positions of {args.vehicles} vehicles in {build_s:.1f} s", flush=True)
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(DAY, dt.time.min, tzinfo=tz)
    rules = detection.active_rules(VEHICLE_KINDS)
    started = time.perf_counter()
    result = detection.run_rules(rules=rules, since=since, until=since + dt.timedelta(days=1))
    total = time.perf_counter() - started
    by_kind = {}
    for rule in rules:
        by_kind[rule.kind] = Alert.objects.filter(rule=rule, subject__startswith=PREFIX).count()
    if not args.keep:
        clean()
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {partition_name(DAY)}")
        HazmatVehicle.objects.filter(plate__startswith=PREFIX).delete()
    print(json.dumps({
        "vehicles": args.vehicles, "positions": positions, "build_seconds": round(build_s, 1),
        "vehicle_rules_seconds": round(total, 2), "per_rule_seconds": result.seconds,
        "findings": result.found, "alerts_raised": result.raised, "alerts_by_kind": by_kind, "goal_seconds": 60,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
