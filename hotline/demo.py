"""Demo data of the hotline: the gazetteer of 江海市 (roads, compounds, landmarks), knowledge articles,
Open311 services and a few contacts. Deterministic and idempotent."""

import datetime as dt
import math

from django.contrib.gis.geos import LineString, Point
from django.db import transaction

from org.models import Region
from tickets.models import Category, Ticket

from .demo_articles import ARTICLES as COMMON_ARTICLES
from .gazetteer import SIDE_OFFSET_M
from .models import KnowledgeArticle, Open311Client, Open311Service, Place, Road

# district code → (east-west roads 路 south to north, north-south roads south→north west to east)
ROADS = {
    "329902000000": (["春晖路", "文昌路", "望江路", "长桥路"], ["滨江大道", "人民街", "解放街", "青石街"]),
    "329903000000": (["港口路", "海星路", "盐田路", "东滩路"], ["海港大道", "建设街", "渔港街", "灯塔街"]),
    "329904000000": (["湖滨路", "新城路", "柳溪路", "白鹭路"], ["新湖大道", "学府街", "科技街", "明湖街"]),
}
# road → (demo ticket, its house number): the road is laid through the ticket's point, so the gazetteer, the
# tickets and the callers' addresses describe one place (tickets/demo.py puts the tickets on the road's line)
ROAD_ANCHORS = {"春晖路": ("春晖路12号上水井盖破损", 12)}
ROAD_ALIASES = {"滨江大道": ["滨江路"], "人民街": ["人民路"], "海港大道": ["海港路"], "新湖大道": ["新湖路"]}
COMPOUND_SUFFIXES = ["花园", "小区", "苑", "新村", "家园", "公寓"]
DISTRICT_LANDMARKS = ["人民医院", "第一中学", "人民政府", "体育馆"]
CITY_LANDMARKS = [("江海火车站", (0.30, 0.12)), ("江海市民中心", (0.30, 0.22)), ("江海大剧院", (0.34, 0.24)), ("江海体育中心", (0.26, 0.28))]
METRES_PER_DEGREE = 111_320

ARTICLES = [
    ("2101", "ZLS", "停水通知查询及临时供水", "计划停水会提前24小时在江海自来水公司网站和小区公告栏公布。突发停水可拨打供水抢修热线96390，"
     "停水超过12小时由自来水公司安排送水车临时供水。"),
    ("2102", "GD", "停电报修及计划停电查询", "居民家中停电请先检查自家空气开关；整栋楼或片区停电可拨打95598报修。"
     "计划停电信息在“网上国网”App公布，抢修一般在4小时内恢复供电。"),
    ("2201", "HB", "夜间施工噪音的规定", "夜间（22时至次日6时）禁止产生噪声污染的建筑施工作业，因特殊需要必须连续施工的，"
     "须取得生态环境部门的夜间施工证明并公告附近居民。无证夜间施工扰民可投诉，由执法部门现场查处。"),
    ("2202", "HB", "餐饮油烟扰民的处理", "餐饮单位应安装油烟净化设施并保持正常使用，排烟口不得直对居民住宅。"
     "居民楼内禁止新建产生油烟的餐饮项目。投诉后由生态环境部门或综合执法队核查处理。"),
    (None, "MZ", "居住证办理流程", "居住证可在居住地派出所或社区服务中心办理，需携带身份证、居住证明（租赁合同或房产证），"
     "登记居住满半年可申领，办理时限15个工作日。"),
    (None, "WJ", "新生儿预防接种预约", "新生儿出生后到户籍或居住地社区卫生服务中心建卡，按免疫规划程序预约接种，"
     "可通过“江海健康”公众号预约时间。"),
    (None, "JT", "公交线路及末班车时间查询", "公交线路、首末班时间可在“江海公交”App或公众号查询，"
     "线路调整在站牌及App公告。对驾驶员服务的意见可在12345投诉。"),
    ("0201", "CG", "路灯不亮报修", "道路上的路灯不亮、路灯坏了由城市管理部门负责维修，报修时请说明道路名称和附近门牌号，"
     "一般在3个工作日内修复。"),
]

SERVICES = [
    ("noise", "噪音扰民", "施工、商业、生活噪音扰民", "环境", "噪音,施工,扰民", "2201", "complaint",
     [{"code": "source", "datatype": "singlevaluelist", "required": True, "description": "噪音来源", "order": 1,
       "values": [{"key": "construction", "name": "建筑施工"}, {"key": "business", "name": "商业经营"}, {"key": "neighbour", "name": "邻里生活"}]},
      {"code": "night", "datatype": "string", "required": False, "description": "是否夜间（22时后）", "order": 2}]),
    ("fumes", "油烟扰民", "餐饮油烟直排扰民", "环境", "油烟,餐饮", "2202", "complaint", []),
    ("water", "供水问题", "停水、水压低、水质异常", "公共服务", "停水,水压,水质", "2101", "help", []),
    ("power", "供电问题", "停电、电压不稳", "公共服务", "停电,电压", "2102", "help", []),
    ("streetlight", "路灯不亮", "道路路灯不亮或损坏", "市政设施", "路灯", "0201", "help",
     [{"code": "count", "datatype": "number", "required": False, "description": "不亮的路灯数量", "order": 1}]),
    ("road-collapse", "道路塌陷", "路面塌陷、坑洞", "市政设施", "塌陷,坑洞", "0203", "help", []),
    ("street-vending", "占道经营", "摊贩占用道路经营", "街面秩序", "占道,摊贩", "1501", "complaint", []),
    ("garbage", "暴露垃圾", "垃圾满溢、乱堆", "市容环境", "垃圾", "1101", "complaint", []),
]


def _offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    return lon + east_m / (METRES_PER_DEGREE * math.cos(math.radians(lat))), lat + north_m / METRES_PER_DEGREE


def _length_m(coords) -> float:
    total = 0.0
    for (x1, y1), (x2, y2) in zip(coords, coords[1:]):
        dx = (x2 - x1) * METRES_PER_DEGREE * math.cos(math.radians((y1 + y2) / 2))
        total += math.hypot(dx, (y2 - y1) * METRES_PER_DEGREE)
    return total


def load_gazetteer() -> tuple[int, int]:
    """Roads cross every district on a regular pattern; a compound sits in each community, landmarks in
    each town, district and the city centre. House numbers run one per 10 m from the west/south end."""
    districts = {r.code: r for r in Region.objects.filter(code__in=ROADS)}
    if len(districts) < len(ROADS):
        return 0, 0
    roads = places = 0
    with transaction.atomic():
        for code, (east_west, north_south) in ROADS.items():
            district = districts[code]
            x0, y0, x1, y1 = district.boundary.extent
            for i, name in enumerate(east_west):
                lat = y0 + (y1 - y0) * (i + 0.5) / len(east_west) + 0.004
                coords = _anchored(name, x1) or [(x0, lat), ((x0 + x1) / 2, lat + 0.002), (x1, lat)]
                roads += _road(name, district, coords)
            for i, name in enumerate(north_south):
                lon = x0 + (x1 - x0) * (i + 0.5) / len(north_south) + 0.003
                coords = [(lon, y0), (lon + 0.001, (y0 + y1) / 2), (lon, y1)]
                roads += _road(name, district, coords)
        communities = Region.objects.filter(level=Region.Level.COMMUNITY, path__startswith="329900000000/").select_related("parent__parent").order_by("code")
        for i, community in enumerate(communities):
            base = community.name.removesuffix("社区").removesuffix("村")
            x0, y0, x1, y1 = community.boundary.extent
            lon, lat = x0 + (x1 - x0) * 0.62, y0 + (y1 - y0) * 0.41
            suffix = COMPOUND_SUFFIXES[i % len(COMPOUND_SUFFIXES)]
            places += _place(f"{base}{suffix}", Place.Kind.COMPOUND, community.parent.parent, (lon, lat), buildings=12 + i % 9,
                             aliases=[f"{base}小区"] if suffix != "小区" else [])
        for town in Region.objects.filter(level=Region.Level.TOWN, path__startswith="329900000000/").select_related("parent"):
            x0, y0, x1, y1 = town.boundary.extent
            kind = "街道办事处" if town.name.endswith("街道") else "人民政府"
            places += _place(f"{town.name}{kind}" if kind == "人民政府" else f"{town.name.removesuffix('街道')}街道办事处",
                             Place.Kind.LANDMARK, town.parent, (x0 + (x1 - x0) * 0.45, y0 + (y1 - y0) * 0.55))
        for code, district in districts.items():
            x0, y0, x1, y1 = district.boundary.extent
            for j, suffix in enumerate(DISTRICT_LANDMARKS):
                places += _place(f"{district.name}{suffix}", Place.Kind.LANDMARK, district,
                                 (x0 + (x1 - x0) * (0.3 + 0.12 * j), y0 + (y1 - y0) * 0.48), aliases=[f"{district.name[:2]}{suffix}"])
        city_x0, city_y0 = 120.0, 31.8
        for name, (dx, dy) in CITY_LANDMARKS:
            point = (city_x0 + dx, city_y0 + dy)
            district = next(d for d in districts.values() if d.boundary.covers(Point(*point, srid=4326)))
            places += _place(name, Place.Kind.LANDMARK, district, point, aliases=[name.removeprefix("江海")])
    return roads, places


def _anchored(name: str, east_end: float) -> list[tuple[float, float]] | None:
    """A straight east-west road whose house number lands on its anchor ticket (even numbers lie SIDE_OFFSET_M
    south of the road, odd ones north), or None when the road has no anchor or the ticket is not there."""
    if name not in ROAD_ANCHORS:
        return None
    title, number = ROAD_ANCHORS[name]
    ticket = Ticket.objects.filter(title=title).order_by("id").only("location").first()
    if ticket is None:
        return None
    x, y = ticket.location.x, ticket.location.y
    side = 1 if number % 2 else -1
    lat = y - side * SIDE_OFFSET_M / METRES_PER_DEGREE
    west = x - (number - 1) * 10 / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    for _ in range(5):  # _road numbers one house per 10 m of the whole length: settle the west end on that rule
        last = max(int(_length_m([(west, lat), (east_end, lat)]) / 10), 2)
        west = (x - east_end * (number - 1) / (last - 1)) / (1 - (number - 1) / (last - 1))
    return [(west, lat), (east_end, lat)]


def _road(name, district, coords) -> int:
    last = max(int(_length_m(coords) / 10), 2)
    Road.objects.update_or_create(
        name=name, district=district,
        defaults={"line": LineString(coords, srid=4326), "first_number": 1, "last_number": last, "aliases": ROAD_ALIASES.get(name, [])},
    )
    return 1


def _place(name, kind, district, point, *, buildings=0, aliases=()) -> int:
    Place.objects.update_or_create(
        name=name, district=district,
        defaults={"kind": kind, "location": Point(*point, srid=4326), "buildings": buildings, "aliases": list(aliases)},
    )
    return 1


def load_services() -> int:
    categories = {c.code: c for c in Category.objects.filter(code__in=[s[5] for s in SERVICES])}
    n = 0
    for code, name, description, group, keywords, category, contact_type, attributes in SERVICES:
        if category not in categories:
            continue
        Open311Service.objects.update_or_create(
            code=code,
            defaults={"name": name, "description": description, "group": group, "keywords": keywords,
                      "category": categories[category], "contact_type": contact_type, "attributes": attributes},
        )
        n += 1
    return n


def load_articles() -> int:
    from org.models import Department

    from .services import article_save

    categories = {c.code: c for c in Category.objects.all()}
    departments = {d.code: d for d in Department.objects.filter(code__startswith="329900-")}
    n = 0
    for category, dept, title, body in ARTICLES + COMMON_ARTICLES:
        existing = KnowledgeArticle.objects.filter(title=title).first()
        if existing is not None:
            continue
        article_save(
            by=None, article=None, title=title, body=body, category=categories.get(category),
            department=departments.get(f"329900-{dept}"), valid_from=dt.date(2026, 1, 1), valid_until=None,
        )
        n += 1
    return n


def load_contacts(agent) -> int:
    """A few contacts of the demo agent, one of each outcome (idempotency keys make this repeatable)."""

    from . import gazetteer
    from .models import Outcome
    from .services import contact_create

    categories = {c.code: c for c in Category.objects.filter(code__in=["2101", "2201"])}
    if len(categories) < 2:
        return 0
    here = gazetteer.geocode("春晖路12号")
    garden = gazetteer.geocode("春晖花园5栋")
    if not here or not garden:
        return 0
    point = Point(here[0].lon, here[0].lat, srid=4326)
    article = KnowledgeArticle.objects.filter(title="居住证办理流程").first()
    noise = contact_create(
        by=agent, channel="phone", type="complaint", outcome=Outcome.NEW_TICKET, caller_name="王建国", caller_phone="13500001111",
        content="春晖路12号旁边的工地每天晚上十一点以后还在打桩，噪音很大，严重影响休息。", address="春晖路12号", location=point,
        category=categories["2201"], idempotency_key="demo-hotline-1",
    )
    contact_create(
        by=agent, channel="wechat", type="complaint", outcome=Outcome.LINKED, caller_name="李梅", caller_phone="13900002222",
        content="春晖路工地半夜施工打桩，吵得孩子睡不着。", address="春晖路16号", link_to=noise.ticket,
        location=Point(here[0].lon + 0.0004, here[0].lat, srid=4326), category=categories["2201"], idempotency_key="demo-hotline-2",
    )
    contact_create(
        by=agent, channel="phone", type="help", outcome=Outcome.NEW_TICKET, caller_name="赵丽", caller_phone="13700003333",
        content="春晖花园5栋从早上开始停水，没有看到停水通知。", address="春晖花园5栋",
        location=Point(garden[0].lon, garden[0].lat, srid=4326), category=categories["2101"], idempotency_key="demo-hotline-3",
    )
    if article is not None:
        contact_create(
            by=agent, channel="app", type="consult", outcome=Outcome.DIRECT, caller_name="孙磊", caller_phone="13600004444",
            content="请问居住证在哪里办理，需要带什么材料？", article=article, idempotency_key="demo-hotline-4",
        )
    return 4


# Published in README so a newcomer can POST an Open311 request at once. Only load_demo_city creates this client,
# i.e. only a stack that loads the demo city (with its demo users and their published password) has it.
DEMO_OPEN311_CLIENT = "演示客户端（仅开发环境）"
DEMO_OPEN311_KEY = "jianghai-demo-open311-key"


def load_open311_client() -> Open311Client:
    client, _created = Open311Client.objects.update_or_create(
        name=DEMO_OPEN311_CLIENT,
        defaults={"key_prefix": DEMO_OPEN311_KEY[:8], "key_hash": Open311Client.hash_key(DEMO_OPEN311_KEY), "is_active": True},
    )
    return client


def load_demo(*, scale: int, stdout) -> None:
    from django.contrib.auth.models import Permission

    from org.models import User

    from . import gazetteer

    roads, places = load_gazetteer()
    gazetteer.reset()
    services = load_services()
    load_open311_client()
    articles = load_articles()
    agent = User.objects.filter(username="agent").first()
    contacts = 0
    if agent is not None:
        # the demo agent is a knowledge-base editor, so the editing pages can be tried
        agent.user_permissions.add(Permission.objects.get(codename="edit_knowledge", content_type__app_label="hotline"))
        contacts = load_contacts(agent)
    if stdout:
        stdout.write(f"hotline: gazetteer of {roads} roads and {places} places, {services} Open311 services, "
                     f"{articles} new articles, {contacts} demo contacts, Open311 demo api_key {DEMO_OPEN311_KEY}")
