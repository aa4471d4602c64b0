"""One simulated day of department data for the demo city, with planted anomalies as ground truth.

Hazardous-goods vehicles drive their approved routes along the demo city's roads (positions every
10 s); a few break one rule each. Enterprises, licences, dwellings and cameras come with a few
planted problems too. Everything goes through the same ingestion service as a department's push
(so batches and exchange statistics are real) and is deterministic for a date and a seed.

Rules the planted anomalies break (and normal data never does):
- speeding: above SPEED_LIMIT_KMH for at least 3 minutes (normal cruising ≤ 70 km/h);
- long stop: stopped ≥ LONG_STOP_MINUTES more than SITE_RADIUS_M from every registered site;
- banned hours: moving outside the vehicle's permitted hours;
- off route: more than OFF_ROUTE_M from the approved route (normal positions stay within ~10 m);
- expired licence: valid_to before the day while the source still says 有效; revoked: status 吊销;
- overcrowded dwelling: less than MIN_AREA_PER_RESIDENT_M2 per registered resident.
"""

import json
import math
import random
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import orjson
from django.conf import settings
from django.db import transaction
from stdnum.cn import uscc

from . import services
from .feeds import CST
from .models import DataResource, PlantedAnomaly

SPEED_LIMIT_KMH = 80
LONG_STOP_MINUTES = 30
SITE_RADIUS_M = 300
OFF_ROUTE_M = 500
MIN_AREA_PER_RESIDENT_M2 = 5
STEP_S = 10

# Roads of the demo city (lon 120.0–120.6, lat 31.8–32.2); approved routes run along them.
ROADS = {
    "沿江大道": [(120.02, 32.15), (120.20, 32.16), (120.40, 32.14), (120.58, 32.15)],
    "港城路": [(120.05, 31.85), (120.25, 31.90), (120.45, 31.88), (120.58, 31.92)],
    "中山路": [(120.30, 31.82), (120.31, 32.00), (120.30, 32.18)],
    "新湖大道": [(120.45, 31.82), (120.47, 32.00), (120.50, 32.18)],
    "江海快速路": [(120.02, 31.82), (120.20, 31.95), (120.40, 32.05), (120.58, 32.18)],
    "长桥路": [(120.10, 31.82), (120.12, 32.00), (120.15, 32.18)],
}
M_PER_DEG_LAT = 111_320.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(32.0))
GOODS = ["2.1", "3", "8", "6.1", "2.2", "5.1", "4.1", "9"]
ANOMALY_KINDS = ["speeding", "long_stop", "off_route", "banned_hours"]


def _dist(a, b) -> float:
    return math.hypot((b[0] - a[0]) * M_PER_DEG_LON, (b[1] - a[1]) * M_PER_DEG_LAT)


class Route:
    """A polyline with positions by distance along it (metres)."""

    def __init__(self, coords):
        self.coords = coords
        self.cum = [0.0]
        for a, b in zip(coords, coords[1:]):
            self.cum.append(self.cum[-1] + _dist(a, b))
        self.length = self.cum[-1]

    def at(self, d: float):
        d = min(max(d, 0.0), self.length)
        for i in range(1, len(self.cum)):
            if d <= self.cum[i]:
                a, b = self.coords[i - 1], self.coords[i]
                f = (d - self.cum[i - 1]) / ((self.cum[i] - self.cum[i - 1]) or 1)
                return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)
        return self.coords[-1]

    def normal_at(self, d: float):
        """Unit normal (in degrees per metre) of the segment at distance d."""
        for i in range(1, len(self.cum)):
            if d <= self.cum[i] or i == len(self.cum) - 1:
                a, b = self.coords[i - 1], self.coords[i]
                dx, dy = (b[0] - a[0]) * M_PER_DEG_LON, (b[1] - a[1]) * M_PER_DEG_LAT
                n = math.hypot(dx, dy) or 1
                return (-dy / n / M_PER_DEG_LON, dx / n / M_PER_DEG_LAT)


@dataclass
class Phase:
    start: datetime
    end: datetime
    kind: str  # park | drive | line
    a: object = None  # park: point; drive: start distance; line: start point
    b: object = None  # drive: end distance; line: end point
    speed: float = 0.0

    def position(self, route: Route, t: datetime):
        if self.kind == "park":
            return self.a, 0.0
        f = (t - self.start).total_seconds() / max((self.end - self.start).total_seconds(), 1)
        if self.kind == "drive":
            return route.at(self.a + (self.b - self.a) * f), self.speed
        return (self.a[0] + (self.b[0] - self.a[0]) * f, self.a[1] + (self.b[1] - self.a[1]) * f), self.speed


class Trip:
    """Builds a vehicle's day as consecutive phases."""

    def __init__(self, route: Route, start: datetime):
        self.route, self.t, self.phases = route, start, []

    def park(self, point, minutes: float):
        end = self.t + timedelta(minutes=minutes)
        self.phases.append(Phase(self.t, end, "park", point))
        self.t = end
        return self.phases[-1]

    def drive(self, d0: float, d1: float, kmh: float):
        end = self.t + timedelta(seconds=abs(d1 - d0) / (kmh / 3.6))
        self.phases.append(Phase(self.t, end, "drive", d0, d1, kmh))
        self.t = end
        return self.phases[-1]

    def line(self, p0, p1, kmh: float):
        end = self.t + timedelta(seconds=_dist(p0, p1) / (kmh / 3.6))
        self.phases.append(Phase(self.t, end, "line", p0, p1, kmh))
        self.t = end
        return self.phases[-1]


def credit_code(rng: random.Random) -> str:
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "91" + "329900" + "".join(rng.choice(charset) for _ in range(9))
    return body + uscc.calc_check_digit(body)


@dataclass
class DayResult:
    counts: dict
    planted: list
    ground_truth_file: str


def generate(*, day: date, vehicles: int = 50, seed: int = 1, stdout=None) -> DayResult:
    rng = random.Random(f"{seed}-{day.isoformat()}")
    resources = {r.feed: r for r in DataResource.objects.select_related("owner").exclude(feed=DataResource.Feed.GENERIC)}
    missing = {"vehicle_position", "hazmat_vehicle", "enterprise", "licence", "dwelling", "camera"} - set(resources)
    if missing:
        raise ValueError(f"the demo catalog lacks {sorted(missing)}: run load_demo_city first")
    planted: list[dict] = []
    day_start = datetime.combine(day, time.min, tzinfo=CST)

    # ---- enterprises and licences --------------------------------------------------------------
    n_enterprises = max(20, vehicles // 2)
    enterprises, licences = [], []
    for i in range(n_enterprises):
        code = credit_code(rng)
        status = "整改中" if i % 9 == 4 else "在业"
        lon, lat = round(rng.uniform(120.03, 120.57), 6), round(rng.uniform(31.83, 32.17), 6)
        enterprises.append({"credit_code": code, "name": f"江海{['安达', '顺通', '华运', '恒泰', '宏远', '金港', '瑞丰', '新程'][i % 8]}{'危化品运输' if i % 2 == 0 else '化工'}有限公司{i + 1:03d}",
                            "lon": lon, "lat": lat, "address": f"江海市工业园区{i + 1}号", "industry": "道路危险货物运输" if i % 2 == 0 else "危险化学品经营",
                            "status": status})
        kind = "道路危险货物运输许可证" if i % 2 == 0 else "危险化学品经营许可证"
        valid_from, valid_to, lstatus = day - timedelta(days=700 + i), day + timedelta(days=200 + 7 * i), "有效"
        if i % 10 == 3:
            valid_to = day - timedelta(days=5 + i)  # expired, the source still says valid
            planted.append({"kind": "expired_licence", "subject": code, "detail": {"licence": f"JH-{day:%Y}-{i + 1:04d}", "valid_to": valid_to.isoformat()}})
        elif i % 10 == 7:
            lstatus = "吊销"
            planted.append({"kind": "revoked_licence", "subject": code, "detail": {"licence": f"JH-{day:%Y}-{i + 1:04d}"}})
        licences.append({"licence_type": kind, "number": f"JH-{day:%Y}-{i + 1:04d}", "holder_credit_code": code,
                         "valid_from": valid_from.isoformat(), "valid_to": valid_to.isoformat(), "status": lstatus})
    carriers = [e for i, e in enumerate(enterprises) if i % 2 == 0 and i % 10 not in (3, 7)] or enterprises

    # ---- vehicles and their day ------------------------------------------------------------------
    road_names = list(ROADS)
    vehicle_rows, position_lines = [], []
    for v in range(vehicles):
        plate = f"苏H{v + 1:04d}挂" if v % 7 == 6 else f"苏H{'D' if v % 2 else 'F'}{v + 1:04d}"
        coords = ROADS[road_names[v % len(road_names)]]
        if v % 2:
            coords = list(reversed(coords))
        route = Route(coords)
        depot, site = coords[0], coords[-1]
        start_h, end_h = (6, 22) if v % 3 else (8, 20)
        carrier = carriers[v % len(carriers)]
        vehicle_rows.append({
            "plate": plate, "carrier_name": carrier["name"], "carrier_credit_code": carrier["credit_code"],
            "goods_class": GOODS[v % len(GOODS)], "route": {"type": "LineString", "coordinates": coords},
            "sites": {"type": "MultiPoint", "coordinates": [depot, site]},
            "permitted_start": f"{start_h:02d}:00", "permitted_end": f"{end_h:02d}:00",
        })
        anomaly = ANOMALY_KINDS[(v // 5) % 4] if v % 5 == 2 else None
        cruise = rng.uniform(50, 68)
        leave = day_start + timedelta(hours=start_h, minutes=30 + rng.randint(0, 90))
        trip = Trip(route, leave - timedelta(minutes=10))
        trip.park(depot, 10)
        L = route.length
        if anomaly == "speeding":
            d1 = L * 0.4
            trip.drive(0, d1, cruise)
            fast = rng.uniform(95, 110)
            ph = trip.drive(d1, d1 + fast / 3.6 * 300, fast)  # 5 minutes too fast
            planted.append({"kind": "speeding", "subject": plate, "starts_at": ph.start, "ends_at": ph.end,
                            "detail": {"speed_kmh": round(fast, 1), "limit_kmh": SPEED_LIMIT_KMH}})
            trip.drive(ph.b, L, cruise)
        elif anomaly == "long_stop":
            d1 = L * 0.5
            trip.drive(0, d1, cruise)
            point = route.at(d1)
            ph = trip.park(point, 45)
            planted.append({"kind": "long_stop", "subject": plate, "starts_at": ph.start, "ends_at": ph.end,
                            "detail": {"lon": round(point[0], 6), "lat": round(point[1], 6), "minutes": 45}})
            trip.drive(d1, L, cruise)
        elif anomaly == "off_route":
            d1, d2 = L * 0.3, L * 0.3 + 3000
            trip.drive(0, d1, cruise)
            p1, p2 = route.at(d1), route.at(d2)
            nx, ny = route.normal_at(d1)
            out1 = (p1[0] + nx * 1500, p1[1] + ny * 1500)
            out2 = (p2[0] + nx * 1500, p2[1] + ny * 1500)
            a = trip.line(p1, out1, 40)
            trip.line(out1, out2, 36)
            b = trip.line(out2, p2, 40)
            planted.append({"kind": "off_route", "subject": plate, "starts_at": a.start, "ends_at": b.end,
                            "detail": {"max_deviation_m": 1500, "threshold_m": OFF_ROUTE_M}})
            trip.drive(d2, L, cruise)
        else:
            trip.drive(0, L, cruise)
        trip.park(site, rng.uniform(30, 45))
        trip.drive(L, 0, cruise)
        trip.park(depot, 20)
        if anomaly == "banned_hours":
            # a second run after the permitted window closes
            late = day_start + timedelta(hours=end_h, minutes=20)
            if trip.t < late:
                trip.park(depot, (late - trip.t).total_seconds() / 60)
            ph = trip.drive(0, min(L, cruise / 3.6 * 1800), cruise)
            planted.append({"kind": "banned_hours", "subject": plate, "starts_at": ph.start, "ends_at": ph.end,
                            "detail": {"permitted": f"{start_h:02d}:00–{end_h:02d}:00"}})
            trip.park(route.at(ph.b) if ph.b < L else site, 10)
        # positions every 10 s over the vehicle's day
        t, i = trip.phases[0].start, 0
        last = trip.phases[-1].end
        while t <= last:
            while i < len(trip.phases) - 1 and t >= trip.phases[i].end:
                i += 1
            (lon, lat), speed = trip.phases[i].position(route, t)
            moving = speed > 0
            position_lines.append(orjson.dumps({
                "plate": plate, "time": t.isoformat(),
                "lon": round(lon + (rng.uniform(-4e-5, 4e-5) if moving else 0), 6),
                "lat": round(lat + (rng.uniform(-4e-5, 4e-5) if moving else 0), 6),
                "speed": round(max(0.0, speed + rng.uniform(-1.5, 1.5)) if moving else 0.0, 1),
            }))
            t += timedelta(seconds=STEP_S)

    # ---- dwellings and cameras -------------------------------------------------------------------
    dwellings = []
    for i in range(max(100, vehicles * 4)):
        area = round(rng.uniform(45, 140), 1)
        residents = rng.randint(1, max(1, int(area // 15)))
        if i % 20 == 11:
            residents = int(area // MIN_AREA_PER_RESIDENT_M2) + rng.randint(2, 8)
            planted.append({"kind": "overcrowded_dwelling", "subject": f"JH-FW-{i + 1:05d}",
                            "detail": {"area_m2": area, "registered_residents": residents,
                                       "min_area_per_resident_m2": MIN_AREA_PER_RESIDENT_M2}})
        dwellings.append({"code": f"JH-FW-{i + 1:05d}", "address": f"江海市{['春晖', '秋实', '和平', '文昌'][i % 4]}小区{i // 4 + 1}幢{i % 4 + 1}01室",
                          "lon": round(rng.uniform(120.02, 120.58), 6), "lat": round(rng.uniform(31.82, 32.18), 6),
                          "area_m2": area, "registered_residents": residents, "rooms": max(1, int(area // 30))})
    cameras = []
    for i in range(60):
        name = road_names[i % len(road_names)]
        lon, lat = Route(ROADS[name]).at(Route(ROADS[name]).length * ((i // len(road_names)) + 0.5) / 10)
        cameras.append({"code": f"3299000000131{i + 1:07d}", "name": f"{name}{i // len(road_names) + 1}号监控点",
                        "lon": round(lon, 6), "lat": round(lat, 6), "owner_name": "市公安局",
                        "stream_name": f"jh-cam-{i + 1:04d}"})

    # ---- push everything through ingestion ------------------------------------------------------
    counts = {}
    batches = [
        ("enterprise", [orjson.dumps(r) for r in enterprises]),
        ("licence", [orjson.dumps(r) for r in licences]),
        ("hazmat_vehicle", [orjson.dumps(r) for r in vehicle_rows]),
        ("vehicle_position", position_lines),
        ("dwelling", [orjson.dumps(r) for r in dwellings]),
        ("camera", [orjson.dumps(r) for r in cameras]),
    ]
    for feed, lines in batches:
        resource = resources[feed]
        with tempfile.TemporaryFile() as body:
            body.write(b"\n".join(lines) + b"\n")
            body.seek(0)
            result = services.ingest_batch(
                resource=resource, department=resource.owner, token=None,
                idempotency_key=f"demo-day-{day.isoformat()}-seed{seed}-v{vehicles}-{feed}", fmt="ndjson", stream=body,
            )
        counts[feed] = {"accepted": result.batch.accepted, "rejected": result.batch.rejected, "replayed": result.replayed}
        if stdout is not None:
            stdout.write(f"{resource.code}: {result.batch.accepted} accepted, {result.batch.rejected} rejected"
                         + (" (already sent)" if result.replayed else ""))

    with transaction.atomic():
        PlantedAnomaly.objects.filter(day=day).delete()
        PlantedAnomaly.objects.bulk_create(
            [PlantedAnomaly(day=day, kind=p["kind"], subject=p["subject"], starts_at=p.get("starts_at"),
                            ends_at=p.get("ends_at"), detail=p["detail"]) for p in planted]
        )
    out = Path(settings.BASE_DIR) / "var" / "datahub"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"planted-{day.isoformat()}.json"
    path.write_text(json.dumps(
        {"day": day.isoformat(), "seed": seed, "vehicles": vehicles,
         "rules": {"speed_limit_kmh": SPEED_LIMIT_KMH, "long_stop_minutes": LONG_STOP_MINUTES, "site_radius_m": SITE_RADIUS_M,
                   "off_route_m": OFF_ROUTE_M, "min_area_per_resident_m2": MIN_AREA_PER_RESIDENT_M2},
         "anomalies": [{**p, "starts_at": p.get("starts_at") and p["starts_at"].isoformat(),
                        "ends_at": p.get("ends_at") and p["ends_at"].isoformat()} for p in planted]},
        ensure_ascii=False, indent=1,
    ))
    return DayResult(counts=counts, planted=planted, ground_truth_file=str(path))
