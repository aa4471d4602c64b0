"""A year (or `days`) of the demo city's past, written set-based with the rows the ticket services write.

Each ticket's life is simulated in Python — intake, 立案, 派遣, 签收, the deadline scanner's lights, automatic
urges and escalations, 退单 and re-dispatch, 延期, 反馈, 核查 with 返工, return-visit satisfaction — and cut at
the present moment, so recent tickets are still open with the lights the scanner would show now. The rows
(tickets, shares, timeline, requests) go in with COPY. No outbox rows: nobody was watching the wall back then.

Deterministic: each day has its own random generator seeded by (SEED, date). Idempotent: a day whose
tickets exist is skipped. Patterns: the seasons (plum rain 6–7月 and typhoons 8–9月 flood roads, summer
evenings bring noise and cooking fumes), the Spring Festival dip on the real calendar, a weekly rhythm, an
hourly curve, departments that differ, and a few addresses that keep coming back.
"""

import datetime as dt
import enum
import json
import math
import random
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org.models import Department, Region, Role, User
from grid.models import Grid, GridWorker

from . import calendar
from .classify import corpus
from .models import Assignment, Category, Light, NumberSequence, Source, State, Ticket, TicketEvent, TicketRequest
from .services.base import LIGHT_ORDER, _escalate_at, _warn_at

SEED = 19
KEY_PREFIX = "history:"  # idempotency key of a historical ticket: history:<date>:<n>
BASE_PER_DAY = 46  # tickets on an ordinary weekday before the seasons

# relative weight of each small class on an ordinary day
WEIGHTS = {
    "0101": 3, "0102": 3, "0103": 1, "0104": 1, "0105": 1, "0201": 7, "0202": 2, "0203": 1.5, "0204": 2,
    "0301": 3, "0302": 2, "0401": 1, "0402": 2, "0501": 0.6, "0502": 3, "0601": 1, "0602": 1.5,
    "1101": 10, "1102": 5, "1103": 5, "1201": 3, "1202": 5, "1301": 4, "1302": 3, "1401": 0.6, "1402": 0.4,
    "1501": 9, "1502": 4, "1503": 5, "2101": 4, "2102": 3, "2201": 5, "2202": 4,
}
HOTLINE_CODES = {"2101", "2102", "2201", "2202", "1301"}  # mostly called in by citizens
RAIN = {"1401": 12, "0203": 4, "0401": 5, "0102": 1.6}  # plum rain (6–7月) and typhoon (8–9月) multipliers
SUMMER_NIGHTS = {"2201": 2.4, "2202": 2.2, "1501": 1.3}  # June–August, mostly in the evening
EVENING_CODES = {"2201", "2202"}
CONSTRUCTION_SEASON = {3: 1.4, 4: 1.5, 5: 1.4, 9: 1.3, 10: 1.4, 11: 1.3}  # 1301/1302 in spring and autumn

# hour-of-day weights (0–23): hotline calls and grid patrols
HOTLINE_HOURS = [1, .6, .4, .3, .3, .5, 1, 3, 7, 10, 10, 8, 5, 6, 8, 9, 8, 7, 5, 5, 6, 5, 3, 2]
GRID_HOURS = [0, 0, 0, 0, 0, 0, .5, 2, 8, 10, 10, 7, 3, 5, 9, 9, 8, 5, 2, .5, .3, .2, 0, 0]
EVENING_HOURS = [2, 1, .5, .3, .2, .2, .3, .6, 1, 1.5, 2, 2, 2, 2, 2, 2, 2, 3, 6, 9, 10, 9, 6, 4]

# how a lead department works: sign delay and handling time as fractions of the limit, chances of lateness,
# rework, return, extension, and how callers rate it (satisfied, basically, unsatisfied)
@dataclass(frozen=True)
class Profile:
    sign: float = 0.35
    handle: float = 0.5
    late: float = 0.08
    rework: float = 0.06
    returned: float = 0.03
    extension: float = 0.04
    rating: tuple = (0.76, 0.17, 0.07)


DEFAULT_PROFILE = Profile()
# 东滩镇 enforcement is slow and sends half-done work back for rework; the water company is quick and liked
PROFILES = {
    "329903004-ZF": Profile(sign=0.8, handle=0.85, late=0.38, rework=0.24, returned=0.06, extension=0.14, rating=(0.46, 0.27, 0.27)),
    "329900-ZLS": Profile(sign=0.15, handle=0.25, late=0.02, rework=0.01, returned=0.01, extension=0.01, rating=(0.92, 0.07, 0.01)),
    "329900-GD": Profile(sign=0.2, handle=0.35, late=0.04, rework=0.02, returned=0.02, extension=0.02, rating=(0.87, 0.1, 0.03)),
    "329902-CG": Profile(sign=0.5, handle=0.7, late=0.16, rework=0.1, returned=0.05, extension=0.08, rating=(0.65, 0.22, 0.13)),
}

# addresses that keep coming back: (town name, community index within the town, category, place)
HOT_SPOTS = [
    ("望江街道", 0, "1501", "春晖路菜场门口"),
    ("望江街道", 1, "2202", "文昌路美食街"),
    ("滨江街道", 0, "1401", "人民街下穿隧道"),
    ("港口街道", 2, "1101", "港口路农贸市场后门"),
    ("海星街道", 1, "2201", "海星路KTV"),
    ("湖滨街道", 0, "1302", "湖滨路地铁施工段"),
    ("新城街道", 3, "0201", "学府街北段"),
]
HOT_SPOT_SHARE = 0.07
DISTRICT_WEIGHTS = {"329902": 1.25, "329903": 1.0, "329904": 0.8}

SOURCE_WEIGHTS = [(Source.GRID, 50), (Source.HOTLINE, 36), (Source.OPEN311, 4), (Source.VIDEO, 5), (Source.INSPECTION, 4),
                  (Source.LEADER, 1)]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红梅文斌"
PLACES = ["小区东门", "菜市场旁", "公交站台", "十字路口", "幼儿园门口", "沿街商铺", "小区北门", "停车场入口", "公园南侧", "学校后门"]


def _texts(code: str, rng: random.Random) -> tuple[str, str]:
    """(title, description) of one historical ticket, as citizens and grid workers write them (the demo corpus)."""
    return corpus.complaint(code, rng)


@dataclass
class Ref:
    """What the simulation needs to know about the city, read once."""

    categories: dict  # code → Category
    towns: list  # [(town, district, [(community, [grid rows])])]
    departments: dict  # code → Department
    dispatchers: dict  # town id → User
    staff: dict  # department id → User
    chief: User | None
    agent: User | None
    reporters: dict  # grid id → full-time grid worker's user
    categories_by_id: dict = field(default_factory=dict)
    regions: dict = field(default_factory=dict)  # id → Region (city, districts, towns)


@dataclass
class Life:
    """One ticket's rows while it is being simulated."""

    ticket: dict
    assignments: list = field(default_factory=list)
    events: list = field(default_factory=list)
    requests: list = field(default_factory=list)


class Cut(Exception):
    """The next step of a ticket's life lies after the present moment."""


def _pick(rng: random.Random, weighted) -> object:
    items, weights = zip(*weighted)
    return rng.choices(items, weights=weights)[0]


def _hour(rng: random.Random, weights) -> tuple[int, int, int]:
    hour = rng.choices(range(24), weights=weights)[0]
    return hour, rng.randrange(60), rng.randrange(60)


def day_factor(day: dt.date) -> float:
    """The whole city's volume on one day relative to an ordinary weekday."""
    on_holiday, name = chinese_calendar.get_holiday_detail(day) if calendar.year_is_known(day.year) else (day.weekday() >= 5, None)
    if name == chinese_calendar.Holiday.spring_festival.value:
        return 0.42
    if on_holiday and name:
        return 0.7
    if not calendar.is_workday(day):
        return 0.72
    return (1.06, 1.02, 1.0, 0.98, 1.04, 1, 1)[day.weekday()]


def category_weights(day: dt.date, rng: random.Random) -> dict:
    """Seasonal weights of the small classes; a storm day in the rainy months floods the roads."""
    weights = dict(WEIGHTS)
    month = day.month
    if month in (6, 7, 8, 9):
        storm = rng.random() < (0.22 if month in (6, 7) else 0.16)
        for code, factor in RAIN.items():
            weights[code] *= factor * (3 if storm else 1)
    if month in (6, 7, 8):
        for code, factor in SUMMER_NIGHTS.items():
            weights[code] *= factor
    if month in (12, 1, 2):
        weights["2101"] *= 1.5  # frozen pipes
        weights["2201"] *= 0.6
    for code in ("1301", "1302"):
        weights[code] *= CONSTRUCTION_SEASON.get(month, 1)
    return weights


def load_reference() -> Ref:
    categories = {c.code: c for c in Category.objects.filter(parent__isnull=False).select_related("parent", "owner_department")}
    grids: dict = {}
    for g in Grid.objects.order_by("code").values("id", "community_id", "boundary"):
        grids.setdefault(g["community_id"], []).append((g["id"], g["boundary"].extent))
    towns = []
    for town in Region.objects.filter(level=Region.Level.TOWN).select_related("parent").order_by("code"):
        communities = [(c, grids.get(c.pk, [])) for c in Region.objects.filter(parent=town).order_by("code")]
        towns.append((town, town.parent, [(c, g) for c, g in communities if g]))
    departments = {d.code: d for d in Department.objects.filter(is_active=True)}
    users = {u.username: u for u in User.objects.filter(username__in=["chief", "agent", "wj_dispatcher"])}
    dispatchers = {}
    for town, _district, _c in towns:
        user = User.objects.filter(role=Role.DISPATCHER, region=town, is_active=True).order_by("id").first()
        dispatchers[town.pk] = user or _make_user(f"disp_{town.code[:9]}", f"{town.name}派遣员", Role.DISPATCHER, region=town)
    staff = {}
    for d in departments.values():
        user = User.objects.filter(department=d, role=Role.DEPARTMENT_STAFF).order_by("id").first()
        staff[d.pk] = user or _make_user(f"dept_{d.code.lower().replace('-', '_')}", f"{d.name} 值班员", Role.DEPARTMENT_STAFF, department=d)
    reporters = dict(GridWorker.objects.filter(kind=GridWorker.Kind.FULL_TIME, is_active=True).values_list("grid_id", "user_id"))
    reporter_users = User.objects.in_bulk(set(reporters.values()))
    return Ref(categories=categories, towns=towns, departments=departments, dispatchers=dispatchers, staff=staff,
               chief=users.get("chief"), agent=users.get("agent"),
               reporters={g: reporter_users[u] for g, u in reporters.items()})


def _make_user(username, name, role, **where) -> User:
    user, _ = User.objects.get_or_create(username=username, defaults={"display_name": name, "role": role, **where})
    return user


class Simulator:
    """Lives of the tickets of one day, with ids handed out by the caller."""

    def __init__(self, ref: Ref, now: dt.datetime, ids):
        self.ref, self.now, self.ids = ref, now, ids
        self.tz = ZoneInfo(settings.TIME_ZONE)
        # streets (街道) are denser than towns (镇); the old town 江城区 busier than the new 新湖区
        self.town_weights = [(1.7 if town.name.endswith("街道") else 0.8) * DISTRICT_WEIGHTS.get(district.code[:6], 1)
                             for town, district, _c in ref.towns]
        self.hot = []
        by_name = {town.name: (town, district, communities) for town, district, communities in ref.towns}
        for town_name, index, code, place in HOT_SPOTS:
            if town_name in by_name and code in ref.categories and by_name[town_name][2]:
                town, district, communities = by_name[town_name]
                community, grids = communities[index % len(communities)]
                self.hot.append((town, district, community, grids[0], code, place))

    # ------------------------------------------------------------------------------------------ one day
    def day(self, day: dt.date, serials: dict) -> list[Life]:
        rng = random.Random(f"{SEED}:{day.isoformat()}")
        weights = category_weights(day, rng)
        mean = BASE_PER_DAY * day_factor(day)
        count = max(0, int(rng.gauss(mean, math.sqrt(mean))))
        codes = [c for c in weights if c in self.ref.categories]
        lives = []
        for n in range(count):
            life = self.ticket(day, n, rng, codes, weights)
            if life is not None:
                lives.append(life)
        # ids and numbers in the order the tickets came in, as the intake hands them out
        lives.sort(key=lambda life: life.ticket["created_at"])
        for life in lives:
            t = life.ticket
            t["id"] = next(self.ids["ticket"])
            prefix = t["number"]
            serials[prefix] = serials.get(prefix, 0) + 1
            t["number"] = f"{prefix}{serials[prefix]:05d}"
            for row in (*life.events, *life.assignments, *life.requests):
                row["ticket_id"] = t["id"]
        return lives

    def ticket(self, day, n, rng, codes, weights) -> Life | None:
        """One ticket's life; its id and number (for now its number's prefix) are handed out by `day`."""
        ref = self.ref
        if self.hot and rng.random() < HOT_SPOT_SHARE:
            town, district, community, grid, code, place = rng.choice(self.hot)
        else:
            code = rng.choices(codes, weights=[weights[c] for c in codes])[0]
            town, district, communities = rng.choices(ref.towns, weights=self.town_weights)[0]
            if not communities:
                return None
            community, grids = rng.choice(communities)
            grid = rng.choice(grids)
            place = f"{community.name.removesuffix('社区').removesuffix('村')}{rng.choice(PLACES)}"
        category = ref.categories[code]
        hotline_kind = code in HOTLINE_CODES
        source = _pick(rng, [(Source.HOTLINE, 80), (Source.OPEN311, 8), (Source.GRID, 12)]) if hotline_kind else _pick(rng, SOURCE_WEIGHTS)
        from_citizen = source in (Source.HOTLINE, Source.OPEN311)
        hours = EVENING_HOURS if code in EVENING_CODES else HOTLINE_HOURS if from_citizen else GRID_HOURS
        created = dt.datetime.combine(day, dt.time(*_hour(rng, hours)), self.tz)
        if created > self.now:
            return None
        grid_id, (x0, y0, x1, y1) = grid
        lon, lat = x0 + (x1 - x0) * rng.uniform(0.1, 0.9), y0 + (y1 - y0) * rng.uniform(0.1, 0.9)
        title, description = _texts(code, rng)
        reporter = ref.reporters.get(grid_id) if source == Source.GRID else None
        dispatcher = ref.dispatchers[town.pk]
        by = ref.agent if from_citizen else (reporter or dispatcher)
        citizen = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.5 else "") if from_citizen else ""
        t = {
            "id": -n - 1, "number": f"{district.code[:6]}{created.date():%Y%m%d}", "source": source,
            "category_id": category.pk, "title": title[:120], "description": description,
            "location": f"SRID=4326;POINT({lon:.6f} {lat:.6f})", "address": f"{town.name}{community.name} {place}"[:200],
            "grid_id": grid_id, "community_id": community.pk, "town_id": town.pk, "district_id": district.pk,
            "region_path": community.path, "center_id": town.pk, "level": town.level,
            "reporter_id": by.pk if by is not None and not citizen else None,
            "citizen_name": citizen, "citizen_phone": f"13{rng.randrange(10**9):09d}" if citizen else "",
            "urgent": code in ("1402", "0104") or (code == "1401" and rng.random() < 0.4), "state": State.NEW,
            "state_before_suspension": "", "version": 1, "occurred_at": created - dt.timedelta(minutes=rng.randrange(5, 90)),
            "created_at": created, "dispatched_at": None, "due_at": None, "light": Light.GREEN, "closed_at": None,
            "duplicate_of_id": None, "rework_count": 0, "urge_count": 0, "escalation_count": 0, "caller_count": 1,
            "satisfaction": "", "verifier_id": None, "created_by_id": by.pk if by else None,
            "idempotency_key": f"{KEY_PREFIX}{day.isoformat()}:{n}",
        }
        life = Life(ticket=t)
        self._event(life, created, by, "created", "", data={"source": source, "outside_grid": False})
        try:
            self._live(life, rng, category, town, dispatcher, reporter, from_citizen)
        except Cut:
            pass
        self._settle_lights(life)
        return life

    # ------------------------------------------------------------------------------------------ the loop
    def _at(self, moment: dt.datetime) -> dt.datetime:
        if moment > self.now:
            raise Cut
        return moment

    def _event(self, life: Life, at, actor, action, from_state, *, note="", data=None):
        if life.events:
            life.ticket["version"] += 1
        life.events.append({
            "id": next(self.ids["event"]), "ticket_id": life.ticket["id"], "at": at, "actor_id": actor.pk if actor else None,
            "action": action, "from_state": from_state, "to_state": life.ticket["state"], "note": note,
            "data": json.dumps(data or {}, ensure_ascii=False),
        })

    def _move(self, life, at, actor, action, state, *, note="", data=None):
        before = life.ticket["state"]
        life.ticket["state"] = state
        self._event(life, at, actor, action, before, note=note, data=data)

    def _live(self, life: Life, rng, category, town, dispatcher, reporter, from_citizen):
        t = life.ticket
        at = t["created_at"]
        if reporter is not None and t["source"] == Source.GRID and rng.random() < 0.45:  # 自行处置 on the spot
            at = self._at(at + dt.timedelta(minutes=rng.randrange(8, 50)))
            t["closed_at"] = at
            self._move(life, at, reporter, "self_resolved", State.CLOSED, note="已现场处置完毕。")
            return
        at = self._at(at + dt.timedelta(minutes=rng.randrange(3, 40) if at.hour in range(8, 18) else rng.randrange(20, 300)))
        if rng.random() < 0.025:  # 不予立案
            t["closed_at"] = at
            self._move(life, at, dispatcher, "cancelled", State.CANCELLED, note="经核实不属于受理范围。")
            return
        self._move(life, at, dispatcher, "opened", State.OPEN)
        lead = self._lead(category, town, rng)
        at = self._dispatch(life, at + dt.timedelta(minutes=rng.randrange(2, 30)), dispatcher, lead)
        profile = PROFILES.get(lead.code, DEFAULT_PROFILE)
        a = life.assignments[-1]
        if rng.random() < profile.returned:  # 退单: wrongly dispatched, back to the center, then to the right one
            at = self._sign_phase(life, a, rng, profile, end_fraction=0.3)
            at = self._request(life, a, at + dt.timedelta(minutes=rng.randrange(10, 120)), "return", "不属于本部门职责，申请退回。")
            # the share goes back only when the dispatcher approves; an approval still ahead leaves it pending
            self._decide(life, at + dt.timedelta(minutes=rng.randrange(10, 180)), dispatcher, "returned", State.OPEN)
            a["state"], a["return_reason"], a["next_scan_at"] = Assignment.State.RETURNED, life.requests[-1]["reason"], None
            t["due_at"], t["light"] = None, Light.GREEN
            lead = self._other_lead(category, town, lead, rng)
            at = self._dispatch(life, self._at(life.events[-1]["at"] + dt.timedelta(minutes=rng.randrange(5, 60))), dispatcher, lead)
            profile = PROFILES.get(lead.code, DEFAULT_PROFILE)
            a = life.assignments[-1]
        at = self._sign_phase(life, a, rng, profile)
        a["state"], a["signed_at"], a["signed_by_id"] = Assignment.State.SIGNED, at, self._staff(a).pk
        a["urged_at"] = a["escalated_at"] = None
        a["warn_at"] = _warn_at(a["dispatched_at"], a["handle_due_at"], a["handle_unit"])
        self._plan(a, at)
        t["light"] = a["light"]
        self._move(life, at, self._staff(a), "signed", State.HANDLING,
                   data={"assignment": a["id"], "department": lead.name, "role": "lead"})
        if from_citizen and rng.random() < 0.12:  # more citizens call about the same matter (hotline linking)
            for _more in range(rng.choice([1, 1, 2, 3])):
                at = self._scan(life, a, at, at + dt.timedelta(minutes=rng.randrange(30, 900)))
                t["caller_count"] += 1
                self._event(life, at, self.ref.agent, "caller_added", t["state"], note="又有市民反映同一问题。",
                            data={"automatic": False, "callers": t["caller_count"]})
        if rng.random() < 0.03:  # the center urges by hand
            urge_at = at + max(a["handle_due_at"] - at, dt.timedelta(hours=1)) * rng.uniform(0.2, 0.7)
            at = self._scan(life, a, at, urge_at)
            self._urge(life, at, dispatcher)
        if rng.random() < profile.extension:  # 延期
            ask = at + max(a["handle_due_at"] - at, dt.timedelta(hours=1)) * rng.uniform(0.3, 0.7)  # signed late: soon after
            days = rng.choice([2, 3, 5])
            ask = self._scan(life, a, at, ask)
            self._request(life, a, ask, "extension", "需要协调多个部门，申请延期。", extra_days=days)
            decided = self._scan(life, a, ask, ask + dt.timedelta(minutes=rng.randrange(20, 240)))
            a["handle_due_at"] = calendar.add_working_time(a["handle_due_at"], days, "working_days")
            a["warn_at"] = _warn_at(a["dispatched_at"], a["handle_due_at"], a["handle_unit"])
            a["urged_at"] = a["escalated_at"] = None
            self._plan(a, decided)
            t["due_at"], t["light"] = a["handle_due_at"], a["light"]
            self._decide(life, decided, self.ref.chief or dispatcher, "extended", None,
                         extra={"handle_due_at": a["handle_due_at"].isoformat()})
            at = decided
        reworks = 0
        while True:
            at = self._handle_phase(life, a, rng, profile, at)
            staff = self._staff(a)
            a["state"], a["reply"], a["replied_at"], a["next_scan_at"] = Assignment.State.REPLIED, "已到现场处置完毕。", at, None
            t["verifier_id"] = self._verifier(t)
            t["light"] = Light.GREEN
            self._move(life, at, staff, "replied", State.VERIFYING, note="已到现场处置完毕。",
                       data={"assignment": a["id"], "department": lead.name, "role": "lead", "photos": 0, "verifier": t["verifier_id"]})
            verifier = User(pk=t["verifier_id"]) if t["verifier_id"] else dispatcher
            at = self._at(at + dt.timedelta(minutes=rng.randrange(30, 600)))
            if reworks == 0 and rng.random() < profile.rework:
                reworks += 1
                a["state"], a["dispatched_at"] = Assignment.State.SIGNED, at
                a["handle_due_at"] = calendar.add_working_time(at, *self._handle_limit(category, t))
                a["warn_at"] = _warn_at(at, a["handle_due_at"], a["handle_unit"])
                a["urged_at"] = a["escalated_at"] = None
                self._plan(a, at)
                t["rework_count"] += 1
                t["due_at"], t["light"] = a["handle_due_at"], a["light"]
                self._move(life, at, verifier, "reworked", State.HANDLING, note="现场核查仍未整改到位。",
                           data={"assignment": a["id"], "handle_due_at": a["handle_due_at"].isoformat()})
                continue
            t["closed_at"] = at
            self._move(life, at, verifier, "closed", State.CLOSED)
            break
        if from_citizen:  # the return visit within a working day
            visit = self._at(calendar.add_working_time(at, rng.uniform(0.5, 7), "working_hours"))
            satisfaction = _pick(rng, zip(("satisfied", "basically", "unsatisfied"), profile.rating))
            t["satisfaction"] = satisfaction
            self._event(life, visit, self.ref.agent, "rated", State.CLOSED,
                        note="回访：对处理结果不满意。" if satisfaction == "unsatisfied" else "", data={"satisfaction": satisfaction})

    def _handle_limit(self, category, t):
        return category.limits(urgent=t["urgent"])[1]

    def _lead(self, category, town, rng) -> Department:
        code = self._suggest(category, town)
        return self.ref.departments[code[0]]

    def _suggest(self, category, town) -> list[str]:
        """selectors.suggest_departments for a town center, as codes."""
        area = []
        for level, prefix in ((3, town.code[:9]), (2, town.code[:6]), (1, town.code[:4] + "00")):
            suffix = (category.lead_departments or {}).get(str(level))
            if suffix and f"{prefix}-{suffix}" in self.ref.departments:
                area.append(f"{prefix}-{suffix}")
        owner = [category.owner_department.code] if category.owner_department_id else []
        ordered = owner + area if category.dispatch_rule == Category.Rule.OWNER_FIRST else area + owner
        return list(dict.fromkeys(ordered))

    def _other_lead(self, category, town, lead, rng) -> Department:
        others = [c for c in self._suggest(category, town) if c != lead.code]
        if not others:
            others = [f"{town.code[:9]}-SQ" if not lead.code.endswith("-SQ") else f"{town.code[:9]}-ZF"]
        return self.ref.departments[others[0]]

    def _staff(self, a) -> User:
        return self.ref.staff[a["department_id"]]

    def _verifier(self, t) -> int | None:
        reporter = self.ref.reporters.get(t["grid_id"])
        if reporter is not None:
            return reporter.pk
        return self.ref.dispatchers[t["center_id"]].pk if t["center_id"] in self.ref.dispatchers else None

    def _dispatch(self, life, at, dispatcher, lead) -> dt.datetime:
        at = self._at(at)
        t = life.ticket
        category = self.ref.categories_by_id[t["category_id"]]
        (sign_amount, sign_unit), (handle_amount, handle_unit) = category.limits(urgent=t["urgent"])
        sign_due = calendar.add_working_time(at, sign_amount, sign_unit)
        handle_due = calendar.add_working_time(at, handle_amount, handle_unit)
        a = {
            "id": next(self.ids["assignment"]), "ticket_id": t["id"], "department_id": lead.pk, "role": "lead",
            "state": Assignment.State.DISPATCHED, "dispatched_at": at, "dispatched_by_id": dispatcher.pk,
            "sign_due_at": sign_due, "sign_unit": sign_unit, "signed_at": None, "signed_by_id": None,
            "handle_due_at": handle_due, "handle_unit": handle_unit, "warn_at": _warn_at(at, sign_due, sign_unit),
            "next_scan_at": None, "light": Light.GREEN, "urged_at": None, "escalated_at": None, "paused_at": None,
            "replied_at": None, "reply": "", "return_reason": "",
        }
        self._plan(a, at)
        life.assignments.append(a)
        t["dispatched_at"], t["due_at"], t["light"] = at, handle_due, Light.GREEN
        self._move(life, at, dispatcher, "dispatched", State.DISPATCHED,
                   data={"lead": lead.pk, "lead_name": lead.name, "assisting": [],
                         "sign_due_at": sign_due.isoformat(), "handle_due_at": handle_due.isoformat()})
        return at

    def _due(self, a):
        return a["sign_due_at"] if a["state"] == Assignment.State.DISPATCHED else a["handle_due_at"]

    def _plan(self, a, now):
        """services.base._plan on a row dict."""
        if a["state"] not in Assignment.ACTIVE or a["paused_at"] is not None:
            a["next_scan_at"] = None
            return
        due = self._due(a)
        a["light"] = Light.RED if now >= due else Light.YELLOW if now >= a["warn_at"] else Light.GREEN
        if a["light"] == Light.GREEN:
            a["next_scan_at"] = a["warn_at"]
        elif a["light"] == Light.YELLOW or a["urged_at"] is None:
            a["next_scan_at"] = due if now < due else now
        elif a["escalated_at"] is None:
            a["next_scan_at"] = _escalate_at(due)
        else:
            a["next_scan_at"] = None

    def _scan(self, life, a, start, until) -> dt.datetime:
        """What the deadline scanner did to this share between `start` and `until` (cut at the present).
        Returns `until`, or raises Cut after writing what happened before the present."""
        t = life.ticket
        while a["next_scan_at"] is not None and a["next_scan_at"] <= min(until, self.now):
            moment = max(a["next_scan_at"], start) + dt.timedelta(seconds=40)
            if moment > min(until, self.now):
                break
            old, due = a["light"], self._due(a)
            urge = moment >= due and a["urged_at"] is None
            escalate = moment >= due and a["escalated_at"] is None and moment >= _escalate_at(due)
            if urge:
                a["urged_at"] = moment
            if escalate:
                a["escalated_at"] = moment
            self._plan(a, moment)
            t["light"] = max(t["light"], a["light"], key=LIGHT_ORDER.__getitem__)
            base = {"assignment": a["id"], "department": a["department_id"], "automatic": True}
            if urge:
                t["urge_count"] += 1
                self._event(life, moment, None, "urged", t["state"], note=_("Automatic urge: the deadline has passed."),
                            data=base | {"phase": a["state"]})
            elif a["light"] != old:
                self._event(life, moment, None, "light", t["state"], data=base | {"light": a["light"]})
            if escalate and t["level"] > Region.Level.CITY:
                center = self.ref.regions[t["center_id"]]
                parent = self.ref.regions[center.parent_id]
                self._event(life, moment, None, "escalated", t["state"], note=_("Automatic escalation: overdue beyond the grace period."),
                            data=base | {"from_center": center.code, "to_center": parent.code})
                t["center_id"], t["level"] = parent.pk, parent.level
                t["escalation_count"] += 1
        return self._at(until)

    def _sign_phase(self, life, a, rng, profile, end_fraction=1.0) -> dt.datetime:
        span = a["sign_due_at"] - a["dispatched_at"]
        fraction = rng.uniform(1.05, 2.5) if rng.random() < profile.late / 2 else rng.uniform(0.05, 1.6 * profile.sign) * end_fraction
        signed = a["dispatched_at"] + span * min(fraction, 3)
        return self._scan(life, a, a["dispatched_at"], signed)

    def _handle_phase(self, life, a, rng, profile, start) -> dt.datetime:
        span = a["handle_due_at"] - a["dispatched_at"]
        if rng.random() < profile.late:
            fraction = rng.uniform(1.02, 1.8)
        else:
            fraction = min(0.98, rng.uniform(0.3, 1.7) * profile.handle)
        done = max(start + dt.timedelta(minutes=20), a["dispatched_at"] + span * fraction)
        return self._scan(life, a, start, done)

    def _urge(self, life, at, dispatcher):
        at = self._at(at)
        for a in life.assignments:
            if a["state"] in Assignment.ACTIVE:
                a["urged_at"] = at
        life.ticket["urge_count"] += 1
        self._event(life, at, dispatcher, "urged", life.ticket["state"], note="请抓紧办理。", data={"automatic": False})

    def _request(self, life, a, at, kind, reason, extra_days=None) -> dt.datetime:
        at = self._at(at)
        staff = self._staff(a)
        r = {"id": next(self.ids["request"]), "ticket_id": life.ticket["id"], "assignment_id": a["id"], "kind": kind,
             "reason": reason, "extra_days": extra_days, "requested_by_id": staff.pk, "requested_at": at,
             "decision": TicketRequest.Decision.PENDING, "decided_by_id": None, "decided_at": None, "decision_note": ""}
        life.requests.append(r)
        self._event(life, at, staff, f"{kind}_requested", life.ticket["state"], note=reason,
                    data={"request": r["id"], "kind": kind, "extra_days": extra_days})
        return at

    def _decide(self, life, at, by, verb, state, extra=None):
        at = self._at(at)
        r = life.requests[-1]
        r["decision"], r["decided_by_id"], r["decided_at"] = TicketRequest.Decision.APPROVED, by.pk, at
        data = {"request": r["id"], "kind": r["kind"], "approved": True} | (extra or {})
        self._move(life, at, by, verb, state or life.ticket["state"], note=r["reason"], data=data)

    def _settle_lights(self, life: Life):
        """The present moment for a ticket still open: each active share's light as the scanner shows it now."""
        t = life.ticket
        active = [a for a in life.assignments if a["state"] in Assignment.ACTIVE]
        for a in active:
            if a["next_scan_at"] is not None and a["next_scan_at"] <= self.now:
                self._scan(life, a, a["dispatched_at"], self.now)
        if active:
            t["light"] = max((a["light"] for a in active), key=LIGHT_ORDER.__getitem__)


# ---------------------------------------------------------------------------------------------- writing


def _ids(table: str, n: int) -> list[int]:
    if n == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", [n])
        return [row[0] for row in cursor.fetchall()]


def copy_rows(model, rows: list[dict]) -> None:
    """COPY rows (dicts keyed by attname) into the model's table."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    with connection.cursor() as cursor:
        with cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_plain(row[f.attname]) for f in fields])


def _plain(value):
    return value.value if isinstance(value, enum.Enum) else value


def plan(*, days: int, now: dt.datetime | None = None, ref: Ref | None = None, skip: set | None = None) -> list[Life]:
    """The lives of the tickets of the `days` days before today and of today so far (no rows written; ids are
    placeholders)."""
    now = now or timezone.now()
    ref = ref or load_reference()
    counters = {k: iter(range(1, 10**9)) for k in ("ticket", "event", "assignment", "request")}
    return _simulate(days=days, now=now, ref=ref, ids=counters, skip=skip or set(), serials={})


def _simulate(*, days, now, ref, ids, skip, serials) -> list[Life]:
    ref.categories_by_id = {c.pk: c for c in ref.categories.values()}
    ref.regions = Region.objects.filter(level__lte=Region.Level.TOWN).defer("boundary").in_bulk()
    sim = Simulator(ref, now, ids)
    today = timezone.localdate(now)
    lives = []
    for back in range(days, -1, -1):  # up to today, cut at the present moment
        day = today - dt.timedelta(days=back)
        if day.isoformat() not in skip:
            lives.extend(sim.day(day, serials))
    return lives


class IdSequence:
    """Real ids from the table's sequence, fetched in blocks."""

    def __init__(self, table):
        self.table, self.block = table, []

    def __iter__(self):
        return self

    def __next__(self):
        if not self.block:
            self.block = _ids(self.table, 5000)
        return self.block.pop(0)


def load_history(*, days: int, stdout=None, now: dt.datetime | None = None) -> dict:
    """Write `days` days of history before today, and today until now; days already written are left as they are."""
    if days <= 0:
        return {"tickets": 0}
    now = now or timezone.now()
    today = timezone.localdate(now)
    first = today - dt.timedelta(days=days)
    with transaction.atomic():
        ref = load_reference()
        if not ref.towns or not ref.categories:
            return {"tickets": 0}
        done = {key.split(":")[1] for key in Ticket.objects.filter(
            idempotency_key__startswith=KEY_PREFIX, created_at__gte=timezone.make_aware(dt.datetime.combine(first, dt.time.min)),
        ).values_list("idempotency_key", flat=True).iterator()}
        serials = dict(NumberSequence.objects.filter(prefix__regex=r"^\d{14}$").values_list("prefix", "last"))
        ids = {"ticket": IdSequence("tickets_ticket"), "event": iter(range(1, 10**9)),
               "assignment": IdSequence("tickets_assignment"), "request": IdSequence("tickets_ticketrequest")}
        lives = _simulate(days=days, now=now, ref=ref, ids=ids, skip=done, serials=serials)
        if not lives:
            return {"tickets": 0}
        # timeline ids in the order things happened, as the services would have handed them out
        events = sorted((e for life in lives for e in life.events), key=lambda e: (e["at"], e["id"]))
        for e, real in zip(events, _ids("tickets_ticketevent", len(events))):
            e["id"] = real
        copy_rows(Ticket, [life.ticket for life in lives])
        copy_rows(Assignment, [a for life in lives for a in life.assignments])
        copy_rows(TicketRequest, [r for life in lives for r in life.requests])
        copy_rows(TicketEvent, events)
        with connection.cursor() as cursor:  # the planner must know the tables grew by a year at once
            cursor.execute("ANALYZE tickets_ticket, tickets_assignment, tickets_ticketrequest, tickets_ticketevent")
        touched = {life.ticket["number"][:14] for life in lives}
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO tickets_numbersequence (prefix, last) SELECT p, l FROM unnest(%s::text[], %s::int[]) AS v(p, l) "
                "ON CONFLICT (prefix) DO UPDATE SET last = greatest(tickets_numbersequence.last, excluded.last)",
                [sorted(touched), [serials[p] for p in sorted(touched)]],
            )
    result = {"tickets": len(lives), "events": sum(len(life.events) for life in lives)}
    if stdout:
        stdout.write(f"tickets: {result['tickets']} historical tickets over {days} days ({result['events']} timeline rows)")
    return result
