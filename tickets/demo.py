"""Demo categories (部件/事件/热线诉求 with realistic small classes) and a few tickets along the loop."""

import math
from decimal import Decimal

from django.contrib.gis.geos import Point

from org.models import Department, User

from .classify.services import demo_corpus_load
from .classify.training import classifier_train
from .models import Category, TimeUnit

WD, WH, NH = TimeUnit.WORKING_DAYS, TimeUnit.WORKING_HOURS, TimeUnit.NATURAL_HOURS

# (code, name) of the major class, then small classes:
# (code, name, owner dept code suffix at city level or None, lead per level, sign (amount, unit), handle (amount, unit))
EVENT_LEAD = {"3": "ZF", "2": "CG", "1": "CG"}
COMPONENTS = [
    (("01", "公用设施"), [
        ("0101", "上水井盖破损", "ZLS", {"3": "ZF", "2": "ZJ", "1": "ZLS"}, (1, WH), (1, WD)),
        ("0102", "污水井盖破损", "SW", {"3": "ZF", "2": "ZJ", "1": "SW"}, (1, WH), (1, WD)),
        ("0103", "电力井盖破损", "GD", {"3": "ZF", "2": "ZJ", "1": "GD"}, (1, WH), (1, WD)),
        ("0104", "燃气井盖破损", "RQ", {"3": "ZF", "2": "ZJ", "1": "RQ"}, (Decimal("0.5"), WH), (4, WH)),
        ("0105", "消防栓损坏", "ZLS", {"3": "ZF", "2": "ZJ", "1": "ZLS"}, (2, WH), (2, WD)),
    ]),
    (("02", "道路交通"), [
        ("0201", "路灯不亮", "CG", {"3": "ZF", "2": "CG", "1": "CG"}, (2, WH), (3, WD)),
        ("0202", "交通信号灯故障", "GA", {"3": "ZF", "2": "CG", "1": "GA"}, (1, WH), (4, WH)),
        ("0203", "道路塌陷", "JT", {"3": "ZF", "2": "ZJ", "1": "JT"}, (Decimal("0.5"), WH), (1, WD)),
        ("0204", "护栏损坏", "JT", {"3": "ZF", "2": "CG", "1": "JT"}, (2, WH), (3, WD)),
    ]),
    (("03", "市容环境"), [
        ("0301", "垃圾箱破损", "CG", {"3": "ZF", "2": "CG", "1": "CG"}, (2, WH), (2, WD)),
        ("0302", "公厕设施损坏", "CG", {"3": "ZF", "2": "CG", "1": "CG"}, (2, WH), (2, WD)),
    ]),
    (("04", "园林绿化"), [
        ("0401", "行道树倒伏", "YL", {"3": "ZF", "2": "CG", "1": "YL"}, (1, WH), (1, WD)),
        ("0402", "绿地破坏", "YL", {"3": "ZF", "2": "CG", "1": "YL"}, (2, WH), (5, WD)),
    ]),
    (("05", "房屋土地"), [
        ("0501", "危房险情", "ZJ", {"3": "ZF", "2": "ZJ", "1": "ZJ"}, (1, WH), (2, WD)),
        ("0502", "违法建设", "ZR", {"3": "ZF", "2": "ZJ", "1": "ZR"}, (2, WH), (10, WD)),
    ]),
    (("06", "其他设施"), [
        ("0601", "监控设施损坏", "GA", {"3": "ZF", "2": "CG", "1": "GA"}, (2, WH), (3, WD)),
        ("0602", "健身设施损坏", "CG", {"3": "SQ", "2": "CG", "1": "CG"}, (2, WH), (5, WD)),
    ]),
]
EVENTS = [
    (("11", "市容环境"), [
        ("1101", "暴露垃圾", None, EVENT_LEAD, (1, WH), (4, WH)),
        ("1102", "积存垃圾渣土", None, EVENT_LEAD, (1, WH), (1, WD)),
        ("1103", "道路不洁", None, EVENT_LEAD, (1, WH), (4, WH)),
    ]),
    (("12", "宣传广告"), [
        ("1201", "违规广告", None, EVENT_LEAD, (2, WH), (3, WD)),
        ("1202", "非法小广告", None, EVENT_LEAD, (2, WH), (1, WD)),
    ]),
    (("13", "施工管理"), [
        ("1301", "施工扰民", None, {"3": "ZF", "2": "HB", "1": "HB"}, (1, WH), (1, WD)),
        ("1302", "施工占道", None, {"3": "ZF", "2": "CG", "1": "JT"}, (1, WH), (1, WD)),
    ]),
    (("14", "突发事件"), [
        ("1401", "路面积水", None, {"3": "ZF", "2": "ZJ", "1": "SW"}, (Decimal("0.5"), NH), (4, NH)),
        ("1402", "燃气泄漏", None, {"3": "ZF", "2": "ZJ", "1": "RQ"}, (Decimal("0.25"), NH), (2, NH)),
    ]),
    (("15", "街面秩序"), [
        ("1501", "占道经营", None, EVENT_LEAD, (1, WH), (4, WH)),
        ("1502", "无照经营游商", None, EVENT_LEAD, (1, WH), (1, WD)),
        ("1503", "乱堆物料", None, EVENT_LEAD, (1, WH), (1, WD)),
    ]),
]
HOTLINE = [
    (("21", "公共服务"), [
        ("2101", "供水问题", "ZLS", {"3": "SQ", "2": "ZJ", "1": "ZLS"}, (2, WH), (3, WD)),
        ("2102", "供电问题", "GD", {"3": "SQ", "2": "ZJ", "1": "GD"}, (2, WH), (3, WD)),
    ]),
    (("22", "环境保护"), [
        ("2201", "噪音扰民", None, {"3": "ZF", "2": "HB", "1": "HB"}, (2, WH), (5, WD)),
        ("2202", "油烟扰民", None, {"3": "ZF", "2": "HB", "1": "HB"}, (2, WH), (5, WD)),
    ]),
]


def load_categories() -> int:
    city_departments = {d.code.split("-", 1)[1]: d for d in Department.objects.filter(code__startswith="329900-")}
    count = 0
    for kind, tree, rule in (
        (Category.Kind.COMPONENT, COMPONENTS, Category.Rule.OWNER_FIRST),
        (Category.Kind.EVENT, EVENTS, Category.Rule.AREA_FIRST),
        (Category.Kind.HOTLINE, HOTLINE, Category.Rule.AREA_FIRST),
    ):
        for (major_code, major_name), smalls in tree:
            major, _ = Category.objects.update_or_create(code=major_code, defaults={"name": major_name, "kind": kind, "parent": None})
            for code, name, owner, lead, sign, handle in smalls:
                urgent_sign = (Decimal("0.5"), NH)
                urgent_handle = (min(Decimal(4), Decimal(handle[0]) * 4 if handle[1] == NH else Decimal(4)), NH)
                Category.objects.update_or_create(
                    code=code,
                    defaults={
                        "name": name, "kind": kind, "parent": major, "dispatch_rule": rule,
                        "owner_department": city_departments.get(owner) if owner else None,
                        "lead_departments": lead,
                        "sign_limit": sign[0], "sign_unit": sign[1], "handle_limit": handle[0], "handle_unit": handle[1],
                        "urgent_sign_limit": urgent_sign[0], "urgent_sign_unit": urgent_sign[1],
                        "urgent_handle_limit": urgent_handle[0], "urgent_handle_unit": urgent_handle[1],
                    },
                )
                count += 1
    return count


# (key, reporter, category code, title, description, address, metres east of the grid's west edge, metres north of
# 春晖路, steps). The demo tickets on 春晖路 lie on one line across 春晖社区第1网格; the hotline's gazetteer lays the
# road through them (house numbers 10 m apart from the grid's west edge), so an address a caller gives lands next
# to the ticket about it.
DEMO_TICKETS = [
    ("demo-1", "gridworker", "1501", "春晖路菜场门口占道经营", "早市摊贩占用人行道约20米，影响通行。", "江城区春晖路菜场门口",
     300, -12, ["open"]),
    ("demo-2", "gridworker", "0101", "春晖路12号上水井盖破损", "井盖裂开一角，行人易踩空。", "江城区春晖路12号",
     110, -12, ["open", "dispatch"]),
    ("demo-3", "gridworker", "1101", "春晖路53号门前暴露垃圾", "垃圾桶满溢，周边散落生活垃圾。", "江城区春晖路53号",
     520, 12, ["open", "dispatch", "sign"]),
    ("demo-4", "gridworker", "0201", "滨江步道路灯不亮", "步道东段连续5盏路灯夜间不亮。", "江城区滨江步道东段",
     700, -260, ["open", "dispatch", "sign", "reply"]),
    ("demo-5", "gridworker", "1201", "春晖路91号围墙违规广告", "围墙上张贴大幅商业广告。", "江城区春晖路91号",
     900, 12, ["open", "dispatch", "sign", "reply", "verify"]),
    ("demo-6", "agent", "1301", "春晖路18号工地夜间施工扰民", "市民来电：工地晚上11点后仍在打桩。", "江城区春晖路18号",
     170, -12, []),
]
# where 春晖路 crosses the grid, as a share of the grid's height from its south edge
CHUNHUI_ROAD_AT = 0.45
METRES_PER_DEGREE = 111_320


def load_demo(*, scale: int, stdout) -> None:
    n = load_categories()
    if stdout:
        stdout.write(f"tickets: {n} small classes")
    _demo_tickets(stdout)
    texts = demo_corpus_load()
    model = classifier_train()
    if stdout and model:
        stdout.write(f"tickets: classifier v{model.version} from {texts} demo texts in {model.seconds:.1f} s, "
                     f"held-back top-1 {model.top1:.1%}, top-3 {model.top3:.1%}")


def _demo_tickets(stdout) -> None:
    from grid.models import Grid

    from . import services
    from .models import Assignment, Category
    from .selectors import suggest_departments

    users = {u.username: u for u in User.objects.filter(username__in=["gridworker", "agent", "wj_dispatcher", "dept_wj_zf"])}
    if len(users) < 4 or users["gridworker"].region is None:
        return
    grid = Grid.objects.filter(community=users["gridworker"].region).order_by("code").first()
    if grid is None:
        return
    x0, y0, x1, y1 = grid.boundary.extent
    road_lat = y0 + (y1 - y0) * CHUNHUI_ROAD_AT
    made = 0
    for key, reporter, code, title, description, address, east_m, north_m, steps in DEMO_TICKETS:
        point = Point(x0 + east_m / (METRES_PER_DEGREE * math.cos(math.radians(road_lat))),
                      road_lat + north_m / METRES_PER_DEGREE, srid=4326)
        ticket = services.ticket_create(
            by=users[reporter], source="hotline" if reporter == "agent" else "grid", category=Category.objects.get(code=code),
            title=title, description=description, location=point, address=address,
            citizen_name="王建国" if reporter == "agent" else "", citizen_phone="13812345678" if reporter == "agent" else "",
            idempotency_key=key,
        )
        if ticket.replayed:
            continue
        made += 1
        dispatcher = users["wj_dispatcher"]
        for step in steps:
            ticket.refresh_from_db()
            if step == "open":
                services.ticket_open(ticket=ticket, by=dispatcher, version=ticket.version)
            elif step == "dispatch":
                lead = suggest_departments(ticket)[0]
                services.ticket_dispatch(ticket=ticket, by=dispatcher, lead=lead, version=ticket.version)
            elif step == "sign":
                a = ticket.assignments.get(state=Assignment.State.DISPATCHED)
                services.ticket_sign(assignment=a, by=_staff_for(a), version=ticket.version)
            elif step == "reply":
                a = ticket.assignments.get(state=Assignment.State.SIGNED)
                services.ticket_reply(assignment=a, by=_staff_for(a), reply="已到现场处置完毕。", version=ticket.version)
            elif step == "verify":
                services.ticket_verify(ticket=ticket, by=users["gridworker"], passed=True, note="现场核查已整改。", version=ticket.version)
    if stdout and made:
        stdout.write(f"tickets: {made} demo tickets")


def _staff_for(assignment):
    staff = User.objects.filter(department_id=assignment.department_id, role="department_staff").order_by("id").first()
    if staff is None:
        staff = User.objects.create_user(
            username=f"dept_{assignment.department.code.lower().replace('-', '_')}", role="department_staff",
            department=assignment.department, display_name=f"{assignment.department.name} 值班员",
            password=None,
        )
    return staff
