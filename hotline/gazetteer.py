"""Address → location through the gazetteer (roads with house-number ranges, compounds, landmarks).

Tolerant matching: full-width characters and Chinese numerals are normalised, 号楼/幢/座 read as 栋 and
弄 as a house number, the city and district prefix may be missing, and names are matched fuzzily with
rapidfuzz (a wrong character in 春辉路 still finds 春晖路). The gazetteer is a few hundred names, so it
is held in memory per process and reloaded when its tables change.
"""

import math
import re
import threading
import unicodedata
from dataclasses import dataclass

from django.db import connection
from rapidfuzz import fuzz

from org.models import Region

from .models import Place, Road

ROAD_MIN_SCORE = 66  # one wrong character out of three
PLACE_MIN_SCORE = 75
SIDE_OFFSET_M = 12  # odd numbers on the north/east side of the road, even on the other
METRES_PER_DEGREE = 111_320

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千]+(?=号|栋|幢|座|弄|单元|楼)")
_ROAD_NUMBER = re.compile(r"([\u4e00-\u9fff]{1,12}?(?:大道|路|街|巷))(\d{1,5})(?:号|$)")
_ROAD_ONLY = re.compile(r"([\u4e00-\u9fff]{1,12}?(?:大道|路|街|巷))")
_BUILDING = re.compile(r"(\d{1,3})栋")


def cn_number(text: str) -> int:
    """十二 → 12, 一百零五 → 105, 三五 → 35 (digit by digit)."""
    if not any(c in text for c in "十百千"):
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    total, current = 0, 0
    for c in text:
        if c in _CN_DIGITS:
            current = _CN_DIGITS[c]
        else:
            unit = {"十": 10, "百": 100, "千": 1000}[c]
            total += (current or 1) * unit
            current = 0
    return total + current


def normalise(address: str) -> str:
    text = unicodedata.normalize("NFKC", address or "")
    text = re.sub(r"[\s,，。、;；:：()（）\-—]+", "", text)
    text = _CN_NUMBER.sub(lambda m: str(cn_number(m.group(0))), text)
    text = re.sub(r"(号楼|幢|座|#楼)", "栋", text)
    text = text.replace("#", "号").replace("弄", "号")
    return text


@dataclass(frozen=True)
class Match:
    label: str
    kind: str  # "house_number", "building", "compound", "landmark", "road"
    lon: float
    lat: float
    score: float
    district: str

    def as_dict(self) -> dict:
        return {"label": self.label, "kind": self.kind, "lon": round(self.lon, 6), "lat": round(self.lat, 6),
                "score": round(self.score, 1), "district": self.district}


@dataclass
class _RoadEntry:
    names: list[str]
    name: str
    district: str
    coords: list[tuple[float, float]]
    first: int
    last: int


@dataclass
class _PlaceEntry:
    names: list[str]
    name: str
    kind: str
    district: str
    lon: float
    lat: float
    buildings: int


class _Index:
    def __init__(self):
        districts = dict(Region.objects.filter(level=Region.Level.DISTRICT).values_list("id", "name"))
        self.districts = sorted(districts.values(), key=len, reverse=True)
        self.towns = dict(
            Region.objects.filter(level=Region.Level.TOWN).values_list("name", "parent__name")
        )
        self.roads = [
            _RoadEntry([r.name, *r.aliases], r.name, districts.get(r.district_id, ""), list(r.line.coords), r.first_number, r.last_number)
            for r in Road.objects.all()
        ]
        self.places = [
            _PlaceEntry([p.name, *p.aliases], p.name, p.kind, districts.get(p.district_id, ""), p.location.x, p.location.y, p.buildings)
            for p in Place.objects.all()
        ]


_lock = threading.Lock()
_cache: dict = {"version": None, "index": None}


def _version() -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) || ':' || coalesce(max(id), 0) FROM hotline_road), "
            "(SELECT count(*) || ':' || coalesce(max(id), 0) FROM hotline_place)"
        )
        return cursor.fetchone()


def index() -> _Index:
    version = _version()
    with _lock:
        if _cache["version"] != version:
            _cache["index"], _cache["version"] = _Index(), version
        return _cache["index"]


def reset() -> None:
    with _lock:
        _cache["version"] = None


def _interpolate(coords, fraction: float) -> tuple[float, float, float, float]:
    """Point at `fraction` of a polyline's length (planar in degrees, fine at city scale) and its direction."""
    lengths = [math.dist(a, b) for a, b in zip(coords, coords[1:])]
    target = sum(lengths) * min(max(fraction, 0.0), 1.0)
    for (a, b), length in zip(zip(coords, coords[1:]), lengths):
        if target <= length or (a, b) == (coords[-2], coords[-1]):
            t = target / length if length else 0
            return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, b[0] - a[0], b[1] - a[1]
        target -= length
    return (*coords[-1], 1.0, 0.0)


def _house(road: _RoadEntry, number: int) -> tuple[float, float]:
    span = max(road.last - road.first, 1)
    lon, lat, dx, dy = _interpolate(road.coords, (number - road.first) / span)
    # unit normal pointing north/east of the road; odd numbers there
    norm = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / norm, dx / norm
    if ny < 0 or (ny == 0 and nx < 0):
        nx, ny = -nx, -ny
    side = 1 if number % 2 else -1
    offset = SIDE_OFFSET_M / METRES_PER_DEGREE
    return lon + side * nx * offset / math.cos(math.radians(lat)), lat + side * ny * offset


def _name_score(token: str, names: list[str]) -> tuple[float, str]:
    """Best score of a name against the token's tail (the token may carry words before the name)."""
    best = (0.0, names[0])
    for name in names:
        for k in {len(name) - 1, len(name), len(name) + 1}:
            if k <= 0:
                continue
            score = fuzz.ratio(name, token[-k:])
            if score > best[0]:
                best = (score, name)
    return best


def _prefixed(place: _PlaceEntry) -> str:
    return place.name if place.name.startswith(place.district) else f"{place.district}{place.name}"


def geocode(address: str, *, limit: int = 5) -> list[Match]:
    """Candidate places for an address, best first (empty when nothing is close enough)."""
    text = normalise(address)
    if not text:
        return []
    idx = index()
    text = text.replace("江海市", "").replace("江海", "", 1) if text.startswith("江海") else text
    district = ""
    for name in idx.districts:
        if name in text:
            district = name
            text = text.replace(name, "", 1)
            break
    for town, parent in idx.towns.items():
        if town in text:
            district = district or parent
            text = text.replace(town, "", 1)
            break

    def district_factor(entry_district: str) -> float:
        if not district:
            return 1.0
        return 1.0 if entry_district == district else 0.8

    matches: list[Match] = []
    found = _ROAD_NUMBER.search(text)
    road_token = found.group(1) if found else None
    number = int(found.group(2)) if found else None
    if road_token is None:
        only = _ROAD_ONLY.search(text)
        road_token = only.group(1) if only else None
    if road_token:
        for road in idx.roads:
            score, _name = _name_score(road_token, road.names)
            score *= district_factor(road.district)
            if score < ROAD_MIN_SCORE:
                continue
            if number is not None and road.first <= number <= road.last:
                lon, lat = _house(road, number)
                matches.append(Match(f"{road.district}{road.name}{number}号", "house_number", lon, lat, score, road.district))
            else:
                lon, lat, _dx, _dy = _interpolate(road.coords, 0.5)
                matches.append(Match(f"{road.district}{road.name}", "road", lon, lat, score * 0.85, road.district))
    building = _BUILDING.search(text)
    for place in idx.places:
        score = max(fuzz.partial_ratio(name, text) for name in place.names if len(name) >= 2)
        score *= district_factor(place.district)
        if score < PLACE_MIN_SCORE:
            continue
        if place.kind == Place.Kind.COMPOUND and building and 1 <= int(building.group(1)) <= max(place.buildings, 1):
            n = int(building.group(1))
            # buildings stand on a small lattice around the compound's centre, 40 m apart
            dx, dy = ((n - 1) % 5 - 2) * 40, ((n - 1) // 5 - 1) * 40
            lon = place.lon + dx / (METRES_PER_DEGREE * math.cos(math.radians(place.lat)))
            lat = place.lat + dy / METRES_PER_DEGREE
            matches.append(Match(f"{_prefixed(place)}{n}栋", "building", lon, lat, score + 1, place.district))
        else:
            matches.append(Match(_prefixed(place), place.kind, place.lon, place.lat, score, place.district))
    matches.sort(key=lambda m: (-m.score, m.kind != "house_number", m.label))
    seen, unique = set(), []
    for m in matches:
        if m.label not in seen:
            seen.add(m.label)
            unique.append(m)
    return unique[:limit]
