"""The demo city's grids (each community tiled by whole lattice cells) and its grid workers: the demo user
`gridworker` works the first grid of 春晖社区 full-time, with a grid head, a grid instructor and "1+N" helpers,
and a patrol checklist for every grid of 春晖社区."""

import datetime as dt

from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.utils import timezone

from org import demo_city as dc
from org.demo_city import DEMO_PASSWORD
from org.models import Region, Role, User

from . import services
from .models import CheckIn, Grid, GridWorker, Patrol, PatrolChecklistItem

CHECKLIST = [
    "消防通道是否畅通",
    "井盖、路灯、护栏等部件是否完好",
    "有无暴露垃圾、乱堆物料",
    "有无占道经营、违规停车",
    "有无违法搭建、私拉电线",
    "独居老人、困难群众走访",
]

STEPS_PER_LEG = 20  # one track point a minute

# (username, display name, kind) of the people attached to the demo grid.
HELPERS = [
    ("gw_head", "周网格长", GridWorker.Kind.GRID_HEAD),
    ("gw_instructor", "吴指导员", GridWorker.Kind.INSTRUCTOR),
    ("gw_police", "郑民警", GridWorker.Kind.POLICE),
    ("gw_doctor", "王医生", GridWorker.Kind.MEDICAL),
    ("gw_building", "冯楼栋长", GridWorker.Kind.BUILDING_HEAD),
    ("gw_volunteer", "陈志愿者", GridWorker.Kind.VOLUNTEER),
]


def build_grids(lat: dc.Lattice) -> int:
    """Every community's grids (15-digit code: the community's 12 and a 3-digit serial); existing ones are kept."""
    gcols, grows = lat.grid_cols_per_community, lat.grid_rows_per_community
    communities = {r.code: r for r in Region.objects.filter(level=Region.Level.COMMUNITY).defer("boundary")}
    existing = set(Grid.objects.values_list("code", flat=True))
    new, total = [], 0
    for c_code, c_name, cc0, cr0, index in dc.community_cells(lat):
        community = communities[c_code]
        serial = 0
        for gr in range(grows):
            for gc in range(gcols):
                serial += 1
                total += 1
                code = f"{c_code}{serial:03d}"
                if code in existing:
                    continue
                bbox = lat.bbox(cc0 + gc, cr0 + gr, cc0 + gc + 1, cr0 + gr + 1)
                households = 280 + (serial * 37 + (index + 1) * 11) % 220
                new.append(Grid(
                    code=code, name=f"{c_name}第{serial}网格", community=community, region_path=community.path,
                    boundary=MultiPolygon(Polygon.from_bbox(bbox), srid=4326), households=households,
                    population=int(households * 2.6),
                    station=Point((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2, srid=4326),
                ))
    Grid.objects.bulk_create(new, batch_size=2000)
    return total


def load_demo(*, scale: int, stdout) -> None:
    grids_total = build_grids(dc.lattice_for_scale(scale))
    if stdout is not None:
        stdout.write(f"grid: {grids_total} grids")
    user = User.objects.filter(username="gridworker").first()
    if user is None or user.region is None:
        return
    grids = list(Grid.objects.filter(community=user.region).order_by("code"))
    if not grids:
        return
    grid = grids[0]
    if not GridWorker.objects.filter(user=user).exists():
        services.gridworker_assign(user=user, grid=grid, kind=GridWorker.Kind.FULL_TIME, note="demo")
    for username, name, kind in HELPERS:
        helper = User.objects.filter(username=username).first()
        if helper is None:
            helper = User.objects.create_user(
                username=username, password=DEMO_PASSWORD, role=Role.GRIDWORKER, region=user.region, display_name=name
            )
        if not GridWorker.objects.filter(user=helper).exists():
            services.gridworker_assign(user=helper, grid=grid, kind=kind, note="demo")
    for g in grids:
        for position, title in enumerate(CHECKLIST):
            PatrolChecklistItem.objects.get_or_create(grid=g, title=title, defaults={"position": position})
    if not Patrol.objects.filter(user=user).exists():
        _demo_patrol_and_check_ins(user, grid)
    if stdout is not None:
        stdout.write(f"grid: {user} works {grid.name} with {len(HELPERS)} helpers; checklists for {len(grids)} grids")


def _demo_patrol_and_check_ins(user, grid: Grid) -> None:
    """A morning's check-ins on the last five weekdays and one finished patrol, so the figures are not empty."""
    xmin, ymin, xmax, ymax = grid.boundary.extent
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    days = [today - dt.timedelta(days=i) for i in range(1, 10) if (today - dt.timedelta(days=i)).weekday() < 5][:5]
    centre = Point((xmin + xmax) / 2, (ymin + ymax) / 2, srid=4326)
    for day in days:
        if not CheckIn.objects.filter(user=user, at__date=day).exists():
            services.checkin_record(user=user, location=centre, accuracy_m=10, at=dt.datetime.combine(day, dt.time(8, 30), tzinfo=tz))
    start = dt.datetime.combine(days[0], dt.time(9, 0), tzinfo=tz)
    patrol = services.patrol_start(user=user, at=start)
    # A walk around the grid's inner rectangle at about 5 km/h, one point a minute; the last leg strays east.
    corners = [(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8), (0.2, 0.2), (1.2, 0.5)]
    points = []
    for i in range(len(corners) - 1):
        (ax, ay), (bx, by) = corners[i], corners[i + 1]
        for k in range(STEPS_PER_LEG):
            f = k / STEPS_PER_LEG
            x = xmin + (xmax - xmin) * (ax + (bx - ax) * f)
            y = ymin + (ymax - ymin) * (ay + (by - ay) * f)
            points.append((Point(x, y, srid=4326), start + dt.timedelta(minutes=len(points) + 1), 8.0))
    ex, ey = corners[-1]
    points.append((Point(xmin + (xmax - xmin) * ex, ymin + (ymax - ymin) * ey, srid=4326),
                   start + dt.timedelta(minutes=len(points) + 1), 8.0))
    services.patrol_add_points(patrol=patrol, by=user, points=points)
    for item in PatrolChecklistItem.objects.filter(grid=grid)[:3]:
        services.patrol_check_item(patrol=patrol, item=item, by=user)
    services.patrol_stop(patrol=patrol, by=user, at=start + dt.timedelta(minutes=len(points) + 2))
